"""Spatial DID that sees rings: a two-way fixed-effects spatial lag panel with the host and ring exposures.

Model (balanced panel; :func:`geo.durbin.panel.fit_panel`, ML with Lee-Yu's
correction, model "sar" with our own exposure regressors):

    y_t = rho W y_t + b h_t + sum_k theta_k R_k,t + X_t beta + mu + alpha_t + e_t

* ``h_it``: host status (1 from the first approval of any zone the unit hosts);
* ``R_k,it``: the ring-k exposure of :func:`geo.radiation.exposure` (nearest
  approved zone in ring k, or the count of approved zones in ring k) — the
  "lag terms" through which a zone reaches units beyond its host, at the
  distances of the rings rather than through first-order contiguity;
* ``W``: the spatial multiplier's weights, by default ``idw:1:300km`` (inverse
  geodesic distance between unit centroids within 300 km, islands linked to
  their nearest unit, row-standardised; any :func:`geo.weights.build` spec).

Effects of the zones (what ``direct`` and ``indirect`` mean here): with
Delta y_t = (I - rho W)^-1 (b h_t + sum_k theta_k R_k,t) the change the zones
approved by t cause in every unit,

* ``direct``: the mean of Delta y over host unit-years (the zone's effect on
  its host, own effect plus feedback through neighbours);
* ``indirect[k]``: the mean of Delta y over the unit-years in ring k (not
  hosts) — radiation if positive, a siphon if negative; ``indirect["all"]``:
  over every exposed non-host unit-year.

These are the spatial model's counterparts of the band-DID's host and ring
effects (both average effects over exposed unit-years).  Intervals: percentiles
over ``draws`` of (rho, b, theta) from their ML covariance (draws with
|rho| >= 1 discarded), ``se`` the draws' standard deviation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.errors import ModelError, OptionError, SchemaError
from geo.radiation._common import num as _num
from geo.radiation._common import p_norm
from geo.radiation.exposure import Exposure

__all__ = ["RingSpatialDID", "ring_spatial_did", "zone_effects", "simulate_effects"]

DEFAULT_WEIGHTS = "idw:1:300km"


def zone_effects(W, rho, b, theta, H, R):
    """Delta y (T x n) = (I - rho W)^-1 (b h_t + sum_k theta_k R_k,t) for every year; H: T x n, R: K x T x n."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu

    n = W.shape[0]
    rhs = b * H + np.tensordot(np.asarray(theta), R, axes=1)
    lu = splu(sp.csc_matrix(sp.identity(n) - rho * W))
    return lu.solve(np.ascontiguousarray(rhs.T)).T


def simulate_effects(fn, mean, V, *, draws: int, seed=None, level: float = 0.95, rho_max: float = 1.0):
    """Percentile interval of ``fn(theta)`` over ``draws`` of theta ~ N(mean, V) with |theta[0]| (rho) < rho_max.

    Returns (point = fn(mean), lower, upper, sd of the draws).  Used by the spatial DIDs and the scenario."""
    point = fn(np.asarray(mean, float))
    rng = np.random.default_rng(seed)
    sims = []
    while len(sims) < draws:
        th = rng.multivariate_normal(mean, V, size=draws)
        th = th[np.abs(th[:, 0]) < rho_max]
        sims += [fn(x) for x in th[: draws - len(sims)]]
    sims = np.array(sims)
    a = (1 - level) / 2
    lo, hi = np.quantile(sims, [a, 1 - a], axis=0)
    return point, lo, hi, sims.std(axis=0, ddof=1)


@dataclass(frozen=True, eq=False)
class RingSpatialDID:
    """Result of :func:`ring_spatial_did`: ``coefficients`` (rho, b, theta_k, controls with se), ``direct``,
    ``indirect`` (per ring and "all"), each {estimate, se, p, lower, upper}."""

    y: str
    weights: str
    coefficients: pd.DataFrame = field(repr=False)
    direct: dict
    indirect: dict
    rho: float
    level: float
    n_obs: int
    n_units: int
    exposure_mode: str
    durbin: object = field(repr=False)
    W: object = field(repr=False)
    ids: tuple = field(repr=False)
    assignment: object = field(repr=False, default=None)

    def to_frame(self) -> pd.DataFrame:
        rows = [{"effect": "direct (host)", **self.direct}]
        rows += [{"effect": f"indirect {k}", **v} for k, v in self.indirect.items()]
        return pd.DataFrame(rows)

    def to_json(self) -> dict:
        clean = lambda d: {k: _num(v) for k, v in d.items()}  # noqa: E731
        return {
            "y": self.y,
            "model": "two-way FE spatial lag panel (ML, Lee-Yu) with host status h and ring exposures R_k as "
            "regressors: y = rho W y + b h + sum_k theta_k R_k + X beta + mu + alpha + e",
            "weights": self.weights,
            "exposure": self.exposure_mode,
            "rho": _num(self.rho),
            "coefficients": [
                {"name": n, "estimate": _num(r["estimate"]), "se": _num(r["se"])} for n, r in self.coefficients.iterrows()
            ],
            "direct": clean(self.direct),
            "indirect": {k: clean(v) for k, v in self.indirect.items()},
            "level": self.level,
            "n_obs": self.n_obs,
            "n_units": self.n_units,
        }

    def summary(self) -> str:
        lines = [f"spatial DID with rings of {self.y}: SAR panel, W = {self.weights}, rho = {self.rho:.4f}"]
        for _, r in self.to_frame().iterrows():
            lines.append(f"  {r['effect']:>22}: {r['estimate']:+.4f} (se {r['se']:.4f}) [{r['lower']:+.4f}, {r['upper']:+.4f}]")
        return "\n".join(lines)

    __str__ = summary


