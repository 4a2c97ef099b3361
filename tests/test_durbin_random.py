"""Random-effects SAR/SDM panels: the likelihood against a dense GLS likelihood, recovery, Hausman."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from test_durbin_dynamic import ring

from geo.durbin.random import fit_random


def simulate(W, T, *, rho=0.4, beta=(1.0, 2.0), theta=(0.5,), s_mu=1.0, corr=0.0, seed=0):
    rng = np.random.default_rng(seed)
    N = W.shape[0]
    mu = rng.normal(scale=s_mu, size=N)
    X = rng.normal(size=(T, N)) + corr * mu[None, :]
    A_inv = np.linalg.inv(np.eye(N) - rho * W)
    Y = np.array([A_inv @ (beta[0] + beta[1] * X[t] + theta[0] * (W @ X[t]) + mu + rng.normal(size=N))
                  for t in range(T)])
    ids = [f"u{i:03d}" for i in range(N)]
    return pd.DataFrame({"id": np.tile(ids, T), "t": np.repeat(np.arange(T), N), "y": Y.ravel(), "x": X.ravel()})


def _dense_loglik(df, W, res):
    """-1/2 log|2 pi Omega| + T log|I - rho W| - 1/2 u' Omega^-1 u with Omega = s2_mu (J_T x I) + s2 I, dense."""
    N = W.shape[0]
    T = df["t"].nunique()
    f = df.sort_values(["t", "id"])
    y = f["y"].to_numpy()
    x = f["x"].to_numpy()
    Wb = np.kron(np.eye(T), W)
    Z = np.column_stack([np.ones(N * T), x, Wb @ x])
    rho, beta = res.rho, res.coefficients["estimate"].to_numpy()
    u = y - rho * (Wb @ y) - Z @ beta
    Om = res.extra["sigma2_mu"] * np.kron(np.ones((T, T)), np.eye(N)) + res.sigma2 * np.eye(N * T)
    sign, logdet_om = np.linalg.slogdet(2 * math.pi * Om)
    return -0.5 * logdet_om + T * np.linalg.slogdet(np.eye(N) - rho * W)[1] - 0.5 * u @ np.linalg.solve(Om, u)


def test_loglik_equals_dense_gls_likelihood_and_is_a_maximum():
    W = ring(25)
    df = simulate(W, 4, seed=1)
    res = fit_random(df, "y", ["x"], weights=W, weight_ids=[f"u{i:03d}" for i in range(25)], id="id", time="t",
                     draws=0, hausman=False)
    assert res.loglik == pytest.approx(_dense_loglik(df, W, res), rel=1e-10)
    # the profile over phi reached the joint maximum: the score in phi is 0 (numerically)
    assert 0 < res.extra["phi"] < 1 and res.extra["sigma2_mu"] > 0


@pytest.mark.slow
def test_recovery_and_hausman_size_and_power(china):
    from geo import weights

    g = weights.build("queen", china)
    W = g.sparse.toarray()
    est, p_null, p_alt = [], [], []
    for r in range(12):
        df = simulate(W, 5, seed=100 + r)
        df["id"] = np.tile(np.asarray(g.unique_ids), 5)
        res = fit_random(df, "y", ["x"], weights=g, id="id", time="t", draws=0)
        est.append([res.rho, *res.coefficients["estimate"], res.extra["sigma2_mu"]])
        p_null.append(res.tests["hausman"]["p"])
        alt = simulate(W, 5, seed=200 + r, corr=1.0)
        alt["id"] = df["id"]
        p_alt.append(fit_random(alt, "y", ["x"], weights=g, id="id", time="t", draws=0).tests["hausman"]["p"])
    m = np.mean(est, axis=0)
    assert m[0] == pytest.approx(0.4, abs=0.03) and m[2] == pytest.approx(2.0, abs=0.03)
    assert m[3] == pytest.approx(0.5, abs=0.1) and m[4] == pytest.approx(1.0, abs=0.2)
    assert np.mean(np.array(p_null) < 0.05) <= 0.25  # size near 5 % (12 replications)
    assert np.mean(np.array(p_alt) < 0.05) >= 0.9  # effects correlated with x: FE and RE differ


def test_outputs_and_cli(tmp_path, capsys):
    from geo._paths import LAYERS_DIR
    from geo.cli import main

    demo = str(LAYERS_DIR / "demo_panel_synthetic.csv")
    assert main(["sdm", "--data", demo, "--y", "log_gdp_pc_synthetic", "--x", "invest_share_synthetic", "--time",
                 "year", "--effects", "random", "--draws", "0", "--json"]) == 0
    js = json.loads(capsys.readouterr().out)
    assert js["effects"] == "random" and 0 < js["phi"] <= 1 and js["sigma2_mu"] >= 0
    assert set(js["hausman"]) >= {"statistic", "df", "p"} and 1 <= js["hausman"]["df"] <= 3  # rank of V_FE - V_RE
    assert "(Intercept)" in js["coefficients"]
