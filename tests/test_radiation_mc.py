"""Pre-trend tests that hold their size, and benchmarks/mc_radiation.py in fast mode (SYNTHETIC outcomes).

The full study (200 replications per design) is in BENCHMARKS.md; here a few seeded replications with
statistical tolerances that fail when the estimator is biased or a test rejects far too often.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo import radiation as rad
from geo.radiation import imputation
from geo.radiation._fe import indicator
from geo.radiation.design import design
from geo.radiation.inference import _weights, pretrend_tests, wald_test


def _mc():
    path = str(Path(__file__).resolve().parents[1] / "benchmarks")
    if path not in sys.path:
        sys.path.insert(0, path)
    import mc_radiation

    return mc_radiation


@pytest.fixture(scope="module")
def five(china):
    """The five-zone design of the Monte Carlo: its exposure and a null panel (no effects, no pre-trends)."""
    mc = _mc()
    spec = mc.DESIGNS["five"]
    zones = mc.make_zones(china, spec["n_zones"], spec["seed"])
    ex = rad.exposure(china, years=mc.YEARS, zones=zones, bands=mc.BANDS)
    zero = {lab: np.zeros(len(ex.table)) for lab in ex.labels}
    return mc, ex, zero, china


def test_wild_wald_bootstrap_equals_refitting_each_draw(five):
    """The vectorised restricted wild bootstrap of the Wald statistic equals building y*_b and refitting."""
    mc, ex, zero, units = five
    df = mc.simulate(units, ex, zero, seed=5)
    plf, meta, _ = imputation.pretrend(design(df, "y_synthetic", ex), 4)
    idx = [j for j, m in enumerate(meta) if m[0] in ("100-200 km", "200-300 km")]
    B, seed = 39, 12
    got = wald_test(plf, idx, draws=B, weights="rademacher", seed=seed)
    # by hand
    W = _weights("rademacher", (plf.G, B), np.random.default_rng(seed))
    others = [i for i in range(plf.Xt.shape[1]) if i not in idx]
    ur = plf.yt - plf.Xt[:, others] @ np.linalg.lstsq(plf.Xt[:, others], plf.yt, rcond=None)[0]
    C = indicator(plf.cluster, plf.G)
    b = plf.theta[idx]
    stat = b @ np.linalg.pinv(plf.cov()[np.ix_(idx, idx)]) @ b
    stars = []
    for k in range(B):
        ys = plf.y - ur + ur * W[plf.cluster, k]
        th = plf.A @ ys
        e = plf.T(ys) - plf.Xt @ th
        psi = np.asarray(C @ (plf.A[idx].T * e[:, None]))
        V = plf.factor * psi.T @ psi
        stars.append(th[idx] @ np.linalg.pinv(V) @ th[idx])
    assert got["stat"] == pytest.approx(stat, rel=1e-10)
    assert got["p_wild"] == pytest.approx(np.mean(np.array(stars) >= stat), abs=1e-12)


def test_small_g_test_refuses_groups_with_fewer_units_than_leads(five):
    """Five zones: 4 hosts for 5 leads -> no analytic test for the host leads, said in the JSON."""
    mc, ex, zero, units = five
    df = mc.simulate(units, ex, zero, seed=1)
    ev = rad.event_study(df, "y_synthetic", ex, window=(5, 3), draws=0)
    pre = ev.pretrend.set_index("band")
    assert pre.at["host", "treated_clusters"] <= pre.at["host", "df"]
    assert pd.isna(pre.at["host", "p_f"]) and pre.at["host", "test"] == "none" and "too few" in pre.at["host", "note"]
    assert "host" in pre.at["all", "note"] and 0 < pre.at["all", "p_f"] < 1
    assert pre.at["all", "test"].startswith("small-G F")
    js = ev.to_json()
    json.dumps(js, allow_nan=False)
    allj = [r for r in js["pretrend_tests"] if r["band"] == "all"][0]
    assert allj["test"].startswith("small-G F") and allj["p"] == pytest.approx(allj["p_f"])
    hostj = [r for r in js["pretrend_tests"] if r["band"] == "host"][0]
    assert hostj["p"] is None and hostj["p_f"] is None
    # with a bootstrap the reported p is the wild one, for every group
    ev2 = rad.event_study(df, "y_synthetic", ex, window=(5, 3), draws=49, seed=2)
    pre2 = ev2.pretrend.set_index("band")
    ok = pre2["treated_clusters"] > pre2["df"]
    assert (pre2.loc[ok, "test"] == "wild bootstrap").all() and pre2.at["all", "test"] == "wild bootstrap"
    assert np.allclose(pre2.loc[ok, "p"].astype(float), pre2.loc[ok, "p_wild"].astype(float))
    assert pd.isna(pre2.at["host", "p"]) and pre2.at["host", "test"] == "none"  # singular: no test of its own


@pytest.mark.slow
def test_pretrend_size_not_absurd_over_seeded_nulls(five):
    """20 null panels of the five-zone design: the old F(q, G-1) test rejected nearly all (Monte Carlo: 1.00);
    the small-G F and the TWFE event study's small-G F may reject at most 4 (P <= 0.003 at a true 5 % size)."""
    mc, ex, zero, units = five
    rej = {"imputation": 0, "twfe": 0, "old": 0}
    for r in range(20):
        df = mc.simulate(units, ex, zero, seed=900 + r)
        for est in ("imputation", "twfe"):
            ev = rad.event_study(df, "y_synthetic", ex, window=(5, 5), draws=0, estimator=est)
            a = ev.pretrend.set_index("band").loc["all"]
            rej[est] += a["p_f"] < 0.05
            if est == "imputation":
                from geo.radiation._common import p_f

                rej["old"] += p_f(a["wald"] / a["df"], a["df"], ev.n_units - 1) < 0.05
    assert rej["imputation"] <= 4 and rej["twfe"] <= 4, rej
    assert rej["old"] >= 10, rej  # the problem the small-G test fixes is present in this design


