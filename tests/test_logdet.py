"""log|I - rho W|: exact methods agree with dense numpy; approximations within stated error of exact."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from geo.durbin.logdet import make_logdet, power_traces
from geo.errors import ModelError, OptionError


def lattice(nrow, ncol, *, rook=True):
    """Row-standardised rook (or queen) lattice as CSR."""
    idx = np.arange(nrow * ncol).reshape(nrow, ncol)
    rows, cols = [], []
    steps = [(0, 1), (1, 0)] + ([] if rook else [(1, 1), (1, -1)])
    for dr, dc in steps:
        a = idx[max(0, -dr) : nrow - max(0, dr), max(0, -dc) : ncol - max(0, dc)]
        b = idx[max(0, dr) : nrow + min(0, dr) or None, max(0, dc) : ncol + min(0, dc) or None]
        rows += [a.ravel(), b.ravel()]
        cols += [b.ravel(), a.ravel()]
    r, c = np.concatenate(rows), np.concatenate(cols)
    C = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(nrow * ncol,) * 2)
    return sp.csr_matrix(sp.diags(1.0 / np.asarray(C.sum(axis=1)).ravel()) @ C)


def knn(points, k):
    d = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=2)
    np.fill_diagonal(d, np.inf)
    nn = np.argsort(d, axis=1)[:, :k]
    n = len(points)
    return sp.csr_matrix((np.full(n * k, 1.0 / k), (np.repeat(np.arange(n), k), nn.ravel())), shape=(n, n))


def dense_logdet(W, rho):
    sign, val = np.linalg.slogdet(np.eye(W.shape[0]) - rho * W.toarray())
    assert sign > 0
    return val


@pytest.fixture(scope="module")
def columbus_w(columbus):
    from libpysal.graph import Graph

    return Graph.build_contiguity(columbus, rook=False).transform("r").sparse


@pytest.fixture(scope="module")
def knn_w():
    rng = np.random.default_rng(0)
    return knn(rng.uniform(size=(300, 2)), 5)


RHOS = (-0.6, -0.1, 0.3, 0.7, 0.95)


@pytest.mark.parametrize("method", ["eigen", "lu"])
def test_exact_methods_equal_dense(columbus_w, knn_w, method):
    for W in (columbus_w, knn_w):
        ld = make_logdet(W, method=method)
        assert ld.method == method
        for rho in RHOS:
            assert ld(rho) == pytest.approx(dense_logdet(W, rho), rel=1e-10, abs=1e-10)


def test_asymmetric_knn_is_asymmetric_and_interval(knn_w):
    assert abs(knn_w - knn_w.T).max() > 0
    ld = make_logdet(knn_w, method="eigen")
    ev = np.linalg.eigvals(knn_w.toarray())
    assert ld.upper == pytest.approx(1.0, abs=1e-6)  # row-standardised
    assert ld.lower == pytest.approx(1.0 / ev.real.min(), rel=1e-6)
    lu = make_logdet(knn_w, method="lu")  # row-stochastic: (-1, 1) as spatialreg's LU default
    assert lu.lower == pytest.approx(-1.0, abs=1e-6) and lu.upper == pytest.approx(1.0, abs=1e-6)
    scaled = make_logdet(2.0 * knn_w, method="lu")  # not row-stochastic: ARPACK's extreme eigenvalues
    assert scaled.lower == pytest.approx(ld.lower / 2, rel=1e-4)
    assert scaled.upper == pytest.approx(0.5, rel=1e-4)


def test_symmetric_similar_used_for_row_standardised_contiguity(columbus_w):
    ld = make_logdet(columbus_w, method="eigen")
    assert "symmetric" in ld.description
    assert not np.iscomplexobj(ld.eigenvalues)
    np.testing.assert_allclose(np.sort(ld.eigenvalues), np.sort(np.linalg.eigvals(columbus_w.toarray()).real), atol=1e-10)


def test_derivatives_match_finite_differences(columbus_w, knn_w):
    for W in (columbus_w, knn_w):
        for method in ("eigen", "lu"):
            ld = make_logdet(W, method=method)
            for rho in (-0.3, 0.4, 0.8):
                h = 1e-4
                d1 = (dense_logdet(W, rho + h) - dense_logdet(W, rho - h)) / (2 * h)
                d2 = (dense_logdet(W, rho + h) - 2 * dense_logdet(W, rho) + dense_logdet(W, rho - h)) / h**2
                assert ld.first_derivative(rho) == pytest.approx(d1, rel=1e-6)
                assert ld.second_derivative(rho) == pytest.approx(d2, rel=1e-4)
            # exact closed form -tr((W A^-1)^2) for the eigen route
            if method == "eigen":
                A = np.linalg.inv(np.eye(W.shape[0]) - 0.4 * W.toarray())
                WA = W.toarray() @ A
                assert ld.second_derivative(0.4) == pytest.approx(-np.trace(WA @ WA), rel=1e-10)


@pytest.mark.parametrize("method", ["chebyshev", "mc"])
def test_approximations_close_to_exact_on_a_lattice(method):
    W = lattice(40, 40)  # N = 1,600
    exact = make_logdet(W, method="lu")
    approx = make_logdet(W, method=method, seed=1)
    assert approx.method == method and "approximate" in approx.description
    for rho in (-0.5, 0.2, 0.5, 0.8):
        # relative error of the log-determinant, and its effect on the concentrated likelihood (absolute)
        assert approx(rho) == pytest.approx(exact(rho), rel=5e-3, abs=0.5)


@pytest.mark.parametrize("method", ["chebyshev", "mc"])
def test_approximations_on_asymmetric_knn(knn_w, method):
    exact = make_logdet(knn_w, method="eigen")
    approx = make_logdet(knn_w, method=method, seed=2, probes=100)
    for rho in (-0.4, 0.3, 0.6):
        assert approx(rho) == pytest.approx(exact(rho), rel=2e-2, abs=0.3)


def test_approximation_seeded():
    W = lattice(15, 15)
    a = make_logdet(W, method="mc", seed=5)
    b = make_logdet(W, method="mc", seed=5)
    c = make_logdet(W, method="mc", seed=6)
    assert a(0.5) == b(0.5)
    assert a(0.5) != c(0.5)


def test_power_traces_exact_part():
    W = lattice(12, 12, rook=False)
    tr, n_exact = power_traces(W, 12, probes=10, seed=0)
    M = np.eye(W.shape[0])
    for k in range(n_exact):
        assert tr[k] == pytest.approx(np.trace(M), rel=1e-12, abs=1e-12)
        M = M @ W.toarray()
    assert n_exact >= 5


def test_auto_choice_and_bad_input(columbus_w):
    assert make_logdet(columbus_w).method == "eigen"
    assert make_logdet(lattice(45, 45)).method == "lu"
    with pytest.raises(OptionError, match="logdet"):
        make_logdet(columbus_w, method="cholesky")
    with pytest.raises(ModelError, match="square"):
        make_logdet(sp.csr_matrix(np.ones((3, 4))))
    with pytest.raises(ModelError, match="negative or no positive"):
        make_logdet(sp.csr_matrix(np.zeros((4, 4))), method="eigen")
