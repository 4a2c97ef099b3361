"""The numba kernels of :mod:`geo._numba` (imported only when a job is large enough to pay for numba).

Importing numba and loading these cached kernels costs about half a second, more
than the whole permutation work of a job on a few hundred units; so
``geo._numba`` imports this module only when it chooses the numba engine.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _one_unit(i, values, indptr, data, a, b, obs, draws):  # pragma: no cover - jitted
    start = indptr[i]
    k = indptr[i + 1] - start
    n_perm = draws.shape[0]
    count = 0
    s = 0.0
    ss = 0.0
    for p in range(n_perm):
        lag = 0.0
        for m in range(k):
            j = draws[p, m]
            if j >= i:
                j += 1
            lag += data[start + m] * values[j]
        stat = a * lag + b
        if stat >= obs:
            count += 1
        s += stat
        ss += stat * stat
    return count, s, ss

@numba.njit(cache=True, nogil=True)
def _finish(i, count, s, ss, n_perm, larger, mean, sd):  # pragma: no cover - jitted
    larger[i] = count
    mu = s / n_perm
    mean[i] = mu
    var = (ss - n_perm * mu * mu) / (n_perm - 1) if n_perm > 1 else 0.0
    sd[i] = np.sqrt(var) if var > 0.0 else 0.0

@numba.njit(parallel=True, cache=True, nogil=True)
def _counts_parallel(values, indptr, indices, data, scale, shift, observed, draws):  # pragma: no cover
    n = values.shape[0]
    larger = np.full(n, -1, dtype=np.int64)
    mean = np.full(n, np.nan)
    sd = np.full(n, np.nan)
    for i in numba.prange(n):
        if indptr[i + 1] > indptr[i]:
            c, s, ss = _one_unit(i, values, indptr, data, scale[i], shift[i], observed[i], draws)
            _finish(i, c, s, ss, draws.shape[0], larger, mean, sd)
    return larger, mean, sd

@numba.njit(cache=True, nogil=True)
def _counts_serial(values, indptr, indices, data, scale, shift, observed, draws):  # pragma: no cover
    n = values.shape[0]
    larger = np.full(n, -1, dtype=np.int64)
    mean = np.full(n, np.nan)
    sd = np.full(n, np.nan)
    for i in range(n):
        if indptr[i + 1] > indptr[i]:
            c, s, ss = _one_unit(i, values, indptr, data, scale[i], shift[i], observed[i], draws)
            _finish(i, c, s, ss, draws.shape[0], larger, mean, sd)
    return larger, mean, sd

@numba.njit(parallel=True, cache=True, nogil=True)
def _forms_numba(values, rows, cols, vals, rc, use_rc, fixed, use_fixed, indptr, indices, data, U):
    # pragma: no cover - jitted
    n_perm, n = U.shape
    quad = np.empty(n_perm)
    sq = np.zeros(n_perm)
    for b in numba.prange(n_perm):
        zp = values.copy()
        for i in range(n - 1, 0, -1):  # Fisher-Yates driven by the random words of row b
            j = np.int64(((U[b, i] >> np.uint64(32)) * np.uint64(i + 1)) >> np.uint64(32))
            tmp = zp[i]
            zp[i] = zp[j]
            zp[j] = tmp
        q = 0.0
        if use_fixed:  # u' W v with u fixed: row by row
            for i in range(n):
                lag = 0.0
                for m in range(indptr[i], indptr[i + 1]):
                    lag += data[m] * zp[indices[m]]
                q += fixed[i] * lag
        else:  # v' W v = v' S v with S = upper triangle of W + W' (plus the diagonal): half the work
            for k in range(rows.shape[0]):
                q += vals[k] * zp[rows[k]] * zp[cols[k]]
        quad[b] = q
        if use_rc:
            s = 0.0
            for i in range(n):
                s += zp[i] * zp[i] * rc[i]
            sq[b] = s
    return quad, sq
