"""Guards at the edges: odd files before they are opened, odd geometries, results that are not numbers.

Each guard raises one :class:`~geo.errors.GeoError` whose message names the file (or the result line)
and what to do; the readers and :func:`geo.cli.options.emit` call them, so the rule lives here once.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import stat

from geo.errors import CRSError, GeoError, GeometryError, InputError, ResultError

__all__ = [
    "check_regular_file",
    "check_geometries",
    "check_finite_result",
    "check_emitted",
    "is_edge_error",
    "reading",
    "reading_each",
]

#: libraries at the edge whose exceptions mean "this file cannot be read or written"
EDGE_LIBS = ("pyogrio", "rasterio", "pyarrow", "fiona", "openpyxl", "xlrd", "zipfile", "exactextract", "pandas")


def is_edge_error(exc) -> bool:
    """True for an exception a user's file can cause: I/O, decoding, or any error of a file-format library."""
    if isinstance(exc, GeoError):
        return False
    if isinstance(exc, (OSError, UnicodeError, EOFError)):
        return True
    return type(exc).__module__.split(".")[0] in EDGE_LIBS


def _first_line(exc) -> str:
    text = str(exc).strip()
    cause = exc.__cause__ or exc.__context__
    if "previous exception" in text and cause is not None:  # rasterio: the GDAL message is the cause
        return _first_line(cause)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return text.splitlines()[0] if text else type(exc).__name__


@contextlib.contextmanager
def reading(path, what: str = "file"):
    """Turn an edge library's error raised while reading ``path`` into one InputError naming the file."""
    try:
        yield
    except Exception as exc:
        if not is_edge_error(exc):
            raise
        raise InputError(f"{path}: cannot read {what}: {_first_line(exc)}") from None


def reading_each(iterable, path, what: str = "file"):
    """``iterable`` (chunks read lazily from ``path``) with :func:`reading` around every step."""
    with reading(path, what):
        yield from iterable

