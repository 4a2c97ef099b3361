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

from geo.durbin.engine import check_design, check_outcome, invert, maximise, ols
from geo.durbin.impacts import TraceEngine, lag_impacts, linear_impacts
from geo.durbin.logdet import LogDet, as_sparse_weights, make_logdet
from geo.durbin.results import DurbinResult
from geo.durbin.sac import IDENTIFICATION_NOTE, sac_hessian_cov, sac_ml
from geo.durbin.tests import lm_tests, lr_test, sdm_tests, z_record
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

MODELS = ("sdm", "sar", "sem", "slx", "sdem", "ols", "sac", "gns")
INTERCEPT = "(Intercept)"


def coef_frame(names, estimate, se, *, df=None) -> pd.DataFrame:
    """estimate, se, z (= estimate / se) and two-sided p (normal; Student t with ``df`` for OLS, as R's lm)."""
    estimate = np.asarray(estimate, dtype=float)
    se = np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = estimate / se
    p = 2.0 * (stats.norm.sf(np.abs(z)) if df is None else stats.t.sf(np.abs(z), df))
    return pd.DataFrame({"estimate": estimate, "se": se, "z": z, "p": p}, index=pd.Index(list(names), name="name"))



# --------------------------------------------------------------------------- lag (SAR / SDM)
def lag_ml(y, Z, Wy, logdet, lower, upper, *, n_obs: int | None = None, locator=None) -> dict:
    """Concentrated ML of y = rho Wy + Z b + e; ``logdet(rho)`` is the whole Jacobian term.

    For a cross-section the Jacobian is log|I - rho W|; panels pass their T-scaled (and,
    with Lee-Yu time effects, unit-root-corrected) Jacobian and ``n_obs``, the effective
    number of observations (default len(y)) that divides the SSE. ``locator`` (optional,
    e.g. ``LogDet.locator``) is a cheap approximate Jacobian used only to bracket the
    optimum. Returns rho, beta, residuals, sigma2 (SSE / n_obs) and the log-likelihood.
    """
    n = len(y) if n_obs is None else int(n_obs)
    B = ols(Z, np.column_stack([y, Wy]))
    b0, bL = B[:, 0], B[:, 1]
    e0 = y - Z @ b0
    eL = Wy - Z @ bL
    a00, a01, a11 = e0 @ e0, e0 @ eL, eL @ eL

    def conc(rho, ld=logdet):
        sse = a00 - 2.0 * rho * a01 + rho * rho * a11
        return -0.5 * n * math.log(sse / n) + ld(rho)

    rho = maximise(conc, lower, upper, "rho", locator=None if locator is None else (lambda r: conc(r, locator)))
    beta = b0 - rho * bL
    e = e0 - rho * eL
    s2 = float(e @ e) / n
    ll = -0.5 * n * (math.log(2 * math.pi) + math.log(s2) + 1.0) + logdet(rho)
    return {"rho": rho, "beta": beta, "resid": e, "sigma2": s2, "loglik": ll}


def lag_hessian_cov(y, Z, Wy, rho, beta, s2, ld2, *, n_obs: int | None = None, full: bool = False) -> np.ndarray:
    """Covariance of (rho, beta) from the observed Hessian of the full log-likelihood.

    ``ld2`` is the second derivative of the Jacobian term at rho; ``n_obs`` the effective
    number of observations (default len(y)). With ``full`` the covariance of
    (rho, beta, sigma2) is returned.
    """
    n = len(y) if n_obs is None else int(n_obs)
    e = y - rho * Wy - Z @ beta
    k = Z.shape[1]
    H = np.empty((k + 2, k + 2))
    H[0, 0] = ld2 - (Wy @ Wy) / s2
    H[0, 1 : k + 1] = H[1 : k + 1, 0] = -(Z.T @ Wy) / s2
    H[0, k + 1] = H[k + 1, 0] = -(e @ Wy) / s2**2
    H[1 : k + 1, 1 : k + 1] = -(Z.T @ Z) / s2
    H[1 : k + 1, k + 1] = H[k + 1, 1 : k + 1] = -(Z.T @ e) / s2**2
    H[k + 1, k + 1] = n / (2 * s2**2) - (e @ e) / s2**3
    V = invert(-H, "the observed Hessian")
    return V if full else V[: k + 1, : k + 1]


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
    V = invert(info, "the information matrix")
    return V[1:, 1:]


# --------------------------------------------------------------------------- error (SEM / SDEM)
def error_ml(y, Z, Wy, WZ, logdet, lower, upper, *, locator=None) -> dict:
    """Concentrated ML of y = Z b + u, u = lambda W u + e; ``logdet(lambda)`` is the Jacobian term."""
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
        return -0.5 * n * math.log(sse / n) + ld(lam)

    lam = maximise(conc, lower, upper, "lambda", locator=None if locator is None else (lambda r: conc(r, locator)))
    beta, _ = parts(lam)
    e = y - Z @ beta
    u = e - lam * (Wy - WZ @ beta)
    s2 = float(u @ u) / n
    ll = -0.5 * n * (math.log(2 * math.pi) + math.log(s2) + 1.0) + logdet(lam)
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
    V = invert(-H, "the observed Hessian")
    out = np.zeros((k + 1, k + 1))
    out[0, 0] = V[0, 0]
    out[1:, 1:] = s2 * invert(Xs.T @ Xs, "X*'X*")
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
    V = invert(info, "the information matrix")
    return V[1:, 1:]


# --------------------------------------------------------------------------- driver
def _ols_loglik(y, Z):
    n = len(y)
    b = ols(Z, y)
    e = y - Z @ b
    s2 = float(e @ e) / n
    return b, e, -0.5 * n * (math.log(2 * math.pi) + math.log(s2) + 1.0)


