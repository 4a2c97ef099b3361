"""Dynamic spatial Durbin panel with fixed effects by bias-corrected quasi-ML.

Model (Yu, de Jong & Lee 2008; Lee & Yu 2010; Elhorst 2014, ch. 4), N units ordered
like the weights, periods t = 1..T after the first (which only supplies y_0)::

    y_t = tau y_{t-1} + rho W y_t + eta W y_{t-1} + X_t beta + W X_t theta + mu + alpha_t 1 + e_t

(``model="sar"`` drops W X_t theta). Estimation:

1. The fixed effects are removed as in the static panel's ``lee-yu`` scheme
   (:mod:`geo.durbin.panel`): individual effects by the orthonormal F_{T,T-1}
   (demeaning over the T periods used, T-1 effective periods), time effects by F_{N,N-1}
   (cross-sectional demeaning, N-1 effective units, Jacobian corrected by
   -log(1 - rho c); needs W 1 = c 1). y_{t-1} and W y_{t-1} are regressors.
2. beta, theta, tau, eta and sigma^2 are concentrated out and rho is found by the
   shared maximiser (``cross.lag_ml`` with the panel Jacobian): this is the QML
   estimator of Yu, de Jong & Lee (2008, eq. 4) on the transformed data.
3. Bias correction. With individual effects the demeaned y_{t-1} is correlated with
   the demeaned errors (Nickell 1981), which biases every parameter by O(1/T). The
   leading bias of the QML estimator is (-H)^-1 E[s(theta_0)], H the Hessian and
   E[s] the expected score; geo computes E[s] exactly for the finite T used::

       E[s_tau] = -(1/T) sum_{h=0}^{T-2} (T-1-h) tr*(A^h S^-1)
       E[s_eta] = -(1/T) sum_h (T-1-h) tr*(W A^h S^-1)
       E[s_rho] = -(1/T) sum_h (T-1-h) tr*(W A^{h+1} S^-1)
       E[s_beta] = E[s_theta] = E[s_sigma2] = 0

   with S = I - rho W, A = S^-1 (tau I + eta W) and tr* the trace on the transformed
   space (tr f(W) - f(c) with time effects). This is Yu, de Jong & Lee's (2008, Theorem
   3) bias term b = Sigma^-1 phi with their infinite sums sum_h A^h replaced by the
   exact finite-T weights (T-1-h)/T (the two agree to O(1/T^2)); the sigma^2 and
   rho terms of incidental parameters that they also correct are removed beforehand by
   the F_{T,T-1} transformation (Lee & Yu 2010), which is why they vanish here. The
   corrected estimate is theta_hat - (-H)^-1 E[s](theta_hat); traces use W's
   eigenvalues (exact; dense, N <= ``DENSE_MAX_N``).
4. Covariance: the inverse observed Hessian at the corrected estimate (the QML
   variance of YDL 2008 under normal errors).

Stability: y_t = A y_{t-1} + ... is stable when the spectral radius of A, max over W's
eigenvalues w of |(tau + eta w) / (1 - rho w)|, is below 1 (for a row-standardised W
this includes tau + rho + eta < 1; Elhorst 2014, sec. 4.2). It is computed, reported
(``stable``, ``spectral_radius``) and long-run effects are given only when stable.

Effects (Debarsy, Ertur & LeSage 2012; Elhorst 2014, sec. 4.4): short run
S^-1 (beta I + theta W), long run ((1 - tau) I - (rho + eta) W)^-1 (beta I + theta W),
i.e. the static lag model's impacts with rho* = (rho + eta)/(1 - tau),
beta* = beta/(1 - tau), theta* = theta/(1 - tau). Their inference simulates the
parameters from their asymptotic normal distribution (as spatialreg's ``impacts``)
and maps every draw (draws outside the stable region are redrawn).

Written here (not taken from a peer): there is no Python implementation; R's SDPDmod
(``SDPDm``) and Stata's xsmle (``dlag``) are not available offline. The estimator is
validated by Monte Carlo on the China prefecture graph (``benchmarks/mc_durbin.py``,
results in docs/methods.md).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from geo.durbin import panel as P
from geo.durbin.cross import coef_frame, lag_hessian_cov, lag_ml
from geo.durbin.impacts import TraceEngine, lag_impacts
from geo.durbin.logdet import LogDet, make_logdet
from geo.durbin.results import DurbinResult
from geo.durbin.tests import z_record
from geo.errors import ModelError, OptionError, check_choice

__all__ = ["fit_dynamic", "stability", "nickell_score", "DENSE_MAX_N"]

DENSE_MAX_N = 4000


def stability(eig, tau, rho, eta):
    """Spectral radius of A = (I - rho W)^-1 (tau I + eta W) from W's eigenvalues (vectorised over draws)."""
    eig = np.asarray(eig)
    t, r, h = (np.asarray(v, dtype=float)[..., None] for v in (tau, rho, eta))
    out = np.max(np.abs((t + h * eig) / (1.0 - r * eig)), axis=-1)
    return float(out) if out.ndim == 0 else out


