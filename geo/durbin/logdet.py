"""Log-determinant of (I - rho W), the Jacobian term of every spatial likelihood.

``make_logdet(W)`` returns a :class:`LogDet`, a callable ``ld(rho) -> log|I - rho W|``
that also knows the admissible interval of rho and how it was computed:

``eigen``
    exact, from the eigenvalues of W (dense; for N up to ~1,500). When W is
    similar to a symmetric matrix (W = D^-1 C with C symmetric, e.g. a
    row-standardised contiguity graph) the symmetric form is used (``eigvalsh``),
    as spatialreg does with ``similar=TRUE``.
``lu``
    exact, from a sparse LU factorisation of I - rho W for each rho
    (``scipy.sparse.linalg.splu``; log|det| = sum log|diag U|). Works for
    asymmetric W (k-nearest neighbours) and scales to 10^5+ units.
``chebyshev``
    Pace & LeSage (2004): log|I - rho W| = tr log(I - rho W) with log(1 - rho x)
    replaced by its Chebyshev interpolant of degree ``order`` on [-1, 1]; the
    traces tr T_j(W) are estimated once with seeded Rademacher probes.
``mc``
    Barry & Pace (1999): -sum_{k=1..order} rho^k tr(W^k)/k with tr(W) and tr(W^2)
    exact and higher traces estimated with seeded probes.

The approximations are meant for very large N (10^5-10^6) and are checked against
the exact methods in ``tests/test_logdet.py``. Written here (not taken from spreg)
because spreg only offers dense/LU per call without an interval or a method label,
and no tested approximation for asymmetric weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from geo._graph import to_csr
from geo.errors import ModelError, check_choice

__all__ = ["LogDet", "make_logdet", "EIGEN_MAX_N", "LU_MAX_N", "METHODS", "as_sparse_weights"]

#: "auto" uses exact eigenvalues up to this N
EIGEN_MAX_N = 1500
#: "auto" uses sparse LU up to this N and Chebyshev beyond
LU_MAX_N = 300_000
METHODS = ("auto", "eigen", "lu", "chebyshev", "mc")

_EPS = np.sqrt(np.finfo(float).eps)


def as_sparse_weights(W) -> sp.csr_array:
    """W as a square float CSR array (geo's Weights, a libpysal Graph or W, scipy sparse, dense array):
    the one conversion, :func:`geo._graph.to_csr`, with the models' error class."""
    return to_csr(W, error=ModelError)


def _symmetric_similar(W: sp.csr_array):
    """Return S = D^1/2 W D^-1/2 if symmetric for D = diag(row nnz) or D = I, else None."""
    if abs(W - W.T).max() <= 1e-12 * max(1.0, abs(W).max()):
        return W
    counts = np.diff(W.indptr).astype(float)
    if np.any(counts == 0):
        counts = np.where(counts == 0, 1.0, counts)
    C = sp.diags_array(counts) @ W
    if abs(C - C.T).max() > 1e-10:
        return None
    d = np.sqrt(counts)
    return sp.csr_array(sp.diags_array(d) @ W @ sp.diags_array(1.0 / d))


def _row_stochastic(W: sp.csr_array) -> bool:
    """Non-negative with every row summing to 1 or 0 (row-standardised, islands allowed)."""
    if W.nnz and W.data.min() < 0:
        return False
    rs = np.asarray(W.sum(axis=1)).ravel()
    return bool(np.all((np.abs(rs - 1.0) < 1e-10) | (rs == 0)))


def _extreme_real_eigs(W: sp.csr_array) -> tuple[float, float]:
    """(smallest, largest) real part among W's eigenvalues, for the rho interval."""
    n = W.shape[0]
    rowsum = np.asarray(W.sum(axis=1)).ravel()
    row_std = np.all(W.data >= 0) and np.allclose(rowsum[rowsum != 0], 1.0)
    if n <= 400:
        ev = np.linalg.eigvals(W.toarray())
        return float(ev.real.min()), float(ev.real.max())
    S = _symmetric_similar(W)
    try:
        if S is not None:
            lo = spla.eigsh(S, k=1, which="SA", return_eigenvectors=False, tol=1e-6, maxiter=5000)[0]
            hi = 1.0 if row_std else spla.eigsh(S, k=1, which="LA", return_eigenvectors=False, tol=1e-6)[0]
        else:
            lo = spla.eigs(W, k=1, which="SR", return_eigenvectors=False, tol=1e-6, maxiter=5000)[0].real
            hi = 1.0 if row_std else spla.eigs(W, k=1, which="LR", return_eigenvectors=False, tol=1e-6)[0].real
    except (spla.ArpackNoConvergence, spla.ArpackError):
        lo, hi = -1.0, 1.0  # bound by the spectral radius of a row-stochastic matrix
        if not row_std:
            radius = float(abs(W).sum(axis=1).max())
            lo, hi = -radius, radius
    return float(lo), float(hi)


@dataclass(frozen=True)
class LogDet:
    """``ld(rho)`` = log|I - rho W| computed by ``method``; ``lower``/``upper`` bound rho.

    Attributes
    ----------
    method : str
        ``"eigen"``, ``"lu"``, ``"chebyshev"`` or ``"mc"`` (the name stated in outputs).
    lower, upper : float
        The admissible interval for rho: 1/min(eig) and 1/max(eig) (real parts) for
        ``eigen`` (``upper`` = 1 for a row-standardised W); for the sparse methods with a
        row-stochastic W (rows summing to 1, or 0 for islands) (-1, 1) as spatialreg's
        default interval, otherwise from ARPACK's extreme eigenvalues.
    n : int
        Number of units.
    eigenvalues : numpy.ndarray or None
        W's eigenvalues (complex when W is not symmetric-similar) for ``eigen``.
    description : str
        One line naming the method and its settings.
    """

    method: str
    lower: float
    upper: float
    n: int
    eigenvalues: np.ndarray | None = field(default=None, repr=False)
    description: str = ""
    _W: sp.csr_array | None = field(default=None, repr=False)
    _coef: np.ndarray | None = field(default=None, repr=False)  # traces for chebyshev / mc
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def locator(self) -> "LogDet | None":
        """A cheap approximation used only to bracket the optimum before exact evaluations (LU only).

        Barry-Pace series of 40 powers (tr W, tr W^2 exact, 8 seeded probes): the exact
        log-determinant is then evaluated only near the optimum (see ``cross._maximise``).
        """
        if self.method != "lu" or self.n < 5000:
            return None
        traces, _ = power_traces(self._W, 40, probes=8, seed=0, exact_budget=0.0)
        return LogDet("mc", self.lower, self.upper, self.n, description="locator", _coef=traces)

    def __call__(self, rho: float) -> float:
        rho = float(rho)
        if self.method == "eigen":
            # complex eigenvalues come in conjugate pairs: sum log|1 - rho lambda| is the real log|det|
            return float(np.sum(np.log(np.abs(1.0 - rho * self.eigenvalues))))
        if self.method == "lu":
            if rho not in self._cache:
                self._cache[rho] = _lu_logdet(self._W, rho)
            return self._cache[rho]
        if self.method == "chebyshev":
            return _cheb_eval(self._coef, rho)
        return _mc_eval(self._coef, rho)

    def second_derivative(self, rho: float) -> float:
        """d^2/drho^2 log|I - rho W| = -tr((W (I - rho W)^-1)^2)."""
        rho = float(rho)
        if self.method == "eigen":
            ev = self.eigenvalues
            return float(-np.sum((ev / (1.0 - rho * ev)) ** 2).real)
        # Richardson-extrapolated central differences of the (exact or smooth) log-determinant
        span = self.upper - self.lower
        h = min(1e-3 * span, 0.25 * min(rho - self.lower, self.upper - rho))
        h = max(h, 1e-6)

        def d2(step):
            return (self(rho + step) - 2.0 * self(rho) + self(rho - step)) / step**2

        return float((4.0 * d2(h / 2.0) - d2(h)) / 3.0)

    def first_derivative(self, rho: float) -> float:
        """d/drho log|I - rho W| = -tr(W (I - rho W)^-1)."""
        rho = float(rho)
        if self.method == "eigen":
            ev = self.eigenvalues
            return float(-np.sum(ev / (1.0 - rho * ev)).real)
        span = self.upper - self.lower
        h = max(min(1e-3 * span, 0.25 * min(rho - self.lower, self.upper - rho)), 1e-6)

        def d1(step):
            return (self(rho + step) - self(rho - step)) / (2.0 * step)

        return float((4.0 * d1(h / 2.0) - d1(h)) / 3.0)


def _lu_logdet(W: sp.csr_array, rho: float) -> float:
    n = W.shape[0]
    A = sp.csc_array(sp.eye_array(n, format="csc") - rho * W)
    try:
        lu = spla.splu(A, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
    except RuntimeError as exc:  # exactly singular
        raise ModelError(f"I - rho*W is singular at rho={rho:.6g}: {exc}") from exc
    d = lu.U.diagonal()
    if np.any(d == 0):
        return -np.inf
    return float(np.sum(np.log(np.abs(d))))


def _probe_block(n: int, probes: int, seed) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.choice(np.array([-1.0, 1.0]), size=(n, probes))


def power_traces(W: sp.csr_array, order: int, *, probes: int = 50, seed=0, exact_budget: float | None = None):
    """tr(W^k) for k = 0..order: exact for low k (sparse products), Hutchinson estimates above.

    tr(W^(2m)) = sum(P_m * P_m^T) and tr(W^(2m+1)) = sum(P_(m+1) * P_m^T) with P_m = W^m,
    computed while nnz(P_m) stays below ``exact_budget * N`` (default: 5e5 entries, at least
    40 and at most 200 per row). Returns (traces, n_exact)
    where traces[k] for k < n_exact are exact.
    """
    n = W.shape[0]
    if exact_budget is None:
        exact_budget = min(200.0, max(40.0, 5e5 / n))
    tr = np.zeros(order + 1)
    tr[0] = n
    if order == 0:
        return tr, 1
    powers = [sp.eye_array(n, format="csr"), W]
    n_exact = 1
    m = 1
    while True:
        if 2 * m - 1 <= order:
            tr[2 * m - 1] = powers[m].multiply(powers[m - 1].T).sum()
            n_exact = 2 * m
        if 2 * m <= order:
            tr[2 * m] = powers[m].multiply(powers[m].T).sum()
            n_exact = 2 * m + 1
        if n_exact > order:
            return tr, n_exact
        if exact_budget <= 0:
            break
        nxt = sp.csr_array(powers[m] @ W)
        if nxt.nnz > exact_budget * n:
            break
        powers.append(nxt)
        m += 1
    # Hutchinson estimates for the rest
    Z = _probe_block(n, probes, seed)
    V = Z.copy()
    for k in range(1, order + 1):
        V = W @ V
        if k >= n_exact:
            tr[k] = float(np.einsum("ij,ij->", Z, V)) / probes
    return tr, n_exact


def _cheb_nodes_coef(order: int, rho: float) -> np.ndarray:
    q = order
    k = np.arange(q + 1)
    x = np.cos(np.pi * (k + 0.5) / (q + 1))
    f = np.log(1.0 - rho * x)
    j = np.arange(q + 1)[:, None]
    c = 2.0 / (q + 1) * (np.cos(j * np.pi * (k + 0.5) / (q + 1)) @ f)
    return c


def _cheb_eval(coef, rho):
    order, traces = coef
    c = _cheb_nodes_coef(order, rho)
    return float(c @ traces - 0.5 * c[0] * traces[0])


def _cheb_traces(W: sp.csr_array, order: int, probes: int, seed) -> np.ndarray:
    """Hutchinson estimates of tr T_j(W), j = 0..order (T_0 = I exact, T_1 = W exact)."""
    n = W.shape[0]
    Z = _probe_block(n, probes, seed)
    t = np.zeros(order + 1)
    t[0] = n
    t[1] = W.diagonal().sum()
    exact2 = 2.0 * W.multiply(W.T).sum() - n  # tr T_2 = 2 tr W^2 - n, exact
    Tm1, T = Z, W @ Z
    for j in range(2, order + 1):
        Tm1, T = T, 2.0 * (W @ T) - Tm1
        t[j] = float(np.einsum("ij,ij->", Z, T)) / probes
    if order >= 2:
        t[2] = exact2
    return t


def _mc_eval(coef, rho):
    traces = coef
    k = np.arange(1, len(traces))
    return float(-np.sum(rho**k * traces[1:] / k))


def make_logdet(
    W,
    *,
    method: str = "auto",
    order: int | None = None,
    probes: int = 50,
    seed=0,
    interval: tuple[float, float] | None = None,
) -> LogDet:
    """Build a :class:`LogDet` for the square weights matrix ``W``.

    Parameters
    ----------
    W : scipy sparse matrix, libpysal Graph or array
        The weights, possibly asymmetric (e.g. row-standardised k-nearest neighbours).
    method : {"auto", "eigen", "lu", "chebyshev", "mc"}
        ``auto`` = eigen for N <= 1,500, LU for N <= 300,000, Chebyshev beyond.
    order : int, optional
        Degree of the Chebyshev interpolant (default 40) or number of power terms for
        ``mc`` (default 60).
    probes, seed :
        Number of Rademacher probe vectors and their seed (approximations only).
    interval : (lower, upper), optional
        Override the admissible rho interval (otherwise from the extreme eigenvalues).
    """
    check_choice("logdet", method, METHODS)
    M = as_sparse_weights(W)
    n = M.shape[0]
    if n < 2:
        raise ModelError(f"weights need at least 2 units, got {n}")
    if method == "auto":
        method = "eigen" if n <= EIGEN_MAX_N else ("lu" if n <= LU_MAX_N else "chebyshev")

    if method == "eigen":
        if n > 20_000:
            raise ModelError(f"logdet='eigen' needs a dense {n} x {n} matrix; use 'lu' or 'chebyshev' for N > 20,000")
        S = _symmetric_similar(M)
        if S is not None:
            ev = np.linalg.eigvalsh(S.toarray())
            desc = "exact: eigenvalues (symmetric-similar W)"
        else:
            ev = np.linalg.eigvals(M.toarray())
            if np.max(np.abs(ev.imag)) < 1e-10 * max(1.0, np.max(np.abs(ev))):
                ev = ev.real
            desc = "exact: eigenvalues (asymmetric W)"
        lo_e, hi_e = float(np.min(ev.real)), float(np.max(ev.real))
        lower, upper = _interval_from(lo_e, hi_e, interval)
        return LogDet("eigen", lower, upper, n, eigenvalues=ev, description=desc)

    if interval is None and _row_stochastic(M):
        # spectral radius <= 1: (-1, 1) is admissible, as spatialreg's default interval for LU/MC
        lower, upper = -1.0 + _EPS, 1.0 - _EPS
    else:
        lo_e, hi_e = _extreme_real_eigs(M)
        lower, upper = _interval_from(lo_e, hi_e, interval)
    if method == "lu":
        S = _symmetric_similar(M)
        desc = "exact: sparse LU of I - rho W (SuperLU" + (", symmetric-similar form)" if S is not None else ")")
        return LogDet("lu", lower, upper, n, description=desc, _W=M if S is None else sp.csr_array(S))
    if method == "chebyshev":
        q = 40 if order is None else int(order)
        traces = _cheb_traces(M, q, probes, seed)
        return LogDet(
            "chebyshev",
            lower,
            upper,
            n,
            description=f"approximate: Chebyshev degree {q}, traces from {probes} probes (seed {seed})",
            _coef=(q, traces),
        )
    q = 60 if order is None else int(order)
    traces, _ = power_traces(M, q, probes=probes, seed=seed, exact_budget=0.0)
    return LogDet(
        "mc",
        lower,
        upper,
        n,
        description=f"approximate: Barry-Pace series of {q} powers, {probes} probes (seed {seed})",
        _coef=traces,
    )


def _interval_from(lo_e: float, hi_e: float, interval):
    if interval is not None:
        lower, upper = float(interval[0]), float(interval[1])
        if not lower < upper:
            raise ModelError(f"interval={interval!r} must have lower < upper")
        return lower, upper
    if lo_e >= 0 or hi_e <= 0:
        raise ModelError("weights have no negative or no positive eigenvalue; cannot bound rho")
    return 1.0 / lo_e + _EPS, 1.0 / hi_e - _EPS
