"""The Callaway-Sant'Anna ring estimator (estimator="cs"): against diff-diff, a loop reference, noise-free truths,
brute-force bootstrap algebra, and the CLI.  Every panel here is SYNTHETIC (generated below)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from geo import radiation as rad
from geo.errors import GeoError
from geo.radiation import cs
from geo.radiation.design import design
from test_radiation_estimators import _panel, _zones  # the same synthetic zones and panels as the imputation tests

YEARS = range(2000, 2024)
BANDS = (100.0, 200.0, 300.0)
EFFECTS = {"host": 0.10, "0-100 km": 0.04, "100-200 km": -0.03, "200-300 km": 0.0}


@pytest.fixture(scope="module")
def host_only(china):
    """Rings of 1 km around centroid zones hold no unit: only hosts are treated (a design diff-diff supports)."""
    ex = rad.exposure(china, years=YEARS, zones=_zones(china, 15, 1), bands=(1.0,))
    df = _panel(ex, {"host": 0.1}, 7)
    return ex, df


@pytest.fixture(scope="module")
def rings(china):
    ex = rad.exposure(china, years=YEARS, zones=_zones(china, 15, 1), bands=BANDS)
    return ex, _panel(ex, EFFECTS, 7)


def _dd(d, control, cluster):
    pytest.importorskip("diff_diff")
    from diff_diff import CallawaySantAnna

    q = d.df[[d.id, d.time, d.y, *d.controls]].copy()
    q["first_treat"] = d.df["first"].fillna(0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = CallawaySantAnna(control_group={"notyet": "not_yet_treated", "never": "never_treated"}[control],
                             estimation_method="reg", base_period="universal", cluster=d.id if cluster else None)
        return m.fit(q, outcome=d.y, unit=d.id, time=d.time, first_treat="first_treat", aggregate="all",
                     covariates=list(d.controls) or None)


def _with_covariates(df, seed=11):
    """SYNTHETIC covariates: x1 higher in units exposed early, x2 noise; y gains 0.3 x1 and a trend in x1."""
    rng = np.random.default_rng(seed)
    ids = pd.factorize(df["adcode"])[0]
    base = rng.standard_normal(ids.max() + 1)
    yr = df["year"].to_numpy() - 2000
    x1 = base[ids] + 0.02 * yr * base[ids] + 0.1 * rng.standard_normal(len(df))
    x2 = rng.standard_normal(len(df))
    return df.assign(x1=x1, x2=x2, y_synthetic=df["y_synthetic"] + 0.3 * x1 + 0.01 * yr * base[ids])


@pytest.mark.parametrize("control", ["notyet", "never"])
def test_equals_diff_diff_callaway_santanna_on_host_only_designs(host_only, control):
    """ATT(g,t), simple, dynamic and group aggregates and their SEs = diff-diff's CallawaySantAnna (reg, universal
    base) to 1e-8; geo's SE = diff-diff's with cluster=unit (CR1), = sqrt(G/(G-1)) x its unclustered SE."""
    ex, df = host_only
    d = design(df, "y_synthetic", ex)
    assert list(d.cols) == ["host"]
    f = cs.fit(d, control=control)
    r = _dd(d, control, cluster=True)
    r0 = _dd(d, control, cluster=False)
    gt = r.group_time_effects
    cf = f.cells.to_frame()
    assert len(cf) > 100
    assert {(g, t) for g, t in zip(cf["cohort"], cf["year"])} == {k for k, v in gt.items() if v["se"] == v["se"]
                                                                  and k[1] != k[0] - 1}
    for row in cf.itertuples():
        assert row.att == pytest.approx(gt[(row.cohort, row.year)]["effect"], abs=1e-10)
        assert row.n_treated == gt[(row.cohort, row.year)]["n_treated"]
    G = f.G
    assert f.est[0] == pytest.approx(r.overall_att, rel=1e-8)
    se = np.sqrt(f.cov[0, 0])
    assert se == pytest.approx(r.overall_se, rel=1e-8)
    assert se == pytest.approx(r0.overall_se * np.sqrt(G / (G - 1)), rel=1e-8)
    dyn = f.dynamic().set_index("rel_time")
    es = {int(k): v for k, v in r.event_study_effects.items() if int(k) != -1}
    assert set(dyn.index) == set(es)
    for e, v in es.items():
        assert dyn.at[e, "estimate"] == pytest.approx(v["effect"], rel=1e-8, abs=1e-12), e
        assert dyn.at[e, "se"] == pytest.approx(v["se"], rel=1e-8), e
    ev = rad.event_study(df, "y_synthetic", ex, estimator="cs", window=(4, 3), control_group=control, draws=0)
    tab = ev.table.set_index("rel_time")
    assert list(tab.index) == [-4, -3, -2, -1, 0, 1, 2, 3] and tab.at[-1, "estimate"] == 0.0
    for e in (-4, -3, -2, 0, 1, 2, 3):
        assert tab.at[e, "estimate"] == pytest.approx(es[e]["effect"], rel=1e-8, abs=1e-12)
        assert tab.at[e, "se"] == pytest.approx(es[e]["se"], rel=1e-8)
        assert tab.at[e, "band_lower"] <= tab.at[e, "ci_lower"]
    assert ev.pretrend.set_index("band").at["host", "df"] == 3 and ev.method == "cs"
    json.dumps(ev.to_json(), allow_nan=False)
    grp = f.group().set_index("cohort")
    assert set(grp.index) == {int(g) for g in r.group_effects}
    for g, v in r.group_effects.items():
        assert grp.at[int(g), "estimate"] == pytest.approx(v["effect"], rel=1e-8)
        assert grp.at[int(g), "se"] == pytest.approx(v["se"], rel=1e-8)


@pytest.mark.parametrize("control", ["notyet", "never"])
def test_outcome_regression_with_covariates_equals_diff_diff(host_only, control):
    """Controls: the outcome-regression cells (covariates in g-1) and the simple aggregate with its SE equal
    diff-diff's CallawaySantAnna(estimation_method="reg", covariates=...) to 1e-8."""
    ex, df = host_only
    df = _with_covariates(df)
    d = design(df, "y_synthetic", ex, controls=["x1", "x2"])
    f = cs.fit(d, control=control)
    r = _dd(d, control, cluster=True)
    for row in f.cells.to_frame().itertuples():
        assert row.att == pytest.approx(r.group_time_effects[(row.cohort, row.year)]["effect"], abs=1e-9)
    assert f.est[0] == pytest.approx(r.overall_att, rel=1e-8)
    assert np.sqrt(f.cov[0, 0]) == pytest.approx(r.overall_se, rel=1e-8)
    plain = cs.fit(design(df, "y_synthetic", ex), control=control)
    assert abs(plain.est[0] - f.est[0]) > 1e-4  # the covariates matter in this design


