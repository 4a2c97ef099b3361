"""Lagrange-multiplier diagnostics on OLS residuals (Anselin 1988; Anselin et al. 1996).

``lm_tests(y, X, W)`` returns LM-error, LM-lag, their robust versions and SARMA,
each as {statistic, df, p}, with the same definitions as spdep's ``lm.LMtests``
(``LMerr``, ``LMlag``, ``RLMerr``, ``RLMlag``, ``SARMA``). All traces are exact
and sparse: tr(W'W + W W) = sum(W * W) + sum(W * W'), so the cost is linear in
the number of links.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from geo.durbin.logdet import as_sparse_weights

__all__ = ["lm_tests"]


def _chi2(stat, df, note):
    return {"statistic": float(stat), "df": int(df), "p": float(stats.chi2.sf(stat, df)), "note": note}


def lm_tests(y, X, W) -> dict:
    """LM diagnostics for spatial dependence in the OLS regression of ``y`` on ``X`` (X includes the intercept)."""
    Wm = as_sparse_weights(W)
    y = np.asarray(y, dtype=float).ravel()
    X = np.asarray(X, dtype=float)
    n = len(y)
    q, r = np.linalg.qr(X)
    b = np.linalg.solve(r, q.T @ y)
    yhat = X @ b
    e = y - yhat
    s2 = float(e @ e) / n
    We = Wm @ e
    Wy = Wm @ y
    T = float(Wm.multiply(Wm).sum() + Wm.multiply(Wm.T).sum())
    d_err = float(e @ We) / s2
    d_lag = float(e @ Wy) / s2
    wxb = Wm @ yhat
    m_wxb = wxb - q @ (q.T @ wxb)  # M (W X b)
    nJ = float(wxb @ m_wxb) / s2 + T  # 1 / Ji in spdep's notation
    lm_err = d_err**2 / T
    lm_lag = d_lag**2 / nJ
    rlm_err = (d_err - T / nJ * d_lag) ** 2 / (T * (1.0 - T / nJ))
    rlm_lag = (d_lag - d_err) ** 2 / (nJ - T)
    sarma = rlm_lag + lm_err
    return {
        "LM_error": _chi2(lm_err, 1, "H0: no spatial error dependence (spdep LMerr)"),
        "LM_lag": _chi2(lm_lag, 1, "H0: no spatial lag dependence (spdep LMlag)"),
        "robust_LM_error": _chi2(rlm_err, 1, "robust to a spatial lag (spdep RLMerr)"),
        "robust_LM_lag": _chi2(rlm_lag, 1, "robust to a spatial error (spdep RLMlag)"),
        "SARMA": _chi2(sarma, 2, "H0: neither lag nor error (spdep SARMA)"),
    }
