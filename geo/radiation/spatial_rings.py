"""Spatial DID that sees rings: a two-way fixed-effects spatial Durbin panel in the zone dummy D and its lags.

Model (:func:`geo.durbin.panel.fit_panel`, the one ML engine of ``geo.durbin``; model
"sar" with our own exposure regressors, so that only D is lagged, as R's
``lagsarlm(..., Durbin = ~ D)``)::

    y_t = rho W y_t + b D_t + g W D_t + sum_k theta_k R_k,t + X_t beta + mu + alpha_t 1 + e_t

* ``D_it`` (``host``): 1 from the first approval of any zone the unit hosts (time-varying);
* ``W D_t`` (``W host``, with ``durbin=True``, the default): the share of a unit's
  W-neighbours that host an approved zone, W being the multiplier's weights below —
  the classic SDM lag of the treatment;
* ``R_k,it`` (the ring terms): the ring-k exposure of :func:`geo.radiation.exposure`,
  i.e. D lagged with **ring weights**: with ``mode="count"`` R_k,t counts the approved
  zones whose point lies in ring k of unit i (W_k D_t with the binary ring-k weights
  W_k(i, j) = 1[d_ij in ring k], up to zones being points rather than host centroids and a host
  counting each of its zones);
  with ``mode="nearest"`` R_k,it = 1 when the nearest approved zone lies in ring k.
  Through these terms a zone reaches units beyond first-order contiguity, at the
  distances of the rings, and a siphon ring (theta_k < 0) is a parameter of the model;
* ``W``: the spatial multiplier's weights (and the W of W D), by default
  ``idw:1:300km``: inverse geodesic distance between unit centroids, zero beyond
  300 km, islands linked to their nearest unit, row-standardised (any
  :func:`geo.weights.build` spec or a Weights/Graph on the data's units).

Effects of the zones (``direct`` and ``indirect``; section 8 of docs/methods.md).
With Delta y_t = (I - rho W)^-1 (b D_t + g W D_t + sum_k theta_k R_k,t), the change
the zones approved by t cause in every unit:

* ``direct``: the mean of Delta y over host unit-years of the sample (the zone's
  effect on its host: own effect plus feedback through neighbours and other zones)
  — the spatial model's counterpart of the band-DID's ``host`` effect;
* ``indirect[k]``: the mean of Delta y over the sample's non-host unit-years in
  ring k — the counterpart of the band-DID's ring-k effect: radiation if positive,
  a siphon if negative; ``indirect["all"]``: over every exposed non-host unit-year.

These are average effects on the treated groups, not LeSage-Pace's scalar
summaries; the latter (direct = mean diagonal, indirect = mean off-diagonal row
sum of dy/dx', section 6) are reported too in ``impacts`` (for D with b and g, and
for each ring term with theta_k), which is what spatialreg's ``impacts()`` gives.
Intervals of ``direct``/``indirect``: percentiles over ``draws`` of
(rho, b, g, theta) from their ML covariance (rho drawn inside the admissible
interval), ``se`` the draws' standard deviation.

Unbalanced panels (``balance=``): ``"ml"`` (default) fits by exact ML on the
observed cells with the missing outcomes integrated out
(:mod:`geo.durbin.missing`; the exposures are known in every unit-year, controls
must be complete; effects as parameters, i.e. the direct approach); ``"drop"``
keeps the units observed in every year (W rebuilt on them); ``"error"`` refuses
with the count of missing unit-years. A balanced panel is always fitted by the
static panel with ``bias_correction`` (Lee-Yu by default).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo._graph import to_csr
from geo.errors import ModelError, OptionError, SchemaError, check_choice
from geo.radiation._common import num as _num
from geo.radiation._common import p_norm
from geo.radiation.exposure import Exposure
from geo.weights import build

__all__ = ["RingSpatialDID", "ring_spatial_did", "zone_effects", "simulate_effects", "BALANCE"]

DEFAULT_WEIGHTS = "idw:1:300km"
BALANCE = ("ml", "drop", "error")
WD_NAME = "W host"


def zone_effects(W, rho, b, theta, H, R, g=0.0):
    """Delta y (T x n) = (I - rho W)^-1 (b h_t + g W h_t + sum_k theta_k R_k,t) per year; H: T x n, R: K x T x n."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu

    n = W.shape[0]
    rhs = b * H + np.tensordot(np.asarray(theta, float), R, axes=1)
    if g:
        rhs = rhs + g * np.asarray(W @ np.asarray(H, float).T).T
    lu = splu(sp.csc_matrix(sp.identity(n) - rho * W))
    return lu.solve(np.ascontiguousarray(rhs.T)).T


