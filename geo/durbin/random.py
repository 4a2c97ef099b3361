"""Random-effects spatial lag (SAR), Durbin (SDM) and error (SEM) panels by ML, with a Hausman test against
fixed effects.

Model (Elhorst 2014, sec. 3.3.2; Anselin, Le Gallo & Jayet 2008), N units x T periods::

    y_t = rho W y_t + a + X_t beta + W X_t theta + mu + e_t,   mu_i ~ iid(0, s2_mu), e_it ~ iid(0, s2)

With phi^2 = s2 / (s2 + T s2_mu) the error covariance is s2 (Q + P / phi^2), P = (11'/T) x I_N,
Q = I - P, and (Q + phi P) commutes with I_T x (I - rho W), so the exact log-likelihood is

    -NT/2 log(2 pi s2) + N/2 log phi^2 + T log|I - rho W| - ||(Q + phi P)((I - rho W) y - X b)||^2 / (2 s2),

i.e. the cross-section lag likelihood on the quasi-demeaned data y* = y - (1 - phi) ybar_i
(the intercept column becomes phi), plus N/2 log phi^2. For each phi in (0, 1], rho,
beta and s2 are concentrated out by ``cross.lag_ml`` (the engine's maximiser) and the
profile in phi is maximised by the same maximiser: there is no second optimiser
(Elhorst's iteration between phi and (rho, beta) converges to the same point).

Covariance: the inverse of the observed Hessian of the exact log-likelihood in
(rho, beta, phi, s2), by Richardson-extrapolated central differences of the closed-form
log-likelihood (as spatialreg's numerical Hessian; it is checked against the analytic
lag Hessian in the tests).

Hausman (1978) test: the fixed-effects (individual, Lee-Yu) estimates of (rho, beta,
theta) against the random-effects ones; H0: the random effects are uncorrelated with
the regressors (RE consistent and efficient). V_RE is the covariance of (rho, beta) given
phi (the analytic lag Hessian on the quasi-demeaned data): the (beta, phi) information is
zero under H0, and the full Hessian's beta-phi terms, non-zero under the alternative,
would make V_FE - V_RE indefinite and cost the test most of its power.

Spatial error with random effects (``model="sem"``), the Kapoor, Kelejian & Prucha (2007)
form (splm ``spml(model="random", spatial.error="kkp")``; Elhorst's ``sem_panel_RE``)::

    y_t = a + X_t beta + u_t,   u_t = lambda W u_t + e_t,   e_t = mu + v_t

so both components of the error are spatially correlated and, with B = I - lambda W, the
covariance of u is (I_T x B^-1) s2 (Q + P / phi^2) (I_T x B^-1)'. Its log-likelihood is

    -NT/2 log(2 pi s2) + N log phi + T log|B| - ||(Q + phi P)(I_T x B)(y - Z b)||^2 / (2 s2),

the cross-section error likelihood on the quasi-demeaned data plus N log phi, concentrated
by ``cross.error_ml`` and profiled in phi by the same maximiser. The Baltagi, Song & Koh
(2003) form (only v_t spatially correlated, mu not) needs log|T phi^2 I + (B'B)^-1| for
every (lambda, phi) and is not offered. The Hausman test compares (lambda, beta) with the
individual fixed-effects SEM; V_RE is the information-matrix covariance given phi.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from geo.durbin import panel as P
from geo.durbin.cross import INTERCEPT, coef_frame, error_hessian_cov, error_ml, lag_hessian_cov, lag_ml
from geo.durbin.engine import check_design, check_outcome, invert, maximise, richardson_hessian
from geo.durbin.impacts import TraceEngine, lag_impacts, linear_impacts
from geo.durbin.logdet import LogDet, make_logdet
from geo.durbin.results import DurbinResult
from geo.durbin.tests import hausman_test, z_record
from geo.errors import OptionError, check_choice

__all__ = ["fit_random"]



def _loglik(y, Z, Wy, ld, T, N, rho, beta, phi, s2):
    """Exact RE log-likelihood at (rho, beta, phi, s2); y, Z, Wy stacked (T, N) raw (not transformed)."""
    r = (y - rho * Wy - Z @ beta).reshape(T, N)
    r = r - (1.0 - phi) * r.mean(axis=0, keepdims=True)
    n = T * N
    return (-0.5 * n * math.log(2 * math.pi * s2) + N * math.log(phi) + T * ld(rho)
            - float((r * r).sum()) / (2 * s2))


def _loglik_error(y, Z, Wy, WZ, ld, T, N, lam, beta, phi, s2):
    """Exact RE spatial-error (KKP) log-likelihood at (lambda, beta, phi, s2); stacked (T, N), not transformed."""
    r = ((y - Z @ beta) - lam * (Wy - WZ @ beta)).reshape(T, N)
    r = r - (1.0 - phi) * r.mean(axis=0, keepdims=True)
    n = T * N
    return (-0.5 * n * math.log(2 * math.pi * s2) + N * math.log(phi) + T * ld(lam)
            - float((r * r).sum()) / (2 * s2))


def fit_random(
    data: pd.DataFrame,
    y: str,
    x,
    *,
    weights,
    id: str,
    time: str,
    model: str = "sdm",
    logdet="auto",
    draws: int = 1000,
    seed=None,
    weight_ids=None,
    balance: str = "error",
    names=None,
    hausman: bool = True,
) -> DurbinResult:
    """Random-effects SAR/SDM/SEM panel by ML (module docstring); ``tests["hausman"]`` compares with fixed
    effects."""
    check_choice("model", model, ("sdm", "sar", "sem"))
    if int(draws) < 0:
        raise OptionError(f"draws={draws!r} must be >= 0")
    id = P._id_column(data, id, time)
    x_names = P._as_names(x)
    W, ids = P._weights_and_ids(weights, weight_ids)
    data, W, ids, balanced = P._balanced(data, W, ids, id=id, time=time, columns=[str(y), *x_names],
                                         policy=balance, names=names)
    panel = P._arrange(data, str(y), x_names, id, time, ids)
    T, N = panel.t, panel.n
    ld = logdet if isinstance(logdet, LogDet) else make_logdet(W, method=logdet)
    durbin = model == "sdm"
    X = panel.X
    if durbin:
        X = np.concatenate([X, P._lag(W, X)], axis=2)
    coef_names = [INTERCEPT] + list(x_names) + ([f"W_{v}" for v in x_names] if durbin else [])
    Z = np.concatenate([np.ones((T, N, 1)), X], axis=2).reshape(T * N, -1)
    yy = panel.y.ravel()
    Wy = P._lag(W, panel.y).ravel()
    check_design(Z, coef_names)
    check_outcome(yy, Z, str(y), x_names=coef_names[1:])
    jac = lambda r: T * ld(r)  # noqa: E731
    error = model == "sem"
    WZ = P._lag(W, Z.reshape(T, N, -1)).reshape(T * N, -1) if error else None

    def quasi(a, phi):
        a3 = a.reshape((T, N) + a.shape[1:])
        return (a3 - (1.0 - phi) * a3.mean(axis=0, keepdims=True)).reshape(a.shape)

    cache = {}

    def profile(phi):
        if phi not in cache:
            if error:
                fit = error_ml(quasi(yy, phi), quasi(Z, phi), quasi(Wy, phi), quasi(WZ, phi), jac, ld.lower, ld.upper)
            else:
                fit = lag_ml(quasi(yy, phi), quasi(Z, phi), quasi(Wy, phi), jac, ld.lower, ld.upper)
            cache[phi] = (fit["loglik"] + N * math.log(phi), fit)
        return cache[phi][0]

    phi = maximise(profile, 1e-6, 1.0, "phi (random-effects weight)", interior=False)
    if phi > 1.0 - 1e-5:
        phi_note = "phi = 1: the estimated variance of the random effects is 0 (pooled ML)"
    else:
        phi_note = None
    profile(phi)
    fit = cache[phi][1]
    rho, beta, s2 = fit["lambda" if error else "rho"], fit["beta"], fit["sigma2"]  # rho: the spatial parameter
    ll = cache[phi][0]
    p0 = np.concatenate([[rho], beta, [phi, s2]])
    K = len(beta)
    if error:
        f = lambda p: _loglik_error(yy, Z, Wy, WZ, ld, T, N, p[0], p[1 : K + 1], p[K + 1], p[K + 2])  # noqa: E731
    else:
        f = lambda p: _loglik(yy, Z, Wy, ld, T, N, p[0], p[1 : K + 1], p[K + 1], p[K + 2])  # noqa: E731
    scale = np.sqrt(s2 / np.maximum((Z**2).sum(axis=0), 1e-300) * N)  # ~ the coefficients' standard errors
    steps = np.concatenate([[1e-4], 1e-2 * scale, [1e-4 if phi < 1 - 1e-3 else 1e-6], [1e-3 * s2]])
    V = invert(-richardson_hessian(f, p0, steps), "the observed Hessian of the random-effects likelihood")
    Vs = V[: K + 1, : K + 1]  # (rho, beta)
    se = np.sqrt(np.diag(V))
    coefs = coef_frame(coef_names, beta, se[1 : K + 1])
    s2_mu = s2 * (1.0 / phi**2 - 1.0) / T
    kx = len(x_names)
    bx = beta[1 : 1 + kx]
    th = beta[1 + kx : 1 + 2 * kx] if durbin else None
    sel = [0] + list(range(2, 2 + kx)) + (list(range(2 + kx, 2 + 2 * kx)) if durbin else [])
    if error:  # no spillover through y: direct = beta, indirect = 0 (as the fixed-effects SEM)
        imp = linear_impacts(names=x_names, beta=bx, theta=None, cov=Vs[2 : 2 + kx, 2 : 2 + kx])
    else:
        imp = lag_impacts(names=x_names, rho=rho, beta=bx, theta=th, cov=Vs[np.ix_(sel, sel)],
                          engine=TraceEngine(W, ld if ld.eigenvalues is not None else None), lower=ld.lower,
                          upper=ld.upper, draws=int(draws), seed=seed, order=0)
    tests = {}
    notes = ["random effects: quasi-demeaning y - (1 - phi) ybar_i with phi^2 = s2 / (s2 + T s2_mu) (Elhorst 2014, "
             "sec. 3.3.2); exact ML, phi profiled by the engine's maximiser",
             *(["spatial error with random effects in the Kapoor-Kelejian-Prucha form: u = lambda W u + mu + v "
                "(both error components spatially correlated; splm spatial.error = 'kkp')"] if error else []),
             "covariance: observed Hessian by Richardson differences of the exact log-likelihood"]
    if phi_note:
        notes.append(phi_note)
    if hausman:
        fe = P.fit_panel(data, str(y), x_names, weights=W, weight_ids=list(ids), id=id, time=time, model=model,
                         effects="individual", logdet=ld, draws=0)
        fe_b = np.concatenate([[fe.lam if error else fe.rho], fe.coefficients["estimate"].to_numpy()])
        fe_V = fe.vcov.to_numpy()  # (rho, coefficients)
        re_idx = [0] + list(range(2, K + 1))  # RE (rho, beta without the intercept)
        re_b = np.concatenate([[rho], beta[1:]])
        # the RE covariance given phi: under H0 the (beta, phi) information is 0; under the alternative the full
        # Hessian's beta-phi terms inflate V_RE, make V_FE - V_RE indefinite and cost the test its power
        if error:
            V_cond = error_hessian_cov(quasi(yy, phi), quasi(Z, phi), quasi(Wy, phi), quasi(WZ, phi), rho, beta, s2,
                                       T * ld.second_derivative(rho))
        else:
            V_cond = lag_hessian_cov(quasi(yy, phi), quasi(Z, phi), quasi(Wy, phi), rho, beta, s2,
                                     T * ld.second_derivative(rho))
        tests["hausman"] = hausman_test(fe_b, fe_V, re_b, V_cond[np.ix_(re_idx, re_idx)],
                                        "H0: random effects uncorrelated with the regressors (RE consistent); "
                                        "FE = individual effects, Lee-Yu")
    if balanced.note():
        notes.append(balanced.note())
    index = pd.MultiIndex.from_product([panel.periods, panel.ids], names=[time, id]).swaplevel()
    e = (yy - Z @ beta) if error else (yy - rho * Wy - Z @ beta)
    spatial_name = "lambda" if error else "rho"
    vnames = [spatial_name] + coef_names
    return DurbinResult(
        model=model,
        effects="random",
        n=N,
        t=T,
        y_name=panel.y_name,
        coefficients=coefs,
        spatial_name=spatial_name,
        spatial=z_record(rho, se[0]),
        sigma2=float(s2),
        loglik=float(ll),
        aic=float(-2 * ll + 2 * (K + 3)),
        n_params=K + 3,
        logdet_method=ld.method,
        logdet_description=ld.description,
        covariance="observed Hessian (Richardson differences of the exact random-effects log-likelihood)",
        vcov=pd.DataFrame(Vs, index=vnames, columns=vnames),
        impacts=imp,
        tests=tests,
        fitted=pd.Series(yy - e, index=index, name="fitted"),
        residuals=pd.Series(e, index=index, name="residual"),
        notes=tuple(notes),
        extra={"phi": float(phi), "phi_se": float(se[K + 1]), "sigma2_mu": float(s2_mu),
               "balance": balanced.to_json(), "random_effects": True},
        spatial_more={},
    )
