"""Optional numba acceleration, with a pure-numpy fallback (one place for both).

The permutation engines of the global and local statistics live here (their
numba kernels in ``geo/_numba_kernels.py``, imported only when used).
``conditional_counts`` / ``permuted_forms`` run the numba kernels when numba is
installed and the job is large enough to pay for importing it
(:data:`NUMBA_MIN_WORK`), else vectorised numpy loops over permutations; both walk the same random draws in the
same order, so they return the same counts (up to floating-point ties).

Why our own engine rather than ``esda.crand``: esda copies the whole data
vector once per observation (``z[mask]``), which is O(N²) at large N and makes
LISA at N = 100,000 slow; here the draw ``j`` (from the N−1 other units) is
mapped to a unit by ``j + (j >= i)`` in O(1), and nothing of size N × permutations
is ever stored (memory is linear in N × neighbours).
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np

from geo.errors import OptionError

__all__ = ["HAVE_NUMBA", "NUMBA_MIN_WORK", "conditional_counts", "permuted_forms", "default_engine"]

#: numba is importable (checked without importing it: the import costs ~0.25 s)
HAVE_NUMBA = os.environ.get("GEO_DISABLE_NUMBA") != "1" and importlib.util.find_spec("numba") is not None

#: below this many multiply-adds (units x permutations, or links x permutations) numpy is
#: used: importing numba and loading its cached kernels (~0.5 s) costs more than the work
NUMBA_MIN_WORK = 20_000_000


def default_engine(work: float | None = None) -> str:
    """``"numba"`` when numba is importable (and ``work``, if given, is at least :data:`NUMBA_MIN_WORK`),
    else ``"numpy"``; both engines give the same permutations for the same seed."""
    if not HAVE_NUMBA:
        return "numpy"
    if work is not None and work < NUMBA_MIN_WORK:
        return "numpy"
    return "numba"


def _kernels():
    """The compiled kernels, or None when numba is installed but cannot be imported (then numpy is used,
    as when numba is absent)."""
    global HAVE_NUMBA
    try:
        import geo._numba_kernels as k  # lazy: numba (~1 s), only for jobs large enough
    except ImportError:  # pragma: no cover - a broken numba installation
        HAVE_NUMBA = False
        return None
    return k


def _fisher_yates_numpy(values, U):
    n_perm, n = U.shape
    P = np.tile(values, (n_perm, 1))
    rows = np.arange(n_perm)
    for i in range(n - 1, 0, -1):  # the same Fisher-Yates, vectorised over permutations
        j = (((U[:, i] >> np.uint64(32)) * np.uint64(i + 1)) >> np.uint64(32)).astype(np.int64)
        tmp = P[:, i].copy()
        P[:, i] = P[rows, j]
        P[rows, j] = tmp
    return P


def permuted_forms(values, W, permutations, rng, *, rc=None, fixed=None, engine=None):
    """Quadratic forms of ``permutations`` random permutations v of ``values``.

    Returns ``(u' W v, sum_i v_i**2 rc_i)`` per permutation, with u = ``fixed``
    (bivariate) or v itself.  Permutations are Fisher-Yates shuffles driven by
    64-bit words from ``rng`` (position i swaps with ``j = hi32(word) * (i + 1) >> 32``,
    bias < N / 2**32), drawn in batches of about 4 million words, so numba and
    numpy give the same permutations for the same generator state.  This is the
    engine of the global statistics (Moran, Geary, G, bivariate Moran).
    """
    import scipy.sparse as sp

    n = len(values)
    engine = engine or default_engine(float(n) * permutations)
    values = np.ascontiguousarray(values, dtype=np.float64)
    W = sp.csr_array(W)
    quad = np.empty(permutations)
    sq = np.zeros(permutations)
    batch = max(1, min(permutations, 4_000_000 // max(n, 1)))
    use_numba = engine == "numba" and HAVE_NUMBA and _kernels() is not None
    if use_numba:
        upper = sp.coo_array(sp.triu(W + W.T, k=1))
        diag = W.diagonal()
        on = np.flatnonzero(diag)
        args = (
            np.concatenate([upper.row, on]).astype(np.int64),
            np.concatenate([upper.col, on]).astype(np.int64),
            np.concatenate([upper.data, diag[on]]).astype(np.float64),
            np.ascontiguousarray(np.zeros(n) if rc is None else rc, dtype=np.float64),
            rc is not None,
            np.ascontiguousarray(np.zeros(n) if fixed is None else fixed, dtype=np.float64),
            fixed is not None,
            W.indptr.astype(np.int64),
            W.indices.astype(np.int64),
            W.data.astype(np.float64),
        )
    done = 0
    while done < permutations:
        b = min(batch, permutations - done)
        U = rng.bit_generator.random_raw((b, n))
        if use_numba:
            q, s = _kernels()._forms_numba(values, *args, U)
        else:
            P = _fisher_yates_numpy(values, U)
            WP = (W @ P.T).T
            left = np.broadcast_to(fixed, P.shape) if fixed is not None else P
            q = np.einsum("ij,ij->i", left, WP)
            s = (P * P) @ rc if rc is not None else np.zeros(b)
        quad[done : done + b] = q
        sq[done : done + b] = s
        done += b
    return quad, sq


def _counts_numpy(values, indptr, indices, data, scale, shift, observed, draws, chunk=65536):
    n = values.shape[0]
    n_perm = draws.shape[0]
    card = np.diff(indptr)
    kmax = int(card.max()) if n else 0
    larger = np.zeros(n, dtype=np.int64)
    mean = np.full(n, np.nan)
    sd = np.full(n, np.nan)
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        rows = np.arange(lo, hi)
        k = card[lo:hi]
        # weights padded to (rows, kmax) in CSR order; padding weight 0
        wpad = np.zeros((hi - lo, kmax))
        col = np.arange(kmax)
        valid = col[None, :] < k[:, None]
        offsets = indptr[lo:hi, None] + col[None, :]
        wpad[valid] = data[offsets[valid]]
        cnt = np.zeros(hi - lo, dtype=np.int64)
        s = np.zeros(hi - lo)
        ss = np.zeros(hi - lo)
        a = scale[lo:hi]
        b = shift[lo:hi]
        obs = observed[lo:hi]
        for p in range(n_perm):
            lag = np.zeros(hi - lo)
            for m in range(kmax):
                j = np.full(hi - lo, draws[p, m], dtype=np.int64)
                j += j >= rows
                lag += wpad[:, m] * values[j]
            stat = a * lag + b
            cnt += stat >= obs
            s += stat
            ss += stat * stat
        mu = s / n_perm
        var = (ss - n_perm * mu * mu) / (n_perm - 1) if n_perm > 1 else np.zeros(hi - lo)
        larger[lo:hi] = cnt
        mean[lo:hi] = mu
        sd[lo:hi] = np.sqrt(np.clip(var, 0.0, None))
    islands = card == 0
    larger[islands] = -1
    mean[islands] = np.nan
    sd[islands] = np.nan
    return larger, mean, sd


def conditional_counts(values, W, scale, shift, observed, draws, *, engine=None):
    """Count, per unit i, permutations whose statistic is >= the observed one.

    The simulated statistic of unit i is ``scale[i] * sum_m w_im * values[u_m] + shift[i]``
    where ``u_1..u_k`` are ``k_i`` distinct units other than i drawn without
    replacement (row ``p`` of ``draws`` holds positions in the N−1 others).

    Parameters
    ----------
    values : (N,) float array permuted across units.
    W : scipy CSR matrix with an empty diagonal (self-weights belong in ``shift``).
    scale, shift, observed : (N,) float arrays.
    draws : (P, max_k) int64 array of distinct positions in ``range(N - 1)`` per row.
    engine : "numba", "numpy" or None (numba when available and the job is large, see default_engine).

    Returns
    -------
    (larger, mean, sd): counts (−1 for units without neighbours), and the mean
    and standard deviation (ddof=1) of the simulated statistics.
    """
    args = (
        np.ascontiguousarray(values, dtype=np.float64),
        np.ascontiguousarray(W.indptr, dtype=np.int64),
        np.ascontiguousarray(W.indices, dtype=np.int64),
        np.ascontiguousarray(W.data, dtype=np.float64),
        np.ascontiguousarray(scale, dtype=np.float64),
        np.ascontiguousarray(shift, dtype=np.float64),
        np.ascontiguousarray(observed, dtype=np.float64),
        np.ascontiguousarray(draws, dtype=np.int64),
    )
    requested = engine
    engine = engine or default_engine(float(len(args[3])) * args[7].shape[0])
    if engine == "numba" and (not HAVE_NUMBA or _kernels() is None):
        if requested == "numba":
            raise OptionError("engine='numba' needs the numba package: pip install numba")
        engine = "numpy"
    if engine == "numba":
        work = len(args[3]) * args[7].shape[0]  # links x permutations
        k = _kernels()
        kernel = k._counts_parallel if work > 20_000_000 else k._counts_serial  # threads cost more than tiny jobs
        return kernel(*args)
    return _counts_numpy(*args)
