"""The tests of geo.durbin: one chi-squared record, LR, Wald (delta method) and LM tests.

Every test is reported as ``{statistic, df, p[, note]}`` built by :func:`chi2` (p from
the chi-squared survival function; LR statistics that rounding makes slightly negative
are reported as 0). Used by the cross-section, static panel, dynamic panel and
comparison code alike.

* :func:`lr_test` - likelihood ratio of nested models;
* :func:`wald_test` - Wald test of g(theta) = 0 with Jacobian G (delta method);
* :func:`sdm_tests` - SDM against SAR (theta = 0) and SEM (theta = -rho beta), LR and Wald;
* :func:`hausman_test` - (b_c - b_e)' (V_c - V_e)^-1 (b_c - b_e);
* :func:`lm_tests` - Lagrange-multiplier diagnostics on OLS residuals (Anselin 1988;
  Anselin et al. 1996).

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

__all__ = ["z_record", "chi2", "lr_test", "wald_test", "sdm_tests", "hausman_test", "lm_tests"]


def z_record(estimate, se) -> dict:
    """{estimate, se, z, p} of one parameter: z = estimate / se, p two-sided normal (NaN z when se is not > 0)."""
    z = estimate / se if se > 0 else float("nan")
    return {"estimate": float(estimate), "se": float(se), "z": float(z), "p": float(2.0 * stats.norm.sf(abs(z)))}


def chi2(stat, df, note=None) -> dict:
    """The record of one chi-squared test: {statistic, df, p} (and ``note`` if given)."""
    stat = float(stat)
    out = {"statistic": stat, "df": int(df), "p": float(stats.chi2.sf(max(stat, 0.0), df))}
    if note:
        out["note"] = note
    return out


def lr_test(ll_full, ll_restricted, df, note=None) -> dict:
    """Likelihood-ratio test 2 (ll_full - ll_restricted) ~ chi2(df); rounding below 0 is reported as 0."""
    return chi2(max(2.0 * (float(ll_full) - float(ll_restricted)), 0.0), df, note)


def wald_test(g, G, V, note=None) -> dict:
    """Wald test of g(theta) = 0: g' (G V G')^-1 g ~ chi2(len(g)), G the Jacobian of g (delta method)."""
    g = np.atleast_1d(np.asarray(g, dtype=float))
    G = np.atleast_2d(np.asarray(G, dtype=float))
    return chi2(float(g @ np.linalg.solve(G @ V @ G.T, g)), len(g), note)


def sdm_tests(*, ll_sdm, ll_sar, ll_sem, rho, beta_x, theta, V_rbt) -> dict:
    """LR and Wald tests of SDM against SAR (theta = 0) and SEM (theta = -rho beta).

    ``V_rbt`` is the covariance of (rho, beta_x, theta) (intercept excluded).
    """
    beta_x = np.asarray(beta_x, dtype=float)
    theta = np.asarray(theta, dtype=float)
    K = len(theta)
    G_sar = np.hstack([np.zeros((K, 1 + K)), np.eye(K)])
    G_sem = np.hstack([beta_x[:, None], rho * np.eye(K), np.eye(K)])
    sar_note = "H0: theta = 0 (SAR)"
    sem_note = "H0: theta = -rho beta (SEM, common factor; Wald by the delta method)"
    return {
        "LR_sdm_vs_sar": lr_test(ll_sdm, ll_sar, K, sar_note),
        "Wald_sdm_vs_sar": wald_test(theta, G_sar, V_rbt, sar_note),
        "LR_sdm_vs_sem": lr_test(ll_sdm, ll_sem, K, sem_note),
        "Wald_sdm_vs_sem": wald_test(theta + rho * beta_x, G_sem, V_rbt, sem_note),
    }


def hausman_test(b_consistent, V_consistent, b_efficient, V_efficient, note=None) -> dict:
    """Hausman (1978): q' (V_c - V_e)^+ q with q = b_c - b_e; df = number of positive eigenvalues of V_c - V_e.

    V_c - V_e is positive semi-definite only asymptotically; in finite samples it can have
    negative eigenvalues. As Stata's ``hausman`` (which uses a generalised inverse and
    reports the rank as df), the statistic uses the positive-eigenvalue part only.
    """
    q = np.asarray(b_consistent, dtype=float) - np.asarray(b_efficient, dtype=float)
    D = np.asarray(V_consistent, dtype=float) - np.asarray(V_efficient, dtype=float)
    D = 0.5 * (D + D.T)
    vals, vecs = np.linalg.eigh(D)
    keep = vals > 1e-10 * max(np.max(np.abs(vals)), 1e-300)
    stat = float(((vecs[:, keep].T @ q) ** 2 / vals[keep]).sum())
    return chi2(stat, int(keep.sum()), note)


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
        "LM_error": chi2(lm_err, 1, "H0: no spatial error dependence (spdep LMerr)"),
        "LM_lag": chi2(lm_lag, 1, "H0: no spatial lag dependence (spdep LMlag)"),
        "robust_LM_error": chi2(rlm_err, 1, "robust to a spatial lag (spdep RLMerr)"),
        "robust_LM_lag": chi2(rlm_lag, 1, "robust to a spatial error (spdep RLMlag)"),
        "SARMA": chi2(sarma, 2, "H0: neither lag nor error (spdep SARMA)"),
    }
