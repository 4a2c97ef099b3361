"""Reading point layers for :mod:`geo.points`: files and frames -> chunks of WGS-84 coordinates, years and values.

The first step of the points data flow (read -> locate and reduce (:mod:`geo._points_locate`) -> assemble
(:mod:`geo.points`)).  CSV is read with pandas' C parser ``chunksize`` rows at a time, Parquet/GeoParquet one row
group at a time cut into ``chunksize`` rows, so memory is bounded by the chunk (or the row group) whatever the
file size; other vector formats are read whole.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from geo._io import _sniff_sep, check_input_path, is_vector_file, read_vector
from geo.coords import to_wgs84
from geo.errors import CRSError, GeometryError, InputError, SchemaError

__all__ = ["DEFAULT_CHUNKSIZE", "LAT_NAMES", "LON_NAMES", "NO_YEAR", "iter_point_chunks", "total_rows"]

LON_NAMES = ("lon", "lng", "longitude", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")
DEFAULT_CHUNKSIZE = 1_000_000
NO_YEAR = -1  # year key when no year column is given



@dataclass(frozen=True)
class _Spec:
    """What to read from the points and how to interpret it (shipped to workers)."""

    lon: str
    lat: str
    sums: tuple
    year: str | None
    crs: str
    source: str


def _pick_column(columns, given, names, what, source):
    if given is not None:
        if given not in columns:
            present = ", ".join(map(str, list(columns)[:20]))
            raise SchemaError(f"{source}: no {what} column {given!r} (columns are: {present})")
        return given
    lower = {str(c).lower(): c for c in columns}
    for n in names:
        if n in lower:
            return lower[n]
    present = ", ".join(map(str, list(columns)[:20]))
    raise SchemaError(
        f"{source}: no {what} column found (looked for {', '.join(names)}); name it with "
        f"{'--lon' if what == 'longitude' else '--lat'} (columns are: {present})"
    )


def _kind(points) -> str:
    import geopandas as gpd

    if isinstance(points, gpd.GeoDataFrame):
        return "geoframe"
    if isinstance(points, pd.DataFrame):
        return "frame"
    p = check_input_path(points)
    suffix = p.suffix.lower()
    if is_vector_file(p):
        return "geoparquet" if suffix in (".parquet", ".geoparquet") else "vector"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    if suffix == ".parquet":
        return "parquet"
    raise InputError(
        f"{p}: unknown point file format {suffix!r}; use CSV (lon/lat columns), Parquet, GeoParquet or a vector file"
    )


def _csv_sep(path) -> str:
    """The field separator of a points CSV, sniffed from its first line (geo._io's rule for tables)."""
    p = Path(path)
    with open(p, "rb") as fh:
        head = fh.read(65536).decode("utf-8-sig", errors="replace")
    return _sniff_sep(head, p.suffix.lower())


def _columns_of(points, kind) -> list[str]:
    if kind in ("frame", "geoframe"):
        return [str(c) for c in points.columns]
    if kind == "csv":
        try:
            head = pd.read_csv(points, sep=_csv_sep(points), nrows=0, encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"{points}: not UTF-8 text ({exc.reason}); save the table as UTF-8 CSV") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
            raise InputError(f"{points}: cannot read CSV: {_first_line(exc)}") from None
        return [str(c) for c in head.columns]
    if kind in ("parquet", "geoparquet"):
        import pyarrow.parquet as pq

        return list(pq.read_schema(points).names)
    import pyogrio

    info = pyogrio.read_info(points)
    return list(info["fields"])


def _first_line(exc) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _finish_chunk(df: pd.DataFrame, spec: _Spec) -> pd.DataFrame:
    """Columns ``_x``, ``_y`` (WGS-84), ``_year`` (int, -1 when absent/missing) and the sums, as float."""
    out = pd.DataFrame(index=pd.RangeIndex(len(df)))
    x = pd.to_numeric(df[spec.lon], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(df[spec.lat], errors="coerce").to_numpy(dtype=float)
    if spec.crs != "wgs84":
        x, y = to_wgs84(x, y, spec.crs)
    out["_x"], out["_y"] = x, y
    for c in spec.sums:
        col = df[c]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            out[c] = col.to_numpy(dtype=float, na_value=np.nan)
            continue
        vals = pd.to_numeric(col, errors="coerce")
        bad = vals.isna() & col.notna()
        if bad.any():
            bad &= col.astype("string").str.strip().fillna("") != ""
        if bad.any():
            raise SchemaError(f"{spec.source}: column {c!r} to sum is not numeric (e.g. {col[bad].iloc[0]!r})")
        out[c] = vals.to_numpy(dtype=float, na_value=np.nan)
    out["_year"] = _years(df[spec.year], spec) if spec.year else NO_YEAR
    return out


def _years(col: pd.Series, spec: _Spec) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(col):
        vals = col.to_numpy(dtype=float)
        bad = np.isfinite(vals) & (vals != np.floor(vals))
        if bad.any():
            raise SchemaError(f"{spec.source}: year column {spec.year!r} has a non-integer year {vals[bad][0]!r}")
        return np.where(np.isfinite(vals), vals, NO_YEAR).astype(np.int64)
    if pd.api.types.is_datetime64_any_dtype(col):
        return col.dt.year.fillna(NO_YEAR).to_numpy(dtype=np.int64)
    text = col.astype("string").str.strip()
    out = np.full(len(col), NO_YEAR, dtype=np.int64)
    present = text.notna() & (text != "")
    plain = present & text.str.fullmatch(r"\d{4}(\.0)?").fillna(False)
    out[plain.to_numpy()] = text[plain].str[:4].astype(int).to_numpy()
    rest = present & ~plain
    if rest.any():
        dates = pd.to_datetime(text[rest], errors="coerce", format="mixed")
        if dates.isna().any():
            bad = text[rest][dates.isna()].iloc[0]
            raise SchemaError(f"{spec.source}: year column {spec.year!r} has a value that is no year or date: {bad!r}")
        out[rest.to_numpy()] = dates.dt.year.to_numpy()
    return out


def iter_point_chunks(points, spec: _Spec, *, chunksize: int = DEFAULT_CHUNKSIZE) -> Iterator[pd.DataFrame]:
    """Yield the points ``chunksize`` rows at a time, prepared by :func:`_finish_chunk`."""
    if chunksize < 1:
        raise InputError(f"chunksize={chunksize}: must be at least 1")
    for raw in _iter_raw(points, spec, chunksize):
        yield _finish_chunk(raw, spec)


def _needed(spec: _Spec) -> list[str]:
    return list(dict.fromkeys([spec.lon, spec.lat, *spec.sums] + ([spec.year] if spec.year else [])))


def _iter_raw(points, spec: _Spec, chunksize: int) -> Iterator[pd.DataFrame]:
    kind = _kind(points)
    if kind in ("frame", "geoframe"):
        df = _frame_xy(points, spec) if kind == "geoframe" else points
        for start in range(0, len(df), chunksize):
            yield df.iloc[start : start + chunksize]
        return
    if kind == "vector":
        yield from _iter_raw(read_vector(points), spec, chunksize)
        return
    if kind == "csv":
        yield from _rebatch(_csv_batches(points, spec, chunksize), chunksize)
        return
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(points)
    if kind == "parquet":
        yield from _rebatch(_row_groups(pf, _needed(spec), chunksize), chunksize)
        return
    # GeoParquet: WKB geometry column -> coordinates
    meta = json.loads(pf.schema_arrow.metadata[b"geo"])
    gcol = meta.get("primary_column", "geometry")
    crs = meta.get("columns", {}).get(gcol, {}).get("crs")
    cols = [c for c in _needed(spec) if c not in (spec.lon, spec.lat)] + [gcol]
    frames = (_wkb_xy(b, gcol, crs, spec) for b in _row_groups(pf, cols, chunksize))
    yield from _rebatch(frames, chunksize)


def _row_groups(pf, columns, chunksize) -> Iterator[pd.DataFrame]:
    """Frames of at most ``chunksize`` rows, one row group in memory at a time.

    (``ParquetFile.iter_batches`` keeps decoded data alive across batches; pyarrow 26 held the
    whole file's columns by the end, so memory grew with the file.)
    """
    for i in range(pf.num_row_groups):
        table = pf.read_row_group(i, columns=columns)
        for batch in table.to_batches(max_chunksize=chunksize):
            yield batch.to_pandas()
        del table


def _csv_batches(path, spec: _Spec, chunksize: int) -> Iterator[pd.DataFrame]:
    """CSV in chunks with pandas' C parser.

    pyarrow's streaming CSV reader is ~1.6x faster at parsing, but on a 10-million-row file its peak memory
    grew with the file (639 MB vs 290 MB here), apparently from read-ahead, so it does not keep memory
    bounded.
    """
    dtype = {spec.year: "string"} if spec.year else None
    try:
        reader = pd.read_csv(
            path, sep=_csv_sep(path), usecols=_needed(spec), dtype=dtype, chunksize=chunksize,
            encoding="utf-8-sig", engine="c", low_memory=True,
        )
        for chunk in reader:
            yield chunk
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason}); save the table as UTF-8 CSV") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(f"{path}: cannot read CSV: {_first_line(exc)}") from None