def test_unbalanced_host_only_cells_and_simple_equal_diff_diff(host_only):
    """Unbalanced panel: each cell on the units observed in t and g-1 (diff-diff's within-cell differencing)."""
    ex, df = host_only
    rng = np.random.default_rng(5)
    df = df.drop(index=rng.choice(df.index, 900, replace=False)).reset_index(drop=True)
    d = design(df, "y_synthetic", ex)
    f = cs.fit(d)
    r = _dd(d, "notyet", cluster=True)
    cf = f.cells.to_frame()
    for row in cf.itertuples():
        assert row.att == pytest.approx(r.group_time_effects[(row.cohort, row.year)]["effect"], abs=1e-10)
    # convention: geo weights a cell by its treated units observed in t and g-1 (the mean over exposed unit-years
    # with data); R did / diff-diff by the cohort's size n_g whatever the cell's missing years
    post = cf[cf["year"] >= cf["cohort"]]
    n_g = d.df.drop_duplicates(d.id)["first"].value_counts()
    w = post["cohort"].map(n_g).to_numpy(float)
    assert (post["att"] * w).sum() / w.sum() == pytest.approx(r.overall_att, rel=1e-8)
    assert f.est[0] == pytest.approx((post["att"] * post["n_treated"]).sum() / post["n_treated"].sum(), rel=1e-12)
    assert abs(f.est[0] - r.overall_att) < 0.5 * np.sqrt(f.cov[0, 0])


def _loop_reference(d):
    """The pre-vectorisation definition, written out unit by unit: cells by entry group, not-yet controls."""
    df = d.df
    wide = df.pivot(index=d.id, columns=d.time, values=d.y)
    first = df.drop_duplicates(d.id).set_index(d.id)["first"].reindex(wide.index)
    entry = pd.Series(rad.design.entry_labels(d), dtype=object).reindex(wide.index)
    out = {}
    for lab in d.cols:
        num = den = 0.0
        for g in sorted(first[entry == lab].dropna().unique()):
            for t in wide.columns:
                if t < g:
                    continue
                ctrl = first.isna() | (first > max(t, g - 1))
                dy = wide[t] - wide[g - 1]
                ti = dy[(entry == lab) & (first == g)].dropna()
                ci = dy[ctrl & (first != g)].dropna()
                if len(ti) and len(ci):
                    num += len(ti) * (ti.mean() - ci.mean())
                    den += len(ti)
        out[lab] = num / den
    return out


