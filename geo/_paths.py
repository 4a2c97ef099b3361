"""Where the bundled data folders live (``boundaries/``, ``layers/``, ``maps/``).

In a source checkout (the README's editable install) they are the repository's
top-level folders, next to the ``geo`` package.  A wheel carries the same
folders as ``geo/_bundled/boundaries`` and ``geo/_bundled/layers`` (see
``pyproject.toml``); those are used when the checkout folders are absent.
"""

from pathlib import Path

__all__ = ["ROOT", "BOUNDARIES_DIR", "LAYERS_DIR", "MAPS_DIR"]

_PACKAGE = Path(__file__).resolve().parent
ROOT = _PACKAGE.parent


def _folder(name: str) -> Path:
    checkout = ROOT / name
    if (checkout / "PROVENANCE.md").exists():
        return checkout
    return _PACKAGE / "_bundled" / name


BOUNDARIES_DIR = _folder("boundaries")
LAYERS_DIR = _folder("layers")
MAPS_DIR = ROOT / "maps"
