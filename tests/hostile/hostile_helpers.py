"""Helpers of the hostile suite: the CLI's commands and path options, enumerated from click itself.

Every input is generated here or in the tests (no committed binaries).  New commands and new path
options are covered automatically: the enumeration walks the click commands and their parameter types.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from geo.cli import cli
from geo.cli.paths import InputDir, InputPath, OutputDir, OutputPath, SpecOrInput

ROOT = Path(__file__).resolve().parents[2]
INPUT_TYPES = (InputPath, SpecOrInput)
OUTPUT_TYPES = (OutputPath, OutputDir)


def leaf_commands():
    """[(argv prefix, click command)] for every command and subcommand of `geo`."""
    out = []
    ctx = click.Context(cli)

    def walk(group, prefix):
        for name in group.list_commands(ctx):
            cmd = group.get_command(ctx, name)
            if isinstance(cmd, click.Group):
                walk(cmd, prefix + [name])
            else:
                out.append((prefix + [name], cmd))

    walk(cli, [])
    return out


def option_name(param) -> str:
    return max(param.opts, key=len)


def params_of(cmd, types):
    return [p for p in cmd.params if isinstance(p, click.Option) and isinstance(p.type, types)]


def filler(param, files) -> list[str]:
    """Arguments giving a required option a value that parses (the path checks run while parsing)."""
    t = param.type
    name = option_name(param)
    if isinstance(t, InputPath):
        return [name, str(files["csv"])]
    if isinstance(t, InputDir):
        return [name, str(files["dir"])]
    if isinstance(t, SpecOrInput):
        return [name, "queen"]
    if isinstance(t, OutputPath):
        return [name, str(files["out"])]
    if isinstance(t, OutputDir):
        return [name, str(files["outdir"])]
    if isinstance(t, click.Choice):
        return [name, t.choices[0]]
    if isinstance(t, click.types.IntParamType):
        return [name, "2000" if "year" in name else "1"]
    if isinstance(t, click.types.FloatParamType):
        return [name, "0.5"]
    return [name, "x"]


def base_args(cmd, files, *, skip=()) -> list[str]:
    args = []
    for p in cmd.params:
        if isinstance(p, click.Option) and p.required and option_name(p) not in skip:
            args += filler(p, files)
    return args


def make_files(tmp_path):
    """A small valid table, a results folder and output paths, all inside tmp_path."""
    csv = tmp_path / "in.csv"
    csv.write_text("adcode,v,year\n110000,1.5,2020\n120000,2.5,2020\n", encoding="utf-8")
    d = tmp_path / "results"
    d.mkdir()
    (d / "a.json").write_text('{"x": 1}\n', encoding="utf-8")
    return {"csv": csv, "dir": d, "out": tmp_path / "out.csv", "outdir": tmp_path / "gallery", "tmp": tmp_path}


def run_geo(args, *, cwd=None, env=None, timeout=300, user=None):
    """`python -m geo ARGS` in a subprocess (for kills, hangs and other users)."""
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = str(ROOT) + os.pathsep + full_env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "geo", *map(str, args)], cwd=cwd, env=full_env, capture_output=True, text=True,
        timeout=timeout, user=user,
    )


def one_error_line(err: str) -> bool:
    """stderr is exactly one line starting with 'error: ' (no traceback, no warnings)."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    return len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err
