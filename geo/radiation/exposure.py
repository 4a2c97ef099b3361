"""Exposure: which units are hosts or in which ring of a zone, and from when.

Two data models, one per question:

* :class:`BandAssignment` (:func:`assign_bands`): **static**, one band and one
  treatment year per unit, from the nearest zone of the list given (its
  approval year).  Kept for maps, the scenario's geography and the classic
  band-DID on a fixed geography.
* :class:`Exposure` (:func:`exposure`): **time-varying**, one row per
  unit-year, built from every zone approved by that year:

  - ``mode="nearest"``: the unit's group in year t is ``host`` if it hosts a
    zone approved by t (from the first approval of any zone it hosts),
    otherwise the ring of the nearest zone *already approved* by t (or none);
    so a city 150 km from a 2005 zone and 80 km from a 2015 zone is in the
    100-200 km ring from 2005 and in the 0-100 km ring from 2015.  The columns
    are 0/1 indicators, one per group, mutually exclusive within a kind.
  - ``mode="count"``: ``host`` is the same 0/1 indicator; each ring column
    counts the zones approved by t whose distance falls in that ring (zones
    the unit hosts itself are not counted in its rings).

  With ``kinds`` (e.g. ``("new-zone", "high-tech")``) each kind of zone is a
  separate treatment: its groups are labelled ``"<kind>:host"``,
  ``"<kind>:0-100 km"`` … and computed from that kind's zones only.

Zones approved after the last year are left out (with a note); zones hosted
by units without data still count for distances (distances come from the
zone's own geometry).  A unit's ``first_year`` is the first year of any
exposure (hosting, or any zone within the last band edge), possibly before the
panel starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.errors import CRSError, InputError, OptionError, check_choice
from geo.radiation._common import num as _num
from geo.radiation.geometry import (
    DEFAULT_BANDS,
    DISTANCE_METHOD,
    Corridor,
    area_fractions,
    band_table,
    corridor_distances,
    parse_bands,
    target_geoms,
    unit_centroids,
    zone_distances,
    zone_frame,
)

__all__ = [
    "ASSIGN_METHODS",
    "EXPOSURE_MODES",
    "BandAssignment",
    "Exposure",
    "assign_bands",
    "exposure",
    "group_label",
]

ASSIGN_METHODS = ("centroid", "area")
EXPOSURE_MODES = ("nearest", "count")


def group_label(kind: str | None, group: str) -> str:
    """``"host"`` / ``"0-100 km"`` with one kind of zone, ``"high-tech:host"`` with several."""
    return group if not kind else f"{kind}:{group}"





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
        return list(band_table(self.edges)["band"])

    def band_columns(self) -> pd.DataFrame:
        return band_table(self.edges)

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
        raise CRSError("units have no CRS; use set_crs() first")
    units = units.to_crs("EPSG:4326") if str(units.crs).upper() != "EPSG:4326" else units
    cents = unit_centroids(units)
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
        dist, seg = corridor_distances(cents, corridor)
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
        geoms, line = target_geoms(None, corridor)
    else:
        zf = zone_frame(zones)
        if zf.empty:
            raise InputError("no zone has an approval year; cannot assign treatment years")
        dmat = zone_distances(cents, zf)
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
    tab = band_table(edges)
    if assign == "centroid":
        k = np.searchsorted(np.asarray(edges), dist, side="right")
        share = None
    else:
        frac = area_fractions(units, edges, geoms, line)
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


# --------------------------------------------------------------------------- time-varying exposure


@dataclass(frozen=True, eq=False)
class Exposure:
    """Unit-year exposure to every zone approved by that year (see the module docstring).

    ``table``: one row per unit-year (columns ``id``, ``year``, one column per
    treatment label in ``labels``, ``first_year`` = the unit's first year of
    exposure, NaN if never).  ``assignment``: the geography of the last year
    (band of the nearest approved zone; ``treatment_year`` = ``first_year``),
    used by maps and the scenario.  ``kinds``: the kinds treated separately
    (``()`` when all zones are one treatment).
    """

    table: pd.DataFrame = field(repr=False)
    labels: tuple
    edges: tuple
    mode: str
    kinds: tuple
    years: tuple
    assignment: BandAssignment = field(repr=False)
    target: str = ""
    notes: tuple = ()
    distance_method: str = DISTANCE_METHOD

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def kind_of(self, label: str) -> str | None:
        return label.split(":", 1)[0] if ":" in label and self.kinds else None

    def group_of(self, label: str) -> str:
        return label.split(":", 1)[1] if ":" in label and self.kinds else label

    def counts(self) -> pd.DataFrame:
        """Units exposed (column > 0) per year and label."""
        t = self.table
        return (t[list(self.labels)] > 0).groupby(t["year"]).sum().astype(int)

    def to_json(self) -> dict:
        c = self.counts()
        return {
            "mode": self.mode,
            "kinds": list(self.kinds),
            "labels": list(self.labels),
            "edges_km": list(self.edges),
            "years": [int(self.years[0]), int(self.years[-1])] if self.years else [],
            "units_exposed_by_year": {int(y): {k: int(v) for k, v in r.items()} for y, r in c.iterrows()},
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        c = self.counts()
        lines = [f"time-varying exposure ({self.mode}) to {self.target}", f"  {self.distance_method}"]
        last = c.iloc[-1] if len(c) else pd.Series(dtype=int)
        for lab in self.labels:
            lines.append(f"  {lab:>22}: {int(last.get(lab, 0)):4d} units exposed in {self.years[-1]}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    __str__ = summary


def _targets(units, zones, corridor, kinds):
    """Per exposure source: kind, approval year, distance column (units), host unit positions.

    For a corridor every segment is a source (year = the later joining year of its two members)
    and every member a host (from its joining year)."""
    cents = unit_centroids(units)
    pos = {u: i for i, u in enumerate(units.index)}
    notes = []
    if corridor is not None:
        m = corridor.members
        yrs = pd.to_numeric(m["year"], errors="coerce").to_numpy(dtype=float)
        cols, years, hosts = [], [], []
        for k in range(len(m) - 1):
            sub = Corridor(name=corridor.name, members=m.iloc[[k, k + 1]].reset_index(drop=True))
            d, _ = corridor_distances(cents, sub)
            cols.append(d)
            years.append(np.fmax(yrs[k], yrs[k + 1]))
            hosts.append([])
        for k in range(len(m)):
            code = m["adcode"].iat[k]
            if code in pos:
                cols.append(np.full(len(units), np.inf))
                years.append(yrs[k])
                hosts.append([pos[code]])
        kinds_arr = np.array(["corridor"] * len(years), dtype=object)
        return cents, np.column_stack(cols), np.asarray(years, float), hosts, kinds_arr, (), notes
    zf = zone_frame(zones)
    no_year = zf.attrs.get("dropped_no_year", [])
    if kinds:
        kinds = tuple(kinds)
        have = set(zf["kind"])
        missing = [k for k in kinds if k not in have]
        if missing:
            raise OptionError(f"zone kind(s) {missing} not among the zones' kinds {sorted(have)}")
        zf = zf[zf["kind"].isin(kinds)].reset_index(drop=True)
    if zf.empty:
        raise InputError("no zone has an approval year; cannot date the exposure")
    if no_year:
        notes.append(
            f"{len(no_year)} zones without an approval year were left out: "
            + ", ".join(no_year[:5]) + (" …" if len(no_year) > 5 else "")
        )
    dmat = zone_distances(cents, zf)
    hosts = [[pos[c] for c in h if c in pos] for h in zf["hosts"]]
    lost = [zf["name"].iat[j] for j, h in enumerate(zf["hosts"]) if h and not any(c in pos for c in h)]
    if lost:
        notes.append(
            f"{len(lost)} zones are hosted by units not analysed (no data, or outside the boundaries given); they "
            "still count for distances and rings: "
            + ", ".join(lost[:5]) + (" …" if len(lost) > 5 else "")
        )
    return cents, dmat, zf["approval_year"].to_numpy(float), hosts, zf["kind"].to_numpy(dtype=object), kinds or (), notes


def exposure(
    units,
    *,
    years,
    zones=None,
    corridor=None,
    bands=DEFAULT_BANDS,
    mode: str = "nearest",
    kinds=None,
    assign: str = "centroid",
) -> Exposure:
    """Time-varying exposure of every unit in every year (see the module docstring).

    Parameters
    ----------
    units : GeoDataFrame indexed by unit id (all boundary units: zones hosted by units without data still count).
    years : the panel years (exposure is computed for each; zones approved after the last are left out).
    zones / corridor : the exposure sources (one of them).
    bands : ring edges in km.
    mode : "nearest" (ring of the nearest approved zone, 0/1) or "count" (approved zones per ring).
    kinds : None (all zones one treatment) or kinds of zone to treat separately, e.g. ("new-zone", "high-tech").
    assign : "centroid" (ring of the centroid's distance) or "area" (``mode="nearest"`` only: the ring, or
        outside, holding the largest share of the unit's area, among the rings of the zones approved by t).
    """
    check_choice("mode", mode, EXPOSURE_MODES)
    check_choice("assign", assign, ASSIGN_METHODS)
    if assign == "area" and mode != "nearest":
        raise OptionError("assign='area' works with the nearest exposure (a count of zones per ring needs distances)")
    edges = parse_bands(bands)
    if (zones is None) == (corridor is None):
        raise OptionError("give either zones or a corridor")
    if units.crs is None:
        raise CRSError("units have no CRS; use set_crs() first")
    units = units.to_crs("EPSG:4326") if str(units.crs).upper() != "EPSG:4326" else units
    years = tuple(sorted({int(y) for y in years}))
    if not years:
        raise InputError("exposure: no years given")
    if isinstance(kinds, str):
        kinds = tuple(k.strip() for k in kinds.split(",") if k.strip())
    kinds = tuple(kinds or ())
    if corridor is not None and kinds:
        raise OptionError("kinds apply to zones, not to a corridor")
    cents, dmat, zyear, hosts, zkind, kinds, notes = _targets(units, zones, corridor, kinds)
    late = zyear > years[-1]
    if late.any():
        notes.append(f"{int(late.sum())} zones approved after {years[-1]} (the last year) were left out")
    n = len(units)
    host_of = np.zeros((n, len(zyear)), dtype=bool)
    for j, h in enumerate(hosts):
        host_of[h, j] = True
    kind_list = list(kinds) if kinds else [None]
    lows = (0.0,) + tuple(edges[:-1])
    ring_names = [f"{lo:g}-{hi:g} km" for lo, hi in zip(lows, edges)]
    labels = []
    for k in kind_list:
        labels += [group_label(k, "host")] + [group_label(k, r) for r in ring_names]
    E = np.asarray(edges)
    blocks = []
    area_cache: dict = {}
    if assign == "area":
        zgeoms = list(zone_frame(zones)["geometry"]) if corridor is None else None
        if kinds:
            zf_k = zone_frame(zones)
            zgeoms = list(zf_k[zf_k["kind"].isin(kinds)]["geometry"])

    def area_ring(sel):
        key = tuple(np.flatnonzero(sel))
        if key not in area_cache:
            if corridor is not None:
                raise OptionError("assign='area' with a time-varying corridor exposure is not supported; "
                                  "use exposure='static'")
            frac = area_fractions(units, edges, [zgeoms[j] for j in key], None)
            shares = np.column_stack([frac[:, 0], np.diff(frac, axis=1), 1.0 - frac[:, -1]])
            area_cache[key] = shares.argmax(axis=1)
        return area_cache[key]

    for t in years:
        cols = {}
        for k in kind_list:
            sel = (zyear <= t) & (np.ones_like(late) if k is None else (zkind == k))
            d = np.where(host_of[:, sel], np.inf, dmat[:, sel])  # a unit's own zone counts as hosting, not a ring
            host = host_of[:, sel].any(axis=1)
            if mode == "nearest":
                dmin = d.min(axis=1) if sel.any() else np.full(n, np.inf)
                if assign == "area" and sel.any():
                    ring = area_ring(sel)
                else:
                    ring = np.searchsorted(E, dmin, side="right")
                cols[group_label(k, "host")] = host.astype(float)
                for r, name in enumerate(ring_names):
                    cols[group_label(k, name)] = ((ring == r) & ~host).astype(float)
            else:
                cols[group_label(k, "host")] = host.astype(float)
                ring = np.searchsorted(E, d, side="right")
                for r, name in enumerate(ring_names):
                    cols[group_label(k, name)] = (ring == r).sum(axis=1).astype(float) if sel.any() else np.zeros(n)
        frame = pd.DataFrame(cols)
        frame.insert(0, "year", t)
        frame.insert(0, "id", units.index.astype(str))
        blocks.append(frame)
    table = pd.concat(blocks, ignore_index=True)
    within = ((dmat < E[-1]) & ~host_of) | host_of
    keep = ~late
    first = np.where(within[:, keep], zyear[keep][None, :], np.inf).min(axis=1) if keep.any() else np.full(n, np.inf)
    first = np.where(np.isfinite(first), first, np.nan)
    table["first_year"] = np.tile(first, len(years))
    # the geography of the last year: nearest approved source (pooled kinds), first exposure as treatment year
    if corridor is not None:
        asg = assign_bands(units, corridor=corridor, bands=edges)
        target = f"corridor {corridor.name}"
    else:
        zf_all = zones.reset_index(drop=True)
        yrs = pd.to_numeric(zf_all["approval_year"], errors="coerce").astype(float)
        keep_rows = (yrs <= years[-1]).to_numpy(dtype=bool)
        if kinds:
            keep_rows = keep_rows & zf_all["kind"].astype(str).str.strip().isin(kinds).to_numpy()
        if not keep_rows.any():
            raise InputError(f"no zone is approved by {years[-1]}, the last year of the data")
        asg = assign_bands(units, zones=zf_all[keep_rows], bands=edges, assign=assign)
        target = f"{int(keep_rows.sum())} zones" + (f" ({', '.join(kinds)})" if kinds else "")
    t = asg.table.copy()
    ty = pd.Series(first, index=units.index)
    exposed = t["band"] != "outside"
    t["treatment_year"] = pd.array(np.where(exposed, ty.reindex(t.index), np.nan), dtype="Float64").round().astype("Int64")
    asg = BandAssignment(table=t, edges=asg.edges, assign=asg.assign, target=asg.target, notes=asg.notes)
    return Exposure(
        table=table,
        labels=tuple(labels),
        edges=edges,
        mode=mode,
        kinds=tuple(kinds),
        years=years,
        assignment=asg,
        target=target,
        notes=tuple(notes),
    )
