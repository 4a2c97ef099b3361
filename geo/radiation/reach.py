"""How far does a zone's effect reach?  Two rules chosen from the data, beside the rings rule of the band-DID.

``curve`` — the distance curve (:func:`distance_curve`)
    The effect as a function of distance from the nearest approved zone: the
    band-DID with many narrow rings (0-step, step-2·step, … up to ``max_km``)
    by the same imputation estimator (:func:`geo.radiation.band_did`, one
    regression with the host and every narrow ring), pointwise intervals from
    the chosen inference (default: restricted wild cluster bootstrap) and a
    uniform (simultaneous) band θ_k ± c·se_k over the rings, c the sup-t
    critical value of the studentized wild cluster bootstrap
    (:func:`geo.radiation.inference.wild_sup_t_critical`), widened
    to the pointwise interval where that is wider (the wild bootstrap's
    interval in a ring with few treated units).  The
    band covers the whole curve with probability ``level``, so reading many
    narrow rings does not multiply false positives.  Reach: the upper edge of
    the last narrow ring, in the run from the nearest, whose *uniform band*
    excludes zero with the nearest ring's sign (the rings rule of
    :func:`geo.radiation.results.reach` applied to the band).

``cv`` — Clarke's (2017) cross-validated reach (:func:`cv_reach`)
    Clarke, D. (2017), "Estimating Difference-in-Differences in the Presence of
    Spillovers", MPRA paper 81604 (and his ``cdifdif`` routine).  For every
    bin width h on the grid step, 2·step, … ``max_km``: rings of width h
    (0-h, h-2h, …) are added one at a time, from the nearest, while the newest
    ring's effect is significant (two-sided p < 1 − ``level``; Clarke's
    t-limit 1.96); the model keeps the significant rings (none: the host
    only), so its reach is h × (rings kept).  Each model's out-of-sample root
    mean squared prediction error CV(h) is estimated by K-fold
    cross-validation; the reach of the h minimising CV(h) is the reach.
    Two departures from Clarke, both forced by the panel: the model is the
    imputation estimator, not OLS (it is the package's estimator, unbiased
    under staggered, dynamic effects), and the folds are **units**, not rows
    (a unit's rows are serially correlated; a row-fold would predict a unit
    from its own neighbouring years).  Prediction of a held-out unit i: the
    year effects, controls and ring effects fitted on the other folds,
    ŷ_it = ĝ_t + X_it b̂ + Σ_l τ̂_l D_l,it; its unit effect is not identified
    out of sample and is concentrated out (the prediction error is the
    residual minus the unit's mean residual).  Every model is scored on the
    same rows (all unit-years of the data whose year effect is estimated).
    The significance test of each newest ring uses the clustered t with
    G − 1 df (the bootstrap inside a search over every h and ring would cost
    thousands of bootstraps); a ring with fewer than 10 exposed units carries
    no reliable evidence and is passed over.

The ``rings`` rule (today's, the default of ``geo radiation``) stays in
:func:`geo.radiation.results.reach`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.errors import ModelError, OptionError, SchemaError, check_choice
from geo.radiation import imputation
from geo.radiation._common import critical_value, p_t
from geo.radiation._common import num as _num
from geo.radiation.design import design
from geo.radiation.did import band_did
from geo.radiation.exposure import Exposure
from geo.radiation.exposure import exposure as make_exposure
from geo.radiation.inference import wild_sup_t_critical
from geo.radiation.results import BandDID
from geo.radiation.results import reach as rings_reach

__all__ = ["REACH_RULES", "RULE_TEXT", "DistanceCurve", "CVReach", "ring_edges", "distance_curve", "cv_reach"]

REACH_RULES = ("rings", "curve", "cv")

RULE_TEXT = {
    "rings": "upper edge of the last ring, from the nearest, whose interval excludes zero with the nearest ring's "
    "sign",
    "curve": "upper edge of the last narrow ring of the distance curve, from the nearest, whose uniform "
    "(simultaneous) band excludes zero with the nearest ring's sign",
    "cv": "Clarke (2017): rings of width h added from the nearest while significant, for each h on the grid; "
    "the reach of the h with the smallest cross-validated prediction error (folds by unit)",
}

#: a ring no unit centroid falls in (a unit's own zone counts as hosting): the "host only" model of the CV search
_HOST_ONLY = (1e-6,)


def ring_edges(step_km: float, max_km: float) -> tuple:
    """Edges step, 2·step, … up to ``max_km`` (the last edge is the largest multiple of step ≤ max_km)."""
    try:
        step, top = float(step_km), float(max_km)
    except (TypeError, ValueError):
        raise OptionError(f"reach step={step_km!r}, max={max_km!r}: give distances in km") from None
    if not np.isfinite(step) or step <= 0:
        raise OptionError(f"reach step {step_km!r} km: the ring width must be a positive distance")
    if not np.isfinite(top) or top < step:
        raise OptionError(f"reach max {max_km!r} km is below the ring width {step:g} km: give max ≥ step")
    n = int(np.floor(top / step + 1e-9))
    if n > 200:
        raise OptionError(f"reach step {step:g} km up to {top:g} km makes {n} rings; use at most 200")
    return tuple(float(step * k) for k in range(1, n + 1))


#: rings with fewer exposed units than this (BandDID's threshold for unreliable clustered SEs) are merged
#: outwards at the near end of the curve and carry no evidence in the CV search
FEW_TREATED = BandDID.FEW_TREATED


def _n_exposed(d, label) -> int:
    c = d.cols.get(label)
    return 0 if c is None else int(d.df.loc[d.df[c] != 0, d.id].nunique())


def _exposure_for(units, years, zones, corridor, edges, mode, assign):
    return make_exposure(units, years=years, zones=zones, corridor=corridor, bands=edges, mode=mode, assign=assign)


def _years(data, time):
    if time not in data.columns:
        raise SchemaError(f"data has no column {time!r}")
    return sorted(pd.to_numeric(data[time], errors="coerce").dropna().astype(int).unique())


def _check_mode(exposure, kinds):
    if exposure not in ("nearest", "count"):
        raise OptionError(f"reach curve/cv need a time-varying exposure (nearest or count), not {exposure!r}")
    if kinds:
        raise OptionError("reach curve/cv take one kind of zone at a time (--zone-kind KIND)")


# ---------------------------------------------------------------------------------------------------- the curve


@dataclass(frozen=True, eq=False)
class DistanceCurve:
    """The effect by distance from the nearest approved zone (see the module docstring).

    ``table``: one row per narrow ring: band, lower_km, upper_km, mid_km, estimate, se, p, ci_lower,
    ci_upper (pointwise, ``inference``), band_lower, band_upper (uniform over the rings), n_units.
    ``host``: the host effect of the same regression (estimate, se, p, ci_lower, ci_upper, n_units).
    ``critical_value``: c of the uniform band (compare the pointwise t critical value ``pointwise_critical``).
    """

    y: str
    step_km: float
    max_km: float
    level: float
    table: pd.DataFrame = field(repr=False)
    host: dict = field(repr=False)
    critical_value: float
    pointwise_critical: float
    band_method: str
    inference: dict = field(repr=False)
    reach_km: float
    n_obs: int
    n_units: int
    estimator: str = "imputation"
    notes: tuple = ()

    rule = "curve"

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_json(self) -> dict:
        cols = ["lower_km", "upper_km", "mid_km", "estimate", "se", "p", "ci_lower", "ci_upper", "band_lower",
                "band_upper"]
        return {
            "rule": "curve",
            "description": RULE_TEXT["curve"],
            "reach_km": _num(self.reach_km),
            "step_km": self.step_km,
            "max_km": self.max_km,
            "level": self.level,
            "estimator": self.estimator,
            "inference": {k: (_num(v) if isinstance(v, float) else v) for k, v in self.inference.items()},
            "band_method": self.band_method,
            "critical_value": _num(self.critical_value),
            "pointwise_critical": _num(self.pointwise_critical),
            "host": {k: (_num(v) if k != "n_units" else int(v)) for k, v in self.host.items()},
            "curve": [
                {"band": r["band"], **{c: _num(r[c]) for c in cols}, "n_units": int(r["n_units"])}
                for r in self.table.to_dict("records")
            ],
            "n_obs": self.n_obs,
            "n_units": self.n_units,
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        lines = [
            f"distance curve of {self.y}: rings of {self.step_km:g} km to {self.max_km:g} km ({self.estimator})",
            f"  pointwise: {self.inference.get('description', '')}",
            f"  uniform band: {self.band_method}; c = {self.critical_value:.3f} "
            f"(pointwise {self.pointwise_critical:.3f})",
            f"  {'ring':>14} {'estimate':>10} {'se':>9} {int(self.level * 100)}% interval{'':>8} uniform band",
        ]
        h = self.host
        if np.isfinite(h["estimate"]):  # no host in the sample: no row (never a NaN printed)
            lines.append(f"  {'host':>14} {h['estimate']:>10.4f} {h['se']:>9.4f} "
                         f"[{h['ci_lower']:.4f}, {h['ci_upper']:.4f}]")
        for r in self.table.itertuples():
            lines.append(f"  {r.band:>14} {r.estimate:>10.4f} {r.se:>9.4f} [{r.ci_lower:.4f}, {r.ci_upper:.4f}]  "
                         f"[{r.band_lower:.4f}, {r.band_upper:.4f}]")
        lines.append(f"  reach (curve): {self.reach_km:g} km — {RULE_TEXT['curve']}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)

    __str__ = summary


def distance_curve(
    data,
    y: str,
    *,
    units,
    zones=None,
    corridor=None,
    step_km: float = 50.0,
    max_km: float = 300.0,
    exposure: str = "nearest",
    kinds=None,
    assign: str = "centroid",
    controls=(),
    id: str = "adcode",
    time: str = "year",
    level: float = 0.95,
    inference: str = "wild",
    draws: int = 999,
    wild_weights: str = "webb",
    seed=None,
) -> DistanceCurve:
    """The distance curve: the imputation band-DID with rings of ``step_km`` to ``max_km`` and a uniform band.

    ``inference`` is that of :func:`geo.radiation.band_did` for the pointwise intervals ("wild" default,
    "cluster", "conley:KM"); the uniform band always comes from the wild multiplier bootstrap (``draws``,
    ``wild_weights``, ``seed``; seed 0 when None).  The nearest rings are merged until the first ring holds
    FEW_TREATED (10) exposed units (noted); raises ModelError naming the ring when a ring
    further out has no exposed unit-year (widen ``step_km`` or lower ``max_km``).
    """
    _check_mode(exposure, kinds)
    if str(inference).lower().startswith("ri"):
        raise OptionError("the distance curve takes inference cluster, wild or conley:KM (not ri)")
    edges = ring_edges(step_km, max_km)
    seed = 0 if seed is None else seed
    s_point, s_band = np.random.SeedSequence(seed).spawn(2)
    years = _years(data, time)
    if isinstance(data.index, pd.MultiIndex) and id not in data.columns:
        data = data.reset_index()
    if id in data.columns:  # the bootstrap draws one weight per unit in order of appearance: fix that order
        data = data.assign(_key=data[id].astype(str)).sort_values(["_key", time], kind="stable").drop(columns="_key")
    ex = _exposure_for(units, years, zones, corridor, edges, exposure, assign)
    notes = []
    # rings nearer than (almost) any unit's centroid (prefectures lie ~100 km apart) are merged into one first
    # ring holding at least FEW_TREATED exposed units, with a note: a ring of one or two units has a clustered SE
    # that misses its own noise (one cluster), so no interval or band can cover there.  An empty ring further
    # out is an error (below).
    d = design(data, y, ex, id=id, time=time, controls=controls)
    ring_labels = [lab for lab in ex.labels if lab != "host"]
    seen, lead = set(), None
    for k, lab in enumerate(ring_labels):
        c = d.cols.get(lab)
        if c is not None:
            seen |= set(d.df.loc[d.df[c] != 0, d.id])
        if len(seen) >= FEW_TREATED:
            lead = k
            break
    if lead is None:
        raise ModelError(f"distance curve: fewer than {FEW_TREATED} units are exposed within {edges[-1]:g} km")
    if lead:
        notes.append(f"fewer than {FEW_TREATED} units lie within {edges[lead - 1]:g} km of an approved zone: the "
                     f"first ring is 0-{edges[lead]:g} km")
        edges = edges[lead:]
        ex = _exposure_for(units, years, zones, corridor, edges, exposure, assign)
        d = design(data, y, ex, id=id, time=time, controls=controls)
    missing = [lab for lab in ex.labels if lab != "host" and lab not in d.cols]
    if missing:
        raise ModelError(f"distance curve: no exposed unit-year in the ring {missing[0]} (rings of "
                         f"{float(step_km):g} km to {float(max_km):g} km); widen the step or lower the max")
    few = [(lab, _n_exposed(d, lab)) for lab in ex.labels if lab != "host" and _n_exposed(d, lab) < FEW_TREATED]
    notes += [f"ring {lab}: only {n} exposed units; its interval and band are unreliable (one-cluster noise is "
              "missing from a clustered SE)" for lab, n in few]
    did = band_did(data, y, ex, id=id, time=time, controls=controls, estimator="imputation", level=level,
                   inference=inference, draws=draws, wild_weights=wild_weights,
                   seed=int(s_point.generate_state(1)[0]))
    t = did.table
    rings = t[t["band"] != "host"].reset_index(drop=True)
    # the band: the same fit's influences (design + imputation are deterministic: the fit band_did reported)
    lf, fs = imputation.fit(d)
    idx = [lf.names.index(d.cols[b]) for b in rings["band"]]
    c = wild_sup_t_critical(lf, idx, level, draws=draws, weights=wild_weights, seed=s_band,
                            T=lambda Z: Z - fs.fs.H(Z))
    se = rings["se"].to_numpy(float)
    est = rings["estimate"].to_numpy(float)
    rings.insert(3, "mid_km", (rings["lower_km"] + rings["upper_km"]) / 2)
    # a simultaneous band holds every pointwise interval: where the wild bootstrap's test-inversion interval is
    # wider than c·se (few treated units in the ring), the band takes it (conservative there)
    rings["band_lower"] = np.fmin(est - c * se, rings["ci_lower"].to_numpy(float))
    rings["band_upper"] = np.fmax(est + c * se, rings["ci_upper"].to_numpy(float))
    rch = rings_reach(rings.assign(ci_lower=rings["band_lower"], ci_upper=rings["band_upper"]))
    host = t[t["band"] == "host"]
    hrow = ({k: float(host[k].iat[0]) for k in ("estimate", "se", "p", "ci_lower", "ci_upper")}
            | {"n_units": int(host["n_units"].iat[0])}) if len(host) else \
        {"estimate": np.nan, "se": np.nan, "p": np.nan, "ci_lower": np.nan, "ci_upper": np.nan, "n_units": 0}
    if edges[-1] < float(max_km):
        notes.append(f"the last ring ends at {edges[-1]:g} km, the largest multiple of {float(step_km):g} km "
                     f"up to {float(max_km):g} km")
    if rch >= edges[-1]:
        notes.append(f"the band excludes zero up to the last ring ({edges[-1]:g} km): the effect may reach further "
                     "(raise max_km)")
    return DistanceCurve(
        y=y, step_km=float(step_km), max_km=float(edges[-1]), level=level, table=rings, host=hrow,
        critical_value=c, pointwise_critical=critical_value(level, lf.dof),
        band_method=(f"studentized wild cluster bootstrap (unrestricted), sup-t over {len(rings)} rings, "
                     f"{int(draws)} {wild_weights} draws, seed {seed}"),
        inference=did.inference, reach_km=float(rch), n_obs=did.n_obs, n_units=did.n_units,
        notes=tuple(notes) + tuple(did.notes),
    )


# ---------------------------------------------------------------------------------------------------- Clarke's CV


@dataclass(frozen=True, eq=False)
class CVReach:
    """Clarke's (2017) cross-validated reach (see the module docstring).

    ``table``: one row per bin width h on the grid: h_km, n_rings (significant rings kept), reach_km
    (h × n_rings), rmse (cross-validated root mean squared prediction error), n_eval (unit-years scored),
    chosen (bool).  ``h_km``: the chosen width; ``reach_km`` its reach.
    """

    y: str
    grid_km: tuple
    max_km: float
    folds: int
    level: float
    table: pd.DataFrame = field(repr=False)
    h_km: float
    reach_km: float
    seed: int
    exposure: str = "nearest"
    notes: tuple = ()

    rule = "cv"

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_json(self) -> dict:
        return {
            "rule": "cv",
            "description": RULE_TEXT["cv"],
            "reach_km": _num(self.reach_km),
            "h_km": _num(self.h_km),
            "grid_km": list(self.grid_km),
            "max_km": self.max_km,
            "folds": self.folds,
            "fold_unit": "unit",
            "significance": f"newest ring kept while its clustered two-sided p < {1 - self.level:.2g} (t, G-1 df)",
            "seed": self.seed,
            "exposure": self.exposure,
            "cv": [
                {"h_km": float(r["h_km"]), "n_rings": int(r["n_rings"]), "reach_km": float(r["reach_km"]),
                 "rmse": _num(r["rmse"]), "n_eval": int(r["n_eval"]), "chosen": bool(r["chosen"])}
                for r in self.table.to_dict("records")
            ],
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        lines = [
            f"cross-validated reach of {self.y} (Clarke 2017): bin widths {', '.join(f'{h:g}' for h in self.grid_km)} "
            f"km, up to {self.max_km:g} km, {self.folds} folds by unit (seed {self.seed})",
            f"  {'h km':>8} {'rings':>6} {'reach km':>9} {'CV rmse':>12}",
        ]
        for r in self.table.itertuples():
            mark = "  <- chosen" if r.chosen else ""
            lines.append(f"  {r.h_km:>8g} {r.n_rings:>6d} {r.reach_km:>9g} {r.rmse:>12.6f}{mark}")
        lines.append(f"  reach (cv): {self.reach_km:g} km (h = {self.h_km:g} km)")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)

    __str__ = summary


class _Models:
    """Exposures and full-sample fits by ring edges, built once each."""

    def __init__(self, data, y, units, zones, corridor, mode, assign, controls, id, time):
        self.args = (data, y, units, zones, corridor, mode, assign, controls, id, time)
        self.years = _years(data, time)
        self._ex = {}

    def exposure(self, edges) -> Exposure:
        if edges not in self._ex:
            data, y, units, zones, corridor, mode, assign, controls, id, time = self.args
            self._ex[edges] = _exposure_for(units, self.years, zones, corridor, edges, mode, assign)
        return self._ex[edges]

    def last_ring_p(self, edges) -> float | None:
        """Clustered two-sided p of the outermost ring's effect in the model with rings ``edges`` (None when
        fewer than FEW_TREATED units of the sample are in that ring)."""
        data, y, units, zones, corridor, mode, assign, controls, id, time = self.args
        ex = self.exposure(edges)
        d = design(data, y, ex, id=id, time=time, controls=controls)
        lab = ex.labels[-1]
        if _n_exposed(d, lab) < FEW_TREATED:
            return None
        lf, _ = imputation.fit(d)
        j = lf.names.index(d.cols[lab])
        se = float(np.sqrt(max(lf.cov()[j, j], 0.0)))
        return float(p_t(lf.theta[j] / se, lf.dof)) if se > 0 else 1.0


def _selected_rings(models: _Models, h: float, max_km: float, alpha: float) -> int:
    """Clarke's marginal search: rings of width h added while the newest is significant; the count kept.

    A ring with fewer than FEW_TREATED exposed units (nearer than most units' centroids, or a gap) carries no
    reliable evidence either way (its clustered SE misses its own noise): the search passes over it (Clarke's
    routine would test it, or stop at an empty one)."""
    n_max = int(np.floor(max_km / h + 1e-9))
    kept = 0
    for k in range(n_max):
        p = models.last_ring_p(tuple(float(h * (i + 1)) for i in range(k + 1)))
        if p is None:
            continue
        if p >= alpha:
            break
        kept = k + 1
    return kept


def _cv_rmse(models: _Models, edges, folds_of: dict):
    """(rmse, rows scored) of the model with rings ``edges`` over the unit folds ``folds_of`` (id -> fold)."""
    data, y, units, zones, corridor, mode, assign, controls, id, time = models.args
    ex = models.exposure(edges)
    labels = list(ex.labels)
    frame = data[[id, time, y, *controls]].copy()
    frame[id] = frame[id].astype(str)
    frame[time] = pd.to_numeric(frame[time], errors="coerce").astype(int)
    tab = ex.table.rename(columns={"id": id, "year": time})[[id, time, *labels]]
    frame = frame.merge(tab, on=[id, time], how="left", validate="one_to_one")
    fold = frame[id].map(folds_of).to_numpy()
    sse, n_scored = 0.0, 0
    for f in sorted(set(folds_of.values())):
        test = fold == f
        train = data[~data[id].astype(str).map(folds_of).eq(f).to_numpy()]
        d = design(train, y, ex, id=id, time=time, controls=controls)
        lf, fs = imputation.fit(d)
        coef = fs.fs.coef(fs.y[:, None])[:, 0]
        nu = fs.G
        years = np.sort(pd.unique(fs.df[d.time]))
        g = pd.Series(np.concatenate([[0.0], coef[nu: nu + len(years) - 1]]), index=years)
        b = coef[nu + len(years) - 1:]
        tau = {lab: float(lf.theta[lf.names.index(c)]) for lab, c in d.cols.items() if c in lf.names}
        sub = frame[test]
        gt = sub[time].map(g).to_numpy(dtype=float)
        pred = gt + (sub[list(controls)].to_numpy(float) @ b if controls else 0.0)
        pred = pred + sum(tau.get(lab, 0.0) * sub[lab].to_numpy(float) for lab in labels)
        r = pd.Series(sub[y].to_numpy(float) - pred, index=sub.index)
        ok = np.isfinite(r.to_numpy())
        r = r[ok]
        r = r - r.groupby(sub.loc[r.index, id]).transform("mean")
        sse += float((r.to_numpy() ** 2).sum())
        n_scored += int(ok.sum())
    return np.sqrt(sse / max(n_scored, 1)), n_scored


def cv_reach(
    data,
    y: str,
    *,
    units,
    zones=None,
    corridor=None,
    step_km: float = 50.0,
    max_km: float = 300.0,
    folds: int = 10,
    exposure: str = "nearest",
    kinds=None,
    assign: str = "centroid",
    controls=(),
    id: str = "adcode",
    time: str = "year",
    level: float = 0.95,
    seed=None,
    progress=None,
) -> CVReach:
    """Clarke's (2017) cross-validated reach over bin widths h = step_km, 2·step_km, … max_km (module docstring).

    ``folds``: K of the K-fold cross-validation, units split at random into K folds with ``seed`` (0 when
    None), the same folds for every h.  ``level``: the newest ring is kept while its p < 1 − level.
    ``progress``: optional callable(done, total) (the CLI's progress bar).
    """
    _check_mode(exposure, kinds)
    grid = ring_edges(step_km, max_km)
    controls = tuple(controls or ())
    try:
        folds = int(folds)
    except (TypeError, ValueError):
        raise OptionError(f"reach folds {folds!r}: give a whole number ≥ 2") from None
    if isinstance(data.index, pd.MultiIndex) and id not in data.columns:
        data = data.reset_index()
    ids = np.array(sorted(data[id].astype(str).unique())) if id in data.columns else np.array([])
    if folds < 2 or folds > len(ids):
        raise OptionError(f"reach folds {folds}: give 2 to {len(ids)} (the number of units)")
    seed = 0 if seed is None else int(seed)
    perm = np.random.default_rng(seed).permutation(len(ids))
    folds_of = {ids[i]: int(k % folds) for k, i in enumerate(perm)}
    models = _Models(data, y, units, zones, corridor, exposure, assign, controls, id, time)
    alpha = 1 - level
    rows = []
    for n, h in enumerate(grid):
        k = _selected_rings(models, h, grid[-1], alpha)
        edges = tuple(float(h * (i + 1)) for i in range(k)) or _HOST_ONLY
        rmse, n_eval = _cv_rmse(models, edges, folds_of)
        rows.append({"h_km": h, "n_rings": k, "reach_km": h * k, "rmse": rmse, "n_eval": n_eval})
        if progress is not None:
            progress(n + 1, len(grid))
    table = pd.DataFrame(rows)
    best = int(np.argmin(table["rmse"].to_numpy()))  # ties: the smallest h (first on the grid)
    table["chosen"] = np.arange(len(table)) == best
    notes = []
    if table["reach_km"].iat[best] >= grid[-1]:
        notes.append(f"the chosen model keeps rings up to the grid's maximum ({grid[-1]:g} km): the effect may reach "
                     "further (raise max_km)")
    return CVReach(
        y=y, grid_km=tuple(grid), max_km=float(grid[-1]), folds=folds, level=level, table=table,
        h_km=float(table["h_km"].iat[best]), reach_km=float(table["reach_km"].iat[best]), seed=seed,
        exposure=exposure, notes=tuple(notes),
    )
