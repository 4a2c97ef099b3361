"""Log-marginal likelihoods of spatial models for Bayesian model comparison (LeSage & Pace 2009, sec. 6.3).

With the usual non-informative priors p(beta, sigma) proportional to 1/sigma and rho
(lambda) uniform on its admissible interval (lower, upper), beta and sigma integrate out
analytically::

    p(y | rho) = |A(rho)|_J  |Z*'Z*|^-1/2  Gamma((n-k)/2)  pi^-(n-k)/2  SSE(rho)^-(n-k)/2 / 2

(|A|_J the Jacobian, T-scaled for panels; Z* = Z for lag models and (I - lambda W) Z for
error models; n the effective number of observations) and

    p(y) = 1/(upper - lower) * integral over (lower, upper) of p(y | rho) d rho,

the one-dimensional integral being computed by adaptive quadrature
(``scipy.integrate.quad``) of exp(log p(y|rho) - max) around the mode found by the
engine's maximiser. This is LeSage's (2014) log-marginal likelihood used by SDPDmod's
``blmpSDPD``; posterior model probabilities with equal prior probabilities are the
softmax of the log-marginals. OLS/SLX have no spatial parameter: closed form.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate
from scipy.special import gammaln

from geo.durbin.engine import maximise, ols

__all__ = ["log_marginal", "posterior_probabilities"]


def _logdet_pd(M) -> float:
    sign, val = np.linalg.slogdet(M)
    return float(val) if sign > 0 else -math.inf


def log_marginal(y, Z, *, kind: str, Wy=None, WZ=None, jac=None, lower=None, upper=None, n_obs=None) -> dict:
    """{"log_marginal", "mode"} of a lag (``kind="lag"``), error (``"error"``) or plain (``"none"``) model.

    ``jac(r)`` is the Jacobian term (log|I - r W|, times T* for panels); ``n_obs`` the
    effective number of observations (default len(y)).
    """
    y = np.asarray(y, dtype=float)
    n = len(y) if n_obs is None else int(n_obs)
    k = Z.shape[1]
    m = n - k
    const = gammaln(m / 2.0) - (m / 2.0) * math.log(math.pi) - math.log(2.0)
    if kind == "none":
        e = y - Z @ ols(Z, y)
        return {"log_marginal": const - 0.5 * _logdet_pd(Z.T @ Z) - (m / 2.0) * math.log(float(e @ e)),
                "mode": None}
    if kind == "lag":
        B = ols(Z, np.column_stack([y, Wy]))
        E = np.column_stack([y, Wy]) - Z @ B
        a00, a01, a11 = E[:, 0] @ E[:, 0], E[:, 0] @ E[:, 1], E[:, 1] @ E[:, 1]
        ldz = _logdet_pd(Z.T @ Z)

        def f(r):
            return jac(r) - 0.5 * ldz - (m / 2.0) * math.log(a00 - 2 * r * a01 + r * r * a11)
    elif kind == "error":
        Ya = np.column_stack([y, Z])
        WYa = np.column_stack([Wy, WZ])
        M0, M1, M2 = Ya.T @ Ya, Ya.T @ WYa, WYa.T @ WYa
        M1 = M1 + M1.T

        def f(r):
            C = M0 - r * M1 + r * r * M2
            Cxx, cxy = C[1:, 1:], C[1:, 0]
            b = np.linalg.solve(Cxx, cxy)
            sse = C[0, 0] - cxy @ b
            return jac(r) - 0.5 * _logdet_pd(Cxx) - (m / 2.0) * math.log(sse)
    else:
        raise ValueError(f"kind={kind!r}")
    mode = maximise(f, lower, upper, "rho (marginal)", interior=False)
    fmax = f(mode)
    val, err = integrate.quad(lambda r: math.exp(f(r) - fmax), lower, upper, points=[mode], limit=400,
                              epsabs=0.0, epsrel=1e-10)
    return {"log_marginal": const + fmax + math.log(val) - math.log(upper - lower), "mode": mode,
            "quad_relative_error": err / val if val > 0 else None}


def posterior_probabilities(log_marginals) -> np.ndarray:
    """Equal prior model probabilities: softmax of the log-marginal likelihoods."""
    lm = np.asarray(log_marginals, dtype=float)
    w = np.exp(lm - lm.max())
    return w / w.sum()
