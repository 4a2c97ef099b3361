"""Cross-section maximum likelihood for the spatial Durbin family.

Models (W row-standardised or not, possibly asymmetric):

* ``sdm``  y = rho W y + X beta + W X theta + e
* ``sar``  y = rho W y + X beta + e
* ``sem``  y = X beta + u,  u = lambda W u + e
* ``sdem`` y = X beta + W X theta + u,  u = lambda W u + e
* ``slx``  y = X beta + W X theta + e  (OLS)

The intercept is never lagged (as spatialreg's ``Durbin=TRUE``); lagged regressors
are named ``W_<name>``.

Estimation follows spatialreg: sigma^2 and beta are concentrated out and the
1-D log-likelihood in rho (lambda) is maximised on the admissible interval of the
:class:`~geo.durbin.logdet.LogDet` with bounded Brent (``minimize_scalar``,
xatol 1e-10). The asymptotic covariance is

* ``information``: the analytic information matrix (Ord 1975; Anselin 1988) with
  dense traces tr(W_A), tr(W_A^2), tr(W_A' W_A), W_A = W (I - rho W)^-1 - exactly
  spatialreg's ``method="eigen"``; used when the log-determinant is ``eigen``
  (N <= 1,500 under ``auto``);
* ``hessian``: the observed Hessian of the full log-likelihood, analytic except the
  second derivative of the log-determinant (Richardson-extrapolated differences of
  the sparse-LU log-determinant) - spatialreg's LU route, which differentiates the
  whole likelihood numerically; used for ``lu``/``chebyshev``/``mc``.

The core functions (``lag_ml``, ``error_ml``, ``lag_hessian_cov``,
``error_hessian_cov``) take a lag operator and a log-determinant scaled by T so
that the panel estimator reuses them on stacked, demeaned data.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import scipy.linalg as sla
from scipy import stats
from scipy.optimize import minimize_scalar

from geo.durbin.impacts import TraceEngine, lag_impacts, linear_impacts
from geo.durbin.logdet import LogDet, as_sparse_weights, make_logdet
from geo.durbin.results import DurbinResult
from geo.errors import ModelError, OptionError, check_choice

__all__ = [
    "MODELS",
    "fit_cross",
    "check_design",
    "lag_ml",
    "error_ml",
    "lag_hessian_cov",
    "error_hessian_cov",
    "coef_frame",
    "sdm_tests",
]

MODELS = ("sdm", "sar", "sem", "slx", "sdem", "ols")
INTERCEPT = "(Intercept)"
_XATOL = 1e-10


# --------------------------------------------------------------------------- design
def check_design(Z: np.ndarray, names) -> None:
    """Raise ModelError naming the columns that make Z rank-deficient (or non-finite)."""
    names = list(names)
    if not np.all(np.isfinite(Z)):
        bad = [names[j] for j in range(Z.shape[1]) if not np.all(np.isfinite(Z[:, j]))]
        raise ModelError(f"regressors contain NaN or infinite values: {', '.join(bad)}")
    n, k = Z.shape
    if n <= k:
        raise ModelError(f"singular design: {n} observations for {k} coefficients ({', '.join(names)})")
    scale = np.sqrt((Z**2).sum(axis=0))
    if np.any(scale == 0):
        zero = [names[j] for j in np.flatnonzero(scale == 0)]
        raise ModelError(f"singular design: column(s) {', '.join(zero)} are all zero")
    _, R, piv = sla.qr(Z / scale, mode="economic", pivoting=True)
    d = np.abs(np.diag(R))
    tol = max(Z.shape) * np.finfo(float).eps * 1e3 * d[0]
    rank = int(np.sum(d > tol))
    if rank < k:
        dropped = [names[j] for j in piv[rank:]]
        raise ModelError(
            "singular design: column(s) "
            + ", ".join(repr(c) for c in dropped)
            + " are linear combinations of the other regressors (a constant regressor, a duplicated "
            "variable, or a lag W x that equals x or the intercept); drop them"
        )


def _ols(Z, ys):
    """Least-squares coefficients of each column of ys on Z (Z full rank)."""
    q, r = np.linalg.qr(Z)
    return sla.solve_triangular(r, q.T @ ys)


def coef_frame(names, estimate, se, *, df=None) -> pd.DataFrame:
    """estimate, se, z (= estimate / se) and two-sided p (normal; Student t with ``df`` for OLS, as R's lm)."""
    estimate = np.asarray(estimate, dtype=float)
    se = np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = estimate / se
    p = 2.0 * (stats.norm.sf(np.abs(z)) if df is None else stats.t.sf(np.abs(z), df))
    return pd.DataFrame({"estimate": estimate, "se": se, "z": z, "p": p}, index=pd.Index(list(names), name="name"))


def _spatial_dict(est, se):
    z = est / se if se > 0 else float("nan")
    return {"estimate": float(est), "se": float(se), "z": float(z), "p": float(2.0 * stats.norm.sf(abs(z)))}


def _brent(f, lo, hi, what):
    res = minimize_scalar(lambda r: -f(r), bounds=(lo, hi), method="bounded", options={"xatol": _XATOL, "maxiter": 500})
    if not res.success or not np.isfinite(res.fun):
        raise ModelError(f"the likelihood in {what} did not converge on ({lo:.4g}, {hi:.4g}): {res.message}")
    return float(res.x)


def _corrected(f, f_locate, lower, upper, x0, h=0.01, max_iter=12):
    """Maximise f = f_locate + delta with delta (the log-determinant's approximation error) smooth.

    delta is interpolated by a quadratic through the last three exact evaluations and the
    cheap f_locate + quadratic is maximised by Brent; this converges in a few exact
    evaluations. Returns None when it does not (the caller then runs Brent on f).
    """
    xs = [x for x in (x0 - h, x0 + h, x0) if lower < x < upper]
    if len(xs) < 3:
        return None
    fs = [f(x) for x in xs]
    ds = [fx - f_locate(x) for x, fx in zip(xs, fs)]
    x_last = x0
    for _ in range(max_iter):
        c = np.polyfit(np.array(xs[-3:]) - x_last, np.array(ds[-3:]), 2)
        lo, hi = max(lower, x_last - 2 * h), min(upper, x_last + 2 * h)
        x_new = _brent(lambda r: f_locate(r) + np.polyval(c, r - x_last), lo, hi, "the corrected likelihood")
        if min(x_new - lo, hi - x_new) < 1e-6 * h:
            return None
        if abs(x_new - x_last) <= 3e-8 * (1.0 + abs(x_new)):  # Brent's own resolution
            fx = f(x_new)
            # the exact likelihood must not be lower than at any point evaluated on the way
            return x_new if fx >= max(fs) - 1e-10 * abs(fx) else None
        xs.append(x_new)
        fs.append(f(x_new))
        ds.append(fs[-1] - f_locate(x_new))
        x_last = x_new
    return None


def _maximise(f, lower, upper, what, f_locate=None):
    """Bounded Brent maximisation of f on (lower, upper).

    With ``f_locate`` (the same likelihood with a cheap approximate log-determinant) the
    optimum is located on the approximation and then corrected with a few exact
    evaluations (``_corrected``), which cuts the number of sparse LU factorisations from
    ~12 to ~5 per fit; plain Brent on f is the fallback.
    """
    span = upper - lower
    x = None
    if f_locate is not None:
        x0 = _brent(f_locate, lower, upper, what)
        x = _corrected(f, f_locate, lower, upper, x0)
    if x is None:
        x = _brent(f, lower, upper, what)
    if min(x - lower, upper - x) < 1e-6 * span:
        raise ModelError(
            f"{what} = {x:.6g} is on the bound of its admissible interval ({lower:.4g}, {upper:.4g}); "
            "the likelihood has no interior maximum (check the weights and the model)"
        )
    return x


# --------------------------------------------------------------------------- lag (SAR / SDM)
def lag_ml(y, Z, Wy, logdet, lower, upper, *, t: int = 1, locator=None) -> dict:
    """Concentrated ML of y = rho Wy + Z b + e. ``logdet(rho)`` is log|I - rho W| (times t for panels).

    ``locator`` (optional, e.g. ``LogDet.locator``) is a cheap approximate log-determinant
    used only to bracket the optimum. Returns rho, beta, residuals, sigma2 (SSE / len(y))
    and the log-likelihood.
    """
    n = len(y)
    B = _ols(Z, np.column_stack([y, Wy]))
    b0, bL = B[:, 0], B[:, 1]
    e0 = y - Z @ b0
    eL = Wy - Z @ bL
    a00, a01, a11 = e0 @ e0, e0 @ eL, eL @ eL

    def conc(rho, ld=logdet):
        sse = a00 - 2.0 * rho * a01 + rho * rho * a11
        return -0.5 * n * math.log(sse / n) + t * ld(rho)

    rho = _maximise(conc, lower, upper, "rho", None if locator is None else (lambda r: conc(r, locator)))
    beta = b0 - rho * bL
    e = e0 - rho * eL
    s2 = float(e @ e) / n
    ll = -0.5 * n * (math.log(2 * math.pi) + math.log(s2) + 1.0) + t * logdet(rho)
    return {"rho": rho, "beta": beta, "resid": e, "sigma2": s2, "loglik": ll}


def lag_hessian_cov(y, Z, Wy, rho, beta, s2, ld2) -> np.ndarray:
    """Covariance of (rho, beta) from the observed Hessian of the full log-likelihood.

    ``ld2`` is the second derivative of the (T-scaled) log-determinant at rho.
    """
    n = len(y)
    e = y - rho * Wy - Z @ beta
    k = Z.shape[1]
    H = np.empty((k + 2, k + 2))
    H[0, 0] = ld2 - (Wy @ Wy) / s2
    H[0, 1 : k + 1] = H[1 : k + 1, 0] = -(Z.T @ Wy) / s2
    H[0, k + 1] = H[k + 1, 0] = -(e @ Wy) / s2**2
    H[1 : k + 1, 1 : k + 1] = -(Z.T @ Z) / s2
    H[1 : k + 1, k + 1] = H[k + 1, 1 : k + 1] = -(Z.T @ e) / s2**2
    H[k + 1, k + 1] = n / (2 * s2**2) - (e @ e) / s2**3
    V = _inv(-H, "the observed Hessian")
    return V[: k + 1, : k + 1]


def _lag_information_cov(Wd, Z, rho, beta, s2) -> np.ndarray:
    """Covariance of (rho, beta) from the analytic information matrix (spatialreg ``eigen``)."""
    n, k = Z.shape
    A = np.eye(n) - rho * Wd
    WA = np.linalg.solve(A.T, Wd.T).T  # W (I - rho W)^-1
    tr_wa = np.trace(WA)
    tr_wa2 = float(np.einsum("ij,ji->", WA, WA))
    tr_wawa = float(np.einsum("ij,ij->", WA, WA))
    wazb = WA @ (Z @ beta)
    info = np.zeros((k + 2, k + 2))
    info[0, 0] = n / (2 * s2**2)
    info[0, 1] = info[1, 0] = tr_wa / s2
    info[1, 1] = tr_wa2 + tr_wawa + (wazb @ wazb) / s2
    info[1, 2:] = info[2:, 1] = (Z.T @ wazb) / s2
    info[2:, 2:] = (Z.T @ Z) / s2
    V = _inv(info, "the information matrix")
    return V[1:, 1:]


# --------------------------------------------------------------------------- error (SEM / SDEM)
def error_ml(y, Z, Wy, WZ, logdet, lower, upper, *, t: int = 1, locator=None) -> dict:
    """Concentrated ML of y = Z b + u, u = lambda W u + e (``logdet`` times t for panels)."""
    n, k = Z.shape
    Ya = np.column_stack([y, Z])
    WYa = np.column_stack([Wy, WZ])
    M0 = Ya.T @ Ya
    M1 = Ya.T @ WYa
    M1 = M1 + M1.T
    M2 = WYa.T @ WYa

    def parts(lam):
        C = M0 - lam * M1 + lam * lam * M2
        Cxx = C[1:, 1:]
        cxy = C[1:, 0]
        try:
            b = sla.solve(Cxx, cxy, assume_a="pos")
        except (np.linalg.LinAlgError, sla.LinAlgError) as exc:
            raise ModelError(f"singular design at lambda={lam:.6g}: {exc}") from exc
        return b, C[0, 0] - cxy @ b

    def conc(lam, ld=logdet):
        _, sse = parts(lam)
        if sse <= 0:
            return -np.inf
        return -0.5 * n * math.log(sse / n) + t * ld(lam)

    lam = _maximise(conc, lower, upper, "lambda", None if locator is None else (lambda r: conc(r, locator)))
    beta, _ = parts(lam)
    e = y - Z @ beta
    u = e - lam * (Wy - WZ @ beta)
    s2 = float(u @ u) / n
    ll = -0.5 * n * (math.log(2 * math.pi) + math.log(s2) + 1.0) + t * logdet(lam)
    return {"lambda": lam, "beta": beta, "resid": e, "innov": u, "sigma2": s2, "loglik": ll}


def error_hessian_cov(y, Z, Wy, WZ, lam, beta, s2, ld2) -> np.ndarray:
    """Covariance of (lambda, beta): lambda's variance from the observed Hessian of the full
    log-likelihood, beta's from the information matrix sigma^2 (X*'X*)^-1 with X* = (I - lambda W) X,
    block-diagonal as spatialreg's ``errorsarlm`` for every method."""
    n, k = Z.shape
    e = y - Z @ beta
    We = Wy - WZ @ beta
    u = e - lam * We
    Xs = Z - lam * WZ
    H = np.empty((k + 2, k + 2))
    H[0, 0] = ld2 - (We @ We) / s2
    H[0, 1 : k + 1] = H[1 : k + 1, 0] = -(WZ.T @ u + Xs.T @ We) / s2
    H[0, k + 1] = H[k + 1, 0] = -(u @ We) / s2**2
    H[1 : k + 1, 1 : k + 1] = -(Xs.T @ Xs) / s2
    H[1 : k + 1, k + 1] = H[k + 1, 1 : k + 1] = -(Xs.T @ u) / s2**2
    H[k + 1, k + 1] = n / (2 * s2**2) - (u @ u) / s2**3
    V = _inv(-H, "the observed Hessian")
    out = np.zeros((k + 1, k + 1))
    out[0, 0] = V[0, 0]
    out[1:, 1:] = s2 * _inv(Xs.T @ Xs, "X*'X*")
    return out


def _error_information_cov(Wd, Z, WZ, lam, s2) -> np.ndarray:
    """Covariance of (lambda, beta) from the analytic information matrix (spatialreg ``eigen``)."""
    n, k = Z.shape
    A = np.eye(n) - lam * Wd
    WA = np.linalg.solve(A.T, Wd.T).T
    info = np.zeros((k + 2, k + 2))
    info[0, 0] = n / (2 * s2**2)
    info[0, 1] = info[1, 0] = np.trace(WA) / s2
    info[1, 1] = float(np.einsum("ij,ji->", WA, WA)) + float(np.einsum("ij,ij->", WA, WA))
    Xs = Z - lam * WZ
    info[2:, 2:] = (Xs.T @ Xs) / s2
    V = _inv(info, "the information matrix")
    return V[1:, 1:]


def _inv(M, what):
    try:
        V = np.linalg.inv(M)
    except np.linalg.LinAlgError as exc:
        raise ModelError(f"{what} is singular; the model is not identified ({exc})") from exc
    if not np.all(np.isfinite(V)) or np.any(np.diag(V) <= 0):
        raise ModelError(f"{what} is not positive definite at the estimate; the fit did not converge to a maximum")
    return V


# --------------------------------------------------------------------------- tests
def _chi2(stat, df, note=None):
    out = {"statistic": float(stat), "df": int(df), "p": float(stats.chi2.sf(stat, df))}
    if note:
        out["note"] = note
    return out


def sdm_tests(*, ll_sdm, ll_sar, ll_sem, rho, beta_x, theta, V_rbt) -> dict:
    """LR and Wald tests of SDM against SAR (theta = 0) and SEM (theta = -rho beta).

    ``V_rbt`` is the covariance of (rho, beta_x, theta) (intercept excluded).
    """
    K = len(theta)
    Vt = V_rbt[1 + K :, 1 + K :]
    wald_sar = float(theta @ np.linalg.solve(Vt, theta))
    g = theta + rho * beta_x
    G = np.zeros((K, 1 + 2 * K))
    G[:, 0] = beta_x
    G[:, 1 : 1 + K] = rho * np.eye(K)
    G[:, 1 + K :] = np.eye(K)
    wald_sem = float(g @ np.linalg.solve(G @ V_rbt @ G.T, g))
    return {
        "LR_sdm_vs_sar": _chi2(max(2.0 * (ll_sdm - ll_sar), 0.0), K, "H0: theta = 0 (SAR)"),
        "Wald_sdm_vs_sar": _chi2(wald_sar, K, "H0: theta = 0 (SAR)"),
        "LR_sdm_vs_sem": _chi2(max(2.0 * (ll_sdm - ll_sem), 0.0), K, "H0: theta = -rho beta (SEM, common factor)"),
        "Wald_sdm_vs_sem": _chi2(wald_sem, K, "H0: theta = -rho beta (SEM, common factor)"),
    }


# --------------------------------------------------------------------------- driver
def _ols_loglik(y, Z):
    n = len(y)
    b = _ols(Z, y)
    e = y - Z @ b
    s2 = float(e @ e) / n
    return b, e, -0.5 * n * (math.log(2 * math.pi) + math.log(s2) + 1.0)


def _cov_method(ld: LogDet, covariance: str) -> str:
    if covariance == "auto":
        return "information" if ld.method == "eigen" else "hessian"
    return covariance


_COV_TEXT = {
    "information": "analytic information matrix with exact dense traces (as spatialreg method='eigen')",
    "hessian": "observed Hessian of the full log-likelihood, analytic except the log-determinant's second "
    "derivative (Richardson differences); as spatialreg's numerical Hessian for method='LU' "
    "(error models: beta block from sigma^2 (X*'X*)^-1, as spatialreg)",
}


def fit_cross(
    y,
    X,
    W,
    *,
    x_names,
    y_name: str = "y",
    index=None,
    model: str = "sdm",
    logdet="auto",
    covariance: str = "auto",
    draws: int = 1000,
    seed=None,
    impacts_order: int = 5,
    intercept: bool = True,
    tests: bool = True,
) -> DurbinResult:
    """Fit one cross-section model by ML (OLS for ``slx``/``ols``).

    Parameters
    ----------
    y : (n,) array
    X : (n, k) array of regressors without the intercept (added when ``intercept``).
    W : scipy sparse (n, n) weights, rows in the order of ``y``.
    x_names : names of the columns of X.
    index : the unit ids (for ``fitted``/``residuals``); default 0..n-1.
    logdet : method name (see :func:`geo.durbin.logdet.make_logdet`) or a prepared LogDet.
    covariance : ``auto`` (information for eigen, Hessian otherwise), ``information`` or ``hessian``.
    draws, seed : simulation of the impacts' distribution (``draws=0`` skips it).
    impacts_order : highest power of W in the impacts' decomposition by neighbour order.
    """
    check_choice("model", model, MODELS)
    check_choice("covariance", covariance, ("auto", "information", "hessian"))
    Wm = as_sparse_weights(W)
    y = np.asarray(y, dtype=float).ravel()
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    n = len(y)
    x_names = [str(c) for c in x_names]
    if X.shape != (n, len(x_names)):
        raise ModelError(f"X has shape {X.shape}, expected ({n}, {len(x_names)}) for regressors {x_names}")
    if Wm.shape[0] != n:
        raise ModelError(f"weights have {Wm.shape[0]} units but the data have {n} rows")
    if not np.all(np.isfinite(y)):
        raise ModelError(f"{y_name} contains NaN or infinite values")
    if draws is None or int(draws) < 0:
        raise OptionError(f"draws={draws!r} must be a non-negative integer")
    index = pd.RangeIndex(n) if index is None else pd.Index(index)

    Wy = Wm @ y
    WX = Wm @ X
    Xc = np.column_stack([np.ones(n), X]) if intercept else X
    base_names = ([INTERCEPT] if intercept else []) + x_names
    lag_names = [f"W_{c}" for c in x_names]
    durbin = model in ("sdm", "slx", "sdem")
    Z = np.column_stack([Xc, WX]) if durbin else Xc
    names = base_names + (lag_names if durbin else [])
    check_design(Z, names)
    kx = len(x_names)
    off = 1 if intercept else 0

    if model in ("slx", "ols"):
        return _fit_ols_family(y, Z, Wm, names, x_names, y_name, index, model, kx, off)

    ld = logdet if isinstance(logdet, LogDet) else make_logdet(Wm, method=logdet)
    if ld.n != n:
        raise OptionError(f"logdet was built for {ld.n} units but the weights have {n}")
    cov_kind = _cov_method(ld, covariance)
    if cov_kind == "information" and n > 20_000:
        raise ModelError(f"covariance='information' needs dense {n} x {n} traces; use 'hessian'")
    notes = []

    if model in ("sdm", "sar"):
        fit = lag_ml(y, Z, Wy, ld, ld.lower, ld.upper, locator=ld.locator)
        rho, beta, s2 = fit["rho"], fit["beta"], fit["sigma2"]
        if cov_kind == "information":
            V = _lag_information_cov(Wm.toarray(), Z, rho, beta, s2)
        else:
            V = lag_hessian_cov(y, Z, Wy, rho, beta, s2, ld.second_derivative(rho))
        se = np.sqrt(np.diag(V))
        coefs = coef_frame(names, beta, se[1:])
        spatial = _spatial_dict(rho, se[0])
        vnames = ["rho"] + names
        fitted = y - fit["resid"]
        resid = fit["resid"]
        k_par = Z.shape[1] + 2
        test_out = {}
        _, _, ll_ols = _ols_loglik(y, Z)
        test_out["LR_rho"] = _chi2(max(2 * (fit["loglik"] - ll_ols), 0.0), 1, "H0: rho = 0")
        # impacts
        bx = beta[off : off + kx]
        th = beta[off + kx : off + 2 * kx] if model == "sdm" else None
        sel = [0] + list(range(1 + off, 1 + off + kx)) + (list(range(1 + off + kx, 1 + off + 2 * kx)) if th is not None else [])
        Vsub = V[np.ix_(sel, sel)]
        engine = _trace_engine(Wm, ld, rho, se[0], seed)
        imp = lag_impacts(
            names=x_names, rho=rho, beta=bx, theta=th, cov=Vsub, engine=engine, lower=ld.lower, upper=ld.upper,
            draws=int(draws), seed=seed, order=impacts_order,
        )
        if model == "sdm" and tests:
            sar = lag_ml(y, Xc, Wy, ld, ld.lower, ld.upper, locator=ld.locator)
            sem = error_ml(y, Xc, Wy, Wm @ Xc, ld, ld.lower, ld.upper, locator=ld.locator)
            test_out.update(
                sdm_tests(ll_sdm=fit["loglik"], ll_sar=sar["loglik"], ll_sem=sem["loglik"], rho=rho, beta_x=bx,
                          theta=th, V_rbt=Vsub)
            )
        spatial_name = "rho"
    else:  # sem, sdem
        WZ = Wm @ Z
        fit = error_ml(y, Z, Wy, WZ, ld, ld.lower, ld.upper, locator=ld.locator)
        lam, beta, s2 = fit["lambda"], fit["beta"], fit["sigma2"]
        if cov_kind == "information":
            V = _error_information_cov(Wm.toarray(), Z, WZ, lam, s2)
        else:
            V = error_hessian_cov(y, Z, Wy, WZ, lam, beta, s2, ld.second_derivative(lam))
        se = np.sqrt(np.diag(V))
        coefs = coef_frame(names, beta, se[1:])
        spatial = _spatial_dict(lam, se[0])
        vnames = ["lambda"] + names
        resid = fit["resid"]
        fitted = y - resid
        k_par = Z.shape[1] + 2
        _, _, ll_ols = _ols_loglik(y, Z)
        test_out = {"LR_lambda": _chi2(max(2 * (fit["loglik"] - ll_ols), 0.0), 1, "H0: lambda = 0")}
        bx = beta[off : off + kx]
        if model == "sdem":
            th = beta[off + kx : off + 2 * kx]
            sel = list(range(1 + off, 1 + off + 2 * kx))
            imp = linear_impacts(names=x_names, beta=bx, theta=th, cov=V[np.ix_(sel, sel)])
        else:
            sel = list(range(1 + off, 1 + off + kx))
            imp = linear_impacts(names=x_names, beta=bx, theta=None, cov=V[np.ix_(sel, sel)])
        spatial_name = "lambda"
        notes.append("fitted values are X beta (the trend); residuals y - X beta include the spatial error")

    ll = fit["loglik"]
    return DurbinResult(
        model=model,
        effects="none",
        n=n,
        t=1,
        y_name=y_name,
        coefficients=coefs,
        spatial_name=spatial_name,
        spatial=spatial,
        sigma2=s2,
        loglik=ll,
        aic=-2 * ll + 2 * k_par,
        n_params=k_par,
        logdet_method=ld.method,
        logdet_description=ld.description,
        covariance=_COV_TEXT[cov_kind],
        vcov=pd.DataFrame(V, index=vnames, columns=vnames),
        impacts=imp,
        tests=test_out,
        fitted=pd.Series(fitted, index=index, name="fitted"),
        residuals=pd.Series(resid, index=index, name="residual"),
        notes=tuple(notes),
    )


def _trace_engine(Wm, ld, rho, rho_se, seed):
    if ld.eigenvalues is not None:
        return TraceEngine(Wm, ld)
    r = min(abs(rho) + 5 * rho_se, 0.995)
    order = int(min(400, max(30, math.ceil(math.log(1e-10) / math.log(max(r, 1e-3))))))
    return TraceEngine(Wm, None, max_order=order, seed=0 if seed is None else seed)


def _fit_ols_family(y, Z, Wm, names, x_names, y_name, index, model, kx, off):
    from geo.durbin.diagnostics import lm_tests

    n, k = Z.shape
    b, e, ll = _ols_loglik(y, Z)
    s2_ml = float(e @ e) / n
    s2_unb = float(e @ e) / (n - k)
    V = s2_unb * np.linalg.inv(Z.T @ Z)
    se = np.sqrt(np.diag(V))
    coefs = coef_frame(names, b, se, df=n - k)
    test_out = lm_tests(y, Z, Wm) if model == "ols" else {}
    if model == "slx":
        sel = list(range(off, off + 2 * kx))
        imp = linear_impacts(names=x_names, beta=b[off : off + kx], theta=b[off + kx : off + 2 * kx], cov=V[np.ix_(sel, sel)])
    else:
        imp = None
    k_par = k + 1
    return DurbinResult(
        model=model,
        effects="none",
        n=n,
        t=1,
        y_name=y_name,
        coefficients=coefs,
        spatial_name=None,
        spatial=None,
        sigma2=s2_ml,
        loglik=ll,
        aic=-2 * ll + 2 * k_par,
        n_params=k_par,
        logdet_method="none",
        logdet_description="not needed (OLS)",
        covariance="OLS: sigma^2 (X'X)^-1 with sigma^2 = SSE / (n - k), as R's lm",
        vcov=pd.DataFrame(V, index=names, columns=names),
        impacts=imp,
        tests=test_out,
        fitted=pd.Series(y - e, index=index, name="fitted"),
        residuals=pd.Series(e, index=index, name="residual"),
        notes=("sigma2 is the ML estimate SSE / n; standard errors use SSE / (n - k) and p-values Student's t "
               f"with {n - k} df (as R's lm)",),
    )
