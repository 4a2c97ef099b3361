"""An output never destroys an input: every command, every output option, every spelling of a path.

The commands and their path options are enumerated from the click commands (conftest.leaf_commands),
so a new command or option is covered without editing this file.
"""

from __future__ import annotations

import hashlib
import os

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo._write import inside, same_file
from geo.cli import main
from geo.cli.paths import InputDir, InputPath, OutputDir, OutputPath, SpecOrInput, check_paths
from geo.errors import InputError

from hostile_helpers import INPUT_TYPES, OUTPUT_TYPES, base_args, leaf_commands, one_error_line, option_name, params_of

COMMANDS = leaf_commands()
IDS = [" ".join(p) for p, _ in COMMANDS]


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_path_option_declares_its_role():
    """Every option taking a file or folder uses one of the role types (else the rule would not see it)."""
    untyped = []
    for prefix, cmd in COMMANDS:
        for p in cmd.params:
            if not isinstance(p, click.Option):
                continue
            meta = (p.metavar or "").upper()
            is_path = isinstance(p.type, click.Path) or "FILE" in meta or "DIR" in meta
            typed = isinstance(p.type, (InputPath, InputDir, SpecOrInput, OutputPath, OutputDir))
            if is_path and not typed:
                untyped.append(f"geo {' '.join(prefix)} {option_name(p)}")
    assert untyped == []
    # and the enumeration finds the commands the issue lists
    names = {" ".join(p) for p, _ in COMMANDS}
    assert {"join", "aggregate", "zonal", "boundaries", "zones", "radiation", "scenario", "sdm", "report", "demo",
            "weights", "map choropleth", "map lisa", "map spillover", "map radiation"} <= names


def _cases():
    """(command prefix, command, output option, input option or None) for every pair."""
    out = []
    for prefix, cmd in COMMANDS:
        outputs = params_of(cmd, OUTPUT_TYPES)
        inputs = params_of(cmd, INPUT_TYPES + (InputDir,))
        for o in outputs:
            for i in inputs:
                out.append(pytest.param(prefix, cmd, o, i, id=f"{' '.join(prefix)} {option_name(o)}={option_name(i)}"))
    return out


@pytest.mark.parametrize("prefix,cmd,out_param,in_param", _cases())
def test_output_equal_to_an_input_is_refused(prefix, cmd, out_param, in_param, files, capsys):
    """--out (and --png, --html, --latex …) naming an input file, or inside an input folder, is refused
    before any work: exit 2, one error line, the input byte-identical."""
    o, i = option_name(out_param), option_name(in_param)
    args = base_args(cmd, files, skip={o, i})
    if isinstance(in_param.type, InputDir):
        target = files["dir"] / "a.json"  # an output inside a folder read as a whole (even over a new name)
        given_in, given_out = files["dir"], files["dir"] / ("new" + ("" if isinstance(out_param.type, OutputDir) else ".html"))
    else:
        target = files["csv"]
        given_in = given_out = target
        if isinstance(in_param.type, SpecOrInput):
            target = files["tmp"] / "w.gal"
            target.write_text("0 1 w id\n110000 0\n\n", encoding="utf-8")
            given_in = given_out = target
        if isinstance(out_param.type, OutputDir):
            given_out = target  # a folder output over a file input
    before = _digest(target)
    rc = main([*prefix, *args, i, str(given_in), o, str(given_out)])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert _digest(target) == before
    # refused by the path rule itself (not by a later failure of the command on the dummy arguments)
    assert one_error_line(err) and ("would overwrite the input" in err or "reads as a whole" in err), err


def _output_pairs():
    out = []
    for prefix, cmd in COMMANDS:
        outputs = params_of(cmd, (OutputPath,))
        for a in range(len(outputs)):
            for b in range(a + 1, len(outputs)):
                out.append(pytest.param(prefix, cmd, outputs[a], outputs[b],
                                        id=f"{' '.join(prefix)} {option_name(outputs[a])}={option_name(outputs[b])}"))
    return out


@pytest.mark.parametrize("prefix,cmd,first,second", _output_pairs())
def test_two_outputs_of_one_run_may_not_coincide(prefix, cmd, first, second, files, capsys):
    """geo map --out m.html --png m.html, geo sdm --html t --latex t: refused, nothing written."""
    a, b = option_name(first), option_name(second)
    out = files["tmp"] / "same.html"
    args = base_args(cmd, files, skip={a, b})
    rc = main([*prefix, *args, a, str(out), b, f"{files['tmp']}/./same.html"])
    err = capsys.readouterr().err
    assert rc == 2 and one_error_line(err) and "same file" in err, err
    assert not out.exists()


def test_pairs_exist():
    assert len(_cases()) >= 30 and len(_output_pairs()) >= 5


