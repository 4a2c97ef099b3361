"""Print-map geography: the map projection, extents (province, zone radius, bbox), coverage simplification.

The territory itself (context units, the South China Sea line) is :mod:`geo.territory`, shared with web maps.

Provincial boundaries are the units dissolved by ``province_code`` (a coverage union: shared edges exact).
"""

from __future__ import annotations

import re

import numpy as np

from geo import zones as zone_registry
from geo.boundaries import EQUAL_AREA_CRS
from geo.errors import OptionError
from geo.territory import MAINLAND_SOUTH, SCS_BOX, boundary_lines, is_china, nine_dash_line, territory

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
_KM_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(km)?\s*$", re.I)


def parse_extent(extent, *, zones=None, crs: str = MAP_CRS):
    """(minx, miny, maxx, maxy) in ``crs`` metres (China's Albers by default), or None for the whole territory.

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
        box = gpd.GeoSeries([shapely.box(lon0, lat0, lon1, lat1).segmentize(0.5)], crs="EPSG:4326").to_crs(crs)
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
        if shapely.coverage_is_valid(geoms[ok]):
            simple[ok] = shapely.coverage_simplify(geoms[ok], tolerance_m)
        else:  # e.g. a user's file mixed with the embedded context: simplify each, keep its topology
            simple[ok] = shapely.simplify(geoms[ok], tolerance_m, preserve_topology=True)
        out = out.set_geometry(simple)
    return out
