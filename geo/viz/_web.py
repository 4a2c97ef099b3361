"""Boundaries made small for the web: coverage-preserving simplification, rounding, compact encoding.

Neighbouring units must still share their edges after simplification (no slivers, no gaps), so a
valid coverage is simplified with ``shapely.coverage_simplify`` (GEOS' coverage simplifier: each
shared edge is simplified once and used by both sides).  Coordinates are then rounded to a grid
vertex by vertex (``shapely.set_precision(..., mode="pointwise")``): a vertex shared by two units is
rounded to the same place in both, so the coverage stays valid (checked, and the grid refined if a
ring would collapse).

The page carries each ring as integers on that grid, delta-encoded (first vertex absolute, then
differences), a few lines of JavaScript decode them (``geoDecode`` in ``_elements``).  This is our
own format rather than GeoJSON because it is 2-3x smaller for the same vertices (measured in
``benchmarks/bench_maps.py``); TopoJSON would need another client library.

Large inputs (the embedded prefectures: 185k vertices, ~0.5 s of coverage checks and simplification) are
simplified once per user: the result is kept in geo's per-user cache (``geo.boundaries.cache_dir()``,
same file format as the cleaned boundaries) under the SHA-256 of the input's WKB, the options, and the
geo, shapely and GEOS versions; a stale or corrupt file is ignored and rebuilt.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from geo import __version__
from geo.boundaries import _read_cache, _write_cache, cache_dir
from geo.errors import CRSError, GeometryError, check_choice

__all__ = ["WebGeometry", "web_geometry", "SIMPLIFY_METHODS"]

SIMPLIFY_METHODS = ("auto", "coverage", "each", "none")
#: default tolerance as a fraction of the diagonal of the data's bounding box (China: ~0.02°, ~2 km)
_AUTO_TOLERANCE = 3e-4


@dataclass(frozen=True)
class WebGeometry:
    """Simplified, rounded unit geometries (EPSG:4326) and how they were made."""

    geometry: pd.Series  # shapely geometries on the units' index, on the rounding grid
    method: str  # "coverage", "each" or "none"
    tolerance: float  # degrees
    decimals: int
    vertices_in: int
    vertices_out: int
    #: units drawn grey around the analysis (the rest of the embedded territory), simplified with the units
    context: pd.Series | None = None

    @property
    def scale(self) -> int:
        return 10**self.decimals

    def bounds(self) -> list[list[float]]:
        """[[south, west], [north, east]] for Leaflet's fitBounds."""
        minx, miny, maxx, maxy = shapely.total_bounds(self.geometry.to_numpy())
        return [[float(miny), float(minx)], [float(maxy), float(maxx)]]

    def encoded(self) -> list:
        """Per unit: list of polygons, each a list of rings of delta-encoded grid integers (None if empty)."""
        scale = self.scale
        out = []
        for geom in self.geometry.to_numpy():
            out.append(_encode(geom, scale))
        return out

    def summary(self) -> str:
        return (
            f"simplified with method={self.method!r}, tolerance {self.tolerance:.4g}°, "
            f"{self.decimals} decimals: {self.vertices_in} -> {self.vertices_out} vertices"
        )


def _polygons(geom):
    if geom is None or geom.is_empty:
        return []
    kind = geom.geom_type
    if kind == "Polygon":
        return [geom]
    if kind == "MultiPolygon":
        return list(geom.geoms)
    if kind == "GeometryCollection":
        return [p for g in geom.geoms for p in _polygons(g)]
    return []


def _encode_ring(coords: np.ndarray, scale: int) -> list[int]:
    ints = np.rint(coords[:-1, :2] * scale).astype(np.int64)  # the closing vertex is implied
    if len(ints) == 0:
        return []
    deltas = np.empty_like(ints)
    deltas[0] = ints[0]
    deltas[1:] = np.diff(ints, axis=0)
    return deltas.ravel().tolist()


def _encode(geom, scale: int):
    polys = []
    for poly in _polygons(geom):
        rings = [_encode_ring(np.asarray(poly.exterior.coords), scale)]
        rings += [_encode_ring(np.asarray(r.coords), scale) for r in poly.interiors]
        rings = [r for r in rings if len(r) >= 6]
        if rings:
            polys.append(rings)
    return polys or None


def _auto_tolerance(geoms) -> float:
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    diag = math.hypot(maxx - minx, maxy - miny)
    return diag * _AUTO_TOLERANCE if diag > 0 else 0.0


def _auto_decimals(tolerance: float) -> int:
    if tolerance <= 0:
        return 6
    return int(min(7, max(2, math.ceil(-math.log10(tolerance / 10)))))


def _round_ok(rounded, original_nonempty: np.ndarray, check_coverage: bool) -> bool:
    if (shapely.is_empty(rounded) & original_nonempty).any():
        return False
    if not shapely.is_valid(rounded[original_nonempty]).all():
        return False
    if check_coverage and not shapely.coverage_is_valid(rounded[original_nonempty]):
        return False
    return True