_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def check_regular_file(path) -> None:
    """Refuse a FIFO, socket or device before anything opens it (opening a FIFO waits forever for a writer)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # missing or unreadable: the caller's own message says so
    for test, kind in _KINDS:
        if test(mode):
            raise InputError(f"{path}: is {kind}, not a regular file; give a file saved on disk")


#: shapely type ids: 0 Point, 1 LineString, 2 LinearRing, 3 Polygon, 4 MultiPoint, 5 MultiLineString,
#: 6 MultiPolygon, 7 GeometryCollection
_FAMILY = {0: "point", 4: "point", 1: "line", 2: "line", 5: "line", 3: "polygon", 6: "polygon", 7: "collection"}


def check_geometries(gdf, source, *, ids=None) -> None:
    """Refuse GeometryCollections, a mix of geometry families (points, lines, polygons) and, in a
    geographic CRS, coordinates outside longitude -180..180 / latitude -90..90.

    ``ids`` (aligned with ``gdf``) name the offending features; default: the row numbers.
    """
    import numpy as np
    import shapely

    geoms = np.asarray(gdf.geometry.values, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    names = np.asarray(list(ids) if ids is not None else [f"row {i + 1}" for i in range(len(geoms))], dtype=object)
    types = shapely.get_type_id(geoms)
    coll = present & (types == 7)
    if coll.any():
        raise GeometryError(
            f"{source}: {int(coll.sum())} features are GeometryCollections (first: {names[coll][0]}); "
            "keep only their polygons (e.g. in QGIS: Vector > Geometry > Collect/Explode) and save again"
        )
    fams = {_FAMILY[t] for t in np.unique(types[present]).tolist()}
    if len(fams) > 1:
        first = {f: names[present & np.isin(types, [k for k, v in _FAMILY.items() if v == f])][0] for f in fams}
        listed = ", ".join(f"{f}s (e.g. {first[f]})" for f in sorted(fams))
        raise GeometryError(f"{source}: mixes geometry types: {listed}; keep one kind per file")
    crs = getattr(gdf, "crs", None)
    if crs is not None and crs.is_geographic and present.any():
        xmin, ymin, xmax, ymax = shapely.total_bounds(geoms[present])
        if not (np.isfinite([xmin, ymin, xmax, ymax]).all()):
            raise GeometryError(f"{source}: coordinates are not finite numbers")
        if xmin < -180 or xmax > 180 or ymin < -90 or ymax > 90:
            b = shapely.bounds(geoms[present])
            bad = (b[:, 0] < -180) | (b[:, 2] > 180) | (b[:, 1] < -90) | (b[:, 3] > 90)
            raise CRSError(
                f"{source}: coordinates outside longitude -180..180 / latitude -90..90 "
                f"(x {xmin:.6g}..{xmax:.6g}, y {ymin:.6g}..{ymax:.6g}; first: {names[present][bad][0]}) "
                f"although the file declares the geographic CRS {crs.to_string()}; the data are probably "
                "projected: declare their real CRS"
            )


_BAD_WORD = re.compile(r"(?<![\w.])[-+]?(nan|inf|infinity)(?![\w])", re.IGNORECASE)


def _non_finite(obj, path="", *, in_records=False) -> list:
    """Paths of the garbage numbers in a JSON-like payload: any infinity, and NaN outside lists of
    records (a per-unit table may hold NaN for a unit without data; it is shown as null)."""
    if isinstance(obj, dict):
        return [b for k, v in obj.items() for b in _non_finite(v, f"{path}.{k}" if path else str(k), in_records=in_records)]
    if isinstance(obj, (list, tuple)):
        records = in_records or (len(obj) > 0 and all(isinstance(v, dict) for v in obj))
        return [b for i, v in enumerate(obj) for b in _non_finite(v, f"{path}[{i}]", in_records=records)]
    if isinstance(obj, (str, bytes, bool)) or obj is None:
        return []
    try:
        value = float(obj)
    except (TypeError, ValueError):
        return []
    if math.isinf(value) or (math.isnan(value) and not in_records):
        return [path or "result"]
    return []


def check_finite_result(*, payload=None, text: str | None = None) -> None:
    """Refuse a result that would print NaN or infinity as a value.

    ``payload`` (a ``to_json()`` dict): a non-finite number in a scalar entry, or an infinite one
    anywhere (tables of records may hold NaN for a unit without data, shown as null).  ``text`` (a
    ``summary()``): a word ``nan`` or ``inf`` where a number belongs.  Raises ResultError naming the
    entry or the line.
    """
    if payload is not None:
        bad = _non_finite(payload)
        if bad:
            raise ResultError(
                f"the result is not a finite number at {', '.join(dict.fromkeys(bad[:3]))}: the computation "
                "overflowed or the data are degenerate (constant, too few units, extreme values); rescale the "
                "variable or check the data"
            )
    if text is not None:
        for line in str(text).splitlines():
            if _BAD_WORD.search(line):
                raise ResultError(
                    f"the result is not a finite number ({line.strip()!r}): the computation overflowed or the "
                    "data are degenerate (constant, too few units, extreme values); rescale the variable or "
                    "check the data"
                )


def check_emitted(result, as_json: bool) -> None:
    """The check :func:`geo.cli.options.emit` runs before printing ``result`` as JSON or as text.

    ``to_json()`` is checked for infinity anywhere and NaN outside per-unit tables; as it often turns
    NaN into null, the human rendering (``summary()``) is searched for ``nan``/``inf`` too, in both
    modes: a statistic that is NaN shows there.  (A value left uncomputed on purpose, e.g. ``p_sim``
    without permutations, is not shown, so it passes.)  The text search is skipped when the result
    holds tables with missing cells (a band without units, a unit without data), which a summary
    may legitimately show as nan.
    """
    payload = result.to_json() if hasattr(result, "to_json") else (result if isinstance(result, dict) else None)
    if payload is not None:
        check_finite_result(payload=payload)
    if payload is None or not _has_missing_cells(payload):
        check_finite_result(text=result.summary() if hasattr(result, "summary") else str(result))


def _has_missing_cells(obj, in_records=False) -> bool:
    if isinstance(obj, dict):
        return any(_has_missing_cells(v, in_records) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        records = in_records or (len(obj) > 0 and all(isinstance(v, dict) for v in obj))
        return any(_has_missing_cells(v, records) for v in obj)
    return in_records and (obj is None or (isinstance(obj, float) and math.isnan(obj)))