def simulate_effects(fn, mean, V, *, draws: int, seed=None, level: float = 0.95, rho_max: float = 1.0):
    """Percentile interval of ``fn(theta)`` over ``draws`` of theta ~ N(mean, V) with |theta[0]| (rho) < rho_max.

    The draws are :mod:`geo.durbin.impacts`' (one simulator of ML estimates).  Returns
    (point = fn(mean), lower, upper, sd of the draws).  Used by the spatial DIDs and the scenario."""
    mean = np.asarray(mean, float)
    point = fn(mean)
    from geo.durbin.impacts import _draw_params  # lazy: geo.durbin loads scipy.stats (~0.6 s), for --spatial only

    sims = _draw_params(mean, np.asarray(V, float), int(draws), seed, -rho_max, rho_max)
    sims = np.array([fn(x) for x in sims])
    a = (1 - level) / 2
    lo, hi = np.quantile(sims, [a, 1 - a], axis=0)
    return point, lo, hi, sims.std(axis=0, ddof=1)


def _group_means(W, blocks, masks, max_n: int = 3000, max_cond: float = 1e8):
    """fn(theta) -> the mean of Delta y over each mask, by W's eigendecomposition (None when unsafe).

    With W = V diag(lam) V^-1, Delta y_t = V diag(s) V^-1 sum_j c_j X_j,t with s = 1/(1 - rho lam), so
    the mean over mask m is sum_j c_j (P_mj . s) / |m| with P_mj = sum_t (m_t V) * (V^-1 X_j,t) computed
    once: a draw costs O(masks x regressors x n) instead of a sparse LU (same numbers as
    :func:`zone_effects` to rounding; checked in the tests).  theta = (rho, c_1, ..., c_J).
    """
    n = W.shape[0]
    if n > max_n:
        return None
    lam, V = np.linalg.eig(W.toarray() if hasattr(W, "toarray") else np.asarray(W))
    if not np.isfinite(lam).all() or np.linalg.cond(V) > max_cond:
        return None
    Vinv = np.linalg.inv(V)
    Z = [np.asarray(X, float) @ Vinv.T for X in blocks]  # (T, n) in eigen coordinates
    sizes = np.array([m.sum() for m in masks], float)
    P = np.array([[((m.astype(float) @ V) * z).sum(axis=0) for z in Z] for m in masks])  # (M, J, n)

    def fn(th):
        s = 1.0 / (1.0 - th[0] * lam)
        tot = np.einsum("mjn,n,j->m", P, s, np.asarray(th[1:], float)).real
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(sizes > 0, tot / np.where(sizes > 0, sizes, 1), np.nan)

    return fn


def _col(label: str) -> str:
    """Regressor name of an exposure label (``0-100 km`` -> ``E_0_100_km``)."""
    return "E_" + "".join(ch if ch.isalnum() else "_" for ch in label)