def _rebatch(frames: Iterator[pd.DataFrame], chunksize: int) -> Iterator[pd.DataFrame]:
    """Re-cut a stream of frames into frames of exactly ``chunksize`` rows (the last may be shorter)."""
    buf: list[pd.DataFrame] = []
    held = 0
    for f in frames:
        while len(f):
            take = min(chunksize - held, len(f))
            buf.append(f.iloc[:take])
            held += take
            f = f.iloc[take:]
            if held == chunksize:
                yield pd.concat(buf, ignore_index=True) if len(buf) > 1 else buf[0].reset_index(drop=True)
                buf, held = [], 0
    if held:
        yield pd.concat(buf, ignore_index=True)


def _xy_from_geoms(geoms, crs, source):
    import shapely
    from pyproj import CRS, Transformer

    types = shapely.get_type_id(geoms)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if ((types != 0) & ~missing).any():
        raise GeometryError(f"{source}: geometries must be points (found other geometry types)")
    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    ok = ~missing
    x[ok], y[ok] = shapely.get_x(geoms[ok]), shapely.get_y(geoms[ok])
    if crs is not None:
        src = CRS.from_user_input(crs)
        if not src.equals(CRS.from_epsg(4326), ignore_axis_order=True) and src.to_epsg() not in (4326, 4490):
            x, y = Transformer.from_crs(src, 4326, always_xy=True).transform(x, y)
    return x, y


