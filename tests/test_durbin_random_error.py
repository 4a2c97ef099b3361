"""Random-effects spatial error panel (Kapoor-Kelejian-Prucha form): the log-likelihood equals the dense GLS
likelihood with Omega = (I x B^-1)(s2_mu J x I + s2 I)(I x B^-1)', the estimate is the dense likelihood's
maximum (found by a general-purpose optimiser from elsewhere), the parameters are recovered by simulation,
and the Hausman test keeps its size."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from test_durbin_dynamic import ring

from geo.durbin.random import fit_random


def simulate(W, T, *, lam=0.5, beta=(1.0, 2.0), s_mu=0.7, s=1.0, corr=0.0, seed=0):
    """y_t = b0 + b1 x_t + u_t, u_t = lam W u_t + mu + v_t (synthetic); ``corr`` > 0 correlates mu with x."""
    N = W.shape[0]
    rng = np.random.default_rng(seed)
    B_inv = np.linalg.inv(np.eye(N) - lam * W)
    mu = rng.normal(scale=s_mu, size=N)
    rows = []
    for t in range(T):
        x = rng.normal(size=N) + corr * mu
        y = beta[0] + beta[1] * x + B_inv @ (mu + rng.normal(scale=s, size=N))
        rows += [{"id": f"u{i:03d}", "t": 2000 + t, "y": y[i], "x": x[i]} for i in range(N)]
    return pd.DataFrame(rows)


def dense_loglik(df, W, lam, b, s2_mu, s2):
    N, T = W.shape[0], df["t"].nunique()
    f = df.sort_values(["t", "id"])
    u = f["y"].to_numpy() - b[0] - b[1] * f["x"].to_numpy()
    Bi = np.kron(np.eye(T), np.linalg.inv(np.eye(N) - lam * W))
    Om = Bi @ (s2_mu * np.kron(np.ones((T, T)), np.eye(N)) + s2 * np.eye(N * T)) @ Bi.T
    return -0.5 * np.linalg.slogdet(2 * math.pi * Om)[1] - 0.5 * u @ np.linalg.solve(Om, u)


def _ids(n):
    return [f"u{i:03d}" for i in range(n)]


def test_loglik_equals_dense_gls_and_is_its_maximum():
    W = ring(20)
    df = simulate(W, 4, seed=1)
    res = fit_random(df, "y", ["x"], weights=W, weight_ids=_ids(20), id="id", time="t", model="sem", draws=0)
    b = res.coefficients["estimate"].to_numpy()
    s2_mu = res.extra["sigma2_mu"]
    assert res.spatial_name == "lambda" and res.rho is None
    assert res.loglik == pytest.approx(dense_loglik(df, W, res.lam, b, s2_mu, res.sigma2), rel=1e-12)
    # an independent maximiser (Nelder-Mead on the dense likelihood, from a far start) finds the same point
    neg = lambda p: -dense_loglik(df, W, math.tanh(p[0]), p[1:3], math.exp(p[3]), math.exp(p[4]))  # noqa: E731
    opt = optimize.minimize(neg, [0.0, 0.0, 0.0, 0.0, 0.0], method="Nelder-Mead",
                            options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 20000, "maxfev": 20000})
    assert -opt.fun == pytest.approx(res.loglik, abs=1e-6)
    assert math.tanh(opt.x[0]) == pytest.approx(res.lam, abs=1e-4)
    np.testing.assert_allclose(opt.x[1:3], b, atol=1e-4)
    assert math.exp(opt.x[3]) == pytest.approx(s2_mu, rel=1e-3)
    # phi^2 = s2 / (s2 + T s2_mu)
    assert res.extra["phi"] ** 2 == pytest.approx(res.sigma2 / (res.sigma2 + 4 * s2_mu), rel=1e-10)
    j = res.to_json()
    assert j["effects"] == "random" and "lambda" in j and j["hausman"]["df"] == 2
    imp = j["impacts"]["x"]
    assert imp["direct"]["estimate"] == pytest.approx(b[1]) and imp["indirect"]["estimate"] == 0


def test_library_and_cli_entry(tmp_path, capsys):
    """geo.durbin.fit(effects="random", model="sem") reaches the same fit."""
    from libpysal.graph import Graph
    import scipy.sparse as sp

    from geo import durbin

    W = ring(20)
    df = simulate(W, 4, seed=1)
    G = Graph.from_sparse(sp.csr_matrix(W), ids=_ids(20))
    a = durbin.fit(df, "y", ["x"], weights=G, model="sem", effects="random", id="id", time="t", draws=0)
    b = fit_random(df, "y", ["x"], weights=W, weight_ids=_ids(20), id="id", time="t", model="sem", draws=0)
    assert a.loglik == pytest.approx(b.loglik, rel=1e-12) and a.lam == pytest.approx(b.lam, rel=1e-10)


def test_simulation_recovery_and_hausman_size():
    """40 panels, N = 60 ring, T = 5, lambda 0.5, beta (1, 2), s2_mu 0.49, s2 1: mean estimates within
    ~3 Monte Carlo SEs of the truth, SE of lambda close to its sampling SD, Hausman rejections at 5% rare."""
    W = ring(60)
    est, ses, ps = [], [], []
    for r in range(40):
        df = simulate(W, 5, seed=1000 + r)
        res = fit_random(df, "y", ["x"], weights=W, weight_ids=_ids(60), id="id", time="t", model="sem", draws=0)
        est.append([res.lam, *res.coefficients["estimate"], res.extra["sigma2_mu"], res.sigma2])
        ses.append(res.spatial["se"])
        ps.append(res.tests["hausman"]["p"])
    est = np.array(est)
    truth = np.array([0.5, 1.0, 2.0, 0.49, 1.0])
    mc_se = est.std(axis=0, ddof=1) / math.sqrt(len(est))
    bias = est.mean(axis=0) - truth
    assert np.all(np.abs(bias) < 3.5 * mc_se + np.array([0.03, 0.02, 0.01, 0.05, 0.02])), (bias, mc_se)
    assert 0.6 < np.mean(ses) / est[:, 0].std(ddof=1) < 1.6
    assert np.mean(np.array(ps) < 0.05) <= 0.15


def test_hausman_power_when_effects_correlate_with_x():
    W = ring(60)
    ps = []
    for r in range(6):
        df = simulate(W, 5, seed=2000 + r, corr=1.0)
        ps.append(fit_random(df, "y", ["x"], weights=W, weight_ids=_ids(60), id="id", time="t", model="sem",
                             draws=0).tests["hausman"]["p"])
    assert np.mean(np.array(ps) < 0.05) >= 5 / 6
