"""SAC (spatial lag + spatial error) and GNS (general nesting: SAC with WX) cross-sections by ML.

    SAC  y = rho W y + X beta + u,            u = lambda W u + e
    GNS  y = rho W y + X beta + W X theta + u, u = lambda W u + e

with the same W in both parts (as spatialreg's ``sacsarlm`` with ``listw2 = listw``;
``Durbin = TRUE`` is the GNS). The log-likelihood is

    -n/2 log(2 pi s2) + log|I - rho W| + log|I - lambda W| - e'e / (2 s2),
    e = (I - lambda W) ((I - rho W) y - Z b).

beta and s2 are concentrated out; for each lambda the likelihood in rho is the lag
model's on data filtered by (I - lambda W), maximised by the engine's one maximiser,
and the profile in lambda is maximised by the same maximiser (a nested 1-D search,
not a second optimiser). The covariance is the inverse of the observed Hessian of the
full log-likelihood in (rho, lambda, beta, s2), analytic except the log-determinant's
second derivative (exact from eigenvalues, Richardson differences for LU).

Why not spatialreg's ``method = "eigen"`` covariance: its analytic information matrix
sets the (rho, lambda) cross term to the (lambda, lambda) term (``asyvar[3, 2] <- term1 +
term2``, spatialreg 1.3), so the reference for the standard errors is its numerical
Hessian (``control = list(fdHess = TRUE)``), matched to finite-difference accuracy.

Identification: with one W in both parts, rho and lambda are identified only through
the non-linearity of the model (Kelejian & Prucha 1998 need X, WX, W^2X not collinear;
Elhorst 2014, sec. 2.2); in the GNS the lag, the lagged X and the error can substitute
for one another, so the estimates are often imprecise and ``rho``/``lambda`` can swap
sign between close specifications (Gibbons & Overman 2012; Elhorst 2014 calls the GNS
"overparameterised"). The result carries this caveat in its notes; test the GNS
against SDM and SDEM with the LR tests it reports rather than interpret it alone.
"""

from __future__ import annotations

import math

import numpy as np

from geo.durbin.engine import invert, maximise, ols
from geo.errors import ModelError

__all__ = ["sac_ml", "sac_hessian_cov", "IDENTIFICATION_NOTE"]

IDENTIFICATION_NOTE = (
    "identification: rho and lambda share one W and are identified only through the model's non-linearity "
    "(weakly in the GNS, where the lag, WX and the spatial error can substitute for one another; Elhorst 2014, "
    "sec. 2.2); compare with SDM/SDEM by the LR tests rather than interpret rho and lambda alone"
)


def sac_ml(y, Z, W, logdet, lower, upper, *, locator=None) -> dict:
    """Concentrated ML of the SAC / GNS model (Z holds X, and WX for the GNS).

    Returns rho, lambda, beta, sigma2, loglik, resid (e) and r = (I - rho W) y - Z beta.
    """
    n = len(y)
    Wy = W @ y
    WWy = W @ Wy
    WZ = W @ Z
    loc = locator if locator is not None else None

    def inner(lam):
        ys = np.column_stack([y - lam * Wy, Wy - lam * WWy])
        Zs = Z - lam * WZ
        B = ols(Zs, ys)
        E = ys - Zs @ B
        a00, a01, a11 = E[:, 0] @ E[:, 0], E[:, 0] @ E[:, 1], E[:, 1] @ E[:, 1]

        def conc(rho, ld=logdet):
            sse = a00 - 2.0 * rho * a01 + rho * rho * a11
            return -0.5 * n * math.log(sse / n) + ld(rho)

        rho = maximise(conc, lower, upper, "rho", interior=False,
                       locator=None if loc is None else (lambda r: conc(r, loc)))
        return rho, conc(rho) + logdet(lam), B[:, 0] - rho * B[:, 1]

    cache = {}

    def profile(lam):
        if lam not in cache:
            cache[lam] = inner(lam)
        return cache[lam][1]

    lam = maximise(profile, lower, upper, "lambda")
    rho, _, beta = inner(lam)
    if min(rho - lower, upper - rho) < 1e-6 * (upper - lower):
        raise ModelError(
            f"rho = {rho:.6g} is on the bound of its admissible interval ({lower:.4g}, {upper:.4g}) at the "
            "maximum over lambda; the likelihood has no interior maximum (check the weights and the model)"
        )
    r = y - rho * Wy - Z @ beta
    e = r - lam * (W @ r)
    s2 = float(e @ e) / n
    ll = -0.5 * n * (math.log(2 * math.pi) + math.log(s2) + 1.0) + logdet(rho) + logdet(lam)
    return {"rho": rho, "lambda": lam, "beta": beta, "sigma2": s2, "loglik": ll, "resid": e, "r": r}


def sac_hessian_cov(y, Z, W, rho, lam, beta, s2, ld2_rho, ld2_lam) -> np.ndarray:
    """Covariance of (rho, lambda, beta) from the observed Hessian of the full log-likelihood.

    e = B r, r = A y - Z b, A = I - rho W, B = I - lambda W; with J = de/d(rho, lambda, b)
    = (-B W y, -W r, -B Z) and the only non-zero second derivatives of e
    d2e/drho dlambda = W W y and d2e/dlambda db = W Z, the Hessian of -e'e/(2 s2) is
    -(J'J + sum_i e_i d2e_i)/s2, plus the log-determinants' curvature on the diagonal.
    """
    n, k = Z.shape
    Wy = W @ y
    r = y - rho * Wy - Z @ beta
    Wr = W @ r
    e = r - lam * Wr
    WZ = W @ Z
    J = np.column_stack([-(Wy - lam * (W @ Wy)), -Wr, -(Z - lam * WZ)])
    M = np.zeros((k + 2, k + 2))
    M[0, 1] = M[1, 0] = float(e @ (W @ Wy))
    M[1, 2:] = M[2:, 1] = WZ.T @ e
    H = np.zeros((k + 3, k + 3))
    H[: k + 2, : k + 2] = -(J.T @ J + M) / s2
    H[0, 0] += ld2_rho
    H[1, 1] += ld2_lam
    H[: k + 2, k + 2] = H[k + 2, : k + 2] = (J.T @ e) / s2**2
    H[k + 2, k + 2] = n / (2 * s2**2) - float(e @ e) / s2**3
    V = invert(-H, "the observed Hessian")
    return V[: k + 2, : k + 2]