def _frame_xy(gdf, spec: _Spec) -> pd.DataFrame:
    if gdf.crs is None:
        raise CRSError(f"{spec.source}: points have no CRS; use set_crs('EPSG:4326') first")
    x, y = _xy_from_geoms(np.asarray(gdf.geometry.values, dtype=object), gdf.crs, spec.source)
    df = pd.DataFrame({c: gdf[c].to_numpy() for c in _needed(spec) if c not in (spec.lon, spec.lat)})
    df[spec.lon], df[spec.lat] = x, y
    return df


def _wkb_xy(df: pd.DataFrame, gcol: str, crs, spec: _Spec) -> pd.DataFrame:
    import shapely

    geoms = shapely.from_wkb(df[gcol].to_numpy())
    x, y = _xy_from_geoms(geoms, crs if crs is not None else "EPSG:4326", spec.source)
    out = df.drop(columns=[gcol])
    out[spec.lon], out[spec.lat] = x, y
    return out


def total_rows(points) -> int | None:
    """Number of points the reader will yield when it is known without reading them (Parquet metadata, frames);
    None for CSV and other vector files."""
    kind = _kind(points)
    if kind in ("frame", "geoframe"):
        return len(points)
    if kind in ("parquet", "geoparquet"):
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(points).metadata.num_rows)
    return None
