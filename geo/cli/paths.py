"""Click parameter types for every file and folder a command reads or writes: an output never destroys an input.

Each path option declares its role through its type -- :class:`InputPath`, :class:`InputDir` (a
folder read as a whole), :class:`SpecOrInput` (a spec string that may name a file),
:class:`OutputPath`, :class:`OutputDir`.  While click parses the command line, each path is
registered in the invocation's context and compared with the ones registered before it, so the
whole rule is checked before the command body runs (and before any work):

* an output may not be an input (same file after resolving symlinks and ``..``, or the same inode:
  hard links), another output of the same run, or lie inside a folder the command reads as a whole;
* an output may not replace a file of the data shipped with geo (``boundaries/``, ``layers/``);
* an output's folder must exist and be writable, and the output must not be a folder;
* an input must not be a FIFO, socket or device (reading it would hang).

A violation raises :class:`geo.errors.InputError`: ``error: …`` and exit status 2.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from geo._guards import check_regular_file
from geo._paths import BOUNDARIES_DIR, LAYERS_DIR
from geo._write import check_output_dir, check_output_path, check_writable, inside, same_file
from geo.errors import InputError

__all__ = ["InputPath", "InputDir", "SpecOrInput", "OutputPath", "OutputDir", "ROLES", "check_paths"]

_META_KEY = "geo.paths"
#: role of each type: "input", "input-dir" (read as a whole), "output", "output-dir"
ROLES = ("input", "input-dir", "output", "output-dir")


def _label(param) -> str:
    if param is None:
        return "a path"
    opts = getattr(param, "opts", None) or [param.name]
    return max(opts, key=len)


def _protected() -> list[Path]:
    return [BOUNDARIES_DIR, LAYERS_DIR]


def check_paths(entries) -> None:
    """Apply the rule to ``entries``, a list of ``(role, option label, path)``; raise InputError on the first clash.

    (The click types call it each time they register a path; it is public for the library and the tests.)
    """
    entries = list(entries)
    for i, (role, label, path) in enumerate(entries):
        if role not in ("output", "output-dir"):
            continue
        for j, (other_role, other_label, other) in enumerate(entries):
            if i == j:
                continue
            if other_role in ("input", "input-dir") and same_file(path, other):
                raise InputError(
                    f"{path}: {label} would overwrite the input {other_label} {other}; choose another output path"
                )
            if other_role == "input-dir" and inside(path, other):
                raise InputError(
                    f"{path}: {label} lies inside {other}, the folder {other_label} reads as a whole; "
                    "write the output elsewhere"
                )
            if role == "output-dir" and other_role == "input" and inside(other, path):
                continue  # the folder publish replaces only the run's own files
            if other_role in ("output", "output-dir") and j < i and same_file(path, other):
                raise InputError(f"{path}: {label} and {other_label} name the same file; give two different paths")
        for folder in _protected():
            if folder.exists() and (
                (role == "output" and Path(path).exists() and inside(path, folder)) or same_file(path, folder)
            ):
                raise InputError(f"{path}: {label} would overwrite data shipped with geo in {folder}; write elsewhere")


def _register(ctx, role, param, value) -> None:
    if ctx is None:
        return
    entries = ctx.meta.setdefault(_META_KEY, [])
    entries.append((role, _label(param), os.fspath(value)))
    check_paths(entries)


class _RolePath(click.Path):
    """A click.Path that registers its value under ``role`` (and runs ``check`` on it first)."""

    role = "input"
    defaults = {"dir_okay": False}

    def __init__(self, **kwargs):
        super().__init__(**{**self.defaults, **kwargs})

    def check(self, value) -> None:
        """Raise InputError if ``value`` cannot play the role."""

    def convert(self, value, param, ctx):
        value = super().convert(value, param, ctx)
        self.check(value)
        _register(ctx, self.role, param, value)
        return value


class InputPath(_RolePath):
    """A file the command reads (must not be a FIFO/device; the readers report a missing file)."""

    name = "input file"

    def check(self, value) -> None:
        check_regular_file(value)


class InputDir(_RolePath):
    """A folder the command reads as a whole (no output of the run may lie inside it)."""

    name = "input folder"
    role = "input-dir"
    defaults = {"file_okay": False}


class SpecOrInput(click.ParamType):
    """A spec string (``queen``, ``knn:6``) or the path of a file to read (``w.gal``): registered as an input when a file."""

    name = "spec or file"

    def convert(self, value, param, ctx):
        value = str(value)
        if os.path.exists(value):
            check_regular_file(value)
            _register(ctx, "input", param, value)
        return value


class OutputPath(_RolePath):
    """A file the command writes: its folder exists and is writable, it is not a folder, it destroys no input."""

    name = "output file"
    role = "output"

    def check(self, value) -> None:
        p = check_output_path(value)
        check_writable(p.parent if str(p.parent) else Path("."), output=p)


class OutputDir(_RolePath):
    """A folder the command publishes into (created if missing; its parent must exist and be writable)."""

    name = "output folder"
    role = "output-dir"
    defaults = {"file_okay": False}

    def check(self, value) -> None:
        p = check_output_dir(value)
        check_writable(p if p.exists() else (p.parent if str(p.parent) else Path(".")), output=p)
