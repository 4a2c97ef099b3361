"""Inference for the radiation estimators, all from one linear representation.

Every estimator of this package (TWFE, stacked, imputation) is linear in the
outcome: ``theta = A y``, with residuals ``e = R y`` where ``R = T - Xt A``
(``T``: the map that removes what is not estimated — the fixed effects for
TWFE/stacked, the first-stage fit for imputation — and ``Xt`` the regressors
after ``T``).  The influence of cluster g is ``psi_g = sum_{i in g} A_i e_i``;
for the imputation estimator this is exactly the two-stage GMM influence of
Gardner (2021) / did2s (first-stage residuals on untreated rows, second-stage
residuals on treated rows).  From this:

``cluster``
    V = c sum_g psi_g psi_g', clusters = units, with the small-sample factor
    ``c`` stated by each estimator; p-values and intervals from Student's t with
    G-1 degrees of freedom.
``wild``
    Wild cluster bootstrap, restricted under the null (WCR; Cameron, Gelbach &
    Miller 2008; MacKinnon & Webb 2017; the algebra of Roodman et al. 2019's
    boottest): for H0 theta_j = v the restricted residuals u_r(v) are drawn
    as y* = y - u_r + w_g u_r with Rademacher or Webb weights w_g per cluster
    (seeded), theta* and its clustered SE recomputed, and p(v) = share of
    |t*| >= |t|.  Because everything is linear in v, p(v) is cheap for any v and
    the interval is the set {v: p(v) > 1 - level}, found by bisection.
    The Callaway-Sant'Anna estimator (:mod:`geo.radiation.cs`) is linear in y
    for fixed cells but is not a regression of this form; it builds its draws'
    estimates and unit influences itself and shares the p-value and interval
    engine (:func:`wild_pfun`, :func:`wild_interval`) and the weights.
``conley``
    Spatial HAC (Conley 1999) on the unit-level influences: V = c sum_{g,h}
    K(d_gh) psi_g psi_h' with the Bartlett kernel K(d) = 1 - d/cutoff (0 beyond),
    d the geodesic distance between unit centroids; within-unit correlation
    over time is unrestricted.  Normal critical values.
``ri``
    Randomization inference (placebo zones / placebo years) is driven by the
    analysis (it needs new exposures); :func:`ri_pvalues` turns the placebo
    t-statistics into p-values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


from geo.errors import ModelError, OptionError

from geo.radiation._common import p_f as _p_f
from geo.radiation._fe import indicator
from geo.boundaries import great_circle_km

__all__ = [
    "INFERENCE", "LinearFit", "parse_inference", "sup_t_critical", "ri_pvalues", "wald_test", "pretrend_tests",
    "wild_weights", "wild_pfun", "wild_interval", "conley_cov",
]

INFERENCE = ("cluster", "wild", "ri", "conley")
WILD_WEIGHTS = ("webb", "rademacher")


def parse_inference(spec) -> tuple[str, float | None]:
    """``"cluster"``, ``"wild"``, ``"ri"``, ``"conley:200"`` (cutoff km; default 200) -> (method, cutoff)."""
    text = str(spec or "cluster").strip().lower()
    method, _, arg = text.partition(":")
    if method not in INFERENCE:
        raise OptionError(f"inference={spec!r}: choose one of {', '.join(INFERENCE)} (conley:KM for a cutoff)")
    if method != "conley":
        if arg:
            raise OptionError(f"inference={spec!r}: only conley takes an argument (conley:KM)")
        return method, None
    try:
        km = float(arg.removesuffix("km")) if arg else 200.0
    except ValueError:
        raise OptionError(f"inference={spec!r}: give the Conley cutoff in km, e.g. conley:200") from None
    if not np.isfinite(km) or km <= 0:
        raise OptionError(f"inference={spec!r}: the Conley cutoff must be a positive distance in km")
    return method, km


def _weights(kind: str, shape, rng) -> np.ndarray:
    if kind == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=shape)
    vals = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
    return rng.choice(vals, size=shape)


@dataclass(frozen=True, eq=False)
class LinearFit:
    """theta = A y for the named parameters, with what inference needs (see the module docstring)."""

    names: tuple
    theta: np.ndarray
    A: np.ndarray = field(repr=False)  # k x n
    Xt: np.ndarray = field(repr=False)  # n x k, regressors after T
    yt: np.ndarray = field(repr=False)  # T y
    y: np.ndarray = field(repr=False)
    resid: np.ndarray = field(repr=False)
    cluster: np.ndarray = field(repr=False)  # integer codes 0..G-1
    Tt: object = field(repr=False)  # callable: T' applied to an n x m array
    factor: float = 1.0  # small-sample factor c of the clustered covariance
    convention: str = ""
    T: object = field(repr=False, default=None)  # callable: T applied to an n x m array (bootstrap of Wald tests)

    @property
    def G(self) -> int:
        return int(self.cluster.max()) + 1

    @property
    def dof(self) -> int:
        return self.G - 1

    def influence(self) -> np.ndarray:
        """G x k cluster influences psi_g."""
        C = indicator(self.cluster, self.G)
        return np.asarray(C @ (self.A.T * self.resid[:, None]))

    def cov(self) -> np.ndarray:
        P = self.influence()
        return self.factor * (P.T @ P)

    def conley_cov(self, coords: np.ndarray, cutoff_km: float) -> np.ndarray:
        """Bartlett-kernel spatial HAC with cluster (unit) coordinates ``coords`` (G x 2: lon, lat)."""
        return conley_cov(self.influence(), coords, cutoff_km, self.factor)

    # ------------------------------------------------------------------ wild cluster bootstrap (restricted)

    def _restricted(self, j):
        """u_r(v) = u0 + v u1: residuals with theta_j fixed at v and the other parameters re-fitted."""
        X = self.Xt
        others = [i for i in range(X.shape[1]) if i != j]
        Xo = X[:, others]
        if Xo.shape[1]:
            Q, _ = np.linalg.qr(Xo)
            proj = lambda v: v - Q @ (Q.T @ v)  # noqa: E731
        else:
            proj = lambda v: v  # noqa: E731
        return proj(self.yt), -proj(X[:, j])

    def wild(self, j: int, *, draws: int = 999, weights: str = "webb", seed=None, level: float = 0.95):
        """Restricted wild cluster bootstrap for parameter j: (p-value for theta_j = 0, (lower, upper))."""
        pval = self.wild_pvalue(j, draws=draws, weights=weights, seed=seed)
        se_obs = float(np.sqrt(max(self.cov()[j, j], 0.0)))
        return pval(0.0), wild_interval(pval, float(self.theta[j]), se_obs, level)

    def wild_pvalue(self, j: int, *, draws: int = 999, weights: str = "webb", seed=None):
        """The function v -> restricted wild cluster bootstrap p-value of H0: theta_j = v (same draws for all v)."""
        G = self.G
        W = wild_weights(weights, G, draws, seed)
        a = self.A[j]
        C = indicator(self.cluster, G)
        u0, u1 = self._restricted(j)
        # theta*(v) = a.(y - u_r) + (a*u_r) C' w
        th_a0 = a @ (self.y - u0) + (C @ (a * u0)) @ W
        th_a1 = -(a @ u1) + (C @ (a * u1)) @ W
        # psi*(v) = Q (y - u_r) + Q diag(u_r) C' w with Q = C diag(a) R, R = T - Xt A; built in cluster chunks
        P0 = np.zeros((G, draws))
        P1 = np.zeros((G, draws))
        Z_all = C.T.multiply(a[:, None]).tocsc()  # n x G: diag(a) C'
        for lo in range(0, G, 64):
            Z = Z_all[:, lo: lo + 64].toarray()
            Qt = self.Tt(Z) - self.A.T @ (self.Xt.T @ Z)  # n x chunk: R' diag(a) C'
            P0[lo: lo + 64] = (Qt.T @ (self.y - u0))[:, None] + np.asarray(C @ (Qt * u0[:, None])).T @ W
            P1[lo: lo + 64] = (Qt.T @ (-u1))[:, None] + np.asarray(C @ (Qt * u1[:, None])).T @ W
        se_obs = float(np.sqrt(max(self.cov()[j, j], 0.0)))
        return wild_pfun(float(self.theta[j]), se_obs, self.factor, th_a0, th_a1, P0, P1)


def wild_weights(kind: str, G: int, draws: int, seed) -> np.ndarray:
    """G x draws wild bootstrap weights per cluster (``kind`` "webb" or "rademacher"), seeded."""
    if kind not in WILD_WEIGHTS:
        raise OptionError(f"wild weights={kind!r}: choose one of {', '.join(WILD_WEIGHTS)}")
    return _weights(kind, (G, draws), np.random.default_rng(seed))


def wild_pfun(theta: float, se_obs: float, factor: float, th0, th1, P0, P1):
    """v -> restricted wild cluster bootstrap p-value of H0 theta = v, for any estimator linear in y: the draws'
    estimates are th0 + v th1 (B,) and their cluster influences P0 + v P1 (G x B); the draw's SE is
    sqrt(factor * sum_g psi*_g^2) and p(v) = share of |t*(v)| >= |t(v)| (one engine for every radiation
    estimator: LinearFit and the Callaway-Sant'Anna aggregates)."""
    s00 = (P0 * P0).sum(0)
    s01 = (P0 * P1).sum(0)
    s11 = (P1 * P1).sum(0)

    def pval(v):
        num = th0 + v * th1 - v
        var = factor * (s00 + 2 * v * s01 + v * v * s11)
        tstar = num / np.sqrt(np.maximum(var, 1e-300))
        t = (theta - v) / se_obs if se_obs > 0 else np.inf
        return float(np.mean(np.abs(tstar) >= abs(t)))

    return pval


def wild_interval(pval, theta: float, se_obs: float, level: float) -> tuple[float, float]:
    """The interval {v: p(v) > 1 - level} by bisection outwards from theta (test inversion).

    A side the test never rejects (still p > 1 - level at theta +- 2**20 standard errors: a group with one or
    two treated units, whose bootstrap distribution has a few atoms) is unbounded: -inf / +inf, which the
    results show as "unbounded" (and JSON as null), never as a huge finite number.
    """
    alpha = 1 - level
    span = max(se_obs, 1e-12)

    def edge(sign):
        inside = theta
        out = theta + sign * span
        k = 0
        while pval(out) > alpha:
            if k >= 20:
                return sign * np.inf
            inside, out = out, theta + sign * span * 2 ** (k + 1)
            k += 1
        for _ in range(40):
            mid = (inside + out) / 2
            if pval(mid) > alpha:
                inside = mid
            else:
                out = mid
        return (inside + out) / 2

    return edge(-1.0), edge(+1.0)


def conley_cov(P: np.ndarray, coords: np.ndarray, cutoff_km: float, factor: float = 1.0) -> np.ndarray:
    """Bartlett-kernel spatial HAC ``factor * P' K P`` from G x k cluster influences ``P`` and cluster
    coordinates ``coords`` (G x 2: lon, lat), K = max(0, 1 - d/cutoff) on great-circle km."""
    lon, lat = coords[:, 0], coords[:, 1]
    d = great_circle_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    K = np.clip(1.0 - d / cutoff_km, 0.0, None)
    return factor * (P.T @ K @ P)


def wald_test(fit: LinearFit, idx, *, draws: int = 0, weights: str = "webb", seed=None) -> dict:
    """Joint test that theta[idx] = 0: clustered Wald/q against F(q, G-1); with ``draws`` > 0 also the
    restricted wild cluster bootstrap p-value of the Wald statistic (restricted: all of idx = 0)."""
    idx = list(idx)
    q = len(idx)
    if q == 0:
        return {"stat": np.nan, "df": 0, "p": np.nan, "p_wild": None}
    b = fit.theta[idx]
    V = fit.cov()[np.ix_(idx, idx)]
    Vi = np.linalg.pinv(V)
    stat = float(b @ Vi @ b)
    p_f = float(_p_f(stat / q, q, fit.dof))
    out = {"stat": stat, "df": q, "p": p_f, "p_wild": None}
    if draws:
        if fit.T is None:  # an estimator must state T for the bootstrap of joint tests
            raise ModelError("this fit does not carry its residual map T; the bootstrap Wald test needs it")
        rng = np.random.default_rng(seed)
        G = fit.G
        C = indicator(fit.cluster, G)
        X = fit.Xt
        others = [i for i in range(X.shape[1]) if i not in idx]
        ur = fit.yt - (X[:, others] @ np.linalg.lstsq(X[:, others], fit.yt, rcond=None)[0] if others else 0.0)
        W = _weights(weights, (G, draws), rng)
        Ast = fit.A[idx]  # q x n
        base = fit.y - ur
        Rb = fit.T(base[:, None]) - fit.Xt @ (fit.A @ base[:, None])  # n x 1
        thb = Ast @ base
        # bootstrap samples y*_b = (y - ur) + ur * w_b: theta*_b = A y*_b, residuals R y*_b with R = T - Xt A,
        # for a block of draws at once (one solve with many right-hand sides; blocks bound the memory)
        block = max(1, min(draws, 4_000_000 // max(len(base), 1)))
        stars = np.empty(draws)
        for lo in range(0, draws, block):
            M = ur[:, None] * W[fit.cluster, lo: lo + block]  # n x b
            E = Rb + fit.T(M) - fit.Xt @ (fit.A @ M)
            th = thb[:, None] + Ast @ M  # q x b
            # psi*_g for each of the q parameters: sum over the rows of g of a_i e*_i
            P = np.stack([np.asarray(C @ (Ast[r][:, None] * E)) for r in range(q)], axis=2)  # G x b x q
            Vs = fit.factor * np.einsum("gbi,gbj->bij", P, P)
            stars[lo: lo + block] = np.einsum("ib,bij,jb->b", th, np.linalg.pinv(Vs), th)
        out["p_wild"] = float(np.mean(stars >= stat))
    return out


def _hotelling(fit: LinearFit, idx, n_treated: int) -> dict:
    """Small-G F for the leads of one entry group (Hotelling-type; see :func:`pretrend_tests`)."""
    from scipy.special import fdtrc

    q = len(idx)
    b = fit.theta[idx]
    V = fit.cov()[np.ix_(idx, idx)]
    wald = float(b @ np.linalg.pinv(V) @ b)
    den = n_treated - q
    row = {"wald": wald, "df": q, "treated_clusters": int(n_treated), "df_den": den if den >= 1 else None,
           "F": None, "p_f": None}
    if den < 1:
        return row
    # Wald on the CR0 scale (undo the small-sample factor), then T^2 = W0 (G_l-1)/G_l and F = T^2 (G_l-q)/(q(G_l-1))
    F = wald * fit.factor * den / (q * n_treated)
    row.update(F=float(F), p_f=float(fdtrc(q, den, F)))
    return row


def pretrend_tests(fit: LinearFit, groups, *, draws: int = 0, weights: str = "webb", seed=None) -> list[dict]:
    """Pre-trend tests that hold their size with few treated units: one row per entry group and one "all".

    ``groups``: [(label, parameter indices of its leads, number of treated clusters G_l)], G_l = units of that
    entry group with a lead row.  The lead coefficients of a group are identified by its G_l units only, so a
    clustered Wald statistic against chi-square or F(q, G-1) (G = all units) over-rejects badly when G_l is
    small (20-100 % at 5 % in the Monte Carlo).  Instead:

    * small-G F (analytic): the clustered Wald statistic of group l on the CR0 scale is, up to the control
      units' small share of the influence, Hotelling's T^2 times G_l/(G_l-1) for the G_l treated clusters'
      influence vectors; under normal, independent clusters T^2 (G_l-q)/(q(G_l-1)) ~ F(q, G_l-q) (the
      Hotelling approximation used for cluster-robust Wald tests, e.g. Pustejovsky & Tipton 2018, sec. 3).
      Undefined (None, with a note) when G_l <= q: then the leads cannot be tested analytically.
    * "all": the groups' lead estimates come from disjoint sets of treated units, so their p-values are
      (nearly) independent; they are combined by summing chi2_q^{-1}(1 - p_l) and referring the sum to
      chi-square(sum q_l) (exact under independence; it equals the usual Wald test when every G_l is large).
      Groups without a valid small-G F are left out of the combination (named in ``note``).
    * with ``draws`` > 0, the restricted wild cluster bootstrap p-value of each group's Wald statistic (not for
      groups with G_l <= q, whose covariance is singular) and of the joint one over all leads (:func:`wald_test`).  It is the reported ``p`` whenever it is computed, since it needs no
      normality and holds its size with 5 zones in the Monte Carlo; otherwise ``p`` is the small-G F.
    """
    from scipy.special import chdtrc, chdtri

    rows, chis, qs, left_out, all_idx = [], [], [], [], []
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    seeds = ss.spawn(len(groups) + 1)
    for (label, idx, n_treated), s in zip(groups, seeds):
        idx = list(idx)
        if not idx:
            continue
        all_idx += idx
        row = {"band": label, **_hotelling(fit, idx, n_treated), "note": ""}
        if row["p_f"] is None:
            # the group's clustered covariance has rank < q: its own Wald statistic (and a bootstrap of it) is
            # meaningless; its leads still enter the joint bootstrap test ("all"), whose size was checked
            left_out.append(label)
            row["note"] = (f"{n_treated} treated unit(s) for {len(idx)} leads: too few for a test of this group "
                           "(need more units than leads); its leads enter the joint bootstrap test")
            row["p_wild"] = None
        else:
            chis.append(float(chdtri(len(idx), max(row["p_f"], 1e-300))) if row["p_f"] < 1 else 0.0)
            qs.append(len(idx))
            row["p_wild"] = wald_test(fit, idx, draws=draws, weights=weights, seed=s)["p_wild"] if draws else None
        rows.append(row)
    if not rows:
        return rows
    b = fit.theta[all_idx]
    wald = float(b @ np.linalg.pinv(fit.cov()[np.ix_(all_idx, all_idx)]) @ b)
    allrow = {"band": "all", "wald": wald, "df": len(all_idx),
              "treated_clusters": int(sum(g[2] for g in groups if len(g[1]))),
              "df_den": None, "F": None, "p_f": None, "note": ""}
    if qs:
        stat = float(sum(chis))
        allrow.update(combined_chi2=stat, df_combined=int(sum(qs)), p_f=float(chdtrc(sum(qs), stat)))
    if left_out:
        allrow["note"] = ("analytic test without " + ", ".join(left_out) + " (too few treated units)"
                          if qs else "no group has enough treated units for an analytic test")
    allrow["p_wild"] = wald_test(fit, all_idx, draws=draws, weights=weights, seed=seeds[-1])["p_wild"] if draws \
        else None
    rows.append(allrow)
    for r in rows:
        if r["p_wild"] is not None:
            r["p"], r["test"] = r["p_wild"], "wild bootstrap"
        elif r["p_f"] is not None:
            r["p"], r["test"] = r["p_f"], "small-G F" if r["band"] != "all" else "small-G F, groups combined"
        else:
            r["p"], r["test"] = None, "none"
    return rows


def sup_t_critical(cov: np.ndarray, level: float, *, draws: int = 10_000, seed=None) -> float:
    """Critical value c of the uniform (sup-t) band: P(max_k |Z_k| / sd_k <= c) = level for Z ~ N(0, cov)
    (Montiel Olea & Plagborg-Møller 2019), by simulation with ``seed``."""
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    ok = sd > 0
    if not ok.any():
        return float("nan")
    R = cov[np.ix_(ok, ok)] / np.outer(sd[ok], sd[ok])
    rng = np.random.default_rng(seed)
    L = np.linalg.cholesky(R + 1e-12 * np.eye(len(R)))
    z = rng.standard_normal((draws, len(R))) @ L.T
    return float(np.quantile(np.abs(z).max(axis=1), level))


def wild_sup_t_critical(fit: LinearFit, idx, level: float, *, draws: int = 999, weights: str = "webb",
                        seed=None, studentize: bool = True, T=None) -> float:
    """Critical value c of the uniform band theta_k +- c se_k over the parameters ``idx`` from the (unrestricted)
    wild cluster bootstrap: y* = y^ + w_g e^ with Webb or Rademacher weights w_g per cluster (seeded), so that
    theta*_k - theta_k = sum_g w_g psi_gk exactly (A e^ = 0 for every estimator here) and the residuals are
    e* = R (w o e^).  c = the ``level`` quantile of max_k |theta*_k - theta_k| / se*_k, se*_k the clustered SE
    recomputed on each draw (``studentize``, default: the studentized sup-t, which carries the noise of the
    clustered SE itself — with 20-40 exposed units per ring that noise is what a fixed-SE band misses), or
    the fixed sd_k = (sum_g psi_gk^2)^1/2 (the multiplier bootstrap of Kline & Santos 2012 and of Callaway &
    Sant'Anna 2021's uniform bands).  Unlike :func:`sup_t_critical` it does not assume normality.
    ``T``: optional callable applying the estimator's map T (``fit.Tt`` is its transpose) to an n x m array:
    then e* = T E - Xt (A E) is formed for all draws at once (one solve with ``draws`` right-hand sides)
    instead of cluster chunks per parameter; both give the same value."""
    if weights not in WILD_WEIGHTS:
        raise OptionError(f"wild weights={weights!r}: choose one of {', '.join(WILD_WEIGHTS)}")
    idx = list(idx)
    P = fit.influence()[:, idx]  # G x k
    sd = np.sqrt((P * P).sum(axis=0))
    ok = sd > 0
    if not ok.any():
        return float("nan")
    G = fit.G
    W = _weights(weights, (G, int(draws)), np.random.default_rng(seed))
    num = np.abs(W.T @ P[:, ok])  # draws x k
    if not studentize:
        return float(np.quantile((num / sd[ok]).max(axis=1), level))
    # psi*_k = C diag(a_k) R (e^ o C'w): the rows of Q_k = C diag(a_k) R built in cluster chunks (as in wild_pvalue)
    C = indicator(fit.cluster, G)
    CtW = np.asarray(C.T @ W)  # n x draws: each row's cluster weight
    E = fit.resid[:, None] * CtW  # n x draws
    den = []
    if T is not None:
        Estar = T(E) - fit.Xt @ (fit.A @ E)  # e* = R E, R = T - Xt A
        for k in (i for i, good in zip(idx, ok) if good):
            psi = np.asarray(C @ (fit.A[k][:, None] * Estar))  # G x draws
            den.append(np.sqrt(fit.factor * (psi * psi).sum(axis=0)))
        den = np.column_stack(den)
        return float(np.quantile((np.sqrt(fit.factor) * num / np.maximum(den, 1e-300)).max(axis=1), level))
    for k in (i for i, good in zip(idx, ok) if good):
        a = fit.A[k]
        Z_all = C.T.multiply(a[:, None]).tocsc()
        ss = np.zeros(int(draws))
        for lo in range(0, G, 64):
            Z = Z_all[:, lo: lo + 64].toarray()
            Qt = fit.Tt(Z) - fit.A.T @ (fit.Xt.T @ Z)  # n x chunk
            ss += ((Qt.T @ E) ** 2).sum(axis=0)
        den.append(np.sqrt(fit.factor * ss))
    den = np.column_stack(den)  # draws x k
    T = np.sqrt(fit.factor) * num / np.maximum(den, 1e-300)
    return float(np.quantile(T.max(axis=1), level))


def ri_pvalues(t_obs: np.ndarray, t_placebo: np.ndarray) -> np.ndarray:
    """Two-sided randomization p-values (1 + #{|t_b| >= |t|}) / (1 + B) per parameter (NaN placebos ignored)."""
    t_placebo = np.asarray(t_placebo, float)
    out = []
    for k, t in enumerate(np.asarray(t_obs, float)):
        col = t_placebo[:, k]
        col = col[np.isfinite(col)]
        out.append((1 + np.sum(np.abs(col) >= abs(t))) / (1 + len(col)) if len(col) else np.nan)
    return np.array(out)


