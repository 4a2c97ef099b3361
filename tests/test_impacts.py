"""Impacts: exact values equal dense S_r(W) summaries; trace series close to exact; simulation seeded."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from test_logdet import knn, lattice

from geo.durbin.impacts import TraceEngine, lag_impacts, linear_impacts
from geo.durbin.logdet import make_logdet


def dense_impacts(W, rho, beta, theta):
    n = W.shape[0]
    A = np.linalg.inv(np.eye(n) - rho * W.toarray())
    out = []
    for b, t in zip(beta, theta):
        S = A @ (b * np.eye(n) + t * W.toarray())
        direct = np.trace(S) / n
        total = S.sum() / n
        out.append((direct, total - direct, total))
    return np.array(out)


def _with_island(W):
    W = sp.lil_matrix(W)
    W[0, :] = 0
    W[:, 0] = 0
    W = sp.csr_matrix(W)
    rs = np.asarray(W.sum(axis=1)).ravel()
    return sp.csr_matrix(sp.diags(np.divide(1, rs, out=np.zeros_like(rs), where=rs > 0)) @ W)


@pytest.mark.parametrize("kind", ["lattice", "knn", "island"])
def test_exact_impacts_equal_dense(kind):
    rng = np.random.default_rng(3)
    W = {"lattice": lattice(9, 9, rook=False), "knn": knn(rng.uniform(size=(120, 2)), 4),
         "island": _with_island(lattice(9, 9))}[kind]
    rho, beta, theta = 0.45, np.array([1.2, -0.7]), np.array([0.6, 0.3])
    ld = make_logdet(W, method="eigen")
    imp = lag_impacts(names=["a", "b"], rho=rho, beta=beta, theta=theta, cov=None, engine=TraceEngine(W, ld),
                      lower=ld.lower, upper=ld.upper, draws=0)
    ref = dense_impacts(W, rho, beta, theta)
    np.testing.assert_allclose(imp.estimates[["direct", "indirect", "total"]].to_numpy(), ref, rtol=1e-10, atol=1e-12)
    # SAR: theta = 0
    sar = lag_impacts(names=["a", "b"], rho=rho, beta=beta, theta=None, cov=None, engine=TraceEngine(W, ld),
                      lower=ld.lower, upper=ld.upper, draws=0)
    np.testing.assert_allclose(sar.estimates.to_numpy(), dense_impacts(W, rho, beta, [0, 0]), rtol=1e-10, atol=1e-12)


def test_trace_series_close_to_exact():
    W = lattice(24, 24, rook=False)
    ld = make_logdet(W, method="eigen")
    args = dict(names=["a"], rho=0.6, beta=np.array([1.0]), theta=np.array([0.5]), cov=None, lower=-1, upper=1, draws=0)
    exact = lag_impacts(engine=TraceEngine(W, ld), **args).estimates
    series = lag_impacts(engine=TraceEngine(W, None, max_order=80, seed=1), **args).estimates
    np.testing.assert_allclose(series.to_numpy(), exact.to_numpy(), rtol=1e-4)


def test_order_decomposition_sums_to_total():
    W = knn(np.random.default_rng(1).uniform(size=(150, 2)), 5)
    ld = make_logdet(W, method="eigen")
    imp = lag_impacts(names=["a"], rho=0.5, beta=np.array([2.0]), theta=np.array([-0.4]), cov=None,
                      engine=TraceEngine(W, ld), lower=ld.lower, upper=ld.upper, draws=0, order=60)
    by = imp.by_order.loc["a"]
    assert by.loc[0, "direct"] == pytest.approx(2.0)  # order 0: beta on the unit itself
    assert by.loc[0, "indirect"] == pytest.approx(0.0, abs=1e-14)
    for kind in ("direct", "indirect", "total"):
        assert by[kind].sum() == pytest.approx(imp.estimates.at["a", kind], rel=1e-10)


def test_simulation_seeded_and_consistent():
    W = lattice(8, 8)
    ld = make_logdet(W, method="eigen")
    cov = np.diag([0.01, 0.04, 0.09])
    kw = dict(names=["a"], rho=0.3, beta=np.array([1.0]), theta=np.array([0.2]), cov=cov, engine=TraceEngine(W, ld),
              lower=ld.lower, upper=ld.upper, draws=4000)
    a, b = lag_impacts(seed=11, **kw), lag_impacts(seed=11, **kw)
    assert a.se.equals(b.se)
    assert not a.se.equals(lag_impacts(seed=12, **kw).se)
    # total = (beta + theta) / (1 - rho): delta-method SE as a check on the simulated one
    rho, bt = 0.3, 1.2
    grad = np.array([bt / (1 - rho) ** 2, 1 / (1 - rho), 1 / (1 - rho)])
    delta = np.sqrt(grad @ cov @ grad)
    assert a.se.at["a", "total"] == pytest.approx(delta, rel=0.1)
    assert a.lower.at["a", "total"] < a.estimates.at["a", "total"] < a.upper.at["a", "total"]
    assert 0 <= a.p.at["a", "direct"] <= 1


def test_linear_impacts_analytic():
    cov = np.array([[0.04, 0.01], [0.01, 0.09]])
    imp = linear_impacts(names=["a"], beta=[1.0], theta=[0.5], cov=cov)
    assert imp.estimates.at["a", "total"] == pytest.approx(1.5)
    assert imp.se.at["a", "total"] == pytest.approx(np.sqrt(0.04 + 0.09 + 0.02))
    assert imp.se.at["a", "indirect"] == pytest.approx(0.3)
    js = imp.to_json()
    assert set(js["a"]) == {"direct", "indirect", "total"}
    assert set(js["a"]["direct"]) >= {"estimate", "se", "p"}