def _cov_method(ld: LogDet, covariance: str) -> str:
    if covariance == "auto":
        return "information" if ld.method == "eigen" else "hessian"
    return covariance


_COV_TEXT = {
    "sac": "observed Hessian of the full log-likelihood in (rho, lambda, beta, sigma^2), analytic except the "
    "log-determinants' second derivatives (exact from eigenvalues; Richardson differences for LU)",
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
    durbin = model in ("sdm", "slx", "sdem", "gns")
    Z = np.column_stack([Xc, WX]) if durbin else Xc
    names = base_names + (lag_names if durbin else [])
    check_design(Z, names)
    check_outcome(y, Z, y_name, x_names=x_names)
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

    spatial_more = {}
    if model in ("sac", "gns"):
        fit = sac_ml(y, Z, Wm, ld, ld.lower, ld.upper, locator=ld.locator)
        rho, lam, beta, s2 = fit["rho"], fit["lambda"], fit["beta"], fit["sigma2"]
        V = sac_hessian_cov(y, Z, Wm, rho, lam, beta, s2, ld.second_derivative(rho), ld.second_derivative(lam))
        cov_kind = "sac"
        se = np.sqrt(np.diag(V))
        coefs = coef_frame(names, beta, se[2:])
        spatial = z_record(rho, se[0])
        spatial_more = {"lambda": z_record(lam, se[1])}
        # vcov over (rho, coefficients) like the other models, lambda's row/column after rho
        vnames = ["rho", "lambda"] + names
        resid = fit["resid"]
        fitted = y - fit["r"]  # rho W y + X b (+ W X theta): the part without the spatial error
        k_par = Z.shape[1] + 3
        bx = beta[off : off + kx]
        th = beta[off + kx : off + 2 * kx] if model == "gns" else None
        sel = [0] + list(range(2 + off, 2 + off + kx)) + (
            list(range(2 + off + kx, 2 + off + 2 * kx)) if th is not None else [])
        engine = _trace_engine(Wm, ld, rho, se[0], seed)
        imp = lag_impacts(
            names=x_names, rho=rho, beta=bx, theta=th, cov=V[np.ix_(sel, sel)], engine=engine, lower=ld.lower,
            upper=ld.upper, draws=int(draws), seed=seed, order=impacts_order,
        )
        test_out = {}
        if tests:
            lagged = lag_ml(y, Z, Wy, ld, ld.lower, ld.upper, locator=ld.locator)
            err = error_ml(y, Z, Wy, Wm @ Z, ld, ld.lower, ld.upper, locator=ld.locator)
            nest = ("sdm", "sdem") if model == "gns" else ("sar", "sem")
            test_out[f"LR_{model}_vs_{nest[0]}"] = lr_test(fit["loglik"], lagged["loglik"], 1, "H0: lambda = 0")
            test_out[f"LR_{model}_vs_{nest[1]}"] = lr_test(fit["loglik"], err["loglik"], 1, "H0: rho = 0")
        spatial_name = "rho"
        notes.append(IDENTIFICATION_NOTE)
        notes.append("fitted values are rho W y + X beta (+ W X theta); residuals are the innovations e")
    elif model in ("sdm", "sar"):
        fit = lag_ml(y, Z, Wy, ld, ld.lower, ld.upper, locator=ld.locator)
        rho, beta, s2 = fit["rho"], fit["beta"], fit["sigma2"]
        if cov_kind == "information":
            V = _lag_information_cov(Wm.toarray(), Z, rho, beta, s2)
        else:
            V = lag_hessian_cov(y, Z, Wy, rho, beta, s2, ld.second_derivative(rho))
        se = np.sqrt(np.diag(V))
        coefs = coef_frame(names, beta, se[1:])
        spatial = z_record(rho, se[0])
        vnames = ["rho"] + names
        fitted = y - fit["resid"]
        resid = fit["resid"]
        k_par = Z.shape[1] + 2
        test_out = {}
        _, _, ll_ols = _ols_loglik(y, Z)
        test_out["LR_rho"] = lr_test(fit["loglik"], ll_ols, 1, "H0: rho = 0")
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
    elif model in ("sem", "sdem"):
        WZ = Wm @ Z
        fit = error_ml(y, Z, Wy, WZ, ld, ld.lower, ld.upper, locator=ld.locator)
        lam, beta, s2 = fit["lambda"], fit["beta"], fit["sigma2"]
        if cov_kind == "information":
            V = _error_information_cov(Wm.toarray(), Z, WZ, lam, s2)
        else:
            V = error_hessian_cov(y, Z, Wy, WZ, lam, beta, s2, ld.second_derivative(lam))
        se = np.sqrt(np.diag(V))
        coefs = coef_frame(names, beta, se[1:])
        spatial = z_record(lam, se[0])
        vnames = ["lambda"] + names
        resid = fit["resid"]
        fitted = y - resid
        k_par = Z.shape[1] + 2
        _, _, ll_ols = _ols_loglik(y, Z)
        test_out = {"LR_lambda": lr_test(fit["loglik"], ll_ols, 1, "H0: lambda = 0")}
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
        spatial_more=spatial_more,
    )


def _trace_engine(Wm, ld, rho, rho_se, seed):
    if ld.eigenvalues is not None:
        return TraceEngine(Wm, ld)
    r = min(abs(rho) + 5 * rho_se, 0.995)
    order = int(min(400, max(30, math.ceil(math.log(1e-10) / math.log(max(r, 1e-3))))))
    return TraceEngine(Wm, None, max_order=order, seed=0 if seed is None else seed)


def _fit_ols_family(y, Z, Wm, names, x_names, y_name, index, model, kx, off):
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
