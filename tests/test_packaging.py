"""The wheel ships every package of geo: pyproject's explicit package list names each folder with an __init__.py.

An explicit list is kept because the data folders (boundaries/, layers/) are mapped into the wheel as
geo._bundled.*; a new subpackage missing from it works in an editable checkout and is absent from an installed
wheel (geo.radiation was, until this test).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_geo_package_is_in_the_wheel_list():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "geo").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found - listed == set(), f"packages missing from pyproject [tool.setuptools] packages: {sorted(found - listed)}"
