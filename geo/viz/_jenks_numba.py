"""The Fisher-Jenks dynamic programme of :func:`geo.viz._classify._fisher_jenks_bins` as a numba loop, for large
inputs (imported only then: numba's import is slow).  Same float32 operations, in the same order, as the numpy
version and as mapclassify, so the table is identical."""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["jenks_starts"]


@numba.njit(cache=True, nogil=True)
def jenks_starts(x32, sq, k):  # pragma: no cover - jitted; checked against the numpy engine and mapclassify
    """Best start (1-based) of the last class for every prefix length (rows) and class count (columns)."""
    n = x32.shape[0]
    best = np.zeros((n + 1, k + 1), dtype=np.int32)
    cost = np.zeros((n + 1, k + 1), dtype=np.float32)
    for j in range(1, k + 1):
        best[1, j] = 1
    for length in range(2, n + 1):
        for j in range(1, k + 1):
            cost[length, j] = np.inf
    for length in range(2, n + 1):
        s1 = np.float32(0.0)
        s2 = np.float32(0.0)
        ssd = np.float32(0.0)
        for m in range(1, length + 1):
            start = length - m + 1  # the class is x[start-1 : length]
            s1 += x32[start - 1]
            s2 += sq[start - 1]
            ssd = s2 - (s1 * s1) / np.float32(m)
            if start > 1:
                for j in range(2, k + 1):
                    c = ssd + cost[start - 1, j - 1]
                    if cost[length, j] >= c:
                        best[length, j] = start
                        cost[length, j] = c
        best[length, 1] = 1
        cost[length, 1] = ssd
    return best
