"""Where the bundled data folders live (``boundaries/``, ``layers/``, ``maps/``).

In a source checkout (the README's editable install) they are the repository's
top-level folders, next to the ``geo`` package.
"""

from pathlib import Path

__all__ = ["ROOT", "BOUNDARIES_DIR", "LAYERS_DIR", "MAPS_DIR"]

ROOT = Path(__file__).resolve().parent.parent
BOUNDARIES_DIR = ROOT / "boundaries"
LAYERS_DIR = ROOT / "layers"
MAPS_DIR = ROOT / "maps"