@dataclass(frozen=True, eq=False)
class RingSpatialDID:
    """Result of :func:`ring_spatial_did` (module docstring).

    ``coefficients``: rho, host (b), ``W host`` (g, with ``durbin``), the ring terms
    (theta_k) and controls, with se; ``direct`` and ``indirect`` (per ring and "all"):
    {estimate, se, p, lower, upper}; ``impacts``: LeSage-Pace impacts of host and the
    ring terms (a :class:`geo.durbin.impacts.Impacts`); ``params``/``vcov``: the ML
    estimates of (rho, host, [W host], rings) and their covariance, which the
    scenario simulates from; ``balance``: how gaps were handled (``ml``/``drop``/
    ``none``) and ``missing`` the unit-years without an outcome.
    """

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
    wd: bool = True
    ring_labels: tuple = ()
    params: pd.Series = field(repr=False, default=None)
    vcov: pd.DataFrame = field(repr=False, default=None)
    impacts: object = field(repr=False, default=None)
    balance: str = "none"
    missing: int = 0
    draws: int = 0
    seed: object = None

    def to_frame(self) -> pd.DataFrame:
        rows = [{"effect": "direct (host)", **self.direct}]
        rows += [{"effect": f"indirect {k}", **v} for k, v in self.indirect.items()]
        return pd.DataFrame(rows)

    def to_json(self) -> dict:
        clean = lambda d: {k: _num(v) for k, v in d.items()}  # noqa: E731
        wd = " + g W h" if self.wd else ""
        out = {
            "y": self.y,
            "model": "two-way FE spatial Durbin panel in the zone dummy (ML; "
            + ("Lee-Yu" if self.durbin.bias_correction == "lee-yu" else "direct approach")
            + f"): y = rho W y + b h{wd} + sum_k theta_k R_k + X beta + mu + alpha + e, h the host status, "
            "R_k the ring exposures (h lagged with ring weights)",
            "weights": self.weights,
            "durbin": bool(self.wd),
            "exposure": self.exposure_mode,
            "rho": _num(self.rho),
            "coefficients": [
                {"name": n, "estimate": _num(r["estimate"]), "se": _num(r["se"])} for n, r in self.coefficients.iterrows()
            ],
            "direct": clean(self.direct),
            "indirect": {k: clean(v) for k, v in self.indirect.items()},
            "impacts_lesage_pace": None if self.impacts is None else self.impacts.to_json(),
            "level": self.level,
            "draws": int(self.draws),
            "seed": self.seed if isinstance(self.seed, (int, type(None))) else str(self.seed),
            "balance": self.balance,
            "missing_unit_years": int(self.missing),
            "n_obs": self.n_obs,
            "n_units": self.n_units,
        }
        return out

    def summary(self) -> str:
        lag = " + W host" if self.wd else ""
        lines = [f"spatial DID with rings of {self.y}: SDM panel in D (host{lag} + rings), W = {self.weights}, "
                 f"rho = {self.rho:.4f}"]
        if self.missing:
            lines.append(f"  unbalanced: {self.missing} unit-years without {self.y} (balance={self.balance})")
        for _, r in self.to_frame().iterrows():
            lines.append(f"  {r['effect']:>22}: {r['estimate']:+.4f} (se {r['se']:.4f}) [{r['lower']:+.4f}, {r['upper']:+.4f}]")
        return "\n".join(lines)

    __str__ = summary


def data_columns(data, id, time, y, controls):
    """A copy of the data's id, time, outcome and control columns with string ids (index levels accepted)."""
    if isinstance(data, pd.DataFrame) and isinstance(data.index, pd.MultiIndex) and id not in data.columns:
        data = data.reset_index()
    missing = [c for c in (id, time, y, *controls) if c not in data.columns]
    if missing:
        raise SchemaError(f"data has no column(s) {missing}")
    df = data[[id, time, y, *controls]].copy()
    df[id] = df[id].astype(str)
    return df


def _frame(data, y, exposure, id, time, controls):
    """The data's rows with the outcome, controls and exposure columns; checks names, types and duplicates."""
    df = data_columns(data, id, time, y, controls)
    try:
        df[time] = df[time].astype(int)
    except (TypeError, ValueError):
        raise SchemaError(f"column {time!r}: years must be whole numbers") from None
    for c in (y, *controls):
        if not pd.api.types.is_numeric_dtype(df[c]):
            bad = df[c][pd.to_numeric(df[c], errors="coerce").isna() & df[c].notna()]
            if len(bad):
                raise SchemaError(f"column {c!r}: not a number: {bad.iat[0]!r} ({id} {df.loc[bad.index[0], id]})")
            df[c] = pd.to_numeric(df[c])
    if df.duplicated([id, time]).any():
        r = df[df.duplicated([id, time])].iloc[0]
        raise SchemaError(f"data has more than one row for {id}={r[id]!r}, {time}={r[time]!r}")
    df = df[np.isfinite(df[y].to_numpy(float))]  # empty outcomes are gaps
    if df.empty:
        raise SchemaError(f"column {y!r} has no values")
    labels = list(exposure.labels)
    t = exposure.table.rename(columns={"id": id, "year": time})[[id, time, *labels]]
    known = df[[id, time]].merge(t[[id, time]], on=[id, time], how="left", indicator=True)["_merge"] == "both"
    if not known.all():
        r = df[~known.to_numpy()].iloc[0]
        raise SchemaError(f"{id}={r[id]!r}, {time}={r[time]} of the data is not in the exposure (ids or years outside it)")
    return df, t, labels


