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

from geo._paths import LAYERS_DIR
from geo.errors import GeometryError, SchemaError, check_choice

__all__ = ["KINDS", "registry", "from_file", "from_frame", "g60_corridor", "host_units"]

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

    from geo.boundaries import centroids, china

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


_DATE_RE = re.compile(r"^\s*(\d{4})(?:-(\d{1,2})-(\d{1,2}))?\s*$")


def _parse_dates(values: pd.Series, source) -> tuple[pd.Series, pd.Series]:
    dates, years = [], []
    for i, v in enumerate(values):
        m = _DATE_RE.match(str(v)) if pd.notna(v) else None
        if m is None:
            raise SchemaError(f"{source}: row {i + 1}: approval_date {v!r} is not YYYY-MM-DD or YYYY")
        y = int(m.group(1))
        if m.group(2):
            try:
                ts = pd.Timestamp(year=y, month=int(m.group(2)), day=int(m.group(3)))
            except ValueError:
                raise SchemaError(f"{source}: row {i + 1}: approval_date {v!r} is not a real date") from None
            dates.append(ts.strftime("%Y-%m-%d"))
        else:
            dates.append(str(y))
        years.append(y)
    return pd.Series(dates, index=values.index), pd.Series(years, index=values.index)


def from_frame(df, *, crs: str = "wgs84", units=None, source="zones"):
    """User zones from a DataFrame (``name``, ``approval_date``, and ``lon``/``lat`` and/or ``host_adcode``)
    or a GeoDataFrame (points or polygons).

    Coordinates in ``crs`` ("wgs84", "gcj02" or "bd09") are converted to WGS-84.
    When both a point and ``host_adcode`` are given, ``host_adcode`` names the host
    and the point is the zone's location.  Zones without a host code are joined
    to the unit that contains them (``units``: default the embedded boundaries).
    """
    import geopandas as gpd
    import shapely

    from geo._io import require_columns
    from geo.boundaries import centroids, china, normalise_code
    from geo.coords import CRS_CHOICES, to_wgs84

    check_choice("crs", crs, CRS_CHOICES)
    require_columns(df, ["name", "approval_date"], source=source)
    units = china(scope="all") if units is None else units
    df = df.reset_index(drop=True)
    if isinstance(df, gpd.GeoDataFrame) and df.geometry.notna().any():
        if df.crs is None:
            from geo.errors import CRSError

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
        has_host = df["host_adcode"].notna() if "host_adcode" in df.columns else pd.Series(False, index=df.index)
        bad = (lon.isna() | lat.isna()) & ~has_host
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise SchemaError(f"{source}: row {i + 1}: lon/lat {df['lon'][i]!r}, {df['lat'][i]!r} are not numbers")
        out_of_range = (lon.abs() > 180) | (lat.abs() > 90)
        if out_of_range.any():
            i = int(np.flatnonzero(out_of_range)[0])
            raise SchemaError(f"{source}: row {i + 1}: lon/lat {lon[i]}, {lat[i]} out of range")
        x, y = to_wgs84(lon.to_numpy(), lat.to_numpy(), crs)
        geoms = np.asarray(shapely.points(x, y), dtype=object)
        geoms[np.isnan(x) | np.isnan(y)] = None
    elif "host_adcode" in df.columns:
        geoms = np.full(len(df), None, dtype=object)
    else:
        raise SchemaError(f"{source}: give zone locations as lon/lat columns, a host_adcode column, or geometries")

    hosts = pd.Series([None] * len(df), dtype=object)
    if "host_adcode" in df.columns:
        for i, v in enumerate(df["host_adcode"]):
            if pd.isna(v) or str(v).strip() == "":
                continue
            text = str(v).strip()
            # an id of the boundaries as written (user boundaries need not use adcodes), else a 6/9/12-digit code
            code = text if text in units.index else normalise_code(v)
            if code is None or code not in units.index:
                raise SchemaError(f"{source}: row {i + 1}: host_adcode {v!r} is not a unit of the boundaries")
            hosts[i] = code
    geoms = np.asarray(geoms, dtype=object)
    missing_geom = np.array([g is None or shapely.is_empty(g) for g in geoms])
    if missing_geom.any():
        cents = centroids(units.loc[hosts[missing_geom].tolist()])
        geoms[missing_geom] = cents.values
    need_host = hosts.isna().to_numpy()
    if need_host.any():
        pts = shapely.point_on_surface(geoms[need_host])
        tree = shapely.STRtree(units.geometry.values)
        pairs = tree.query(pts, predicate="within")
        found = dict(zip(pairs[0], units.index[pairs[1]]))
        idx = np.flatnonzero(need_host)
        for k, i in enumerate(idx):
            if k not in found:
                p = pts[k]
                raise SchemaError(
                    f"{source}: row {i + 1}: zone {df['name'][i]!r} at ({p.x:.4f}, {p.y:.4f}) lies in no unit "
                    "of the boundaries; check lon/lat order and --crs"
                )
            hosts[i] = found[k]
    dates, years = _parse_dates(df["approval_date"], source)
    out = pd.DataFrame(
        {
            "zone_id": df["zone_id"].astype(str) if "zone_id" in df.columns else [f"U{i + 1:03d}" for i in range(len(df))],
            "name": df["name"].astype(str),
            "name_en": df["name_en"].astype(str) if "name_en" in df.columns else "",
            "kind": df["kind"].astype(str) if "kind" in df.columns else "user",
            "approval_date": dates,
            "approval_year": years.astype(int),
            "host_adcode": hosts.astype(str),
            "host_adcodes": hosts.astype(str),
            "year_status": "user",
            "location_method": "user",
        }
    )
    return gpd.GeoDataFrame(out, geometry=list(geoms), crs="EPSG:4326")


def from_file(path, *, crs: str = "wgs84", units=None):
    """User zones from a CSV/Excel/Parquet table or a vector file (see :func:`from_frame`)."""
    from geo._io import is_vector_file, read_table, read_vector

    if is_vector_file(path):
        df = read_vector(path)
    else:
        df = read_table(path, dtype={"host_adcode": str, "approval_date": str})
    return from_frame(df, crs=crs, units=units, source=path)


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