def test_vectorised_equals_the_loop_reference_without_moves(china):
    """Static geography (no unit changes group): the vectorised cells give the loop's estimates exactly."""
    asg = rad.assign_bands(china, zones=_zones(china, 15, 2), bands=BANDS)
    T = pd.DataFrame([(u, y) for u in china.index for y in YEARS], columns=["adcode", "year"])
    rng = np.random.default_rng(1)
    band = asg.table["band"].reindex(T["adcode"]).to_numpy()
    ty = pd.to_numeric(asg.table["treatment_year"], errors="coerce").reindex(T["adcode"]).to_numpy(float)
    eff = np.array([EFFECTS.get(b, 0.0) for b in band]) * (T["year"].to_numpy() >= ty)
    a = pd.Series(0.3 * rng.standard_normal(len(china)), index=china.index).reindex(T["adcode"]).to_numpy()
    T["y_synthetic"] = a + 0.04 * (T["year"] - 2000) + eff + 0.05 * rng.standard_normal(len(T))
    d = design(T, "y_synthetic", asg)
    f = cs.fit(d)
    ref = _loop_reference(d)
    assert set(f.labels) == set(ref)
    for lab, b in zip(f.labels, f.est):
        assert b == pytest.approx(ref[lab], abs=1e-12), lab


def test_moves_between_rings_no_longer_bias_noise_free(china):
    """40 zones: units move to nearer rings as zones open.  Noise-free outcomes with parallel trends: cs equals
    the mean effect over each group's exposed unit-years exactly; the entry-group rule (the loop reference) does
    not (it credits a ring with the later, nearer ring's effect)."""
    ex = rad.exposure(china, years=YEARS, zones=_zones(china, 40, 3), bands=BANDS)
    df = _panel(ex, EFFECTS, 4, sigma=0.0)
    d = design(df, "y_synthetic", ex)
    entry = rad.design.entry_labels(d)
    moved = sum(1 for u, sub in d.df[~d.df["untreated"]].groupby(d.id)
                if (sub[list(d.cols.values())].to_numpy().argmax(1) != list(d.cols).index(entry[u])).any())
    assert moved >= 10
    f = cs.fit(d)
    for lab, b in zip(f.labels, f.est):
        assert b == pytest.approx(EFFECTS[lab], abs=1e-10), lab
    ref = _loop_reference(d)
    assert max(abs(ref[lab] - EFFECTS[lab]) for lab in ref) > 1e-3


@pytest.mark.parametrize("controls", [(), ("x1", "x2")])
def test_wild_bootstrap_algebra_equals_brute_force(rings, controls):
    """theta*(w) and Psi*(w) from wild_parts equal cs recomputed on y* = y - u + w.u for random w and v."""
    ex, df = rings
    d = design(_with_covariates(df), "y_synthetic", ex, controls=controls)
    f = cs.fit(d)
    c = f.cells
    rng = np.random.default_rng(0)
    U0 = np.where(np.isnan(c.Y), 0.0, rng.standard_normal(c.Y.shape) * 0.05)
    U1 = np.where(np.isnan(c.Y), 0.0, rng.standard_normal(c.Y.shape) * 0.05)
    j = 1
    (a0, a1), (M0, M1) = cs.wild_parts(f, j, U0, U1)
    Om = cs.simple_weights(f)[j: j + 1]
    for v in (0.0, 0.37):
        U = U0 + v * U1
        a, M = a0 + v * a1, M0 + v * M1
        w = rng.choice([-1.0, 1.0], size=f.G)
        Ystar = c.Y - U + U * w[:, None]
        th, P = cs.aggregate(c, Om, c.dy(np.nan_to_num(Ystar)))
        assert th[0] == pytest.approx(f.est[j] - a.sum() + a @ w, abs=1e-12)
        np.testing.assert_allclose(P[0], f.psi[j] - M.sum(1) + M @ w, atol=1e-12)


def test_wild_wald_draws_equal_brute_force(rings):
    """The bootstrap Wald statistics of the pre-trend test equal the Wald statistic recomputed on y* = y - u + w.u."""
    ex, df = rings
    d = design(df, "y_synthetic", ex)
    c = cs.fit(d).cells
    keys = [(c.labels[a], int(t - g)) if -4 <= t - g <= -2 else None for a, g, t in zip(c.lab, c.g, c.t)]
    names, Om = cs.weights(c, keys)
    rng = np.random.default_rng(2)
    U = np.where(np.isnan(c.Y), 0.0, 0.05 * rng.standard_normal(c.Y.shape))
    W = rng.choice([-1.0, 1.0], size=(len(c.units), 3))
    G = len(c.units)
    stars = cs.wild_wald(c, Om, U, W, G / (G - 1))
    for b in range(3):
        th, P = cs.aggregate(c, Om, c.dy(c.Y - U + U * W[:, b][:, None]))
        V = G / (G - 1) * P @ P.T
        assert stars[b] == pytest.approx(th @ np.linalg.pinv(V) @ th, rel=1e-7)
    ev = rad.event_study(df, "y_synthetic", ex, estimator="cs", window=(4, 2), draws=49, seed=3)
    assert ev.pretrend["p_wild"].between(0, 1).all() and "wild cluster bootstrap" in ev.pretrend_method


