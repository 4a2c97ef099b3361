"""Reading user files (the writers live in :mod:`geo._write` and are re-exported here).

Every reader turns the failures a user can cause (missing file, empty file,
malformed table, unknown format) into an :class:`~geo.errors.InputError` that
names the file.  Every writer goes through :func:`atomic_write`: the output is
written to a temporary file in the destination folder and renamed into place,
so a failed write leaves nothing behind and never truncates an existing file.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from geo._write import atomic_path, atomic_write, check_output_path, write_frame, write_json, write_text  # noqa: F401 (the writing side lives in geo._write)
from geo._guards import check_regular_file
from geo.errors import CRSError, GeometryError, InputError, SchemaError

__all__ = [
    "TABLE_SUFFIXES",
    "VECTOR_SUFFIXES",
    "atomic_write",
    "atomic_path",
    "read_table",
    "detect_encoding",
    "decode_text",
    "read_vector",
    "read_any",
    "write_frame",
    "write_json",
    "write_text",
    "check_input_path",
    "check_output_path",
    "require_columns",
]

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".parquet")
VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".fgb", ".geoparquet", ".parquet", ".gml", ".kml")


def check_input_path(path) -> Path:
    """Return ``path`` as a Path after checking it names a readable, non-empty file."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.is_dir():
        raise InputError(f"{p}: is a folder, not a file")
    check_regular_file(p)  # geo._guards: a FIFO or device would hang or stream forever
    if p.stat().st_size == 0:
        raise InputError(f"{p}: file is empty")
    return p


_CJK_LEGACY = {"gb2312", "gbk", "gb18030", "hz", "big5", "big5hkscs", "cp950", "cp932", "shift_jis", "euc_jp",
               "euc_kr", "cp949", "iso2022_jp", "johab"}


def detect_encoding(path, data: bytes | None = None) -> str:
    """The text encoding of a file: UTF-8 (with or without BOM), UTF-16 (BOM), else charset-normalizer's guess.

    BOMs and valid UTF-8 are decided exactly; other bytes go to charset-normalizer (a maintained
    detector; no hand-written guess).  Chinese legacy code pages are read as GB18030, the superset of
    GB2312 and GBK that Excel on Chinese Windows writes, when the bytes decode as GB18030: short
    Chinese files are otherwise often taken for Big5 or Shift-JIS.
    """
    import codecs

    raw = Path(path).read_bytes() if data is None else data
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    enc = best.encoding.lower().replace("-", "_") if best is not None else None
    if enc is None or enc in _CJK_LEGACY:
        try:
            raw.decode("gb18030")
            return "gb18030"
        except UnicodeDecodeError:
            pass
    if enc is None:
        raise InputError(f"{path}: cannot tell the text encoding; give it with --encoding (e.g. gb18030, utf-16)")
    return enc