def _tr(eig, f, drop_c):
    """tr f(W) (real part) from the eigenvalues, minus f(c) on the Lee-Yu time-transformed space."""
    val = np.sum(f(eig))
    if drop_c is not None:
        val = val - f(np.array([drop_c], dtype=complex))[0]
    return float(np.real(val))


def nickell_score(eig, T: int, tau: float, rho: float, eta: float, drop_c=None) -> tuple[float, float, float]:
    """Expected score (E s_rho, E s_tau, E s_eta) at the true parameters under individual effects.

    ``T`` is the number of periods in the regression (after dropping the first); ``drop_c``
    the common row sum c when time effects are removed by F_{N,N-1}.
    """
    eig = np.asarray(eig, dtype=complex)
    h = np.arange(T - 1)
    w = (T - 1 - h) / T  # weights of A^h
    s_inv = lambda e: 1.0 / (1.0 - rho * e)  # noqa: E731
    a = lambda e: (tau + eta * e) * s_inv(e)  # noqa: E731

    def series(e, power_w, shift):
        ae = a(e)[..., None] ** (h + shift)
        return (w * ae).sum(axis=-1) * s_inv(e) * e**power_w

    s_tau = -_tr(eig, lambda e: series(e, 0, 0), drop_c)
    s_eta = -_tr(eig, lambda e: series(e, 1, 0), drop_c)
    s_rho = -_tr(eig, lambda e: series(e, 1, 1), drop_c)
    return s_rho, s_tau, s_eta