def test_inference_methods_for_cs(rings, china):
    ex, df = rings
    cl = rad.band_did(df, "y_synthetic", ex, estimator="cs")
    t = cl.table.set_index("band")
    for lab, v in EFFECTS.items():
        assert abs(t.at[lab, "estimate"] - v) < 4 * t.at[lab, "se"] + 1e-3, lab
    w1 = rad.band_did(df, "y_synthetic", ex, estimator="cs", inference="wild", draws=99, seed=4)
    w2 = rad.band_did(df, "y_synthetic", ex, estimator="cs", inference="wild", draws=99, seed=4)
    pd.testing.assert_frame_equal(w1.table, w2.table)
    tw = w1.table.set_index("band")
    assert ((tw["ci_lower"] < tw["estimate"]) & (tw["estimate"] < tw["ci_upper"])).all()
    assert (tw["p"].between(0, 1)).all() and tw.at["host", "p"] <= 0.05 and tw.at["200-300 km", "p"] > 0.05
    assert w1.inference["method"] == "wild" and w1.inference["draws"] == 99
    # Conley with a cutoff below any distance between centroids is the clustered covariance
    near = rad.band_did(df, "y_synthetic", ex, estimator="cs", inference="conley:0.001")
    np.testing.assert_allclose(near.table["se"], cl.table["se"], rtol=1e-10)
    far = rad.band_did(df, "y_synthetic", ex, estimator="cs", inference="conley:500")
    assert far.inference["cutoff_km"] == 500 and not np.allclose(far.table["se"], cl.table["se"])
    zones = _zones(china, 15, 1)
    ri = rad.analyse(df, "y_synthetic", units=china, zones=zones, bands=BANDS, estimator="cs", inference="ri",
                     placebo="years", draws=9, seed=2)
    assert ri.did.inference["method"] == "ri" and ri.did.table["p"].between(0.1, 1).all()


def test_single_unit_cohorts_are_flagged_and_by_cohort_reported(rings):
    ex, df = rings
    fit = rad.band_did(df, "y_synthetic", ex, estimator="cs")
    assert any("single treated unit" in n and "--inference wild" in n for n in fit.notes)
    bc = fit.by_cohort
    assert list(bc.columns) == ["band", "cohort", "estimate", "se", "p", "ci_lower", "ci_upper", "n_units"]
    js = fit.to_json()
    assert js["by_cohort"] and js["inference"]["control_group"] == "notyet"
    json.dumps(js, allow_nan=False)


def test_refusals(rings, china):
    ex, df = rings
    cnt = rad.exposure(china, years=YEARS, zones=_zones(china, 15, 1), bands=BANDS, mode="count")
    with pytest.raises(GeoError, match="count exposure"):
        rad.band_did(df, "y_synthetic", cnt, estimator="cs")
    with pytest.raises(GeoError, match="control_group"):
        rad.band_did(df, "y_synthetic", ex, estimator="cs", control_group="sometimes")
    with pytest.raises(GeoError, match="applies to estimator='cs' only"):
        rad.band_did(df, "y_synthetic", ex, control_group="never")


DEMO = ["radiation", "--data", "layers/demo_panel_synthetic.csv", "--y", "log_gdp_pc_synthetic",
        "--bands", "100,200,300", "--estimator", "cs"]


def _cli(args, capsys):
    from geo.cli import main

    try:
        rc = main(args)
    except SystemExit as e:
        rc = e.code
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.parametrize("inference", ["cluster", "wild", "conley:200", "ri"])
def test_cli_cs_with_every_inference(capsys, monkeypatch, inference):
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    extra = ["--event-study", "--control-group", "never"] if inference == "cluster" else []
    if inference == "wild":
        extra = ["--controls", "log_pop_density_synthetic"]
    rc, out, err = _cli([*DEMO, "--inference", inference, "--draws", "19", "--seed", "1", *extra, "--json"], capsys)
    assert rc == 0, err
    js = json.loads(out)
    assert js["method"] == "cs" and js["inference"]["method"] == inference.split(":")[0]
    assert js["bands"][0]["band"] == "host" and js["bands"][0]["estimate"] is not None
    if inference == "cluster":
        assert js["event_study"]["method"] == "cs" and js["inference"]["control_group"] == "never"
    if inference == "wild":
        assert "outcome regression on log_pop_density_synthetic" in js["estimator"]


def test_cli_cs_refuses_count_exposure_in_one_line(capsys, monkeypatch):
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    rc, out, err = _cli([*DEMO, "--exposure", "count"], capsys)
    assert rc == 2 and err.startswith("error: ") and "count exposure" in err and err.count("\n") == 1
