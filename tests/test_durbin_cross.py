"""Cross-section SDM family: recovery of known parameters, exact Hessian, alignment, errors, outputs, CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from test_logdet import knn, lattice

import geo.durbin as gd
from geo.durbin import cross
from geo.durbin.logdet import make_logdet
from geo.errors import JoinError, ModelError, OptionError, SchemaError


def simulate_sdm(W, rho, beta, theta, *, seed, sigma=1.0):
    rng = np.random.default_rng(seed)
    n = W.shape[0]
    X = rng.normal(size=(n, len(beta) - 1))
    mu = beta[0] + X @ beta[1:] + (W @ X) @ theta
    y = spla.spsolve(sp.csc_matrix(sp.identity(n) - rho * W), mu + sigma * rng.normal(size=n))
    return y, X


def simulate_sem(W, lam, beta, *, seed):
    rng = np.random.default_rng(seed)
    n = W.shape[0]
    X = rng.normal(size=(n, len(beta) - 1))
    u = spla.spsolve(sp.csc_matrix(sp.identity(n) - lam * W), rng.normal(size=n))
    return beta[0] + X @ beta[1:] + u, X


@pytest.mark.parametrize("kind", ["queen", "knn"])
def test_sdm_recovers_known_parameters(kind):
    """Monte Carlo: 30 replications on N = 400; mean estimates near truth, ~95 % coverage of rho."""
    W = lattice(20, 20, rook=False) if kind == "queen" else knn(np.random.default_rng(9).uniform(size=(400, 2)), 6)
    rho, beta, theta = 0.5, np.array([1.0, 2.0, -1.0]), np.array([0.8, -0.5])
    ld = make_logdet(W, method="eigen")
    est, cover = [], 0
    for r in range(30):
        y, X = simulate_sdm(W, rho, beta, theta, seed=100 + r)
        res = cross.fit_cross(y, X, W, x_names=["x1", "x2"], logdet=ld, covariance="hessian", draws=0, tests=False)
        est.append([res.rho, *res.coefficients["estimate"]])
        cover += abs(res.rho - rho) < 1.96 * res.spatial["se"]
    est = np.array(est)
    truth = np.array([rho, *beta, *theta])
    se_mc = est.std(axis=0, ddof=1) / math.sqrt(len(est))
    assert np.all(np.abs(est.mean(axis=0) - truth) < 4 * se_mc + 0.02), (est.mean(axis=0), truth)
    assert cover >= 24  # binomial(30, 0.95): P(cover < 24) < 0.5 %


def test_sem_and_sar_recover_parameters():
    W = lattice(25, 25)
    y, X = simulate_sem(W, 0.6, np.array([1.0, 2.0]), seed=4)
    res = gd.fit(pd.DataFrame({"y": y, "x": X[:, 0]}), "y", "x", weights=W, model="sem", logdet="lu", draws=0)
    assert res.lam == pytest.approx(0.6, abs=0.1)
    assert res.coefficients.at["x", "estimate"] == pytest.approx(2.0, abs=0.1)
    y, X = simulate_sdm(W, 0.4, np.array([1.0, 2.0]), np.array([0.0]), seed=5)
    res = gd.fit(pd.DataFrame({"y": y, "x": X[:, 0]}), "y", ["x"], weights=W, model="sar", logdet="lu", draws=0)
    assert res.rho == pytest.approx(0.4, abs=0.08)


def test_hessian_covariance_is_exact():
    """The observed-Hessian covariance equals the inverse of a Richardson-differenced profile Hessian."""
    W = knn(np.random.default_rng(2).uniform(size=(300, 2)), 5)
    y, X = simulate_sdm(W, 0.4, np.array([1.0, 1.0, -1.0]), np.array([0.5, 0.5]), seed=8)
    res = cross.fit_cross(y, X, W, x_names=["a", "b"], logdet="lu", draws=0)
    assert res.logdet_method == "lu" and "Hessian" in res.covariance
    ld = make_logdet(W, method="eigen")
    Z = np.column_stack([np.ones(len(y)), X, W @ X])
    Wy = W @ y
    n = len(y)

    def prof(p):
        e = y - p[0] * Wy - Z @ p[1:]
        return ld(p[0]) - 0.5 * n * math.log(e @ e / n)

    p0 = np.concatenate([[res.rho], res.coefficients["estimate"].to_numpy()])
    k = len(p0)

    def hess(h):
        H = np.zeros((k, k))
        for i in range(k):
            for j in range(k):
                ei, ej = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
                H[i, j] = (prof(p0 + ei + ej) - prof(p0 + ei - ej) - prof(p0 - ei + ej) + prof(p0 - ei - ej)) / (
                    4 * h[i] * h[j])
        return H

    h = 1e-3 * np.maximum(np.abs(p0), 0.1)
    H = (4 * hess(h / 2) - hess(h)) / 3
    se_num = np.sqrt(np.diag(np.linalg.inv(-H)))
    np.testing.assert_allclose(res.vcov.to_numpy().diagonal() ** 0.5, se_num, rtol=1e-5)


def test_information_and_hessian_agree_asymptotically():
    W = lattice(20, 20, rook=False)
    y, X = simulate_sdm(W, 0.5, np.array([1.0, 2.0]), np.array([0.5]), seed=1)
    a = cross.fit_cross(y, X, W, x_names=["x"], logdet="eigen", covariance="information", draws=0)
    b = cross.fit_cross(y, X, W, x_names=["x"], logdet="eigen", covariance="hessian", draws=0)
    assert a.rho == pytest.approx(b.rho, rel=1e-12)
    np.testing.assert_allclose(a.coefficients["se"], b.coefficients["se"], rtol=0.1)
    c = cross.fit_cross(y, X, W, x_names=["x"], logdet="lu", draws=0)
    assert c.rho == pytest.approx(a.rho, rel=1e-7)  # Brent's tolerance on rho
    assert c.loglik == pytest.approx(a.loglik, rel=1e-10)
    np.testing.assert_allclose(c.coefficients["se"], b.coefficients["se"], rtol=1e-5)


def test_tests_consistent_with_separate_fits(columbus):
    from libpysal.graph import Graph

    g = Graph.build_contiguity(columbus, rook=False).transform("r")
    sdm = gd.fit(columbus, "CRIME", ["INC", "HOVAL"], weights=g, draws=0)
    sar = gd.fit(columbus, "CRIME", ["INC", "HOVAL"], weights=g, model="sar", draws=0)
    sem = gd.fit(columbus, "CRIME", ["INC", "HOVAL"], weights=g, model="sem", draws=0)
    assert sdm.tests["LR_sdm_vs_sar"]["statistic"] == pytest.approx(2 * (sdm.loglik - sar.loglik), rel=1e-10)
    assert sdm.tests["LR_sdm_vs_sem"]["statistic"] == pytest.approx(2 * (sdm.loglik - sem.loglik), rel=1e-10)
    th = sdm.coefficients.loc[["W_INC", "W_HOVAL"], "estimate"].to_numpy()
    V = sdm.vcov.loc[["W_INC", "W_HOVAL"], ["W_INC", "W_HOVAL"]].to_numpy()
    assert sdm.tests["Wald_sdm_vs_sar"]["statistic"] == pytest.approx(th @ np.linalg.solve(V, th), rel=1e-10)
    assert sdm.tests["Wald_sdm_vs_sem"]["df"] == 2
    assert 0 < sdm.tests["Wald_sdm_vs_sem"]["p"] < 1


def test_alignment_by_id_not_position(columbus):
    from libpysal.graph import Graph

    g = Graph.build_contiguity(columbus, rook=False).transform("r")
    a = gd.fit(columbus, "CRIME", ["INC", "HOVAL"], weights=g, draws=0)
    shuffled = columbus.sample(frac=1.0, random_state=1)
    b = gd.fit(shuffled, "CRIME", ["INC", "HOVAL"], weights=g, draws=0)
    assert a.rho == pytest.approx(b.rho, rel=1e-12)
    assert list(b.fitted.index) == list(g.unique_ids)
    by_col = gd.fit(columbus.reset_index(drop=True), "CRIME", ["INC", "HOVAL"], weights=g, id="POLYID", draws=0)
    assert by_col.rho == pytest.approx(a.rho, rel=1e-12)
    with pytest.raises(JoinError, match="no row in the data"):
        gd.fit(columbus.iloc[1:], "CRIME", ["INC"], weights=g)
    bad = columbus.copy()
    bad.loc[bad.index[3], "INC"] = np.nan
    with pytest.raises(SchemaError, match="'INC' has 1 missing"):
        gd.fit(bad, "CRIME", ["INC"], weights=g)
    with pytest.raises(SchemaError, match="NOPE"):
        gd.fit(columbus, "CRIME", ["NOPE"], weights=g)


def test_singular_design_and_bad_options():
    W = lattice(10, 10)
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"y": rng.normal(size=100), "a": rng.normal(size=100)})
    df["b"] = 2 * df["a"]
    with pytest.raises(ModelError, match="singular design.*'(a|b)'"):
        gd.fit(df, "y", ["a", "b"], weights=W)
    df["c"] = 3.0  # constant: collinear with the intercept, and W c = c
    with pytest.raises(ModelError, match="singular design"):
        gd.fit(df, "y", ["a", "c"], weights=W, model="sar")
    with pytest.raises(OptionError, match="model"):
        gd.fit(df, "y", ["a"], weights=W, model="sarar")  # not a model name (SAC is "sac")
    with pytest.raises(ModelError, match="needs a panel"):
        gd.fit(df, "y", ["a"], weights=W, effects="twoways")
    with pytest.raises(ModelError, match="weights have 49"):
        gd.fit(df, "y", ["a"], weights=lattice(7, 7))


def test_no_interior_maximum_is_an_error():
    W = lattice(12, 12)
    y, X = simulate_sdm(W, 0.8, np.array([1.0, 1.0]), np.array([0.0]), seed=3)
    ld = make_logdet(W, method="eigen", interval=(-0.2, 0.2))  # the maximum lies outside the interval
    with pytest.raises(ModelError, match="on the bound"):
        cross.fit_cross(y, X, W, x_names=["a"], model="sar", logdet=ld, draws=0)


def test_outputs(columbus):
    from libpysal.graph import Graph

    g = Graph.build_contiguity(columbus, rook=False).transform("r")
    df = columbus.rename(columns={"INC": "<b>inc&"})
    res = gd.fit(df, "CRIME", ["<b>inc&", "HOVAL"], weights=g, draws=200, seed=3)
    js = res.to_json()
    for key in ("model", "effects", "n", "t", "rho", "coefficients", "sigma2", "loglik", "aic", "logdet_method",
                "impacts", "tests"):
        assert key in js
    assert js["model"] == "sdm" and js["effects"] == "none" and js["n"] == 49 and js["t"] == 1
    assert set(js["coefficients"]["W_HOVAL"]) == {"estimate", "se", "z", "p"}
    assert set(js["impacts"]["HOVAL"]) == {"direct", "indirect", "total"}
    assert js["logdet_method"] == "eigen"
    assert js["aic"] == pytest.approx(-2 * js["loglik"] + 2 * 7)
    json.dumps(js, allow_nan=False)
    assert res.to_json() == gd.fit(df, "CRIME", ["<b>inc&", "HOVAL"], weights=g, draws=200, seed=3).to_json()
    text = res.summary()
    assert "Rho:" in text and "W_HOVAL" in text and "Impacts" in text
    html = res.to_html()
    assert "&lt;b&gt;inc&amp;" in html and "<b>inc&" not in html
    tex = res.to_latex()
    assert r"\begin{tabular}" in tex and r"\&" in tex
    frame = res.to_frame()
    assert list(frame.columns) == ["fitted", "residual"] and frame.index.equals(pd.Index(g.unique_ids))
    ols = gd.fit(df, "CRIME", ["<b>inc&", "HOVAL"], weights=g, model="ols")
    assert {"LM_error", "LM_lag", "robust_LM_error", "robust_LM_lag", "SARMA"} <= set(ols.tests)
    slx = gd.fit(df, "CRIME", ["HOVAL"], weights=g, model="slx")
    assert slx.impacts.estimates.at["HOVAL", "indirect"] == slx.coefficients.at["W_HOVAL", "estimate"]


def test_large_lattice_lu_path_runs_sparse():
    W = lattice(60, 60)  # N = 3,600: LU log-determinant, trace-series impacts
    y, X = simulate_sdm(W, 0.3, np.array([0.0, 1.0]), np.array([0.5]), seed=2)
    res = gd.fit(pd.DataFrame({"y": y, "x": X[:, 0]}), "y", ["x"], weights=W, draws=100, seed=1)
    assert res.logdet_method == "lu"
    assert res.rho == pytest.approx(0.3, abs=0.05)
    assert "trace series" in res.impacts.method
    assert res.impacts.estimates.at["x", "total"] == pytest.approx(
        (res.coefficients.at["x", "estimate"] + res.coefficients.at["W_x", "estimate"]) / (1 - res.rho), rel=1e-10)


def test_cli_sdm(tmp_path, columbus, capsys):
    from geo.cli import main

    path = tmp_path / "columbus.gpkg"
    columbus.reset_index(drop=True).assign(POLYID=columbus.index).set_crs("EPSG:4326").to_file(path)
    rc = main(["sdm", "--data", str(path), "--id", "POLYID", "--y", "CRIME", "--x", "INC,HOVAL", "--draws", "100",
               "--seed", "1", "--json", "--html", str(tmp_path / "t.html")])
    out = capsys.readouterr().out
    assert rc == 0
    js = json.loads(out)
    assert js["rho"]["estimate"] == pytest.approx(0.403463, rel=1e-5)
    assert set(js["coefficients"]) == {"(Intercept)", "INC", "HOVAL", "W_INC", "W_HOVAL"}
    assert (tmp_path / "t.html").read_text().startswith("<table")
    rc = main(["sdm", "--data", str(path), "--id", "POLYID", "--y", "CRIME", "--x", "INC", "--x", "HOVAL",
               "--model", "sem"])
    assert rc == 0 and "Lambda:" in capsys.readouterr().out
    rc = main(["sdm", "--data", str(path), "--id", "POLYID", "--y", "CRIME", "--x", "NOPE"])
    assert rc == 2 and "NOPE" in capsys.readouterr().err


def test_locator_bracket_gives_the_full_interval_optimum():
    W = lattice(75, 70)  # N = 5,250: LU with the cheap locator
    y, X = simulate_sdm(W, 0.7, np.array([0.0, 1.0]), np.array([0.5]), seed=6)
    ld = make_logdet(W, method="lu")
    assert ld.locator is not None
    Z = np.column_stack([np.ones(len(y)), X, W @ X])
    a = cross.lag_ml(y, Z, W @ y, ld, ld.lower, ld.upper, locator=ld.locator)
    b = cross.lag_ml(y, Z, W @ y, ld, ld.lower, ld.upper)
    assert a["rho"] == pytest.approx(b["rho"], abs=1e-7)  # Brent: sqrt(eps) * |rho|
    assert a["loglik"] == pytest.approx(b["loglik"], rel=1e-11)


def test_cli_sdm_economic_weights_on_a_column_outside_the_model(tmp_path, columbus, capsys):
    """--weights economic:VAR may name a column that is neither y nor an x (cross-section and panel)."""
    from geo import weights as gw
    from geo.cli import main

    path = tmp_path / "columbus.gpkg"
    columbus.reset_index(drop=True).assign(POLYID=columbus.index).set_crs("EPSG:4326").to_file(path)
    rc = main(["sdm", "--data", str(path), "--id", "POLYID", "--y", "CRIME", "--x", "INC", "--draws", "0",
               "--weights", "economic:HOVAL", "--json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    graph = gw.build("economic:HOVAL", columbus.set_crs("EPSG:4326"), data=columbus)
    ref = gd.fit(columbus, "CRIME", ["INC"], weights=graph, model="sdm", draws=0)
    assert json.loads(out.out)["rho"]["estimate"] == pytest.approx(ref.rho, rel=1e-8)
    rows = pd.concat([pd.DataFrame(columbus[["CRIME", "INC", "HOVAL"]]).assign(year=t, POLYID=columbus.index)
                      for t in (2000, 2001, 2002)])
    noise = np.random.default_rng(1).normal(size=(2, len(rows)))
    rows["CRIME"] = rows["CRIME"] + noise[0]
    rows["INC"] = rows["INC"] + noise[1]
    table = tmp_path / "panel.csv"
    rows.to_csv(table, index=False)
    rc = main(["sdm", "--data", str(table), "--id", "POLYID", "--boundaries", str(path), "--boundary-id", "POLYID",
               "--time", "year", "--y", "CRIME", "--x", "INC", "--draws", "0", "--weights", "economic:HOVAL"])
    out = capsys.readouterr()
    assert rc == 0, out.err


def test_negative_impacts_order_is_one_error_line(tmp_path, columbus, capsys):
    from geo.cli import main

    path = tmp_path / "columbus.gpkg"
    columbus.reset_index(drop=True).assign(POLYID=columbus.index).set_crs("EPSG:4326").to_file(path)
    rc = main(["sdm", "--data", str(path), "--id", "POLYID", "--y", "CRIME", "--x", "INC", "--draws", "0",
               "--order", "-1"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1 and "--order" in err
