"""The band-DID and the event study: one entry point each over the estimators and the inference methods."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.errors import ModelError, OptionError, check_choice
from geo.radiation import cs as cs_mod
from geo.radiation import imputation, stacked, twfe
from geo.radiation._common import critical_value, p_f, p_norm, p_t
from geo.radiation.design import Design, design
from geo.radiation.inference import (
    LinearFit, conley_cov, parse_inference, pretrend_tests, sup_t_critical, wald_test, wild_interval,
    wild_pfun,
)
from geo.radiation.inference import wild_weights as wild_draws
from geo.radiation.inference import ri_pvalues
from geo.radiation.results import BandDID, EventStudy, reach

__all__ = ["ESTIMATORS", "band_did", "event_study", "pretrend_test", "apply_inference", "estimate"]

ESTIMATORS = ("imputation", "cs", "stacked", "twfe")


def _inference_text(method, cutoff, draws, weights, lf: LinearFit) -> str:
    if method == "cluster":
        return lf.convention
    if method == "wild":
        return (
            f"restricted wild cluster bootstrap (WCR) by unit, {draws} draws, {weights} weights: p-values for "
            f"effect = 0 and intervals by test inversion; se column = clustered SE ({lf.convention})"
        )
    if method == "conley":
        return f"Conley spatial HAC, Bartlett kernel, cutoff {cutoff:g} km between unit centroids, any serial " \
               "correlation within a unit; normal critical values"
    return "randomization inference over placebo exposures (p-values of |t|); intervals from the clustered SE"


def apply_inference(lf: LinearFit, idx, *, level, method="cluster", cutoff=None, coords=None, draws=999,
                    weights="webb", seed=None):
    """(estimate, se, p, lo, hi, cov) arrays for the parameters ``idx`` of ``lf``."""
    idx = list(idx)
    est = lf.theta[idx]
    if method == "conley":
        if coords is None:
            raise OptionError("inference=conley needs unit coordinates")
        V = lf.conley_cov(coords, cutoff)[np.ix_(idx, idx)]
        se = np.sqrt(np.clip(np.diag(V), 0, None))
        z = critical_value(level)
        p = p_norm(est / np.where(se > 0, se, np.nan))
        return est, se, p, est - z * se, est + z * se, V
    V = lf.cov()[np.ix_(idx, idx)]
    se = np.sqrt(np.clip(np.diag(V), 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = p_t(est / se, lf.dof)
    z = critical_value(level, lf.dof)
    lo, hi = est - z * se, est + z * se
    if method == "wild":
        ss = np.random.SeedSequence(seed)
        for n, (j, child) in enumerate(zip(idx, ss.spawn(len(idx)))):
            pj, (lj, hj) = lf.wild(j, draws=draws, weights=weights, seed=child, level=level)
            p[n], lo[n], hi[n] = pj, lj, hj
    return est, se, p, lo, hi, V


def estimate(d: Design, estimator: str, window):
    """(LinearFit, {label: parameter index}, estimation frame info)."""
    if estimator == "twfe":
        lf = twfe.fit(d)
        text = twfe.TEXT
        n_obs = len(d.df)
        frame = d.df
    elif estimator == "stacked":
        lf, frame = stacked.fit(d, window)
        text = stacked.TEXT.format(pre=window[0], post=window[1])
        n_obs = len(frame)
        frame = frame[frame["treated"]]
    else:
        lf, fs = imputation.fit(d)
        text = imputation.TEXT
        n_obs = len(fs.df)
        frame = fs.df
    pos = {lab: lf.names.index(c) for lab, c in d.cols.items() if c in lf.names}
    n_units = {lab: int(frame.loc[frame[c] != 0, d.id].nunique()) for lab, c in d.cols.items()}
    return lf, pos, text, n_obs, n_units


def _rows(d: Design):
    exp = d.exposure
    bt = d.geography.band_columns()
    rows = []
    for lab in d.labels:
        kind, grp = (lab.split(":", 1) if d.kinds else (None, lab))
        if grp == "host":
            lo, hi = 0.0, 0.0
        else:
            r = bt[bt["band"] == grp]
            lo, hi = (float(r["lower_km"].iat[0]), float(r["upper_km"].iat[0])) if len(r) else (np.nan, np.nan)
        rows.append({"band": lab, "kind": kind or "", "lower_km": lo, "upper_km": hi})
    return pd.DataFrame(rows), exp


def band_did(
    data,
    y: str,
    assignment,
    *,
    id: str = "adcode",
    time: str = "year",
    controls=(),
    estimator: str = "imputation",
    window: tuple[int, int] = (5, 5),
    level: float = 0.95,
    inference: str = "cluster",
    draws: int = 999,
    wild_weights: str = "webb",
    seed=None,
    placebo=None,
    control_group: str = "notyet",
) -> BandDID:
    """Distance-band DID on a unit-year panel (long ``data`` with ``id``, ``time``, ``y`` and controls).

    ``assignment``: a static :class:`BandAssignment` or a time-varying :class:`Exposure`.
    ``estimator``: "imputation" (default; BJS/Gardner two-stage with rings, robust to heterogeneous and
    dynamic effects), "cs" (Callaway & Sant'Anna 2021 per group held in t, see :mod:`geo.radiation.cs`),
    "stacked" (Cengiz et al. 2019) or "twfe" (classic; biased under dynamic effects).
    ``inference``: "cluster" (by unit; t with G-1 df), "wild" (restricted wild cluster bootstrap,
    ``draws``, ``wild_weights`` "webb"/"rademacher", ``seed``), "conley:KM" (spatial HAC), or "ri"
    (randomization inference: ``placebo`` is a callable rng -> list of placebo treatments, see
    :func:`geo.radiation.analysis.placebo_exposures`).  Panels may be unbalanced.
    ``control_group`` (``estimator="cs"`` only): "notyet" (never or not-yet exposed units) or "never".
    """
    check_choice("estimator", estimator, ESTIMATORS)
    check_choice("control_group", control_group, cs_mod.CONTROLS)
    if control_group != "notyet" and estimator != "cs":
        raise OptionError(f"control_group={control_group!r} applies to estimator='cs' only")
    method, cutoff = parse_inference(inference)
    d = design(data, y, assignment, id=id, time=time, controls=controls)
    if estimator == "cs":
        return _band_did_cs(d, y, method, cutoff, level, control=control_group, draws=draws,
                            wild_weights=wild_weights, seed=seed, placebo=placebo,
                            ri_args=(data, y, id, time, controls))
    lf, pos, text, n_obs, n_units = estimate(d, estimator, window)
    labels = [lab for lab in d.labels if lab in pos]
    idx = [pos[lab] for lab in labels]
    coords = None
    if method == "conley":
        geo_tab = d.geography.table
        ids = pd.unique(_cluster_ids(d, estimator, window))
        coords = geo_tab.loc[ids, ["lon", "lat"]].to_numpy(float)
    est, se, p, lo, hi, V = apply_inference(
        lf, idx, level=level, method=method, cutoff=cutoff, coords=coords, draws=draws, weights=wild_weights, seed=seed
    )
    notes = []
    if method == "ri":
        if placebo is None:
            raise OptionError("inference='ri' needs placebo exposures (use radiation.analyse or pass placebo=)")

        def tstats(dp):
            lfp, posp, *_ = estimate(dp, estimator, window)
            Vp = lfp.cov()
            return {lab: lfp.theta[j] / np.sqrt(Vp[j, j]) for lab, j in posp.items() if Vp[j, j] > 0}

        V_obs = lf.cov()
        t_obs = lf.theta[idx] / np.sqrt(np.diag(V_obs)[idx])
        p = _ri(tstats, labels, t_obs, placebo, seed, data, y, id, time, controls)
        notes.append(f"randomization inference over {placebo.draws} placebo draws ({placebo.kind})")
    table, _ = _rows(d)
    e = dict(zip(labels, est))
    table["estimate"] = [e.get(b, np.nan) for b in table["band"]]
    for name, arr in (("se", se), ("p", p), ("ci_lower", lo), ("ci_upper", hi)):
        m = dict(zip(labels, arr))
        table[name] = [m.get(b, np.nan) for b in table["band"]]
    table["n_units"] = [int(n_units.get(b, 0)) for b in table["band"]]
    cov = pd.DataFrame(V, index=labels, columns=labels)
    ctl = None
    if d.controls and estimator != "imputation":
        cidx = [lf.names.index(c) for c in d.controls if c in lf.names]
        V_all = lf.cov()
        ctl = pd.DataFrame(
            {"estimate": lf.theta[cidx], "se": np.sqrt(np.diag(V_all)[cidx])},
            index=[lf.names[i] for i in cidx],
        )
        ctl["p"] = p_t((ctl["estimate"] / ctl["se"]).to_numpy(), lf.dof)
    if d.kinds:
        rch = {k: reach(table[table["kind"] == k].reset_index(drop=True)) for k in d.kinds}
        ktests = _kind_tests(table, cov, d.kinds, lf.dof)
    else:
        rch = reach(table)
        ktests = None
        table = table.drop(columns="kind")
    info = {
        "method": method,
        "description": _inference_text(method, cutoff, draws, wild_weights, lf),
        "clusters": "unit",
        "small_sample": lf.convention,
    }
    if method == "wild":
        info.update(draws=int(draws), weights=wild_weights, seed=None if seed is None else int(seed))
    if method == "conley":
        info.update(cutoff_km=float(cutoff), kernel="bartlett")
    if method == "ri":
        info.update(draws=int(placebo.draws), placebo=placebo.kind, seed=None if seed is None else int(seed))
    used = d.used
    used["obs_used"] = int(n_obs)
    exp = d.exposure
    cohorts = _by_cohort(d, level) if estimator == "imputation" else None
    return BandDID(
        y=y, method=estimator, estimator=text, table=table, cov=cov, controls=d.controls, n_obs=int(n_obs),
        n_units=int(d.df[id].nunique()), n_clusters=int(lf.G), always_treated=d.always, level=level,
        reach_km=rch, assignment=d.geography, controls_table=ctl, dof=lf.dof, inference=info,
        exposure=exp.mode if exp is not None else "static", kinds=d.kinds, kind_tests=ktests, sample=used,
        notes=tuple(notes) + (exp.notes if exp is not None else ()), by_cohort=cohorts,
    )


def _by_cohort(d, level):
    """Imputation effects by group x cohort (first exposure year), clustered SEs (two-stage GMM)."""
    fs = imputation.first_stage(d)
    X, meta = imputation.cohort_columns(fs, d)
    lf = imputation.second_stage(fs, X, [f"{lab}|{g}" for lab, g in meta])
    V = lf.cov()
    se = np.sqrt(np.clip(np.diag(V), 0, None))
    z = critical_value(level, lf.dof)
    rows = []
    for j, name in enumerate(lf.names):
        lab, g = name.rsplit("|", 1)
        n = int(fs.df.loc[(fs.df[d.cols[lab]] != 0) & (fs.df["first"] == int(g)), d.id].nunique())
        with np.errstate(divide="ignore", invalid="ignore"):
            p = float(p_t(lf.theta[j] / se[j], lf.dof))
        rows.append({"band": lab, "cohort": int(g), "estimate": float(lf.theta[j]), "se": float(se[j]), "p": p,
                     "ci_lower": float(lf.theta[j] - z * se[j]), "ci_upper": float(lf.theta[j] + z * se[j]),
                     "n_units": n})
    return pd.DataFrame(rows)


def _band_did_cs(d, y, method, cutoff, level, *, control, draws, wild_weights, seed, placebo, ri_args):
    f = cs_mod.fit(d, control=control)
    labels = list(f.labels)
    est, V, dof = f.est, f.cov, f.dof
    se = np.sqrt(np.clip(np.diag(V), 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        t_obs = est / se
        p = p_t(t_obs, dof)
    z = critical_value(level, dof)
    lo, hi = est - z * se, est + z * se
    notes = list(f.cells.notes)
    conv = "influence functions (cells and the weight term) summed by unit (clustered), factor G/(G-1); t(G-1)"
    info = {"method": method, "clusters": "unit", "small_sample": conv, "control_group": control}
    if method == "conley":
        coords = d.geography.table.loc[f.cells.units, ["lon", "lat"]].to_numpy(float)
        V = conley_cov(f.psi.T, coords, cutoff, f.factor)
        se = np.sqrt(np.clip(np.diag(V), 0, None))
        zn = critical_value(level)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = p_norm(est / se)
        lo, hi = est - zn * se, est + zn * se
        info.update(cutoff_km=float(cutoff), kernel="bartlett")
    elif method == "wild":
        lf, wide = _imputation_residuals(d, f.cells)
        G = f.G
        children = np.random.SeedSequence(seed).spawn(len(labels))
        for n, lab in enumerate(labels):
            u0, u1 = lf._restricted(lf.names.index(d.cols[lab]))
            (a0, a1), (M0, M1) = cs_mod.wild_parts(f, n, wide(u0), wide(u1))
            W = wild_draws(wild_weights, G, draws, children[n])
            th0 = est[n] - a0.sum() + a0 @ W
            th1 = -a1.sum() + a1 @ W
            P0 = (f.psi[n] - M0.sum(1))[:, None] + M0 @ W
            P1 = (-M1.sum(1))[:, None] + M1 @ W
            pval = wild_pfun(float(est[n]), float(se[n]), f.factor, th0, th1, P0, P1)
            p[n] = pval(0.0)
            lo[n], hi[n] = wild_interval(pval, float(est[n]), float(se[n]), level)
        info.update(draws=int(draws), weights=wild_weights, seed=None if seed is None else int(seed))
    elif method == "ri":
        if placebo is None:
            raise OptionError("inference='ri' needs placebo exposures (use radiation.analyse or pass placebo=)")

        def tstats(dp):
            fp = cs_mod.fit(dp, control=control)
            sp = np.sqrt(np.clip(np.diag(fp.cov), 0, None))
            return {lab: b / s for lab, b, s in zip(fp.labels, fp.est, sp) if s > 0}

        p = _ri(tstats, labels, t_obs, placebo, seed, *ri_args)
        notes.append(f"randomization inference over {placebo.draws} placebo draws ({placebo.kind})")
        info.update(draws=int(placebo.draws), placebo=placebo.kind, seed=None if seed is None else int(seed))
    info["description"] = _cs_inference_text(method, cutoff, draws, wild_weights, conv)
    table, _ = _rows(d)
    m = {lab: i for i, lab in enumerate(labels)}
    pick = lambda arr: [arr[m[b]] if b in m else np.nan for b in table["band"]]  # noqa: E731
    table["estimate"], table["se"], table["p"] = pick(est), pick(se), pick(p)
    table["ci_lower"], table["ci_upper"] = pick(lo), pick(hi)
    nu = f.n_units
    table["n_units"] = [int(nu.get(b, 0)) for b in table["band"]]
    cov = pd.DataFrame(V, index=labels, columns=labels)
    if d.kinds:
        rch = {k: reach(table[table["kind"] == k].reset_index(drop=True)) for k in d.kinds}
        ktests = _kind_tests(table, cov, d.kinds, dof)
    else:
        rch, ktests = reach(table), None
        table = table.drop(columns="kind")
    single = f.single
    if single:
        which = ", ".join(f"{lab} {g}" for lab, g in single[:6]) + (" …" if len(single) > 6 else "")
        notes.insert(0, (
            f"cs: {len(single)} cohort(s) with a single treated unit ({which}): their own variance enters the "
            "analytic SE only through the spread of effects across cohorts (the weight term), so clustered "
            "intervals can be too narrow" + ("" if method == "wild" else "; use --inference wild")))
    grp = f.group()
    zc = critical_value(level, dof)
    with np.errstate(divide="ignore", invalid="ignore"):
        grp["p"] = p_t(grp["estimate"] / grp["se"], dof)
    grp["ci_lower"], grp["ci_upper"] = grp["estimate"] - zc * grp["se"], grp["estimate"] + zc * grp["se"]
    grp = grp[["band", "cohort", "estimate", "se", "p", "ci_lower", "ci_upper", "n_units"]]
    exp = d.exposure
    used = d.used
    used["obs_used"] = int(len(d.df))
    return BandDID(
        y=y, method="cs", estimator=cs_mod.TEXT.format(
            control="not-yet-exposed" if control == "notyet" else "never-exposed",
            cov=(f"; outcome regression on {', '.join(d.controls)} in g-1 (Sant'Anna & Zhao 2020)" if d.controls
                 else "; no covariates")),
        table=table, cov=cov, controls=d.controls, n_obs=int(len(d.df)), n_units=int(d.df[d.id].nunique()),
        n_clusters=int(f.G), always_treated=d.always, level=level, reach_km=rch, assignment=d.geography, dof=dof,
        inference=info, exposure=exp.mode if exp is not None else "static", kinds=d.kinds, kind_tests=ktests,
        sample=used, notes=tuple(notes) + (exp.notes if exp is not None else ()), by_cohort=grp,
    )


def _imputation_residuals(d, c):
    """The imputation fit of ``d`` (the bootstrap's restricted model for cs) and a map from its row vectors to the
    cs cells' G x nT grid (0 for unit-years the imputation drops: no unexposed unit that year)."""
    lf, fs = imputation.fit(d)
    ui = pd.Index(c.units).get_indexer(fs.df[d.id])
    ti = pd.Index(c.years).get_indexer(fs.df[d.time])

    def wide(v):
        U = np.zeros_like(c.Y)
        U[ui, ti] = v
        return U

    return lf, wide


def _cs_inference_text(method, cutoff, draws, weights, conv):
    if method == "cluster":
        return conv
    if method == "wild":
        return (f"restricted wild cluster bootstrap (WCR) by unit, {draws} draws, {weights} weights: outcomes "
                "redrawn from the restricted two-way model (unit and year effects on unexposed rows, the other "
                "groups' effects, this group's effect fixed at the null), the cs estimate and its influence-"
                f"function SE recomputed per draw; intervals by test inversion; se column = clustered SE ({conv})")
    if method == "conley":
        return f"Conley spatial HAC on the cs unit influences, Bartlett kernel, cutoff {cutoff:g} km between unit " \
               "centroids; normal critical values"
    return "randomization inference over placebo exposures (p-values of |t|); intervals from the clustered SE"


def _cluster_ids(d, estimator, window):
    if estimator == "stacked":
        st = stacked.stack(d.df, d.id, d.time, window)
        return st.drop_duplicates("cluster").sort_values("cluster")[d.id].to_numpy()
    if estimator == "imputation":
        fs = imputation.first_stage(d)
        return pd.unique(fs.df[d.id])
    return pd.unique(d.df[d.id])


def _kind_tests(table, cov, kinds, dof):
    groups = sorted({b.split(":", 1)[1] for b in table["band"]}, key=lambda g: (g != "host", g))
    rows = []
    all_a = []
    names = list(cov.index)
    for g in groups:
        labs = [f"{k}:{g}" for k in kinds if f"{k}:{g}" in names]
        if len(labs) < 2:
            continue
        A = np.zeros((len(labs) - 1, len(names)))
        for r in range(len(labs) - 1):
            A[r, names.index(labs[0])] = 1.0
            A[r, names.index(labs[r + 1])] = -1.0
        all_a.append(A)
        rows.append((g, A))
    if len(all_a) > 1:
        rows.append(("all", np.vstack(all_a)))
    b = table.set_index("band")["estimate"].reindex(names).to_numpy()
    V = cov.to_numpy()
    out = []
    for g, A in rows:
        diff = A @ b
        stat = float(diff @ np.linalg.pinv(A @ V @ A.T) @ diff)
        q = A.shape[0]
        out.append({"group": g, "stat": stat / q, "df": q, "p": float(p_f(stat / q, q, dof))})
    return pd.DataFrame(out) if out else None


def _ri(tstats, labels, t_obs, placebo, seed, data, y, id, time, controls):
    """Randomization p-values: ``tstats(design)`` -> {label: t} on each placebo treatment."""
    rng = np.random.default_rng(seed)
    tp = []
    for treat in placebo.draw(rng):
        try:
            tt = tstats(design(data, y, treat, id=id, time=time, controls=controls))
        except ModelError:
            continue
        tp.append([tt.get(lab, np.nan) for lab in labels])
    if not tp:
        raise ModelError("no placebo draw could be estimated for randomization inference")
    return ri_pvalues(t_obs, np.array(tp))


def event_study(
    data,
    y: str,
    assignment,
    *,
    id: str = "adcode",
    time: str = "year",
    controls=(),
    window: tuple[int, int] = (5, 5),
    level: float = 0.95,
    estimator: str = "imputation",
    draws: int = 999,
    wild_weights: str = "webb",
    seed=None,
    control_group: str = "notyet",
) -> EventStudy:
    """Effects by group and years since first exposure, with pre-trend tests.

    ``estimator="imputation"`` (default): lags 0..window[1] (binned) from the imputation estimator, leads
    -window[0]..-1 and the pre-trend test from BJS's regression on untreated rows; uniform sup-t bands.
    ``estimator="twfe"``: the classic dynamic TWFE regression (reference year -1, end points binned,
    never-exposed units the comparison).
    Pre-trend tests (``pretrend``; :func:`geo.radiation.inference.pretrend_tests`): ``p`` is the restricted
    wild cluster bootstrap p-value (``draws``; 0 skips it) and otherwise the small-G F (``p_f``, each group's
    own treated units as the clusters; None when a group has no more units than leads); ``test`` says which.
    ``estimator="cs"``: the Callaway-Sant'Anna dynamic aggregation by group and e = t - g for -pre <= e <= post
    (universal base g-1, so e = -1 is the reference; cells beyond the window are not shown, nothing binned;
    ``control_group`` as in :func:`band_did`); pre-trend test: clustered Wald on the placebo effects e <= -2
    (influence-function covariance) against F(q, G-1) and, with ``draws``, its wild cluster bootstrap p-value
    (outcomes redrawn from the imputation model's residuals, where H0 holds; covariance recomputed per draw).
    """
    d, pre, post, order, (s_band, s_wild) = _event_setup(data, y, assignment, id, time, controls, window,
                                                          estimator, seed)
    if estimator == "cs":
        return _event_study_cs(d, y, pre, post, level, order, s_band, control_group, draws, wild_weights, s_wild)
    if estimator == "twfe":
        df, meta, lf, kept = _twfe_event_fit(d, pre, post)
        V = lf.cov()
        z = critical_value(level, lf.dof)
        rows = []
        for lab, k, c in meta:
            if c not in kept:
                continue
            j = lf.names.index(c)
            b, s = float(lf.theta[j]), float(np.sqrt(V[j, j]))
            rows.append({"band": lab, "rel_time": k, "estimate": b, "se": s, "p": float(p_t(b / s, lf.dof)),
                         "ci_lower": b - z * s, "ci_upper": b + z * s, "_j": j})
        for lab in {m[0] for m in meta}:
            rows.append({"band": lab, "rel_time": -1, "estimate": 0.0, "se": 0.0, "p": np.nan,
                         "ci_lower": 0.0, "ci_upper": 0.0, "_j": -1})
        table = pd.DataFrame(rows)
        table = _sup_t(table, V, level, s_band)
        pre_rows = _twfe_pretrend(d, df, meta, lf, kept, order, draws, wild_weights, s_wild)
        return EventStudy(
            y=y, estimator="TWFE event study (unit and year fixed effects), SEs clustered by unit (Stata convention, "
            "t with G-1 df); leads relative to year -1; biased under dynamic effects with staggered timing",
            table=_sort(table, order), pretrend=pd.DataFrame(pre_rows), window=(pre, post), n_obs=len(df),
            n_units=int(df[d.id].nunique()), always_treated=d.always, level=level, reference_period=-1,
            pretrend_method="TWFE leads -pre..-2; " + _pretrend_text(draws, wild_weights), method="twfe",
        )
    fs = imputation.first_stage(d)
    X, meta = imputation.event_columns(fs, d, post)
    lf = imputation.second_stage(fs, X, [f"{lab}|{k}" for lab, k in meta])
    V = lf.cov()
    z = critical_value(level, lf.dof)
    rows = []
    for j, name in enumerate(lf.names):
        lab, k = name.rsplit("|", 1)
        b, s = float(lf.theta[j]), float(np.sqrt(V[j, j]))
        rows.append({"band": lab, "rel_time": int(k), "estimate": b, "se": s,
                     "p": float(p_t(b / s, lf.dof)) if s > 0 else np.nan,
                     "ci_lower": b - z * s, "ci_upper": b + z * s, "_j": j})
    lags = _sup_t(pd.DataFrame(rows), V, level, s_band)
    plf, pmeta, pre_rows = _imputation_pretrend(d, pre, order, draws, wild_weights, s_wild)
    tables = [lags]
    if plf is not None:
        PV = plf.cov()
        zp = critical_value(level, plf.dof)
        prow = []
        for j, (lab, k) in enumerate(pmeta):
            b, s = float(plf.theta[j]), float(np.sqrt(PV[j, j]))
            prow.append({"band": lab, "rel_time": k, "estimate": b, "se": s,
                         "p": float(p_t(b / s, plf.dof)) if s > 0 else np.nan,
                         "ci_lower": b - zp * s, "ci_upper": b + zp * s, "_j": j})
        tables.append(_sup_t(pd.DataFrame(prow), PV, level, s_band))
    table = pd.concat(tables, ignore_index=True)
    return EventStudy(
        y=y, estimator="imputation event study (BJS/Gardner with rings): lags from the imputed effects by years "
        "since first exposure (binned at the window's end), leads from BJS's test regression on unexposed rows; "
        "two-stage GMM clustered SEs, uniform sup-t bands",
        table=_sort(table, order), pretrend=pd.DataFrame(pre_rows), window=(pre, post), n_obs=len(fs.df),
        n_units=int(fs.df[d.id].nunique()), always_treated=d.always, level=level, reference_period=None,
        pretrend_method="BJS test on unexposed rows; " + _pretrend_text(draws, wild_weights),
        method="imputation",
    )


def _event_study_cs(d, y, pre, post, level, order, s_band, control, draws, wild_weights, s_wild):
    f = cs_mod.fit(d, control=control)
    c = f.cells
    keys = [(c.labels[a], int(t - g)) if -pre <= t - g <= post and t - g != -1 else None
            for a, g, t in zip(c.lab, c.g, c.t)]
    names, Om = cs_mod.weights(c, keys)
    if not names:
        raise ModelError("no cs cell falls within the event window; nothing to estimate")
    th, P = cs_mod.aggregate(c, Om)
    V = f.factor * (P @ P.T)
    dof = f.dof
    z = critical_value(level, dof)
    rows = []
    for j, (lab, e) in enumerate(names):
        b, s = float(th[j]), float(np.sqrt(max(V[j, j], 0.0)))
        rows.append({"band": lab, "rel_time": e, "estimate": b, "se": s,
                     "p": float(p_t(b / s, dof)) if s > 0 else np.nan,
                     "ci_lower": b - z * s, "ci_upper": b + z * s, "_j": j})
    tab = pd.DataFrame(rows)
    parts = [_sup_t(tab[tab["rel_time"] >= 0], V, level, s_band), _sup_t(tab[tab["rel_time"] < 0], V, level, s_band)]
    ref = pd.DataFrame([{"band": lab, "rel_time": -1, "estimate": 0.0, "se": 0.0, "p": np.nan, "ci_lower": 0.0,
                         "ci_upper": 0.0, "band_lower": 0.0, "band_upper": 0.0, "_j": -1}
                        for lab in sorted({n[0] for n in names}, key=order.get)])
    table = pd.concat([p for p in parts if len(p)] + [ref], ignore_index=True)
    pre_rows, sets = [], []
    for lab in sorted({n[0] for n in names}, key=order.get):
        sets.append((lab, [j for j, (lb, e) in enumerate(names) if lb == lab and e < -1]))
    sets.append(("all", [j for _, ix in sets for j in ix]))
    if draws:
        lf, wide = _imputation_residuals(d, c)
        U = wide(lf.resid)  # the imputation model: effects on exposed rows only, so no pre-trend (H0)
        children = s_wild.spawn(len(sets))
    for n, (lab, ix) in enumerate(sets):
        row = _wald_f(th, V, ix, lab, dof)
        if draws and ix:
            W = wild_draws(wild_weights, f.G, draws, children[n])
            stars = cs_mod.wild_wald(c, Om[ix], U, W, f.factor)
            row["p_wild"] = float(np.mean(stars >= row["wald"]))
        # the same keys as the imputation/TWFE pre-trend rows: ``p`` is the wild bootstrap's when computed (the
        # analytic F on all units as clusters over-rejects with few zones: 0.97 at 5 % with 5 zones, 0.30 with 15)
        row["p_f"], row["df_den"] = row["p"], dof
        if row.get("p_wild") is not None:
            row["p"], row["test"] = row["p_wild"], "wild bootstrap"
        else:
            row["test"] = "F(q, G-1); over-rejects with few zones"
        pre_rows.append(row)
    return EventStudy(
        y=y, estimator="Callaway & Sant'Anna (2021) dynamic aggregation by group held in t and e = t - g, "
        f"{'not-yet' if control == 'notyet' else 'never'}-exposed controls, universal base g-1 (e = -1 the "
        "reference); influence-function SEs with the weight term, clustered by unit, G/(G-1); uniform sup-t bands",
        table=_sort(table, order), pretrend=pd.DataFrame(pre_rows), window=(pre, post), n_obs=int(len(d.df)),
        n_units=int(f.G), always_treated=d.always, level=level, reference_period=-1,
        pretrend_method="clustered Wald/q on the placebo effects e <= -2 against F(q, G-1)"
        + (f"; p_wild: wild cluster bootstrap of the Wald statistic ({draws} {wild_weights} draws, outcomes from the "
           "imputation model, which has no pre-trend)" if draws else ""),
        method="cs",
    )


def _wald_f(b, V, idx, label, dof):
    if not idx:
        return {"band": label, "wald": np.nan, "df": 0, "p": np.nan, "p_wild": None}
    bb = b[idx]
    stat = float(bb @ np.linalg.pinv(V[np.ix_(idx, idx)]) @ bb)
    q = len(idx)
    return {"band": label, "wald": stat, "df": q, "p": float(p_f(stat / q, q, dof)), "p_wild": None}


def _sup_t(table, V, level, seed):
    table = table.copy()
    table["band_lower"] = table["ci_lower"]
    table["band_upper"] = table["ci_upper"]
    for lab, sub in table[table["_j"] >= 0].groupby("band"):
        js = sub["_j"].to_numpy()
        c = sup_t_critical(V[np.ix_(js, js)], level, seed=seed.spawn(1)[0])
        if np.isfinite(c):
            table.loc[sub.index, "band_lower"] = sub["estimate"] - c * sub["se"]
            table.loc[sub.index, "band_upper"] = sub["estimate"] + c * sub["se"]
    return table


def _sort(table, order):
    table = table.drop(columns="_j")
    table = table.sort_values(["band", "rel_time"], key=lambda s: s.map(order) if s.name == "band" else s)
    return table.reset_index(drop=True)


def pretrend_test(data, y: str, assignment, *, id: str = "adcode", time: str = "year", controls=(),
                  window: tuple[int, int] = (5, 5), estimator: str = "imputation", draws: int = 999,
                  wild_weights: str = "webb", seed=None) -> pd.DataFrame:
    """The pre-trend tests of :func:`event_study` (same arguments, same seeds, same numbers) without its
    coefficients and bands: the ``pretrend`` table alone, for simulation studies."""
    d, pre, post, order, (_, s_wild) = _event_setup(data, y, assignment, id, time, controls, window, estimator,
                                                     seed)
    if estimator == "cs":
        s_band, s_wild = np.random.SeedSequence(seed).spawn(2)
        return _event_study_cs(d, y, pre, post, 0.95, order, s_band, "notyet", draws, wild_weights, s_wild).pretrend
    if estimator == "twfe":
        df, meta, lf, kept = _twfe_event_fit(d, pre, post)
        return pd.DataFrame(_twfe_pretrend(d, df, meta, lf, kept, order, draws, wild_weights, s_wild))
    return pd.DataFrame(_imputation_pretrend(d, pre, order, draws, wild_weights, s_wild)[2])


def _event_setup(data, y, assignment, id, time, controls, window, estimator, seed):
    """Checked options, the design, the reporting order and the two seeds (bands, bootstrap) of an event study."""
    check_choice("estimator", estimator, ("imputation", "twfe", "cs"))
    pre, post = int(window[0]), int(window[1])
    if pre < 2 or post < 0:
        raise OptionError(f"window={window!r}: need at least two pre-periods (one is the reference)")
    d = design(data, y, assignment, id=id, time=time, controls=controls)
    order = {lab: i for i, lab in enumerate(d.labels)}
    return d, pre, post, order, np.random.SeedSequence(seed).spawn(2)


def _twfe_event_fit(d, pre, post):
    """The dynamic TWFE regression: (frame with event columns, [(label, k, column)], LinearFit, kept columns)."""
    df, meta = twfe.event_columns(d, pre, post)
    if not meta:
        raise ModelError("no unit is treated within the panel years; nothing to estimate")
    u = pd.factorize(df[d.id])[0]
    t = pd.factorize(df[d.time], sort=True)[0]
    lf, kept = twfe.fit_fe_ols(df, d.y, [m[2] for m in meta] + list(d.controls), [u, t], u,
                               int(df[d.time].nunique()))
    return df, meta, lf, kept


def _twfe_pretrend(d, df, meta, lf, kept, order, draws, weights, seed):
    """Pre-trend tests on the TWFE event study's leads (k <= -2), treated clusters = units with a lead row."""
    groups = []
    for lab in sorted({m[0] for m in meta}, key=order.get):
        lead_cols = [c for g, k, c in meta if g == lab and k < -1 and c in kept]
        n_treated = int(df.loc[df[lead_cols].to_numpy().any(axis=1), d.id].nunique()) if lead_cols else 0
        groups.append((lab, [lf.names.index(c) for c in lead_cols], n_treated))
    return pretrend_tests(lf, groups, draws=draws, weights=weights, seed=seed)


def _imputation_pretrend(d, pre, order, draws, weights, seed):
    """BJS's test regression on the unexposed rows and its pre-trend tests: (LinearFit, [(label, k)], rows)."""
    plf, pmeta, support = imputation.pretrend(d, pre)
    if plf is None:
        return None, [], []
    groups = [(lab, [j for j, m in enumerate(pmeta) if m[0] == lab], support.get(lab, 0))
              for lab in sorted({m[0] for m in pmeta}, key=order.get)]
    return plf, pmeta, pretrend_tests(plf, groups, draws=draws, weights=weights, seed=seed)


def _pretrend_text(draws, weights):
    small = ("small-G F: each group's clustered Wald statistic as Hotelling's T^2 over its own treated units, "
             "F(q, G_l - q); groups combined for 'all' (sum of chi-square quantiles of their p-values)")
    if draws:
        return (f"p = restricted wild cluster bootstrap of the Wald statistic ({draws} {weights} draws); "
                f"p_f = {small}")
    return f"p = {small}; no bootstrap (draws=0)"
