"""All or nothing: a multi-file publish killed at any moment leaves the complete old or the complete new set.

Kills land mid-publish because the writer's test hook (GEO_TEST_SLOW_RENAMES) sleeps before each
link/rename step; the runs are subprocesses killed with SIGKILL.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geo._write import atomic_paths, publish_dir
from geo.cli import main
from geo.errors import InputError

from hostile_helpers import ROOT, one_error_line, run_geo

NAMES = [f"f{i}.txt" for i in range(6)] + [f"results/r{i}.json" for i in range(4)]

DRIVER = r"""
import sys
from pathlib import Path
from geo._write import publish_dir
out, tag = sys.argv[1], sys.argv[2]
with publish_dir(out) as stage:
    (stage / "results").mkdir()
    for name in sys.argv[3:]:
        (stage / name).write_text(f"{tag}:{name}", encoding="utf-8")
    print("staged", flush=True)
"""


def _state(out: Path) -> dict:
    return {n: (out / n).read_text(encoding="utf-8") if (out / n).exists() else None for n in NAMES}


def _publish(out, tag, env=None):
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(out), tag, *NAMES], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def _user_files(out: Path) -> None:
    (out / "mine.txt").write_text("user", encoding="utf-8")
    (out / "results").mkdir(exist_ok=True)
    (out / "results" / "mine.json").write_text("{}", encoding="utf-8")


def _assert_user_files(out: Path) -> None:
    assert (out / "mine.txt").read_text(encoding="utf-8") == "user"
    assert (out / "results" / "mine.json").read_text(encoding="utf-8") == "{}"


def test_publish_keeps_the_users_other_files(tmp_path):
    out = tmp_path / "g"
    with publish_dir(out) as stage:  # a new folder
        (stage / "a.txt").write_text("1")
    assert (out / "a.txt").read_text() == "1" and oct(out.stat().st_mode & 0o777) != "0o700"
    _user_files(out)
    with publish_dir(out) as stage:
        (stage / "results").mkdir()
        (stage / "a.txt").write_text("2")
        (stage / "results" / "b.json").write_text("3")
    assert (out / "a.txt").read_text() == "2" and (out / "results" / "b.json").read_text() == "3"
    _assert_user_files(out)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".g.")]  # no staging left


@pytest.mark.parametrize("exchange", [True, False])
def test_a_failed_run_changes_nothing(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setenv("GEO_TEST_NO_EXCHANGE", "1")
    out = tmp_path / "g"
    out.mkdir()
    (out / "a.txt").write_text("old")
    with pytest.raises(ZeroDivisionError):
        with publish_dir(out) as stage:
            (stage / "a.txt").write_text("new")
            1 / 0
    assert (out / "a.txt").read_text() == "old" and sorted(os.listdir(out)) == ["a.txt"]
    with publish_dir(out) as stage:  # and a good run still publishes (either path)
        (stage / "a.txt").write_text("new")
    assert (out / "a.txt").read_text() == "new"


def _wait_for_step(log: Path, step: str, proc, timeout=600) -> None:
    """Block until the publish logged ``step`` (it then sleeps in the hook: the kill lands right after it)."""
    deadline = time.time() + timeout
    while not (log.exists() and step in log.read_text(encoding="utf-8").split("\n")):
        assert proc.poll() is None, f"the run ended before the step {step!r}"
        assert time.time() < deadline, f"no step {step!r} within {timeout} s"
        time.sleep(0.02)


def test_kills_during_a_publish_leave_the_old_or_the_new_set(tmp_path):
    out = tmp_path / "g"
    assert _publish(out, "old").wait(timeout=60) == 0
    _user_files(out)
    outcomes = []
    # killed right after each step of the publish (the hook sleeps there), then a run left to finish
    for step in ("start", "linked", "exchanged", None):
        log = tmp_path / f"log-{step}"
        proc = _publish(out, f"new-{step}", env={"GEO_TEST_SLOW_RENAMES": "5", "GEO_TEST_PUBLISH_LOG": str(log)}
                        if step else {})
        if step:
            _wait_for_step(log, step, proc)
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        state = _state(out)
        tags = {v.split(":")[0] for v in state.values() if v is not None}
        assert None not in state.values() and len(tags) == 1, state  # never a mix, never a gap
        _assert_user_files(out)
        outcomes.append(tags.pop())
        if outcomes[-1] != "old":  # back to the old set for the next kill
            assert _publish(out, "old").wait(timeout=60) == 0
    assert outcomes == ["old", "old", "new-exchanged", "new-None"], outcomes
    # staging folders of killed runs are removed by the next publish
    assert _publish(out, "final").wait(timeout=60) == 0
    assert not [p for p in tmp_path.iterdir() if ".geo-stage-" in p.name]


def test_atomic_paths_write_all_or_none(tmp_path):
    a, b = tmp_path / "m.html", tmp_path / "m.png"
    a.write_text("old map")
    with pytest.raises(InputError):
        with atomic_paths(a, b) as (ta, tb):
            ta.write_text("new map")
            raise InputError("screenshot failed")
    assert a.read_text() == "old map" and not b.exists() and sorted(os.listdir(tmp_path)) == ["m.html"]


def test_failed_png_leaves_no_html(tmp_path, monkeypatch, capsys):
    from geo.viz._base import MapResult

    def broken(self, path, **kw):
        raise InputError(f"{path}: Chromium wrote no screenshot")

    monkeypatch.setattr(MapResult, "png", broken)
    data = tmp_path / "d.csv"
    data.write_text("adcode,v\n110000,1\n120000,2\n130100,3\n", encoding="utf-8")
    html, png = tmp_path / "m.html", tmp_path / "m.png"
    rc = main(["map", "choropleth", "--data", str(data), "--var", "v", "--out", str(html), "--png", str(png)])
    err = capsys.readouterr().err
    assert rc == 2 and one_error_line(err)
    assert not html.exists() and not png.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv"]


def _hashes(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "mine.txt"
    }


@pytest.mark.slow
def test_geo_demo_killed_while_publishing(tmp_path):
    """`geo demo --out DIR` over an existing gallery, killed mid-publish: the old or the new gallery, whole."""
    small = ["--draws", "5", "--permutations", "9"]
    old_dir, new_dir, out = tmp_path / "old", tmp_path / "new", tmp_path / "g"
    assert run_geo(["demo", "--out", old_dir, "--seed", "1", *small]).returncode == 0
    assert run_geo(["demo", "--out", new_dir, "--seed", "2", *small]).returncode == 0
    old, new = _hashes(old_dir), _hashes(new_dir)
    assert old.keys() == new.keys() and old != new
    outcomes = []
    for step in ("linked", "exchanged"):  # killed just before, and just after, the folder exchange
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(old_dir, out)  # the old gallery, as `geo demo --seed 1` wrote it
        (out / "mine.txt").write_text("user")
        log = tmp_path / f"log-{step}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "geo", "demo", "--out", str(out), "--seed", "2", *small],
            env={**os.environ, "PYTHONPATH": str(ROOT), "GEO_TEST_SLOW_RENAMES": "10", "GEO_TEST_PUBLISH_LOG": str(log)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        _wait_for_step(log, step, proc, timeout=1200)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        got = _hashes(out)
        assert got in (old, new), sorted(k for k in got if got[k] not in (old.get(k), new.get(k)))
        assert (out / "mine.txt").read_text() == "user"
        outcomes.append("old" if got == old else "new")
    assert outcomes == ["old", "new"]


def test_publish_into_the_working_directory(tmp_path, monkeypatch):
    """`geo demo --out .`: the folder the shell is in is not swapped away (published file by file)."""
    monkeypatch.chdir(tmp_path)
    _user_files(tmp_path)
    for tag in ("1", "2"):
        with publish_dir(".") as stage:
            (stage / "a.txt").write_text(tag)
    assert Path("a.txt").read_text() == "2" and os.path.samefile(os.getcwd(), tmp_path)
    _assert_user_files(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "mine.txt", "results"]


def test_publish_through_a_symlinked_folder_keeps_the_link(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "mine.txt").write_text("user")
    link = tmp_path / "maps"
    link.symlink_to(real, target_is_directory=True)
    with publish_dir(link) as stage:
        (stage / "a.txt").write_text("new")
    assert link.is_symlink() and (real / "a.txt").read_text() == "new" and (real / "mine.txt").read_text() == "user"