def decode_text(path, *, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding) of a text file, the encoding detected unless given."""
    p = Path(path)
    raw = p.read_bytes()
    enc = encoding or detect_encoding(p, raw)
    try:
        text = raw.decode(enc)
    except LookupError:
        raise InputError(f"{p}: unknown encoding {enc!r} (e.g. utf-8, gb18030, utf-16, latin-1)") from None
    except UnicodeDecodeError as exc:
        hint = "give the right one with --encoding" if encoding else "give it with --encoding"
        raise InputError(f"{p}: not {enc} text (byte {exc.start}: {exc.reason}); {hint}") from None
    if "\x00" in text:
        raise InputError(f"{p}: decoded as {enc} but holds NUL characters; give the encoding with --encoding")
    return text.lstrip("\ufeff"), enc


def _sniff_sep(text: str, suffix: str) -> str:
    if suffix == ".tsv":
        return "\t"
    head = text.split("\n", 1)[0]
    counts = {sep: head.count(sep) for sep in (",", "\t", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def read_table(path, *, dtype=None, encoding: str | None = None) -> pd.DataFrame:
    """Read a CSV/TSV, Excel or Parquet table into a DataFrame.

    Id-like columns are kept as text by the callers (see ``geo.layers``): this
    reader reads every CSV column as string first when ``dtype=str``.
    """
    p = check_input_path(path)
    suffix = p.suffix.lower()
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            text, enc = decode_text(p, encoding=encoding)
            df = pd.read_csv(io.StringIO(text), sep=_sniff_sep(text, suffix), dtype=dtype)
            df.attrs["encoding"] = enc
        elif suffix in (".xlsx", ".xls"):
            df = pd.read_excel(p, dtype=dtype)
        elif suffix == ".parquet":
            df = pd.read_parquet(p)
            if "geometry" in df.columns:
                df = df.drop(columns="geometry")
        else:
            raise InputError(
                f"{p}: unknown table format {suffix!r}; use one of .csv, .tsv, .xlsx, .parquet"
            )
    except InputError:
        raise
    except UnicodeDecodeError as exc:
        raise InputError(f"{p}: cannot decode the text ({exc.reason}); give the encoding with --encoding") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{p}: table has no columns") from None
    except pd.errors.ParserError as exc:
        msg = str(exc).strip().splitlines()[-1]
        raise InputError(f"{p}: malformed table: {msg}") from None
    except (ValueError, OSError, ImportError) as exc:
        raise InputError(f"{p}: cannot read table: {exc}") from None
    except Exception as exc:  # engines (openpyxl, pyarrow) raise their own types
        raise InputError(f"{p}: cannot read table: {type(exc).__name__}: {exc}") from None
    if df.shape[1] == 0:
        raise InputError(f"{p}: table has no columns")
    if len(df) == 0:
        raise InputError(f"{p}: table has a header but no rows")
    df.columns = [str(c).strip() for c in df.columns]
    return df


def read_vector(path, *, require_crs: bool = True):
    """Read any vector file pyogrio can read (and GeoParquet) into a GeoDataFrame.

    Raises InputError for unreadable files, CRSError when the file declares no
    CRS (and ``require_crs``), GeometryError when there are no geometries.
    """
    import geopandas as gpd

    p = check_input_path(path)
    try:
        if p.suffix.lower() in (".parquet", ".geoparquet"):
            gdf = gpd.read_parquet(p)
        else:
            gdf = gpd.read_file(p, engine="pyogrio")
    except Exception as exc:  # pyogrio/arrow raise a zoo of types; all mean "unreadable"
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{p}: cannot read vector file: {msg}") from None
    if len(gdf) == 0:
        raise InputError(f"{p}: vector file has no features")
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.isna().all():
        raise GeometryError(f"{p}: file has no geometries")
    if require_crs and gdf.crs is None:
        raise CRSError(
            f"{p}: file declares no CRS; set one (e.g. gdf.set_crs('EPSG:4326')) and save it again"
        )
    return gdf


def is_vector_file(path) -> bool:
    """True when ``path`` holds geometries (a vector format or a GeoParquet)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".gpkg", ".shp", ".geojson", ".fgb", ".gml", ".kml", ".geoparquet"):
        return True
    if suffix == ".json":
        try:
            with open(p, encoding="utf-8") as fh:
                head = fh.read(4096)
            return '"FeatureCollection"' in head or '"Feature"' in head
        except OSError:
            return False
    if suffix == ".parquet":
        try:
            import pyarrow.parquet as pq

            meta = pq.read_schema(p).metadata or {}
            return b"geo" in meta
        except Exception:
            return False
    return False


def read_any(path):
    """A vector file as a GeoDataFrame, any other table as a DataFrame."""
    return read_vector(path) if is_vector_file(check_input_path(path)) else read_table(path)


def require_columns(df: pd.DataFrame, columns, *, source) -> None:
    """Raise SchemaError naming the first missing column and the columns present."""
    for col in columns:
        if col is not None and col not in df.columns:
            present = ", ".join(map(str, df.columns[:20]))
            more = " …" if df.shape[1] > 20 else ""
            raise SchemaError(f"{source}: no column {col!r} (columns are: {present}{more})")