def ring_spatial_did(
    data,
    y: str,
    exposure: Exposure,
    *,
    units,
    weights=DEFAULT_WEIGHTS,
    durbin: bool = True,
    id: str = "adcode",
    time: str = "year",
    controls=(),
    balance: str = "ml",
    bias_correction: str = "lee-yu",
    draws: int = 1000,
    level: float = 0.95,
    seed=None,
) -> RingSpatialDID:
    """Fit the ring spatial DID (module docstring) with a time-varying ``exposure``.

    ``weights``: a :func:`geo.weights.build` spec (built on ``units`` restricted to the
    model's units) or a Weights/Graph whose ids are exactly the model's units.
    ``durbin``: include W h (the SDM lag of the zone dummy). ``balance``: ``ml``
    (default), ``drop`` or ``error`` for unit-years without the outcome.
    ``bias_correction`` (balanced panels): ``lee-yu`` or ``none`` (the direct approach).
    """
    # lazy: geo.durbin loads scipy.stats (~0.6 s); only runs with a spatial DID need it
    from geo.durbin.impacts import TraceEngine, lag_impacts
    from geo.durbin.logdet import make_logdet
    from geo.durbin.panel import fit_panel

    if not isinstance(exposure, Exposure):
        raise OptionError("the ring spatial DID needs a time-varying exposure (geo.radiation.exposure)")
    if exposure.kinds:
        raise OptionError("the ring spatial DID takes one kind of zone at a time")
    check_choice("balance", balance, BALANCE)
    if int(draws) < 2:
        raise OptionError(f"draws={draws!r}: the intervals need at least 2 draws")
    controls = tuple(controls or ())
    df, t, labels = _frame(data, y, exposure, id, time, controls)
    years = sorted(df[time].unique())
    ids = sorted(df[id].unique())
    n_years = df.groupby(id)[time].nunique()
    gaps = len(ids) * len(years) - len(df)
    if gaps and balance == "error":
        raise ModelError(
            f"unbalanced panel: {gaps} of {len(ids) * len(years)} unit-years ({len(ids)} units x {len(years)} "
            f"years) have no {y!r}; use balance='ml' (exact ML on the observed cells) or 'drop'"
        )
    if gaps and balance == "drop":
        ids = sorted(n_years.index[n_years == len(years)])
        if not ids:
            raise ModelError(f"balance='drop': no unit has {y!r} in all {len(years)} years")
        df = df[df[id].isin(ids)]
    if df[y].nunique() < 2:
        raise ModelError(f"outcome {y!r} is constant: there is nothing to estimate")
    if units is None:
        raise OptionError("units (the boundaries the exposure was built on) are needed for the weights")
    known, wanted = set(map(str, units.index)), set(ids)
    absent = [i for i in ids if i not in known]
    if absent:
        raise SchemaError(f"{id}={absent[0]!r} of the data is not a unit of the boundaries ({len(absent)} such ids)")
    if isinstance(weights, str):
        g = build(weights, units.loc[[i for i in units.index if str(i) in wanted]])
    else:
        g = weights
    wids = tuple(map(str, getattr(g, "unique_ids", ())))
    if sorted(wids) != ids:
        raise ModelError(f"the weights' units ({len(wids)}) differ from the data's units ({len(ids)})")
    W = to_csr(g, error=ModelError)
    n, T = len(wids), len(years)

    # the full grid: exposures are known in every unit-year; the outcome may be missing (balance="ml")
    grid = pd.MultiIndex.from_product([years, wids], names=[time, id]).to_frame(index=False)
    grid = grid.merge(t, on=[id, time], how="left").merge(df, on=[id, time], how="left")
    if grid[labels].isna().any().any():
        raise SchemaError("the exposure does not cover every unit-year of the model's units and years")
    names = {lab: _col(lab) for lab in labels}
    grid = grid.rename(columns=names)
    mat = lambda col: grid[col].to_numpy(float).reshape(T, n)  # noqa: E731  (rows: years; columns: wids order)
    obs = np.isfinite(mat(y))
    H = mat(names["host"])
    if not obs.any() or np.ptp(H[obs]) == 0:
        raise ModelError("no host changes status within the panel years; the direct effect is not identified")
    ring_labs = [lab for lab in labels if lab != "host" and np.ptp(mat(names[lab])[obs]) > 0]
    R = np.stack([mat(names[lab]) for lab in ring_labs]) if ring_labs else np.zeros((0, T, n))
    regs = [names["host"]]
    if durbin:
        grid["W_host"] = np.asarray(W @ H.T).T.ravel()
        regs.append("W_host")
    regs += [names[lab] for lab in ring_labs]
    if controls and grid.loc[obs.ravel(), list(controls)].isna().any().any():
        raise SchemaError(f"controls {list(controls)} have empty cells where {y!r} is observed")
    fit_frame = grid if gaps and balance == "ml" else grid[obs.ravel()]
    res = fit_panel(fit_frame, y, [*regs, *controls], weights=W, weight_ids=wids, id=id, time=time, model="sar",
                    effects="twoways", draws=0, seed=seed, balance="ml" if gaps and balance == "ml" else "error",
                    bias_correction=bias_correction)

    pnames = ["rho", *regs]
    labels_out = ["rho", "host", *([WD_NAME] if durbin else []), *ring_labs]
    params = pd.Series([float(res.rho)] + [float(res.params[p]) for p in regs], index=labels_out)
    V = pd.DataFrame(res.vcov.loc[pnames, pnames].to_numpy(), index=labels_out, columns=labels_out)
    hostm = (H > 0) & obs
    masks = {lab: (R[k] > 0) & (H == 0) & obs for k, lab in enumerate(ring_labs)}
    masks["all"] = (R.sum(axis=0) > 0) & (H == 0) & obs if ring_labs else np.zeros_like(hostm)
    kr = 2 + int(durbin)

    blocks = [H, *([np.asarray(W @ H.T).T] if durbin else []), *R]  # regressors in the order of params[1:]
    effects = _group_means(W, blocks, [hostm, *masks.values()])
    if effects is None:  # W not safely diagonalisable: one sparse LU per draw

        def effects(th):
            dy = zone_effects(W, th[0], th[1], th[kr:], H, R, g=th[2] if durbin else 0.0)
            return np.array([dy[m].mean() if m.any() else np.nan for m in (hostm, *masks.values())])

    point, lo, hi, se = simulate_effects(effects, params.to_numpy(), V.to_numpy(), draws=draws, seed=seed,
                                         level=level)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = p_norm(point / np.where(se > 0, se, np.nan))

    def pack(i):
        return {"estimate": float(point[i]), "se": float(se[i]), "p": float(p[i]), "lower": float(lo[i]),
                "upper": float(hi[i])}

    direct = pack(0)
    indirect = {lab: pack(i + 1) for i, lab in enumerate(masks)}

    # LeSage-Pace impacts of h (b, g) and of each ring term (theta_k, not lagged): the SDM's impacts with the
    # lag coefficients of the ring terms fixed at 0 (zero variance)
    nr = len(ring_labs)
    beta = np.array([params["host"], *[params[lab] for lab in ring_labs]])
    theta = np.zeros(1 + nr)
    theta[0] = params[WD_NAME] if durbin else 0.0
    src = [0, 1, *range(kr, kr + nr), 2 if durbin else None, *[None] * nr]  # (rho, beta, theta) <- params
    cov = np.zeros((len(src), len(src)))
    for a, i in enumerate(src):
        for c, j in enumerate(src):
            if i is not None and j is not None:
                cov[a, c] = V.iat[i, j]
    ld = make_logdet(W)
    impacts = lag_impacts(names=["host", *ring_labs], rho=float(res.rho), beta=beta, theta=theta, cov=cov,
                          engine=TraceEngine(W, ld), lower=ld.lower, upper=ld.upper, draws=int(draws), seed=seed,
                          order=0, level=level)

    coef = pd.DataFrame(
        {"estimate": [res.rho] + [float(res.params[c]) for c in [*regs, *controls]]},
        index=[*labels_out, *controls],
    )
    allnames = ["rho", *regs, *controls]
    coef["se"] = np.sqrt(np.diag(res.vcov.loc[allnames, allnames].to_numpy()))
    return RingSpatialDID(
        y=y, weights=str(weights) if isinstance(weights, str) else "user weights", coefficients=coef, direct=direct,
        indirect=indirect, rho=float(res.rho), level=level, n_obs=int(obs.sum()), n_units=n,
        exposure_mode=exposure.mode, durbin=res, W=W, ids=wids, assignment=exposure.assignment, wd=bool(durbin),
        ring_labels=tuple(ring_labs), params=params, vcov=V, impacts=impacts,
        balance=balance if gaps else "none", missing=int(gaps), draws=int(draws), seed=seed,
    )
