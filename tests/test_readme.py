"""The README's promises: two commands first, and a CLI tour whose commands work as printed."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_readme_starts_with_exactly_two_commands():
    first_block = re.search(r"```(\w+)\n(.*?)```", README, flags=re.S)
    assert README.index(first_block.group(0)) < README.index("## ")
    lines = [line for line in first_block.group(2).splitlines() if line.strip()]
    assert lines == [
        "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/geo demo --out maps",
        "bash tests/run.sh",
    ]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash tests/run.sh" in ci


def _tour():
    steps = []
    for block in _blocks("console"):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append([line[2:], []])
            elif steps:
                steps[-1][1].append(line)
    return steps


TOUR = _tour()


def test_tour_has_commands():
    assert len(TOUR) >= 8


@pytest.mark.slow
def test_tour_commands_work_as_printed(tmp_path):
    (tmp_path / "layers").symlink_to(ROOT / "layers")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    for command, expected in TOUR:
        proc = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"{command}\n{proc.stderr}"
        shown = [e for e in expected if e.strip() and e.strip() != "…"]
        for line in shown[:2]:
            assert line in proc.stdout, f"{command}: expected {line!r} in output:\n{proc.stdout}"
