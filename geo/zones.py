"""The zone registry (state-level new zones, national high-tech zones) and user zones.

Every zone is one row of a GeoDataFrame in EPSG:4326 with the columns
``zone_id, name, name_en, kind, approval_date, approval_year, host_adcode,
host_adcodes, year_status, location_method, geometry`` (a Point, or the user's
polygon).  ``host_adcode`` is the first (main) host unit; ``host_adcodes``
lists all of them separated by ``;`` (Xixian, Gui'an, Tianfu and Ganjiang
straddle two prefectures).

The registry files live in ``layers/`` with their sources in
``layers/PROVENANCE.md``.  High-tech zones carry no coordinates in the
sources, so their point is the centroid of the host prefecture
(``location_method`` says so) and their approval year keeps its confidence
flag in ``year_status`` (``verified``, ``recall_unverified`` or ``unknown``).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from geo._io import is_vector_file, read_vector, require_columns
from geo._paths import LAYERS_DIR
from geo._tables_in import read_tables
from geo.boundaries import centroids, china, normalise_code
from geo.coords import CRS_CHOICES, to_wgs84
from geo.crosswalk import Matcher
from geo.errors import CRSError, GeometryError, InputError, SchemaError, check_choice

__all__ = ["KINDS", "HEADER_ALIASES", "registry", "from_file", "from_frame", "parse_date", "g60_corridor", "host_units"]

KINDS = ("new-zone", "high-tech")
COLUMNS = [
    "zone_id",
    "name",
    "name_en",
    "kind",
    "approval_date",
    "approval_year",
    "host_adcode",
    "host_adcodes",
    "year_status",
    "location_method",
]


def _new_zones():
    import geopandas as gpd

    df = pd.read_csv(LAYERS_DIR / "state_level_new_areas.csv", dtype=str)
    out = pd.DataFrame(
        {
            "zone_id": df["zone_id"],
            "name": df["name"],
            "name_en": df["name_en"],
            "kind": "new-zone",
            "approval_date": df["approval_date"],
            "approval_year": df["approval_date"].str[:4].astype(int),
            "host_adcode": df["host_adcodes"].str.split(";").str[0],
            "host_adcodes": df["host_adcodes"],
            "year_status": np.where(df["date_verified"] == "yes", "verified", "recall_unverified"),
            "location_method": "area-weighted centroid of the constituent county-level units",
        }
    )
    geom = gpd.points_from_xy(df["lon"].astype(float), df["lat"].astype(float), crs="EPSG:4326")
    return gpd.GeoDataFrame(out, geometry=geom, crs="EPSG:4326")


def _high_tech():
    import geopandas as gpd

    df = pd.read_csv(LAYERS_DIR / "national_high_tech_zones.csv", dtype=str, keep_default_na=False)
    units = china(scope="all")
    cents = centroids(units.loc[df["host_adcode"]])
    year = pd.to_numeric(df["approval_year"].replace("", np.nan), errors="coerce").astype("Int64")
    out = pd.DataFrame(
        {
            "zone_id": df["zone_id"],
            "name": df["name"],
            "name_en": "",
            "kind": "high-tech",
            "approval_date": df["approval_year"],
            "approval_year": year,
            "host_adcode": df["host_adcode"],
            "host_adcodes": df["host_adcode"],
            "year_status": df["year_status"],
            "location_method": "centroid of the host prefecture (the sources give no coordinates)",
        }
    )
    return gpd.GeoDataFrame(out, geometry=cents.values, crs="EPSG:4326")


def registry(kind: str | None = None, *, verified_only: bool = False):
    """The real zone registry as a GeoDataFrame (see the module docstring for columns).

    kind : None (both), "new-zone" (the 19 state-level new zones) or "high-tech"
        (174 national high-tech zones; ~178 exist, the newest are a known gap).
    verified_only : keep only zones whose approval date/year is verified.
    """
    import geopandas as gpd

    if kind is not None:
        check_choice("kind", kind, KINDS)
    parts = []
    if kind in (None, "new-zone"):
        parts.append(_new_zones())
    if kind in (None, "high-tech"):
        parts.append(_high_tech())
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs="EPSG:4326")
    if verified_only:
        out = out[out["year_status"] == "verified"].reset_index(drop=True)
    out.attrs["source"] = "geo zone registry (layers/PROVENANCE.md)"
    return out


#: Column names users write, mapped to the names geo reads (compared after stripping, case-insensitive).
HEADER_ALIASES = {
    "name": ("名称", "园区名称", "开发区名称", "新区名称", "园区", "zone", "zone_name"),
    "approval_date": ("批准时间", "设立时间", "获批时间", "批准日期", "设立日期", "获批日期", "批复时间", "批复日期",
                      "成立时间", "批准年份", "设立年份", "approval", "approved", "date"),
    "lon": ("经度", "longitude", "lng", "long"),
    "lat": ("纬度", "latitude"),
    "city": ("所在城市", "所在地市", "所在地", "城市", "host", "host_city"),
    "coord_system": ("坐标系", "坐标系统", "坐标类型", "coordinate_system", "crs"),
}
_CRS_WORDS = {
    "wgs84": ("wgs84", "wgs", "gps", "epsg:4326", "4326", "地球坐标"),
    "gcj02": ("gcj02", "gcj", "火星坐标", "高德", "腾讯", "amap", "国测局"),
    "bd09": ("bd09", "bd09ll", "百度", "baidu"),
}
_YMD = re.compile(r"^(\d{4})(?:[-./](\d{1,2})(?:[-./](\d{1,2}))?)?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_CN = re.compile(r"^(\d{4})年(?:(\d{1,2})月(?:(\d{1,2})日)?)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def _rename_headers(df: pd.DataFrame) -> pd.DataFrame:
    present = {str(c).strip().lower(): c for c in df.columns}
    renames = {}
    for canonical, aliases in HEADER_ALIASES.items():
        if canonical in df.columns:
            continue
        for alias in aliases:
            col = present.get(alias.lower())
            if col is not None and col not in renames:
                renames[col] = canonical
                break
    return df.rename(columns=renames)


def parse_date(value):
    """A zone's approval date as typed -> ``(text, year)`` or ``None`` for an empty cell.

    ``2010年9月``, ``2010年9月6日``, ``2010.11``, ``2014/12/6``, ``2017-04``, ``2010``, ``20100906``,
    ``2010-09-06 00:00:00`` (a datetime string from a GeoPackage) and date objects are read; the text
    keeps the precision given (``2010-09``, ``2014-12-06``, ``2010``).  Raises ValueError otherwise.
    """
    import datetime as dt
    import unicodedata

    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, (dt.date, pd.Timestamp)):
        ts = pd.Timestamp(value)
        return ts.strftime("%Y-%m-%d"), ts.year
    if isinstance(value, (int, np.integer)) or (isinstance(value, (float, np.floating)) and float(value).is_integer()):
        value = str(int(value))
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    m = _CN.match(text) or _YMD.match(text) or _COMPACT.match(text)
    if m is None:
        raise ValueError("not a date")
    y = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else None
    day = int(m.group(3)) if m.group(3) else None
    if not 1900 <= y <= 2100:
        raise ValueError("year out of range")
    if month is None:
        return str(y), y
    if not 1 <= month <= 12:
        raise ValueError("month out of range")
    if day is None:
        return f"{y}-{month:02d}", y
    pd.Timestamp(year=y, month=month, day=day)  # ValueError for 2010-02-30
    return f"{y}-{month:02d}-{day:02d}", y


def _parse_dates(values: pd.Series, names, rows, source, *, skip_undated: bool, known_unknown):
    dates, years, skipped = [], [], []
    for i, v in enumerate(values):
        try:
            got = parse_date(v)
        except ValueError:
            raise SchemaError(
                f"{source}: row {rows[i]} (zone {names[i]}): approval date {v!r} is not a date "
                "(write e.g. 2010-09-06, 2010年9月, 2010.11, 2014/12/6, 2017-04 or 2010)"
            ) from None
        if got is None:
            if known_unknown[i]:
                dates.append("")
                years.append(pd.NA)
                continue
            if skip_undated:
                skipped.append({"row": int(rows[i]), "name": str(names[i])})
                dates.append(None)
                years.append(None)
                continue
            raise SchemaError(f"{source}: row {rows[i]} (zone {names[i]}): no approval date; fill it in or pass "
                              "--skip-undated to leave such zones out (they are listed)")
        dates.append(got[0])
        years.append(got[1])
    return dates, years, skipped


def _row_crs(values, default: str, rows, source) -> list[str]:
    out = []
    for i, v in enumerate(values):
        text = "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip().lower()
        key = re.sub(r"[\s_\-]", "", text)
        if not key:
            out.append(default)
            continue
        hit = next((c for c, words in _CRS_WORDS.items() if any(w.replace("-", "") in key for w in words)), None)
        if hit is None:
            raise SchemaError(f"{source}: row {rows[i]}: coordinate system {v!r} is not WGS-84, GCJ-02 or BD-09")
        out.append(hit)
    return out


def from_frame(df, *, crs: str = "wgs84", units=None, source="zones", skip_undated: bool = False):
    """User zones from a DataFrame (``name``, ``approval_date``, and ``lon``/``lat`` and/or ``host_adcode``
    or a ``city`` name) or a GeoDataFrame (points or polygons).

    Chinese headers are read (名称/园区名称, 批准时间/设立时间/获批时间, 经度, 纬度, 所在城市, 坐标系; see
    :data:`HEADER_ALIASES`) and dates as typed (:func:`parse_date`).  Coordinates in ``crs`` ("wgs84",
    "gcj02" or "bd09"; a 坐标系 column overrides it per row) are converted to WGS-84.  A host given by
    ``host_adcode`` or ``city`` names the host; otherwise the zone is joined to the unit that contains it
    (``units``, falling back to the embedded boundaries for a zone in a unit that ``units`` leave out, e.g.
    a unit without data).  A row without a date is an error unless ``skip_undated`` (then it is left out
    and listed in ``attrs["skipped_undated"]``); rows geo wrote with ``year_status`` "unknown" keep an
    empty date.
    """
    import geopandas as gpd
    import shapely

    check_choice("crs", crs, CRS_CHOICES)
    rows = list(df.index) if df.index.name == "row" else [i + 1 for i in range(len(df))]
    df = _rename_headers(df).reset_index(drop=True)
    require_columns(df, ["name", "approval_date"], source=source)
    units = china(scope="all") if units is None else units
    names = df["name"].astype(str).tolist()
    if isinstance(df, gpd.GeoDataFrame) and df.geometry.notna().any():
        if df.crs is None:
            raise CRSError(f"{source}: zone file declares no CRS")
        geoms = df.to_crs("EPSG:4326").geometry.values
        if crs != "wgs84":
            geoms = shapely.transform(geoms, lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], crs)))
        if not shapely.is_valid(geoms).all():
            bad = df.loc[~shapely.is_valid(geoms), "name"].tolist()
            raise GeometryError(f"{source}: invalid zone geometries: {bad[:5]}")
    elif "lon" in df.columns or "lat" in df.columns:
        require_columns(df, ["lon", "lat"], source=source)
        lon = pd.to_numeric(df["lon"], errors="coerce")
        lat = pd.to_numeric(df["lat"], errors="coerce")
        has_host = pd.Series(False, index=df.index)
        for c in ("host_adcode", "city"):
            if c in df.columns:
                has_host |= df[c].notna() & (df[c].astype(str).str.strip() != "")
        bad = (lon.isna() | lat.isna()) & ~has_host
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise SchemaError(f"{source}: row {rows[i]}: lon/lat {df['lon'][i]!r}, {df['lat'][i]!r} are not numbers")
        out_of_range = (lon.abs() > 180) | (lat.abs() > 90)
        if out_of_range.any():
            i = int(np.flatnonzero(out_of_range)[0])
            raise SchemaError(f"{source}: row {rows[i]}: lon/lat {lon[i]}, {lat[i]} out of range")
        row_crs = _row_crs(df["coord_system"], crs, rows, source) if "coord_system" in df.columns else [crs] * len(df)
        x = lon.to_numpy(dtype=float).copy()
        y = lat.to_numpy(dtype=float).copy()
        for c in set(row_crs):
            sel = np.array([r == c for r in row_crs])
            x[sel], y[sel] = to_wgs84(x[sel], y[sel], c)
        geoms = np.asarray(shapely.points(x, y), dtype=object)
        geoms[np.isnan(x) | np.isnan(y)] = None
    elif "host_adcode" in df.columns or "city" in df.columns:
        geoms = np.full(len(df), None, dtype=object)
    else:
        raise SchemaError(f"{source}: give zone locations as lon/lat (经度/纬度) columns, a host_adcode or city "
                          "(所在城市) column, or geometries")

    hosts = pd.Series([None] * len(df), dtype=object)
    if "host_adcode" in df.columns:
        for i, v in enumerate(df["host_adcode"]):
            if pd.isna(v) or str(v).strip() in ("", "None", "nan"):
                continue
            text = str(v).strip()
            # an id of the boundaries as written (user boundaries need not use adcodes), else a 6/9/12-digit code
            code = text if text in units.index else normalise_code(v)
            if code is None or code not in units.index:
                full = china(scope="all")
                if code is None or code not in full.index:
                    raise SchemaError(f"{source}: row {rows[i]}: host_adcode {v!r} is not a unit of the boundaries")
            hosts[i] = code
    if "city" in df.columns:
        matcher = Matcher(units, "name", True)
        for i, v in enumerate(df["city"]):
            if hosts[i] is not None or pd.isna(v) or not str(v).strip():
                continue
            code, _, reason = matcher.match(str(v))
            if code is None:
                cand = ", ".join(matcher.candidates(str(v))) or "no close candidate"
                raise SchemaError(f"{source}: row {rows[i]} (zone {names[i]}): city {v!r}: {reason} "
                                  f"(candidates: {cand})")
            hosts[i] = code
    geoms = np.asarray(geoms, dtype=object)
    missing_geom = np.array([g is None or shapely.is_empty(g) for g in geoms])
    if missing_geom.any():
        full = units if all(h in units.index for h in hosts[missing_geom]) else china(scope="all")
        cents = centroids(full.loc[hosts[missing_geom].tolist()])
        geoms[missing_geom] = cents.values
    need_host = hosts.isna().to_numpy()
    if need_host.any():
        pts = shapely.point_on_surface(geoms[need_host])
        idx = np.flatnonzero(need_host)
        found = _within(pts, units)
        if len(found) < len(idx) and units is not None:
            # a zone in a unit the given units leave out (no data there) is still a zone
            rest = [k for k in range(len(idx)) if k not in found]
            extra = _within(pts[rest], china(scope="all"))
            found.update({rest[k]: code for k, code in extra.items()})
        for k, i in enumerate(idx):
            if k not in found:
                p = pts[k]
                raise SchemaError(
                    f"{source}: row {rows[i]}: zone {names[i]!r} at ({p.x:.4f}, {p.y:.4f}) lies in no unit "
                    "of the boundaries; check lon/lat order and --crs"
                )
            hosts[i] = found[k]
    known_unknown = (df["year_status"].astype(str) == "unknown").tolist() if "year_status" in df.columns else [False] * len(df)
    dates, years, skipped = _parse_dates(df["approval_date"], names, rows, source, skip_undated=skip_undated,
                                         known_unknown=known_unknown)

    def keep(col, default):
        if col not in df.columns:
            return default
        return df[col].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))

    out = pd.DataFrame(
        {
            "zone_id": keep("zone_id", [f"U{i + 1:03d}" for i in range(len(df))]),
            "name": df["name"].astype(str),
            "name_en": keep("name_en", ""),
            "kind": keep("kind", "user"),
            "approval_date": dates,
            "approval_year": pd.array(years, dtype="Int64"),
            "host_adcode": hosts.astype(str),
            "host_adcodes": keep("host_adcodes", hosts.astype(str)),
            "year_status": keep("year_status", "user"),
            "location_method": keep("location_method", "user"),
        }
    )
    if "host_adcodes" in df.columns:
        empty = out["host_adcodes"].isin(["", "None"])
        out.loc[empty, "host_adcodes"] = out.loc[empty, "host_adcode"]
    gdf = gpd.GeoDataFrame(out, geometry=list(geoms), crs="EPSG:4326")
    if skipped:
        gdf = gdf[[d is not None for d in dates]].reset_index(drop=True)
    gdf.attrs["skipped_undated"] = skipped
    return gdf


def _within(pts, units) -> dict:
    import shapely

    tree = shapely.STRtree(units.geometry.values)
    pairs = tree.query(pts, predicate="within")
    out: dict = {}
    for k, j in zip(pairs[0], pairs[1]):
        out.setdefault(int(k), units.index[j])
    return out


def from_file(path, *, crs: str = "wgs84", units=None, encoding: str | None = None, skip_undated: bool = False):
    """User zones from a table (CSV in any encoding, Excel, Parquet) or a vector file (see :func:`from_frame`)."""
    if is_vector_file(path):
        df = read_vector(path)
        df.index = pd.RangeIndex(2, len(df) + 2, name="row")
    else:
        tables = read_tables(path, encoding=encoding)
        df = tables[0].frame
        if df.empty:
            raise InputError(f"{path}: zone table has no rows")
    return from_frame(df, crs=crs, units=units, source=path, skip_undated=skip_undated)


def g60_corridor():
    """The G60 science-and-innovation corridor members in corridor order (layers/g60_corridor.csv)."""
    return pd.read_csv(LAYERS_DIR / "g60_corridor.csv", dtype=str)


def host_units(zones) -> pd.DataFrame:
    """One row per (zone, host unit): zone_id, host adcode, approval_year (for multi-host zones)."""
    rows = []
    for _, z in zones.iterrows():
        for code in str(z["host_adcodes"]).split(";"):
            rows.append({"zone_id": z["zone_id"], "adcode": code, "approval_year": z["approval_year"]})
    return pd.DataFrame(rows)