@pytest.mark.parametrize("spelling", ["link", "dotdot", "hardlink", "dot"])
def test_every_spelling_of_the_input_is_refused(spelling, files, capsys):
    src = files["csv"]
    tmp = files["tmp"]
    (tmp / "sub").mkdir()
    if spelling == "link":
        out = tmp / "alias.csv"
        out.symlink_to(src)
    elif spelling == "dotdot":
        out = tmp / "sub" / ".." / "in.csv"
    elif spelling == "hardlink":
        out = tmp / "hard.csv"
        os.link(src, out)
    else:
        out = tmp / "." / "sub" / ".." / "." / "in.csv"
    before = _digest(src)
    rc = main(["join", "--data", str(src), "--id", "adcode", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and one_error_line(err) and "would overwrite the input --data" in err
    assert _digest(src) == before


def test_shipped_data_are_never_outputs(tmp_path, monkeypatch, capsys):
    """The rule covers the folders of data shipped with geo (tried on a stand-in, never on the real files)."""
    from geo._paths import BOUNDARIES_DIR, LAYERS_DIR
    from geo.cli import paths

    assert {BOUNDARIES_DIR, LAYERS_DIR} <= set(paths._protected())
    shipped = tmp_path / "layers"
    shipped.mkdir()
    target = shipped / "g60_corridor.csv"
    target.write_text("name\nG60\n", encoding="utf-8")
    monkeypatch.setattr(paths, "_protected", lambda: [shipped])
    rc = main(["zones", "--out", str(target)])
    assert rc == 2 and "data shipped with geo" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "name\nG60\n"


def test_report_into_its_own_results_folder_is_refused(files, capsys):
    rc = main(["report", "--results", str(files["dir"]), "--out", str(files["dir"] / "report.html")])
    err = capsys.readouterr().err
    assert rc == 2 and "reads as a whole" in err and not (files["dir"] / "report.html").exists()


# ---------------------------------------------------------------------------------------------- properties

NAMES = st.sampled_from(["a", "b", "c.csv", "d.gpkg", "e"])


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A small tree: folders x/ and x/y/, files in each, a symlink to x/ and a hard link."""
    root = tmp_path_factory.mktemp("tree")
    (root / "x" / "y").mkdir(parents=True)
    (root / "xx").mkdir()  # shares a prefix with x: not inside it
    for folder in (root, root / "x", root / "x" / "y", root / "xx"):
        for name in ["a", "b", "c.csv", "d.gpkg", "e"]:
            (folder / name).write_text(str(folder / name))
    (root / "lx").symlink_to(root / "x")
    return root


FOLDERS = st.sampled_from(["", "x", "x/y", "xx"])
# an alternative spelling of a folder: through "." , "y/..", or the symlink lx -> x
DETOURS = st.lists(st.sampled_from([".", "x/..", "xx/..", "x/y/../.."]), max_size=3)


def _spell(root, folder, name, detour, via_link):
    parts = [str(root), *detour]
    if folder.startswith("x") and folder != "xx" and via_link:
        folder = "lx" + folder[1:]
    if folder:
        parts.append(folder)
    parts.append(name)
    return os.path.join(*parts)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(folder=FOLDERS, name=NAMES, d1=DETOURS, d2=DETOURS, l1=st.booleans(), l2=st.booleans())
def test_same_file_ignores_spelling(tree, folder, name, d1, d2, l1, l2):
    a = _spell(tree, folder, name, d1, l1)
    b = _spell(tree, folder, name, d2, l2)
    assert same_file(a, b) and same_file(b, a)
    with pytest.raises(InputError):
        check_paths([("input", "--data", a), ("output", "--out", b)])
    with pytest.raises(InputError):
        check_paths([("output", "--out", b), ("input", "--data", a)])  # order does not matter
    with pytest.raises(InputError):
        check_paths([("output", "--out", a), ("output", "--png", b)])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(f1=FOLDERS, n1=NAMES, f2=FOLDERS, n2=NAMES, d1=DETOURS, d2=DETOURS, l1=st.booleans(), l2=st.booleans())
def test_distinct_files_are_distinct(tree, f1, n1, f2, n2, d1, d2, l1, l2):
    a = _spell(tree, f1, n1, d1, l1)
    b = _spell(tree, f2, n2, d2, l2)
    expect = (f1, n1) == (f2, n2)
    assert same_file(a, b) == expect
    if not expect:
        check_paths([("input", "--data", a), ("output", "--out", b)])  # no error


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(f1=FOLDERS, n1=NAMES, folder=st.sampled_from(["x", "x/y", "xx"]), d1=DETOURS, d2=DETOURS, l1=st.booleans(),
       l2=st.booleans())
def test_inside_a_folder_read_whole(tree, f1, n1, folder, d1, d2, l1, l2):
    path = _spell(tree, f1, n1, d1, l1)
    parts = [str(tree), *d2, ("lx" + folder[1:]) if (l2 and folder != "xx") else folder]
    spelled_folder = os.path.join(*parts)
    expect = f1 == folder or f1.startswith(folder + "/")  # "xx" is not inside "x"
    assert inside(path, spelled_folder) == expect
    if expect:
        with pytest.raises(InputError):
            check_paths([("input-dir", "--results", spelled_folder), ("output", "--out", path)])


def test_hard_link_is_the_same_file(tree):
    h = tree / "hard_a"
    if not h.exists():
        os.link(tree / "x" / "a", h)
    assert same_file(h, tree / "lx" / "a")
    assert not same_file(h, tree / "xx" / "a")
