"""The new-zone (and new-corridor) scenario: what would a zone here do to every city around it?

Two models, both fitted on the user's data and zones first:

``bands`` (a :class:`geo.radiation.BandDID`)
    The static band model assigns each unit one group (host, a band, or
    outside) from its nearest zone.  A new zone at point P changes unit i's
    group only if i hosts it, or if P is nearer than i's current zone (hosts of
    existing zones stay hosts).  The predicted change in the outcome from the
    start year on is ``coef[new group] - coef[old group]`` (coef[outside] = 0),
    with the interval from the estimates' clustered covariance
    (``a' V a`` for the contrast a).  A new corridor is treated as exposure of
    its own: each unit's change is ``coef[group under the corridor]`` (no
    existing corridor assumed), a transfer of the fitted band effects to the
    new geography.
``sar-rings`` (a :class:`geo.radiation.RingSpatialDID`, the default spatial model)
    Fitted on the time-varying exposure; a new zone adds a host (dh) and changes
    the ring exposures of the units it becomes the nearest zone of (or, with the
    count exposure, adds one zone to the ring of its distance), in the geography
    of the fit's last year; the predicted change is
    ``(I - rho W)^-1 (b dh + g W dh + sum_k theta_k dR_k)``, intervals percentiles
    over ``draws`` of (rho, b, g, theta) from the fit's ML covariance (``seed``).
``sdm`` (a :class:`geo.radiation.SpatialDID`)
    With the fitted panel SDM, a new host h adds ``d = e_h`` to the zone dummy
    and the predicted change is ``(I - rho W)^-1 (b d + t W d)`` (b, t the
    coefficients of D and WD), the full spatial multiplier; intervals are
    percentiles over draws of (rho, b, t) from their ML covariance (``seed``).
    Units that already host a zone get no further change from hosting another.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.boundaries import centroids, china, great_circle_km
from geo.errors import InputError, OptionError, SchemaError
from geo.radiation._common import critical_value
from geo.radiation._common import num as _num
from geo.radiation.exposure import assign_bands
from geo.radiation.geometry import band_label, resolve_unit
from geo.radiation.geometry import corridor as make_corridor
from geo.radiation.results import BandDID
from geo.radiation.spatial_did import SpatialDID
from geo.radiation.spatial_rings import RingSpatialDID, simulate_effects, zone_effects

__all__ = ["Scenario", "new_zone", "new_corridor", "locate"]


@dataclass(frozen=True, eq=False)
class Scenario:
    """Predicted change in ``y`` for every unit from a hypothetical zone or corridor.

    ``table`` is indexed by unit id, sorted by effect (largest gain first),
    with columns name, distance_km (to the new zone / corridor), band_before,
    band_after, effect, lower, upper.
    """

    y: str
    model: str
    what: str
    start_year: int
    lon: float | None
    lat: float | None
    host: str | None
    table: pd.DataFrame = field(repr=False)
    level: float
    method: str
    draws: int | None = None
    seed: object = None

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def gainers(self, n: int = 10) -> pd.DataFrame:
        t = self.table[self.table["effect"] > 0]
        return t.head(n)

    def losers(self, n: int = 10) -> pd.DataFrame:
        t = self.table[self.table["effect"] < 0]
        return t.sort_values("effect").head(n)

    def to_json(self) -> dict:
        t = self.table.reset_index()
        idname = t.columns[0]
        units = [
            {
                "id": str(r[idname]),
                "name": r["name"],
                "distance_km": _num(r["distance_km"]),
                "band_before": r["band_before"],
                "band_after": r["band_after"],
                "effect": _num(r["effect"]),
                "lower": _num(r["lower"]),
                "upper": _num(r["upper"]),
            }
            for r in t.to_dict("records")
        ]
        return {
            "y": self.y,
            "model": self.model,
            "scenario": self.what,
            "start_year": self.start_year,
            "lon": _num(self.lon),
            "lat": _num(self.lat),
            "host": self.host,
            "method": self.method,
            "level": self.level,
            "draws": self.draws,
            "seed": self.seed if isinstance(self.seed, (int, type(None))) else str(self.seed),
            "units": units,
        }

    def summary(self, n: int = 10) -> str:
        lines = [
            f"scenario: {self.what} from {self.start_year} ({self.model} model) — predicted change in {self.y}",
            f"  {self.method}",
            f"  units affected: {int((self.table['effect'] != 0).sum())} of {len(self.table)}",
        ]
        for title, t in (("gainers", self.gainers(n)), ("losers", self.losers(n))):
            lines.append(f"  {title}:")
            if t.empty:
                lines.append("    none")
            for i, r in t.iterrows():
                lines.append(
                    f"    {r['name']:<10} {i:>8} {r['distance_km']:8.1f} km  {r['effect']:+.4f} "
                    f"[{r['lower']:+.4f}, {r['upper']:+.4f}]  {r['band_before']} -> {r['band_after']}"
                )
        return "\n".join(lines)

    __str__ = summary


def locate(units, *, host=None, at=None) -> tuple[str, float, float]:
    """(host unit id, lon, lat) of a new zone at a host city (id or name) or at ``at=(lon, lat)``.

    A host city's point is its equal-area centroid; a lon/lat point's host is
    the unit containing it (InputError when none does).
    """
    from shapely import Point

    if (host is None) == (at is None):
        raise OptionError("give either a host city (host=) or a point (at=(lon, lat)), not both")
    if host is not None:
        hid = resolve_unit(units, host)
        c = centroids(units.loc[[hid]]).iloc[0]
        return hid, float(c.x), float(c.y)
    try:
        lon, lat = (float(v) for v in at)
    except (TypeError, ValueError):
        raise OptionError(f"at={at!r}: give (lon, lat) in degrees") from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise OptionError(f"at={at!r}: lon/lat out of range (lon first)")
    p = Point(lon, lat)
    inside = units.index[units.to_crs("EPSG:4326").contains(p)]
    if not len(inside):
        raise InputError(f"point ({lon}, {lat}) lies in no unit of the boundaries; check the lon/lat order")
    return str(inside[0]), lon, lat


def _contrast(fit, groups_before, groups_after, level):

    coef = fit.table.set_index("band")["estimate"].to_dict()
    coef["outside"] = 0.0
    cov = fit.cov
    names = list(cov.index)
    V = cov.to_numpy()
    z = critical_value(level, fit.dof)
    eff, lo, hi = [], [], []
    for b0, b1 in zip(groups_before, groups_after):
        if b0 == b1:
            eff.append(0.0)
            lo.append(0.0)
            hi.append(0.0)
            continue
        a = np.zeros(len(names))
        for g, s in ((b1, 1.0), (b0, -1.0)):
            if g != "outside" and g in names:
                a[names.index(g)] += s
        e = coef.get(b1, np.nan) - coef.get(b0, np.nan)
        se = float(np.sqrt(max(a @ V @ a, 0.0)))
        eff.append(e)
        lo.append(e - z * se)
        hi.append(e + z * se)
    return np.array(eff), np.array(lo), np.array(hi)


def _group_of(dist, edges):

    k = np.searchsorted(np.asarray(edges), dist, side="right")
    lows = (0.0,) + tuple(edges[:-1])
    return np.array(["outside" if i >= len(edges) else band_label(lows[i], edges[i]) for i in k], dtype=object)


def new_zone(fit, *, host=None, at=None, year: int, units=None, level: float = 0.95, draws: int = 1000, seed=None) -> Scenario:
    """Predicted change in the outcome for every unit from a new zone at ``host`` or ``at`` from ``year``.

    ``fit``: a :class:`geo.radiation.BandDID` (band model) or a
    :class:`geo.radiation.SpatialDID` (SDM).  ``units``: the boundaries the
    model was fitted on (default: the embedded ones).
    """
    units = china() if units is None else units
    hid, lon, lat = locate(units, host=host, at=at)
    tab = fit.assignment.table
    if hid not in tab.index:
        raise InputError(f"host {hid} is not a unit of the fitted model")
    dist = great_circle_km(tab["lon"].to_numpy(), tab["lat"].to_numpy(), lon, lat)
    is_new_host = (tab.index == hid)
    dist = np.where(is_new_host, 0.0, dist)
    before = tab["band"].to_numpy(dtype=object)
    nearer = dist < tab["distance_km"].to_numpy()
    after = before.copy()
    cand = _group_of(dist, fit.assignment.edges)
    change = nearer & ~tab["host"].to_numpy() & ~is_new_host
    after[change] = cand[change]
    after[is_new_host] = "host"
    if isinstance(fit, RingSpatialDID):
        eff, lo, hi = _ring_effects(fit, tab, before, after, cand, is_new_host, level, draws, seed)
        model = "sar-rings"
        method = (
            "spatial DID with rings: change = (I - rho W)^-1 (b dh + " + ("g W dh + " if fit.wd else "")
            + "sum_k theta_k dR_k) for the new host dh and "
            f"the ring exposures it changes ({fit.exposure_mode}, geography of the fit's last year); "
            f"{int(level * 100)}% percentile interval over {draws} draws of (rho, b, "
            + ("g, " if fit.wd else "") + f"theta) from the ML covariance (seed {seed})"
        )
    elif isinstance(fit, BandDID):
        if fit.kinds:
            raise OptionError("the scenario places one kind of zone: fit the band model on one kind")
        eff, lo, hi = _contrast(fit, before, after, level)
        model = "bands"
        method = (
            "band model: change = coef[group with the new zone] - coef[current group]; interval ±t(G-1)·se from "
            f"the clustered covariance; {fit.method} estimates"
        )
    elif isinstance(fit, SpatialDID):
        after = np.where(is_new_host, "host", before)
        eff, lo, hi = _sdm_effects(fit, is_new_host & ~tab["host"].to_numpy(), level, draws, seed)
        after = np.where(is_new_host, "host", before)
        model = "sdm"
        method = (
            "panel SDM: change = (I - rho W)^-1 (b d + t W d) for the new host dummy d; "
            f"{int(level * 100)}% percentile interval over {draws} draws of (rho, b, t) from the ML covariance"
        )
    else:
        raise OptionError(f"fit must be a BandDID, SpatialDID or RingSpatialDID result, got {type(fit).__name__}")
    label = f"new zone at {tab.at[hid, 'name']} ({hid})" if host is not None else f"new zone at ({lon:.4f}, {lat:.4f})"
    sim = model in ("sar-rings", "sdm")
    return _result(fit, tab, dist, before, after, eff, lo, hi, model, label, int(year), lon, lat, hid, level, method,
                   draws=int(draws) if sim else None, seed=seed if sim else None)


def _result(fit, tab, dist, before, after, eff, lo, hi, model, label, year, lon, lat, hid, level, method, *,
            draws=None, seed=None):
    out = pd.DataFrame(
        {
            "name": tab["name"].to_numpy(),
            "distance_km": dist,
            "band_before": before,
            "band_after": after,
            "effect": eff,
            "lower": lo,
            "upper": hi,
        },
        index=tab.index.copy(),
    )
    out = out.sort_values(["effect", "distance_km"], ascending=[False, True], kind="stable")
    return Scenario(
        y=fit.y, model=model, what=label, start_year=year, lon=lon, lat=lat, host=hid,
        table=out, level=level, method=method, draws=draws, seed=seed,
    )


def _ring_effects(fit, tab, before, after, cand, is_new_host, level, draws, seed):
    """(effect, lower, upper) per unit of ``tab`` for the ring spatial DID (see new_zone)."""
    ids = list(fit.ids)
    pos = pd.Index(ids).get_indexer(tab.index)
    ok = pos >= 0
    n = len(ids)
    rings = list(fit.ring_labels)
    dh = np.zeros(n)
    dh[pos[ok & is_new_host & ~tab["host"].to_numpy()]] = 1.0
    dR = np.zeros((len(rings), 1, n))
    host_now = tab["host"].to_numpy() | is_new_host
    for k, label in enumerate(rings):
        if fit.exposure_mode == "count":
            add = (cand == label) & ~host_now
        else:
            add = ((after == label).astype(float) - (before == label).astype(float)) * ~tab["host"].to_numpy()
        dR[k, 0, pos[ok]] = np.asarray(add, float)[ok]
    kr = 3 if fit.wd else 2

    def eff(th):
        return zone_effects(fit.W, th[0], th[1], th[kr:], dh[None, :], dR, g=th[2] if fit.wd else 0.0)[0]

    point, lo, hi, _ = simulate_effects(eff, fit.params.to_numpy(), fit.vcov.to_numpy(), draws=draws, seed=seed,
                                        level=level)
    back = lambda v: np.where(ok, v[np.clip(pos, 0, None)], np.nan)  # noqa: E731
    return back(point), back(lo), back(hi)


def _sdm_effects(fit, d, level, draws, seed):
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu

    tab = fit.assignment.table
    ids = list(fit.weight_ids)
    W = fit.weights
    if not sp.issparse(W):
        W = W.sparse
    pos = pd.Index(ids).get_indexer(tab.index)
    dvec = np.zeros(len(ids))
    dvec[pos[pos >= 0][d[pos >= 0]]] = 1.0
    res = fit.durbin
    names = ["rho", fit.d_name, "W_" + fit.d_name]
    mean = np.array([res.rho, res.params[fit.d_name], res.params["W_" + fit.d_name]])
    V = res.vcov.loc[names, names].to_numpy()
    Wd = W @ dvec
    n = len(ids)
    I = sp.identity(n, format="csc")

    def effect(rho, b, t):
        return splu(sp.csc_matrix(I - rho * W)).solve(b * dvec + t * Wd)

    point = effect(*mean)
    if not dvec.any():
        z = np.zeros(len(tab))
        return z, z, z
    _, lo, hi, _ = simulate_effects(lambda th: effect(*th), mean, V, draws=draws, seed=seed, level=level,
                                    rho_max=0.999)
    back = lambda v: np.where(pos >= 0, v[np.clip(pos, 0, None)], np.nan)  # noqa: E731
    return back(point), back(lo), back(hi)


def new_corridor(fit, cities, *, year: int, units=None, level: float = 0.95) -> Scenario:
    """Predicted change from a new corridor through ``cities`` (ids or names, in order), band model only.

    Each unit takes its group under the corridor (members = host); the change
    is that group's fitted coefficient (no corridor before).
    """
    if not isinstance(fit, BandDID):
        raise OptionError("a new-corridor scenario needs a band-DID fit (model='bands')")
    units = china() if units is None else units
    cor = make_corridor(cities, units=units)
    tab = fit.assignment.table
    asg = assign_bands(units.loc[[i for i in tab.index if i in units.index]], corridor=cor, bands=fit.assignment.edges)
    new = asg.table.reindex(tab.index)
    if new["band"].isna().any():
        raise SchemaError("the fitted model's units are not all in the boundaries")
    after = new["band"].to_numpy(dtype=object)
    before = np.array(["outside"] * len(tab), dtype=object)
    eff, lo, hi = _contrast(fit, before, after, level)
    method = (
        "band model transferred to a corridor: change = coef[group by distance to the corridor polyline]; "
        f"interval ±t(G-1)·se from the clustered covariance; {fit.method} estimates"
    )
    return _result(
        fit, tab, new["distance_km"].to_numpy(), before, after, eff, lo, hi, "bands",
        f"new corridor {cor.name}", int(year), None, None, None, level, method,
    )
