"""Is the imputation estimator's clustered variance right when units switch rings (issue #12, `overlapping`)?

The Monte Carlo's first 200 replications of the `overlapping` design found the 100-200 km ring covered
0.875-0.89.  These tests pin down the cause with exact calculations rather than replications: the estimator is
linear in y (theta = A y), so its sampling variance under the simulation's AR(1) errors is a' Sigma a exactly, and
the expectation of the two-stage GMM clustered variance is computable too (``benchmarks/mc_radiation.py``,
``exact_variance``).  SYNTHETIC data only.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from geo.radiation.imputation import FirstStageFit, second_stage


def _mc():
    path = str(Path(__file__).resolve().parents[1] / "benchmarks")
    if path not in sys.path:
        sys.path.insert(0, path)
    import mc_radiation

    return mc_radiation


def _tiny_design(y):
    """SYNTHETIC 8 units x 7 years; units 0-1 enter ring a in year 2 and switch to ring b in year 4 (a nearer zone
    opens), unit 2 enters ring b in year 3, units 3 and 4 host a zone from years 5 and 4, units 5-7 stay unexposed."""
    ids, years = np.repeat(np.arange(8), 7), np.tile(np.arange(7), 8)
    a = ((ids <= 1) & (years >= 2) & (years < 4)).astype(float)
    b = (((ids <= 1) & (years >= 4)) | ((ids == 2) & (years >= 3))).astype(float)
    h = (((ids == 3) & (years >= 5)) | ((ids == 4) & (years >= 4))).astype(float)
    df = pd.DataFrame({"id": ids, "year": years, "y": y, "D_a": a, "D_b": b, "D_h": h})
    df["untreated"] = (a + b + h) == 0
    return SimpleNamespace(df=df, time="year", id="id", controls=(), y="y",
                           cols={"ring a": "D_a", "ring b": "D_b", "host": "D_h"})


def _fit(y):
    d = _tiny_design(y)
    fs = FirstStageFit(d)
    cols = list(d.cols.values())
    return second_stage(fs, fs.df[cols].to_numpy(float), cols), fs


def test_exact_variance_equals_brute_force_on_a_tiny_switching_panel():
    """a' Sigma a and E[clustered variance] from the linear maps equal the same quantities built by refitting the
    estimator on every unit vector y = e_r (dense A and dense residual maker R), to 1e-10."""
    mc = _mc()
    n, rho, sd = 56, 0.5, 0.07
    lf, fs = _fit(np.random.default_rng(1).standard_normal(n))
    A = np.empty((len(lf.names), n))
    R = np.empty((n, n))
    for r in range(n):
        e = np.zeros(n)
        e[r] = 1.0
        lr, _ = _fit(e)
        A[:, r] = lr.theta
        R[:, r] = lr.resid  # residuals used by the clustered variance, as a linear map of y
    np.testing.assert_allclose(A, lf.A, atol=1e-12)
    unit, year = lf.cluster, fs.year
    Sigma = np.where(unit[:, None] == unit[None, :], sd**2 * rho ** np.abs(year[:, None] - year[None, :]), 0.0)
    ev = mc.exact_variance(lf, year, rho, sd)
    G = lf.G
    for j, name in enumerate(lf.names):
        v_true = A[j] @ Sigma @ A[j]
        e_cl = 0.0
        for g in range(G):
            w = np.where(unit == g, A[j], 0.0) @ R  # psi_g = w' u
            e_cl += w @ Sigma @ w
        e_cl *= G / (G - 1)
        np.testing.assert_allclose(ev[name], (v_true, e_cl), rtol=1e-10)
    # the clustered estimate itself is the same quadratic form evaluated at the observed residuals
    y = np.random.default_rng(2).standard_normal(n)
    lf_y, _ = _fit(y)
    psi = np.array([[np.where(unit == g, A[j], 0.0) @ R @ y for j in range(len(lf.names))] for g in range(G)])
    np.testing.assert_allclose(lf_y.cov(), G / (G - 1) * psi.T @ psi, rtol=1e-10)


def test_clustered_variance_unbiased_for_switching_rings_in_the_overlapping_design(china):
    """On the Monte Carlo's `overlapping` design (40 zones, units switch rings, AR(1) errors) the expected clustered
    variance is within 3 % of the exact sampling variance for every group (0.993 in the 100-200 km ring), so the
    0.875-0.89 coverage of the first 200 replications is not a variance defect; with 5 zones the host's is 25 %
    too small (few treated clusters: the case the wild bootstrap is for)."""
    mc = _mc()
    tab = mc.variance_table(china, ("overlapping", "five")).set_index(["design", "group"])["variance_ratio"]
    over = tab.loc["overlapping"]
    assert len(over) == 4
    assert ((over > 0.97) & (over < 1.01)).all(), over.to_dict()
    assert 0.985 < over["100-200 km"] < 1.0
    assert tab.loc[("five", "host")] < 0.8


@pytest.mark.slow
def test_overlapping_ring_coverage_on_fresh_seeds(china):
    """End to end on 200 replications the study did not use (seeds 202_5000..): the clustered 95 % interval of the
    100-200 km ring covers within 0.92-0.98 (Monte Carlo s.e. about 0.015)."""
    mc = _mc()
    res, _ = mc.run_design("overlapping", mc.DESIGNS["overlapping"], 200, 0, china, peer=False,
                           estimators=("imputation",), first_rep=5000)
    ring = res[(res["group"] == "100-200 km") & (res["inference"] == "cluster")]
    assert len(ring) == 200
    assert 0.92 <= ring["cover"].mean() <= 0.98
    assert abs((ring["estimate"] - ring["truth"]).mean()) < 3 * ring["estimate"].std() / np.sqrt(200)


def test_jackknife_maps_equal_refitting_without_each_unit():
    """(G-1)/G sum_g (D_g y)^2 from the jackknife maps equals the leave-one-unit-out jackknife computed by refitting
    the estimator on y without each unit, to 1e-10 (so the jackknife column of the variance table is that
    estimator's exact expectation)."""
    mc = _mc()
    y = np.random.default_rng(4).standard_normal(56)
    lf, fs = _fit(y)
    d = _tiny_design(y)
    D = mc.jackknife_maps(d, lf, fs)
    G = lf.G
    thetas = []
    for g in range(G):
        sub = _tiny_design(y)
        sub.df = sub.df[sub.df["id"] != g].reset_index(drop=True)
        fsg = FirstStageFit(sub)
        cols = list(sub.cols.values())
        thetas.append(second_stage(fsg, fsg.df[cols].to_numpy(float), cols).theta)
    thetas = np.array(thetas)
    v_brute = (G - 1) / G * ((thetas - thetas.mean(0)) ** 2).sum(0)
    v_maps = (G - 1) / G * (np.einsum("gkn,n->gk", D, y) ** 2).sum(0)
    np.testing.assert_allclose(v_maps, v_brute, rtol=1e-10)