def ring_spatial_did(
    data,
    y: str,
    exposure: Exposure,
    *,
    units,
    weights: str = DEFAULT_WEIGHTS,
    id: str = "adcode",
    time: str = "year",
    controls=(),
    draws: int = 1000,
    level: float = 0.95,
    seed=None,
) -> RingSpatialDID:
    """Fit the ring spatial DID (module docstring) on a balanced panel with a time-varying ``exposure``."""
    import scipy.sparse as sp
    from geo.durbin.panel import fit_panel
    from geo.weights import build

    if not isinstance(exposure, Exposure):
        raise OptionError("the ring spatial DID needs a time-varying exposure (geo.radiation.exposure)")
    if exposure.kinds:
        raise OptionError("the ring spatial DID takes one kind of zone at a time")
    controls = tuple(controls or ())
    if isinstance(data.index, pd.MultiIndex) and id not in data.columns:
        data = data.reset_index()
    missing = [c for c in (id, time, y, *controls) if c not in data.columns]
    if missing:
        raise SchemaError(f"data has no column(s) {missing}")
    df = data[[id, time, y, *controls]].copy()
    df[id] = df[id].astype(str)
    df[time] = df[time].astype(int)
    labels = list(exposure.labels)
    t = exposure.table.rename(columns={"id": id, "year": time})[[id, time, *labels]]
    df = df.merge(t, on=[id, time], how="left", validate="one_to_one")
    if df[labels].isna().any().any():
        raise SchemaError("some unit-years of the data are not in the exposure (ids or years outside it)")
    ids = sorted(df[id].unique())
    years = sorted(df[time].unique())
    if len(df) != len(ids) * len(years):
        raise ModelError(
            f"the spatial DID needs a balanced panel ({len(ids)} units x {len(years)} years = "
            f"{len(ids) * len(years)} rows, the data have {len(df)}): use the band-DID for unbalanced data"
        )
    if df[y].nunique() < 2:
        raise ModelError(f"outcome {y!r} is constant: there is nothing to estimate")
    names = {lab: "E_" + "".join(ch if ch.isalnum() else "_" for ch in lab) for lab in labels}
    df = df.rename(columns=names)
    regs = [names[lab] for lab in labels if df[names[lab]].nunique() > 1]
    if names["host"] not in regs:
        raise ModelError("no host changes status within the panel years; the direct effect is not identified")
    g = weights if hasattr(weights, "unique_ids") else build(weights, units.loc[ids])
    if sorted(map(str, g.unique_ids)) != ids:
        raise ModelError("the weights' units differ from the data's units")
    W = sp.csr_matrix(g.sparse)
    wids = tuple(map(str, g.unique_ids))
    res = fit_panel(df, y, [*regs, *controls], weights=W, weight_ids=wids, id=id, time=time, model="sar",
                    effects="twoways", draws=0, seed=seed)
    pos = pd.Index(wids)
    order = df.sort_values([time, id])
    T, n = len(years), len(wids)

    def mat(col):
        m = np.zeros((T, n))
        yi = pd.Index(years).get_indexer(order[time])
        ui = pos.get_indexer(order[id])
        m[yi, ui] = order[col].to_numpy(float)
        return m

    H = mat(names["host"])
    ring_labs = [lab for lab in labels if lab != "host" and names[lab] in regs]
    R = np.stack([mat(names[lab]) for lab in ring_labs]) if ring_labs else np.zeros((0, T, n))
    pnames = ["rho", names["host"], *[names[lab] for lab in ring_labs]]
    mean = np.array([res.rho] + [float(res.params[p]) for p in pnames[1:]])
    V = res.vcov.loc[pnames, pnames].to_numpy()
    hostm = H > 0
    masks = {lab: (R[k] > 0) & ~hostm for k, lab in enumerate(ring_labs)}
    masks["all"] = (R.sum(axis=0) > 0) & ~hostm if len(ring_labs) else np.zeros_like(hostm)

    def effects(th):
        dy = zone_effects(W, th[0], th[1], th[2:], H, R)
        out = [dy[hostm].mean() if hostm.any() else np.nan]
        out += [dy[m].mean() if m.any() else np.nan for m in masks.values()]
        return np.array(out)

    point, lo, hi, se = simulate_effects(effects, mean, V, draws=draws, seed=seed, level=level)
    p = p_norm(point / np.where(se > 0, se, np.nan))

    def pack(i):
        return {"estimate": float(point[i]), "se": float(se[i]), "p": float(p[i]), "lower": float(lo[i]),
                "upper": float(hi[i])}

    direct = pack(0)
    indirect = {lab: pack(i + 1) for i, lab in enumerate(masks)}
    coef = pd.DataFrame(
        {"estimate": [res.rho] + [float(res.params[c]) for c in [*regs, *controls]]},
        index=["rho", *[c.removeprefix("E_") for c in regs], *controls],
    )
    allnames = ["rho", *regs, *controls]
    coef["se"] = np.sqrt(np.diag(res.vcov.loc[allnames, allnames].to_numpy()))
    return RingSpatialDID(
        y=y, weights=str(weights), coefficients=coef, direct=direct, indirect=indirect, rho=float(res.rho),
        level=level, n_obs=len(df), n_units=n, exposure_mode=exposure.mode, durbin=res, W=W, ids=wids,
        assignment=exposure.assignment,
    )