def test_pretrend_tests_hotelling_scaling_on_a_single_group():
    """One group of G_l clusters with independent lead vectors and nothing else: the small-G F equals
    Hotelling's T^2 of the clusters' vectors, (G-q)/(q(G-1)) T^2, computed directly."""
    from geo.radiation.inference import LinearFit

    rng = np.random.default_rng(4)
    G, q = 9, 3
    X = rng.standard_normal((G, q))  # one row per cluster: that cluster's lead vector
    # rows: cluster g, lead k -> y = X[g, k]; theta_k = mean over clusters
    cluster = np.repeat(np.arange(G), q)
    lead = np.tile(np.arange(q), G)
    y = X.ravel()
    D = np.eye(q)[lead]
    A = D.T / G  # theta = A y = column means
    theta = A @ y
    resid = y - D @ theta
    lf = LinearFit(names=tuple(f"l{k}" for k in range(q)), theta=theta, A=A, Xt=D, yt=y, y=y, resid=resid,
                   cluster=cluster, Tt=lambda Z: Z, T=lambda Z: Z, factor=G / (G - 1))
    rows = pretrend_tests(lf, [("g", list(range(q)), G)])
    xbar, S = X.mean(0), np.cov(X, rowvar=False)
    T2 = G * xbar @ np.linalg.solve(S, xbar)
    from scipy.stats import f

    F = (G - q) / (q * (G - 1)) * T2
    assert rows[0]["F"] == pytest.approx(F, rel=1e-10)
    assert rows[0]["p_f"] == pytest.approx(f.sf(F, q, G - q), rel=1e-10)
    assert rows[0]["df_den"] == G - q


@pytest.mark.slow
def test_monte_carlo_fast_mode_imputation_unbiased_and_covers(china):
    """Six replications of the static, unbalanced and control designs: the imputation estimator's bias is
    within 5 Monte Carlo standard errors of zero for every group, and its wild intervals cover in most."""
    mc = _mc()
    for name in ("static", "unbalanced", "control"):
        res, _ = mc.run_design(name, mc.DESIGNS[name], 6, 99, china, peer=False, estimators=("imputation",))
        s = mc.summarise(res)
        assert set(s["inference"]) == {"cluster", "wild"}
        for r in s.itertuples():
            assert abs(r.bias) < 5 * r.mc_sd / np.sqrt(r.reps), (name, r.group, r.bias, r.mc_sd)
        wild = res[res["inference"] == "wild"]
        assert wild["cover"].mean() >= 0.75, name  # 24 intervals; P(< 18 covered) ~ 0.0001 at 95 %
