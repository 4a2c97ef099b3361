"""geo: a spatial toolkit for China's zones and their spillovers.

Data flows one way: boundaries -> layers joined -> weights -> statistics and
models -> maps and report.  Submodules are imported on demand so that
``import geo`` stays cheap; use ``geo.boundaries``, ``geo.layers`` and so on.
"""

from geo.errors import GeoError

__all__ = ["GeoError", "__version__"]
__version__ = "0.1.0"
