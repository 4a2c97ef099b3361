"""SAC / GNS cross-sections: exactness of the Hessian, recovery of known parameters, outputs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from test_logdet import knn

import geo.durbin as gd
from geo.durbin import cross
from geo.durbin.logdet import make_logdet


def simulate_gns(W, rho, lam, beta, theta, *, seed):
    rng = np.random.default_rng(seed)
    n = W.shape[0]
    X = rng.normal(size=(n, len(beta) - 1))
    u = spla.spsolve(sp.csc_matrix(sp.identity(n) - lam * W), rng.normal(size=n))
    rhs = beta[0] + X @ beta[1:] + (W @ X) @ theta + u
    return spla.spsolve(sp.csc_matrix(sp.identity(n) - rho * W), rhs), X


def _profile_hessian_se(res, y, Z, W, ld):
    """SEs from a Richardson-differenced Hessian of the sigma^2-concentrated log-likelihood (as R's fdHess)."""
    n = len(y)
    Wy = W @ y

    def prof(p):
        r = y - p[0] * Wy - Z @ p[2:]
        e = r - p[1] * (W @ r)
        return ld(p[0]) + ld(p[1]) - 0.5 * n * math.log(e @ e / n)

    p0 = np.concatenate([[res.rho, res.lam], res.coefficients["estimate"].to_numpy()])
    k = len(p0)

    def hess(h):
        H = np.zeros((k, k))
        for i in range(k):
            for j in range(i, k):
                ei, ej = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
                H[i, j] = H[j, i] = (prof(p0 + ei + ej) - prof(p0 + ei - ej) - prof(p0 - ei + ej)
                                     + prof(p0 - ei - ej)) / (4 * h[i] * h[j])
        return H

    h = 1e-3 * np.maximum(np.abs(p0), 0.1)
    H = (4 * hess(h / 2) - hess(h)) / 3
    return np.sqrt(np.diag(np.linalg.inv(-H)))


@pytest.mark.parametrize("model", ["sac", "gns"])
def test_hessian_covariance_is_exact(model):
    W = knn(np.random.default_rng(4).uniform(size=(250, 2)), 6)
    y, X = simulate_gns(W, 0.35, 0.3, np.array([1.0, 1.0, -1.0]), np.array([0.5, 0.4] if model == "gns" else [0, 0]),
                        seed=11)
    res = cross.fit_cross(y, X, W, x_names=["a", "b"], model=model, draws=0)
    ld = make_logdet(W, method="eigen")
    Z = np.column_stack([np.ones(len(y)), X] + ([W @ X] if model == "gns" else []))
    se_num = _profile_hessian_se(res, y, Z, W, ld)
    se = np.concatenate([[res.spatial["se"], res.spatial_more["lambda"]["se"]], res.coefficients["se"]])
    np.testing.assert_allclose(se, se_num, rtol=1e-5)


def test_profile_maximum_is_the_joint_maximum():
    """The nested 1-D search reaches the joint maximum: no better point on a fine grid around it."""
    W = knn(np.random.default_rng(6).uniform(size=(200, 2)), 5)
    y, X = simulate_gns(W, 0.4, 0.3, np.array([1.0, 2.0]), np.array([0.0]), seed=2)
    res = cross.fit_cross(y, X, W, x_names=["x"], model="sac", draws=0)
    ld = make_logdet(W, method="eigen")
    Z = np.column_stack([np.ones(len(y)), X])
    n = len(y)

    def conc(r, l):
        ys = (y - r * (W @ y)) - l * (W @ (y - r * (W @ y)))
        Zs = Z - l * (W @ Z)
        e = ys - Zs @ np.linalg.lstsq(Zs, ys, rcond=None)[0]
        return ld(r) + ld(l) - 0.5 * n * math.log(e @ e / n)

    best = conc(res.rho, res.lam)
    for dr in np.linspace(-1e-3, 1e-3, 5):
        for dl in np.linspace(-1e-3, 1e-3, 5):
            assert conc(res.rho + dr, res.lam + dl) <= best + 1e-9


@pytest.mark.slow
def test_gns_monte_carlo_recovers_parameters():
    """20 replications, N = 400 kNN-6: mean estimates near the truth (synthetic data, documented DGP)."""
    W = knn(np.random.default_rng(9).uniform(size=(400, 2)), 6)
    est = []
    for r in range(20):
        y, X = simulate_gns(W, 0.4, 0.3, np.array([1.0, 1.0]), np.array([0.6]), seed=100 + r)
        res = cross.fit_cross(y, X, W, x_names=["x"], model="gns", draws=0, tests=False)
        est.append([res.rho, res.lam, *res.coefficients["estimate"]])
    m = np.mean(est, axis=0)
    assert m[0] == pytest.approx(0.4, abs=0.06) and m[1] == pytest.approx(0.3, abs=0.1)
    assert m[3] == pytest.approx(1.0, abs=0.05) and m[4] == pytest.approx(0.6, abs=0.15)


def test_sac_outputs_and_tests(columbus):
    from libpysal.graph import Graph

    g = Graph.build_contiguity(columbus, rook=False).transform("r")
    res = gd.fit(columbus, "CRIME", ["INC", "HOVAL"], weights=g, model="gns", draws=200, seed=1)
    js = res.to_json()
    assert set(js["lambda"]) == {"estimate", "se", "z", "p"} and js["rho"]["estimate"] == res.rho
    assert js["n_params"] == 8 and set(js["tests"]) == {"LR_gns_vs_sdm", "LR_gns_vs_sdem"}
    sdm = gd.fit(columbus, "CRIME", ["INC", "HOVAL"], weights=g, model="sdm", draws=0)
    assert js["tests"]["LR_gns_vs_sdm"]["statistic"] == pytest.approx(2 * (res.loglik - sdm.loglik), rel=1e-8)
    assert "Lambda:" in res.summary() and "General nesting" in res.summary()
    assert "lambda" in res.coefficient_table().index and "lambda" in res.to_latex()
    json.dumps(js, allow_nan=False)
    assert res.to_frame().shape == (49, 2)