def web_geometry(units, *, simplify: str = "auto", tolerance="auto", decimals="auto") -> WebGeometry:
    """Simplify and round the polygons of ``units`` (a GeoDataFrame or GeoSeries) for a web map.

    ``simplify``: ``"coverage"`` (shared edges stay shared; needs a valid coverage), ``"each"``
    (unit by unit, topology kept within a unit but gaps may open between neighbours), ``"none"``,
    or ``"auto"`` (coverage when ``shapely.coverage_is_valid`` says the input is one, else each;
    the method used is recorded in the result).  ``tolerance`` in degrees, ``decimals`` of the
    rounding grid; ``"auto"`` scales both with the extent of the data.
    """
    check_choice("simplify", simplify, SIMPLIFY_METHODS)
    geoseries = units.geometry if hasattr(units, "geometry") else units
    if geoseries.crs is None:
        raise CRSError("units have no CRS; set one (e.g. gdf.set_crs('EPSG:4326')) before mapping")
    if not geoseries.crs.equals("EPSG:4326"):
        geoseries = geoseries.to_crs("EPSG:4326")
    geoms = geoseries.to_numpy()
    types = set(shapely.get_type_id(geoms[~shapely.is_missing(geoms)]).tolist())
    if not types <= {3, 6, 7}:  # Polygon, MultiPolygon, GeometryCollection
        raise GeometryError("units must be polygons or multipolygons to be drawn as areas")
    nonempty = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not nonempty.any():
        raise GeometryError("units have no non-empty geometry to draw")
    key = None
    if nonempty.all() and int(shapely.get_num_coordinates(geoms).sum()) >= _CACHE_MIN_VERTICES:
        key = _cache_key(geoms, simplify, tolerance, decimals)
        found = _cache_read(key, len(geoms))
        if found is not None:
            cached, meta = found
            return WebGeometry(geometry=pd.Series(cached, index=geoseries.index, name="geometry"), **meta)
    result = _simplify(geoms, nonempty, geoseries.index, simplify, tolerance, decimals)
    if key is not None:
        _cache_write(key, result)
    return result


#: inputs with fewer vertices are simplified faster than a cache file is read
_CACHE_MIN_VERTICES = 20_000
#: web-geometry cache files kept per user (oldest removed first)
_CACHE_KEEP = 16


def _cache_key(geoms, simplify, tolerance, decimals) -> str:
    h = hashlib.sha256()
    for part in ("web-geometry", __version__, shapely.__version__, shapely.geos_version_string,
                 simplify, repr(tolerance), repr(decimals), len(geoms)):
        h.update(str(part).encode("utf-8") + b"\0")
    for wkb in shapely.to_wkb(geoms, output_dimension=2):
        h.update(len(wkb).to_bytes(8, "little") + wkb)
    return h.hexdigest()


def _cache_file(key: str):
    return cache_dir() / f"web-{key[:32]}.npz"


def _cache_read(key: str, n: int):
    path = _cache_file(key)
    found = _read_cache(path, key, meta=True) if path.exists() else None
    if found is None:
        return None
    _codes, geoms, meta = found
    fields = {"method", "tolerance", "decimals", "vertices_in", "vertices_out"}
    if len(geoms) != n or set(meta) != fields:
        return None
    return geoms, meta


def _cache_write(key: str, result: WebGeometry) -> None:
    import contextlib

    path = _cache_file(key)
    geoms = result.geometry.to_numpy()
    meta = {"method": result.method, "tolerance": result.tolerance, "decimals": result.decimals,
            "vertices_in": result.vertices_in, "vertices_out": result.vertices_out}
    _write_cache(path, key, np.arange(len(geoms)).astype(str), geoms, meta)
    with contextlib.suppress(OSError):
        old = sorted(path.parent.glob("web-*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in old[_CACHE_KEEP:]:
            stale.unlink()


def _simplify(geoms, nonempty, index, simplify, tolerance, decimals) -> WebGeometry:
    tol = _auto_tolerance(geoms[nonempty]) if tolerance == "auto" else float(tolerance)
    if tol < 0:
        raise GeometryError(f"tolerance={tolerance!r} must be >= 0")
    dec = _auto_decimals(tol) if decimals == "auto" else int(decimals)

    method = simplify
    simplified = geoms.copy()
    if method in ("auto", "coverage") and tol > 0:
        is_coverage = bool(shapely.coverage_is_valid(geoms[nonempty]))
        if method == "auto":
            method = "coverage" if is_coverage else "each"
        elif not is_coverage:
            raise GeometryError(
                "units are not a valid coverage (overlaps or mismatched shared edges); "
                "clean them (geo.boundaries.check_coverage) or use simplify='each'"
            )
    elif method == "auto":
        method = "none"
    if method == "coverage":
        simplified[nonempty] = shapely.coverage_simplify(geoms[nonempty], tol)
    elif method == "each" and tol > 0:
        simplified[nonempty] = shapely.simplify(geoms[nonempty], tol, preserve_topology=True)

    check_cov = method == "coverage" and tol > 0
    while True:
        rounded = simplified.copy()
        rounded[nonempty] = shapely.set_precision(simplified[nonempty], 10.0**-dec, mode="pointwise")
        if dec >= 9 or _round_ok(rounded, nonempty, check_cov):
            break
        dec += 1
    return WebGeometry(
        geometry=pd.Series(rounded, index=index, name="geometry"),
        method=method,
        tolerance=tol,
        decimals=dec,
        vertices_in=int(shapely.get_num_coordinates(geoms[nonempty]).sum()),
        vertices_out=int(shapely.get_num_coordinates(rounded[nonempty]).sum()),
    )