def fit_dynamic(
    data: pd.DataFrame,
    y: str,
    x,
    *,
    weights,
    id: str,
    time: str,
    model: str = "sdm",
    effects: str = "twoways",
    bias_correction: str = "lee-yu",
    logdet="auto",
    draws: int = 1000,
    seed=None,
    weight_ids=None,
    balance: str = "error",
    names=None,
) -> DurbinResult:
    """Fit the dynamic spatial Durbin (or lag) panel with fixed effects; see the module docstring.

    ``bias_correction``: ``lee-yu`` (default) applies the analytic O(1/T) correction of
    Yu, de Jong & Lee (2008) on top of the Lee-Yu transformation; ``none`` reports the
    uncorrected QML estimate (biased by O(1/T) with individual effects; for comparison).
    The result's ``impacts`` are the short-run impacts; ``impacts_long_run`` the long-run
    ones (None when the estimate is not stable). JSON adds ``tau``, ``eta``, ``stable``,
    ``spectral_radius``, ``impacts_short_run`` and ``impacts_long_run``.
    """
    check_choice("model", model, ("sdm", "sar"))
    if effects == "none":
        raise OptionError("the dynamic panel needs fixed effects: effects='individual', 'time' or 'twoways'")
    check_choice("effects", effects, P.EFFECTS)
    check_choice("bias_correction", bias_correction, P.BIAS_CORRECTIONS)
    if int(draws) < 0:
        raise OptionError(f"draws={draws!r} must be >= 0")
    id = P._id_column(data, id, time)
    x_names = P._as_names(x)
    W, ids = P._weights_and_ids(weights, weight_ids)
    data, W, ids, balanced = P._balanced(data, W, ids, id=id, time=time, columns=[str(y), *x_names],
                                         policy=balance, names=names)
    panel = P._arrange(data, str(y), x_names, id, time, ids)
    if panel.t < 3:
        raise ModelError(f"a dynamic panel needs at least 3 periods in column {time!r} (one is used as y_0), "
                         f"got {panel.t}")
    N = panel.n
    if N > DENSE_MAX_N:
        raise ModelError(f"the dynamic panel's bias correction uses W's eigenvalues (dense); N = {N} exceeds "
                         f"{DENSE_MAX_N} units")
    scheme = P._scheme(effects, "lee-yu", W)
    ld = logdet if isinstance(logdet, LogDet) else make_logdet(W, method=logdet)
    if ld.n != N:
        raise OptionError(f"logdet was built for {ld.n} units but the weights have {N}")
    if scheme.drop_unit_root:
        ld = dataclasses.replace(ld, upper=min(ld.upper, (1.0 - 1e-12) / scheme.c))
    eig = ld.eigenvalues if ld.eigenvalues is not None else np.linalg.eigvals(W.toarray())

    # ------------------------------------------------------------- data: y_t on y_{t-1}, W y_{t-1}, X_t, W X_t
    Y = panel.y[1:]
    Ylag = panel.y[:-1]
    X = panel.X[1:]
    T1 = Y.shape[0]
    durbin = model == "sdm"
    regs = [Ylag[..., None], P._lag(W, Ylag)[..., None], X] + ([P._lag(W, X)] if durbin else [])
    Zraw = np.concatenate(regs, axis=2)
    coef_names = list(x_names) + ([f"W_{v}" for v in x_names] if durbin else [])
    all_names = [f"{y}(t-1)", f"W_{y}(t-1)"] + coef_names
    K = Zraw.shape[2]
    T_eff, N_eff = scheme.t_eff(T1), scheme.n_eff(N)
    n_obs = T_eff * N_eff
    Zt = P._sweep(Zraw, scheme).reshape(T1 * N, K)
    yt = P._sweep(Y, scheme).ravel()
    wyt = P._sweep(P._lag(W, Y), scheme).ravel()
    P._check_swept(Zt, Zraw.reshape(T1 * N, K), all_names, effects, yt, Y.ravel(), str(y))
    jac = P._jacobian(ld, scheme, T_eff)
    fit = lag_ml(yt, Zt, wyt, jac, ld.lower, ld.upper, n_obs=n_obs)
    rho, delta, s2 = fit["rho"], fit["beta"], fit["sigma2"]

    def d2(r):
        v = T_eff * ld.second_derivative(r)
        if scheme.drop_unit_root:
            v += T_eff * scheme.c**2 / (1.0 - r * scheme.c) ** 2
        return v

    def cov_at(r, dl, sig2):
        return lag_hessian_cov(yt, Zt, wyt, r, dl, sig2, d2(r), n_obs=n_obs, full=True)

    drop_c = scheme.c if scheme.drop_unit_root else None
    bias = None
    if bias_correction == "lee-yu" and scheme.individual:
        V = cov_at(rho, delta, s2)  # (rho, delta..., sigma2)
        s_rho, s_tau, s_eta = nickell_score(eig, T1, delta[0], rho, delta[1], drop_c)
        score = np.zeros(K + 2)
        score[0], score[1], score[2] = s_rho, s_tau, s_eta
        bias = V @ score
        rho, delta, s2 = rho - bias[0], delta - bias[1 : K + 1], s2 - bias[K + 1]
        if not (ld.lower < rho < ld.upper):
            raise ModelError(f"the bias-corrected rho = {rho:.4g} leaves the admissible interval; "
                             "use bias_correction='none' to see the uncorrected estimate")
        e = yt - rho * wyt - Zt @ delta
    else:
        e = fit["resid"]
    ll = fit["loglik"]  # the maximised log-likelihood (the corrected estimate does not maximise it)
    V = cov_at(rho, delta, s2)[: K + 1, : K + 1]  # (rho, tau, eta, beta, theta)
    se = np.sqrt(np.diag(V))
    tau, eta = float(delta[0]), float(delta[1])
    radius = stability(eig, tau, rho, eta)
    stable = bool(radius < 1.0)

    coefs = coef_frame(coef_names, delta[2:], se[3:])
    kx = len(x_names)
    beta = delta[2 : 2 + kx]
    theta = delta[2 + kx : 2 + 2 * kx] if durbin else None
    engine = TraceEngine(W, ld if ld.eigenvalues is not None else None)
    sel_sr = [0] + list(range(3, 3 + kx)) + (list(range(3 + kx, 3 + 2 * kx)) if durbin else [])
    short = lag_impacts(names=x_names, rho=rho, beta=beta, theta=theta, cov=V[np.ix_(sel_sr, sel_sr)],
                        engine=engine, lower=ld.lower, upper=ld.upper, draws=int(draws), seed=seed, order=0)
    long = None
    notes = []
    if stable:
        sel = [0, 1, 2] + sel_sr[1:]  # (rho, tau, eta, beta, theta)

        def to_long(d):
            d = np.atleast_2d(d)
            r, t, h = d[:, 0], d[:, 1], d[:, 2]
            b = d[:, 3 : 3 + kx] / (1.0 - t)[:, None]
            th = d[:, 3 + kx : 3 + 2 * kx] / (1.0 - t)[:, None] if durbin else np.zeros_like(b)
            ok = stability(eig, t, r, h) < 1.0
            return (r + h) / (1.0 - t), b, th, ok

        point = to_long(np.concatenate([[rho, tau, eta], delta[2:]]))
        long = lag_impacts(
            names=x_names, rho=float(point[0][0]), beta=point[1][0], theta=point[2][0] if durbin else None,
            cov=V[np.ix_(sel, sel)], engine=engine, lower=ld.lower, upper=ld.upper, draws=int(draws), seed=seed,
            order=0, params=np.concatenate([[rho, tau, eta], delta[2:]]), transform=to_long,
        )
    else:
        notes.append(f"not stable: the spectral radius of (I - rho W)^-1 (tau I + eta W) is {radius:.4g} >= 1; "
                     "long-run effects do not exist")
    notes += [
        "fixed effects (" + effects + ") removed by Lee & Yu's (2010) orthonormal transformation; the first period "
        "supplies y_0 only",
        ("bias-corrected QML (Yu, de Jong & Lee 2008; exact finite-T expected score)" if bias is not None else
         "uncorrected QML (O(1/T) bias with individual effects)"),
        f"sigma2 and the log-likelihood use {N_eff} x {T_eff} = {n_obs} effective observations; loglik and AIC "
        "are those of the QML maximum (before the bias correction)",
        "impacts = short-run effects S^-1 (beta I + theta W); impacts_long_run = ((1 - tau) I - (rho + eta) W)^-1 "
        "(beta I + theta W) (Debarsy, Ertur & LeSage 2012)",
    ]
    if balanced.note():
        notes.append(balanced.note())
    vnames = ["rho", "tau", "eta"] + coef_names
    periods = panel.periods[1:]
    index = pd.MultiIndex.from_product([periods, panel.ids], names=[time, id]).swaplevel()
    resid = pd.Series(e, index=index, name="residual")
    n_params = K + 2
    return DurbinResult(
        model=model,
        effects=effects,
        n=N,
        t=T1,
        y_name=panel.y_name,
        coefficients=coefs,
        spatial_name="rho",
        spatial=z_record(rho, se[0]),
        sigma2=float(s2),
        loglik=float(ll),
        aic=float(-2.0 * ll + 2.0 * n_params),
        n_params=n_params,
        logdet_method=ld.method,
        logdet_description=ld.description,
        covariance="observed Hessian of the transformed log-likelihood at the bias-corrected estimate"
        if bias is not None else "observed Hessian of the transformed log-likelihood",
        vcov=pd.DataFrame(V, index=vnames, columns=vnames),
        impacts=short,
        tests={},
        fitted=pd.Series(Y.ravel() - e, index=index, name="fitted"),
        residuals=resid,
        bias_correction=bias_correction if scheme.individual else "none",
        notes=tuple(notes),
        extra={
            "dynamic": True,
            "stable": stable,
            "spectral_radius": radius,
            "impacts_long_run": long,
            "periods": [P._py(p) for p in panel.periods],
            "n_obs_effective": n_obs,
            "bias": None if bias is None else dict(zip(["rho"] + all_names + ["sigma2"], map(float, bias))),
            "balance": balanced.to_json(),
        },
        spatial_more={"tau": z_record(tau, se[1]), "eta": z_record(eta, se[2])},
    )
