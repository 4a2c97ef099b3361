"""Panel SDM / SAR / SEM with fixed effects (geo.durbin.panel).

References used here, all computed independently of the module's shortcuts:

* Lee & Yu's transformation approach written out literally: the orthonormal
  eigenvector matrices F_{T,T-1} and F_{N,N-1} are built densely, the data and W
  transformed, and the transformed cross-section likelihood maximised with a dense
  log-determinant (the module never builds F and uses demeaning instead);
* the direct approach written as least squares on explicit individual and time
  dummy columns (exact ML with the effects as parameters);
* spreg's ``Panel_FE_Lag`` (SAR, individual effects, direct approach);
* a Monte Carlo on the real China prefecture contiguity graph: bias and 95%
  coverage of rho, beta, theta, and the sigma2 bias that the Lee-Yu correction removes.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy import optimize, stats

from geo.durbin import panel as P
from geo.durbin.panel import fit_panel
from geo.errors import JoinError, ModelError, OptionError, SchemaError

ML_RTOL = 1e-5


# ---------------------------------------------------------------- fixtures


pytestmark = pytest.mark.usefixtures("one_blas_thread")


@pytest.fixture(scope="module")
def graph(china):
    from geo import weights

    return weights.build("queen", china)  # row-standardised, islands linked to their nearest unit


def simulate(graph, *, T, rho=0.4, beta=(1.0, -0.5), theta=(0.5, 0.3), sigma=1.0, seed=0, model="sdm"):
    """Long DataFrame from a two-way FE SDM (SEM when model='sem'); effects correlated with X."""
    W = graph.sparse.toarray()
    N = W.shape[0]
    rng = np.random.default_rng(seed)
    beta, theta = np.asarray(beta), np.asarray(theta)
    unit_level = rng.normal(size=(N, 1))
    time_level = rng.normal(size=(T, 1, 1))
    X = rng.normal(size=(T, N, 2)) + 0.7 * unit_level[None, :, :] + 0.5 * time_level
    mu = 1.5 * unit_level[:, 0] + rng.normal(scale=0.5, size=N)
    alpha = 2.0 * time_level[:, 0, 0]
    A = np.eye(N) - rho * W
    eps = rng.normal(scale=sigma, size=(T, N))
    if model == "sem":
        Y = X @ beta + mu + alpha[:, None] + np.linalg.solve(A, eps.T).T
    else:
        rhs = X @ beta + (X @ theta) @ W.T + mu + alpha[:, None] + eps
        Y = np.linalg.solve(A, rhs.T).T
    ids = np.asarray(graph.unique_ids)
    frame = pd.DataFrame(
        {
            "adcode": np.tile(ids, T),
            "year": np.repeat(np.arange(2001, 2001 + T), N),
            "gdp": Y.ravel(),
            "x1": X[..., 0].ravel(),
            "x2": X[..., 1].ravel(),
        }
    )
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # shuffled rows


def arrays(frame, graph):
    ids = list(graph.unique_ids)
    f = frame.assign(_i=frame["adcode"].map({v: k for k, v in enumerate(ids)})).sort_values(["year", "_i"])
    T = f["year"].nunique()
    return f["gdp"].to_numpy().reshape(T, -1), f[["x1", "x2"]].to_numpy().reshape(T, -1, 2)


def fit(frame, graph, **kw):
    kw.setdefault("draws", 0)
    return fit_panel(frame, "gdp", ["x1", "x2"], weights=graph, id="adcode", time="year", **kw)


def orthonormal_complement(n):
    """F_{n,n-1}: eigenvectors of J_n = I - 11'/n for eigenvalue 1 (Lee & Yu 2010, sec. 3)."""
    J = np.eye(n) - np.ones((n, n)) / n
    vals, vecs = np.linalg.eigh(J)
    F = vecs[:, vals > 0.5]
    assert F.shape == (n, n - 1)
    return F


def brute_transformed(y, X, W, *, model, individual, time):
    """ML on Lee-Yu transformed data, built literally (dense F, dense log-determinant)."""
    T, N = y.shape
    FT = orthonormal_complement(T) if individual else np.eye(T)
    FN = orthonormal_complement(N) if time else np.eye(N)
    if model == "sdm":
        X = np.concatenate([X, np.einsum("ij,tjk->tik", W, X)], axis=2)
    Ws = FN.T @ W @ FN
    # y** = (F_T' kron F_N') y with time slow: Y** = F_T' Y F_N
    ys = FT.T @ y @ FN  # (T*, N*)
    Xs = np.einsum("ts,tik,ij->sjk", FT, X, FN)  # (T*, N*, K)
    Ts, Ns = ys.shape
    K = Xs.shape[2]
    Z = Xs.reshape(Ts * Ns, K)
    n_obs = Ts * Ns
    ev = np.linalg.eigvals(Ws)

    def logdet(r):
        return Ts * float(np.sum(np.log(np.abs(1.0 - r * ev))))

    if model == "sem":

        def resid(lam):
            B = np.eye(Ns) - lam * Ws
            yf = (ys @ B.T).ravel()
            Zf = np.einsum("ij,tjk->tik", B, Xs).reshape(n_obs, K)
            b = np.linalg.lstsq(Zf, yf, rcond=None)[0]
            return b, yf - Zf @ b

    else:
        wys = (ys @ Ws.T).ravel()

        def resid(rho):
            yy = ys.ravel() - rho * wys
            b = np.linalg.lstsq(Z, yy, rcond=None)[0]
            return b, yy - Z @ b

    def negll(r):
        _, e = resid(r)
        return 0.5 * n_obs * np.log(e @ e / n_obs) - logdet(r)

    res = optimize.minimize_scalar(negll, bounds=(-0.99, 0.99), method="bounded", options={"xatol": 1e-11})
    r = res.x
    b, e = resid(r)
    s2 = e @ e / n_obs
    ll = -0.5 * n_obs * (np.log(2 * np.pi * s2) + 1) + logdet(r)
    # expected information of the transformed model (generic cross-section formula)
    if model == "sem":
        Bm = np.eye(Ns) - r * Ws
        H = Ws @ np.linalg.inv(Bm)
        Zf = np.einsum("ij,tjk->tik", Bm, Xs).reshape(n_obs, K)
        info = np.zeros((K + 2, K + 2))
        info[:K, :K] = Zf.T @ Zf / s2
        info[K, K] = Ts * (np.trace(H @ H) + np.trace(H.T @ H))
        info[K, K + 1] = info[K + 1, K] = Ts * np.trace(H) / s2
    else:
        G = Ws @ np.linalg.inv(np.eye(Ns) - r * Ws)
        gxb = np.einsum("ij,tj->ti", G, (Z @ b).reshape(Ts, Ns)).ravel()
        info = np.zeros((K + 2, K + 2))
        info[:K, :K] = Z.T @ Z / s2
        info[:K, K] = info[K, :K] = Z.T @ gxb / s2
        info[K, K] = Ts * (np.trace(G @ G) + np.trace(G.T @ G)) + gxb @ gxb / s2
        info[K, K + 1] = info[K + 1, K] = Ts * np.trace(G) / s2
    info[K + 1, K + 1] = n_obs / (2 * s2**2)
    return {"spatial": r, "coef": b, "sigma2": s2, "loglik": ll, "vcov": np.linalg.inv(info)}


def brute_dummies(y, X, W, *, model, individual, time):
    """Direct approach written as ML with explicit effect dummies (any W)."""
    T, N = y.shape
    if model == "sdm":
        X = np.concatenate([X, np.einsum("ij,tjk->tik", W, X)], axis=2)
    K = X.shape[2]
    D = []
    if individual:
        D.append(np.tile(np.eye(N), (T, 1)))
    if time:
        D.append(np.repeat(np.eye(T), N, axis=0)[:, 1:] if individual else np.repeat(np.eye(T), N, axis=0))
    D = np.hstack(D)
    Z = X.reshape(T * N, K)
    ev = np.linalg.eigvals(W)
    n_obs = T * N
    Wy = (y @ W.T).ravel()
    M = np.hstack([Z, D])

    def resid(r):
        if model == "sem":
            B = np.eye(N) - r * W
            yf = (y @ B.T).ravel()
            Zf = np.einsum("ij,tjk->tik", B, X).reshape(n_obs, K)
            Df = np.vstack([B @ D[t * N : (t + 1) * N] for t in range(T)])
            Mf = np.hstack([Zf, Df])
            c = np.linalg.lstsq(Mf, yf, rcond=None)[0]
            return c[:K], yf - Mf @ c
        yy = y.ravel() - r * Wy
        c = np.linalg.lstsq(M, yy, rcond=None)[0]
        return c[:K], yy - M @ c

    def negll(r):
        _, e = resid(r)
        return 0.5 * n_obs * np.log(e @ e / n_obs) - T * float(np.sum(np.log(np.abs(1 - r * ev))))

    lo, hi = 1 / ev.real.min(), 1 / ev.real.max()
    res = optimize.minimize_scalar(negll, bounds=(lo + 1e-9, hi - 1e-9), method="bounded", options={"xatol": 1e-11})
    b, e = resid(res.x)
    s2 = e @ e / n_obs
    return {"spatial": res.x, "coef": b, "sigma2": s2, "loglik": -negll(res.x) - 0.5 * n_obs * (np.log(2 * np.pi) + 1)}


def assert_same(result, ref, *, rtol=ML_RTOL, vcov=False):
    np.testing.assert_allclose(result.spatial["estimate"], ref["spatial"], rtol=rtol, atol=1e-8)
    np.testing.assert_allclose(result.coefficients["estimate"].to_numpy(), ref["coef"], rtol=rtol, atol=1e-8)
    np.testing.assert_allclose(result.sigma2, ref["sigma2"], rtol=rtol)
    np.testing.assert_allclose(result.loglik, ref["loglik"], rtol=rtol)
    if vcov:
        K = len(ref["coef"])
        se_ref = np.sqrt(np.diag(ref["vcov"]))[: K + 1]
        se = np.concatenate([result.coefficients["se"].to_numpy(), [result.spatial["se"]]])
        np.testing.assert_allclose(se, se_ref, rtol=1e-4)


# ------------------------------------------------------ exact equivalences


@pytest.mark.parametrize("model", ["sdm", "sar", "sem"])
@pytest.mark.parametrize("effects", ["twoways", "individual", "time"])
def test_lee_yu_equals_literal_transformation(graph, model, effects):
    """Demeaning + Jacobian adjustment == ML on the F_{T,T-1}/F_{N,N-1}-transformed data (Lee & Yu 2010)."""
    frame = simulate(graph, T=3, seed=11, model="sem" if model == "sem" else "sdm")
    y, X = arrays(frame, graph)
    ref = brute_transformed(
        y, X, graph.sparse.toarray(), model=model, individual=effects != "time", time=effects != "individual"
    )
    res = fit(frame, graph, model=model, effects=effects, bias_correction="lee-yu")
    assert_same(res, ref, vcov=True)
    assert res.bias_correction == "lee-yu" and res.effects == effects and res.t == 3 and res.n == graph.n


@pytest.mark.parametrize("model", ["sdm", "sar", "sem"])
@pytest.mark.parametrize("effects", ["twoways", "time"])
def test_direct_approach_equals_dummy_variable_ml(graph, model, effects):
    """bias_correction='none' is the exact ML with individual and time effects as parameters.

    Binary (not row-standardised) weights: time effects are then not simply demeaned
    away in the SEM (the filtered time dummies span (I - lambda W) 1), which the
    module handles by projection.
    """
    frame = simulate(graph, T=3, seed=5, model="sem" if model == "sem" else "sdm")
    binary = graph.transform("b")
    y, X = arrays(frame, graph)
    ref = brute_dummies(
        y, X, binary.sparse.toarray(), model=model, individual=effects == "twoways", time=True
    )
    res = fit(frame, binary, model=model, effects=effects, bias_correction="none")
    assert_same(res, ref)


def test_individual_effects_equal_stacked_demeaned_cross_section(graph):
    """Individual FE (direct approach) == ML of the stacked demeaned data with I_T kron W.

    Reference: spreg's Panel_FE_Lag (SAR), which forms I_T kron W explicitly.  spreg's
    rho tolerance is 1e-7 (its ``epsilon``), so the comparison is at ML_RTOL.
    """
    import spreg

    frame = simulate(graph, T=4, seed=3)
    y, X = arrays(frame, graph)
    T, N = y.shape
    w = graph.to_W()
    assert list(w.id_order) == list(graph.unique_ids)
    # spreg expects id-fast, time-slow stacking: the same order as ours
    ref = spreg.Panel_FE_Lag(y.reshape(-1, 1), X.reshape(T * N, 2), w)
    res = fit(frame, graph, model="sar", effects="individual", bias_correction="none")
    np.testing.assert_allclose(res.rho, ref.rho, rtol=ML_RTOL)
    np.testing.assert_allclose(res.coefficients["estimate"].to_numpy(), ref.betas[:2, 0], rtol=ML_RTOL)
    np.testing.assert_allclose(res.sigma2, np.asarray(ref.sig2).item(), rtol=ML_RTOL)
    se = np.concatenate([res.coefficients["se"].to_numpy(), [res.spatial["se"]]])
    np.testing.assert_allclose(se, np.sqrt(np.diag(ref.vm)), rtol=ML_RTOL)  # Elhorst's information, both
    # spreg 1.9's Panel_FE_Lag concentrates with log(e'e) instead of log(e'e / NT), so its
    # log-likelihood lacks + (NT/2) log(NT); with that term restored the two agree
    np.testing.assert_allclose(res.loglik, np.asarray(ref.logll).item() + 0.5 * T * N * np.log(T * N), rtol=ML_RTOL)


@pytest.mark.parametrize("model", ["sdm", "sem"])
def test_individual_effects_equal_geo_cross_section_on_stacked_data(graph, model):
    """Individual FE (direct) == geo's cross-section ML on the stacked demeaned data with I_T kron W.

    The cross-section adds an intercept, which is orthogonal to demeaned data, so
    rho/lambda, beta, theta, their standard errors, sigma2, the log-likelihood and
    (SDM) the impacts must all coincide; the impacts of I_T kron W are the per-period ones.
    """
    import geo.durbin as D

    frame = simulate(graph, T=3, seed=8, model=model)
    y, X = arrays(frame, graph)
    T, N = y.shape
    yd = (y - y.mean(axis=0)).ravel()
    Xd = (X - X.mean(axis=0)).reshape(T * N, 2)
    stacked = pd.DataFrame(
        {"gdp": yd, "x1": Xd[:, 0], "x2": Xd[:, 1]},
        index=pd.Index([f"{t}-{i}" for t in range(T) for i in graph.unique_ids], name="unit_period"),
    )
    Wnt = sp.kron(sp.identity(T), graph.sparse).tocsr()
    cross = D.fit(stacked, "gdp", ["x1", "x2"], weights=Wnt, model=model, draws=0)
    res = fit(frame, graph, model=model, effects="individual", bias_correction="none")
    a = res.coefficient_table()
    b = cross.coefficient_table().loc[a.index]
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=ML_RTOL)
    np.testing.assert_allclose(a["se"], b["se"], rtol=ML_RTOL)
    np.testing.assert_allclose(res.sigma2, cross.sigma2, rtol=ML_RTOL)
    np.testing.assert_allclose(res.loglik, cross.loglik, rtol=ML_RTOL)
    if model == "sdm":
        np.testing.assert_allclose(res.impacts.estimates.to_numpy(), cross.impacts.estimates.to_numpy(), rtol=ML_RTOL)
    # geo.durbin.fit(..., time=...) dispatches to the panel estimator with the same keywords
    via = D.fit(frame, "gdp", ["x1", "x2"], weights=graph, id="adcode", time="year", model=model,
                effects="individual", bias_correction="none", draws=0)
    assert via.spatial["estimate"] == res.spatial["estimate"]


def test_individual_effects_sdm_equals_dense_stacked_likelihood(graph):
    """SDM with individual FE: the same optimum as a dense NT x NT stacked cross-section likelihood."""
    frame = simulate(graph, T=3, seed=8)
    y, X = arrays(frame, graph)
    T, N = y.shape
    W = graph.sparse.toarray()
    WX = np.einsum("ij,tjk->tik", W, X)
    Z = np.concatenate([X, WX], axis=2)
    Z = (Z - Z.mean(axis=0)).reshape(T * N, 4)
    yd = (y - y.mean(axis=0)).ravel()
    Wnt = sp.kron(sp.identity(T), sp.csr_matrix(W)).toarray()
    wy = Wnt @ yd

    def negll(theta):
        r, b, ls2 = theta[0], theta[1:5], theta[5]
        e = yd - r * wy - Z @ b
        sign, ld = np.linalg.slogdet(np.eye(T * N) - r * Wnt)
        return -(-0.5 * T * N * (np.log(2 * np.pi) + ls2) + ld - e @ e / (2 * np.exp(ls2)))

    res = fit(frame, graph, model="sdm", effects="individual", bias_correction="none")
    start = np.concatenate([[res.rho], res.coefficients["estimate"].to_numpy(), [np.log(res.sigma2)]])
    # the module's estimate is a stationary point of the full stacked likelihood ...
    grad = optimize.approx_fprime(start, negll, 1e-7)
    assert np.max(np.abs(grad)) < 1e-2
    # ... and its log-likelihood is that of the stacked model
    np.testing.assert_allclose(-negll(start), res.loglik, rtol=1e-10)


def test_lee_yu_versus_direct_relationships(graph):
    """Individual FE: same rho/beta, sigma2 x T/(T-1) (Lee & Yu 2010, sec. 3; Elhorst 2014, sec. 3.3).

    Two-way FE: at any common rho both approaches give the same beta(rho) and e'e, so
    sigma2_LY(rho) = NT / ((N-1)(T-1)) sigma2_direct(rho); the estimates of rho differ
    because the Jacobian is (T-1)[log|I - rho W| - log(1 - rho)] instead of T log|I - rho W|.
    """
    T = 4
    frame = simulate(graph, T=T, seed=21)
    N = graph.n
    ly = fit(frame, graph, model="sdm", effects="individual", bias_correction="lee-yu")
    dr = fit(frame, graph, model="sdm", effects="individual", bias_correction="none")
    # equal up to the optimiser's tolerance (Brent: ~sqrt(eps) relative in rho)
    np.testing.assert_allclose(ly.rho, dr.rho, rtol=1e-7)
    np.testing.assert_allclose(ly.params.to_numpy(), dr.params.to_numpy(), rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(ly.sigma2, dr.sigma2 * T / (T - 1), rtol=1e-8)

    ly2 = fit(frame, graph, model="sdm", effects="twoways", bias_correction="lee-yu")
    dr2 = fit(frame, graph, model="sdm", effects="twoways", bias_correction="none")
    assert ly2.rho != pytest.approx(dr2.rho, rel=1e-6)
    # evaluate both at the Lee-Yu rho through the module's own algebra
    W = graph.sparse
    y, X = arrays(frame, graph)
    panel = P._Panel(y, X, graph.unique_ids, pd.Index(range(T)), "gdp", ("x1", "x2"))
    ld = lambda r: float(np.linalg.slogdet(np.eye(N) - r * W.toarray())[1])  # noqa: E731
    ld_obj = type("LD", (), {"__call__": lambda s, r: ld(r), "lower": ly2.rho - 1e-9, "upper": ly2.rho + 1e-9})()
    direct_at = P._fit_lag(panel, W, ld_obj, P._Scheme(True, True, False), True, "twoways", vcov=False)
    np.testing.assert_allclose(direct_at.coef, ly2.params.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(ly2.sigma2, direct_at.sigma2 * N * T / ((N - 1) * (T - 1)), rtol=1e-6)


# ------------------------------------------------------------- Monte Carlo


@pytest.mark.slow
def test_monte_carlo_two_way_sdm_on_china_contiguity(graph):
    """Known rho, beta, theta, two-way effects on the real China queen graph (N = 337, T = 4).

    60 seeded replications.  Lee-Yu: |bias| within 4 Monte Carlo standard errors and
    95% interval coverage inside the binomial 99.9% acceptance region for every
    parameter; sigma2 unbiased.  Direct approach (bias_correction='none'): sigma2
    biased by about (N-1)(T-1)/(NT) = 0.748, the inconsistency the correction removes.
    """
    reps, T = 60, 4
    N = graph.n
    truth = np.array([1.0, -0.5, 0.5, 0.3, 0.4])  # beta1, beta2, theta1, theta2, rho
    est, cover, s2_ly, s2_dr = [], [], [], []
    for r in range(reps):
        frame = simulate(graph, T=T, seed=1000 + r)
        res = fit(frame, graph, model="sdm", effects="twoways", bias_correction="lee-yu")
        tab = res.coefficient_table()
        e, s = tab["estimate"].to_numpy(), tab["se"].to_numpy()
        est.append(e)
        cover.append(np.abs(e - truth) <= 1.959964 * s)
        s2_ly.append(res.sigma2)
        s2_dr.append(fit(frame, graph, model="sdm", effects="twoways", bias_correction="none").sigma2)
    est, cover = np.array(est), np.array(cover)
    bias = est.mean(axis=0) - truth
    mcse = est.std(axis=0, ddof=1) / np.sqrt(reps)
    assert np.all(np.abs(bias) < 4 * mcse), (bias, mcse)
    lo, hi = stats.binom.ppf([0.0005, 0.9995], reps, 0.95) / reps
    coverage = cover.mean(axis=0)
    assert np.all((coverage >= lo) & (coverage <= hi)), (coverage, lo, hi)
    sd = np.sqrt(2 / ((N - 1) * (T - 1)) / reps)  # sampling sd of the mean of sigma2-hat
    assert np.mean(s2_ly) == pytest.approx(1.0, abs=5 * sd + 0.01)
    assert np.mean(s2_dr) == pytest.approx((N - 1) * (T - 1) / (N * T), abs=5 * sd + 0.01)


# ------------------------------------------------------------ variance paths


def test_observed_information_path_matches_numerical_hessian(graph, monkeypatch):
    """Beyond DENSE_MAX_N the covariance is the inverse observed information; check it numerically."""
    frame = simulate(graph, T=3, seed=9)
    monkeypatch.setattr(P, "DENSE_MAX_N", 10)  # covariance="auto" switches to the observed information
    res = fit(frame, graph, model="sar", effects="twoways", bias_correction="lee-yu")
    assert res.covariance.startswith("observed information")
    forced = fit(frame, graph, model="sar", effects="twoways", covariance="hessian")
    assert forced.spatial["se"] == res.spatial["se"]
    y, X = arrays(frame, graph)
    T, N = y.shape
    W = graph.sparse.toarray()
    def sweep(a):
        return a - a.mean(axis=0, keepdims=True) - a.mean(axis=1, keepdims=True) + a.mean(axis=(0, 1), keepdims=True)

    yd, wyd = sweep(y).ravel(), sweep(y @ W.T).ravel()
    Z = np.stack([sweep(X[..., k]).ravel() for k in range(2)], axis=1)
    ev = np.linalg.eigvals(W)
    n_obs = (N - 1) * (T - 1)

    def ll(p):
        b, r, s2 = p[:2], p[2], p[3]
        e = yd - r * wyd - Z @ b
        jac = (T - 1) * (np.sum(np.log(np.abs(1 - r * ev))) - np.log(1 - r))
        return -0.5 * n_obs * np.log(2 * np.pi * s2) + jac.real - e @ e / (2 * s2)

    p0 = np.concatenate([res.params.to_numpy(), [res.rho, res.sigma2]])
    h = np.array([1e-4, 1e-4, 1e-5, 1e-5])
    H = np.zeros((4, 4))
    for i in range(4):
        for j in range(4):
            ei, ej = np.eye(4)[i] * h[i], np.eye(4)[j] * h[j]
            H[i, j] = (ll(p0 + ei + ej) - ll(p0 + ei - ej) - ll(p0 - ei + ej) + ll(p0 - ei - ej)) / (4 * h[i] * h[j])
    se_num = np.sqrt(np.diag(np.linalg.inv(-H)))[:3]
    se = np.concatenate([res.coefficients["se"].to_numpy(), [res.spatial["se"]]])
    np.testing.assert_allclose(se, se_num, rtol=1e-3)
    # and it is close to the expected-information standard errors
    monkeypatch.setattr(P, "DENSE_MAX_N", 4000)
    exp = fit(frame, graph, model="sar", effects="twoways", bias_correction="lee-yu")
    np.testing.assert_allclose(se, np.concatenate([exp.coefficients["se"], [exp.spatial["se"]]]), rtol=0.05)


def test_observed_information_sem_close_to_expected(graph, monkeypatch):
    frame = simulate(graph, T=4, seed=4, model="sem")
    exp = fit(frame, graph, model="sem", effects="twoways")
    monkeypatch.setattr(P, "DENSE_MAX_N", 10)
    obs = fit(frame, graph, model="sem", effects="twoways")
    assert obs.covariance.startswith("observed information")
    assert obs.lam == pytest.approx(exp.lam, rel=1e-12)
    np.testing.assert_allclose(obs.spatial["se"], exp.spatial["se"], rtol=0.05)
    np.testing.assert_allclose(obs.coefficients["se"], exp.coefficients["se"], rtol=0.05)


# ------------------------------------------------------------------ impacts


def test_impacts_equal_dense_effects_matrix_and_delta_method(graph):
    """Per-period impacts: averages of S_k = (I - rho W)^-1 (beta_k I + theta_k W); simulated SEs ~ delta method."""
    frame = simulate(graph, T=4, seed=2)
    res = fit(frame, graph, model="sdm", effects="twoways", draws=3000, seed=7)
    W = graph.sparse.toarray()
    N = W.shape[0]
    Ainv = np.linalg.inv(np.eye(N) - res.rho * W)
    est = res.impacts.estimates
    for k, name in enumerate(["x1", "x2"]):
        S = Ainv @ (res.params[name] * np.eye(N) + res.params[f"W_{name}"] * W)
        np.testing.assert_allclose(est.at[name, "direct"], np.trace(S) / N, rtol=1e-9)
        np.testing.assert_allclose(est.at[name, "total"], S.sum() / N, rtol=1e-9)
        np.testing.assert_allclose(est.at[name, "indirect"], (S.sum() - np.trace(S)) / N, rtol=1e-9)
        # delta method for the total (b + t) / (1 - rho): checks the covariance ordering handed to the simulation
        V = res.vcov.loc[["rho", name, f"W_{name}"], ["rho", name, f"W_{name}"]].to_numpy()
        b, t, r = res.params[name], res.params[f"W_{name}"], res.rho
        g = np.array([(b + t) / (1 - r) ** 2, 1 / (1 - r), 1 / (1 - r)])
        se_delta = np.sqrt(g @ V @ g)
        assert res.impacts.se.at[name, "total"] == pytest.approx(se_delta, rel=0.08)


def test_impacts_reproducible_with_seed(graph):
    frame = simulate(graph, T=3, seed=2)
    a = fit(frame, graph, model="sar", effects="twoways", draws=200, seed=3)
    b = fit(frame, graph, model="sar", effects="twoways", draws=200, seed=3)
    pd.testing.assert_frame_equal(a.impacts.se, b.impacts.se)


# ------------------------------------------------------------ result object


def test_result_json_and_frame(graph):
    frame = simulate(graph, T=3, seed=1)
    res = fit(frame, graph, model="sdm", effects="twoways", draws=100, seed=1)
    out = json.loads(json.dumps(res.to_json()))
    for key in ("model", "effects", "n", "t", "rho", "coefficients", "sigma2", "loglik", "aic", "logdet_method",
                "impacts", "tests"):
        assert key in out
    assert out["effects"] == "twoways" and out["t"] == 3 and out["n"] == 337
    assert set(out["coefficients"]) == {"x1", "x2", "W_x1", "W_x2"}
    assert set(out["tests"]) == {"LR_sdm_vs_sar", "Wald_sdm_vs_sar", "LR_sdm_vs_sem", "Wald_sdm_vs_sem"}
    assert out["aic"] == pytest.approx(-2 * out["loglik"] + 2 * 6)
    # fitted + residual = y, on the input's (id, year) rows in input order
    tab = res.to_frame()
    assert list(tab.index.get_level_values(0)) == list(frame["adcode"])
    np.testing.assert_allclose((tab["fitted"] + tab["residual"]).to_numpy(), frame["gdp"].to_numpy(), rtol=1e-12)
    assert "Lee & Yu" in res.summary()
    # LR tests agree with separate fits
    sar = fit(frame, graph, model="sar", effects="twoways")
    assert out["tests"]["LR_sdm_vs_sar"]["statistic"] == pytest.approx(2 * (res.loglik - sar.loglik), rel=1e-9)
    sem = fit(frame, graph, model="sem", effects="twoways")
    assert "lambda" in sem.to_json() and "rho" not in sem.to_json()
    assert sem.impacts.estimates["indirect"].eq(0).all()


def test_graph_or_matrix_with_ids_and_numeric_ids(graph):
    frame = simulate(graph, T=3, seed=6)
    a = fit(frame, graph, model="sar", effects="individual")
    b = fit_panel(frame, "gdp", ["x1", "x2"], weights=graph.sparse, weight_ids=list(graph.unique_ids),
                  id="adcode", time="year", model="sar", effects="individual", draws=0)
    assert a.rho == b.rho
    # integer ids in the data, string ids in the weights
    c = fit(frame.assign(adcode=frame["adcode"].astype(int)).astype({"adcode": int}), graph, model="sar",
            effects="individual")
    assert c.rho == pytest.approx(a.rho, rel=1e-12)
    with pytest.raises(OptionError, match="weight_ids"):
        fit_panel(frame, "gdp", ["x1"], weights=graph.sparse, id="adcode", time="year")
    # (id, year) as the index: id found from the index level
    d = fit_panel(frame.set_index(["adcode", "year"]), "gdp", ["x1", "x2"], weights=graph, id=None, time="year",
                  model="sar", effects="individual", draws=0)
    assert d.rho == a.rho
    assert d.residuals.index.names == ["adcode", "year"]
    data = frame.copy()
    fit(frame, graph, model="sem")
    pd.testing.assert_frame_equal(frame, data)  # input not modified


# ---------------------------------------------------------------- bad input


def test_unbalanced_panel_names_the_missing_unit_year(graph):
    frame = simulate(graph, T=3, seed=1)
    gap = frame[~((frame["adcode"] == "330900") & (frame["year"] == 2002))]
    with pytest.raises(SchemaError, match=r"unbalanced panel: 1 of 337 units .*330900 lacks 2002\).*balance='drop'"):
        fit(gap, graph)
    with pytest.raises(SchemaError, match=r"460400 lacks 2001, 2002, 2003"):
        fit(frame[frame["adcode"] != "460400"], graph)
    with pytest.raises(SchemaError, match=r"more than one row for adcode='110000', year=2001"):
        fit(pd.concat([frame, frame[(frame["adcode"] == "110000") & (frame["year"] == 2001)]]), graph)
    nan = frame.copy()
    nan.loc[(nan["adcode"] == "120000") & (nan["year"] == 2003), "x2"] = np.nan
    with pytest.raises(SchemaError, match=r"120000 lacks 2003 \(empty 'x2'\)"):
        fit(nan, graph)
    extra = pd.concat([frame, frame.head(1).assign(adcode="999999")])
    with pytest.raises(JoinError, match="999999"):
        fit(extra, graph)
    with pytest.raises(SchemaError, match="no column 'gdp2'"):
        fit_panel(frame, "gdp2", ["x1"], weights=graph, id="adcode", time="year")


def test_bad_options_and_models(graph):
    frame = simulate(graph, T=3, seed=1)
    with pytest.raises(OptionError, match="needs fixed effects"):
        fit(frame, graph, effects="none")
    with pytest.raises(OptionError, match="covariance"):
        fit(frame, graph, covariance="sandwich")
    with pytest.raises(OptionError, match="bias_correction"):
        fit(frame, graph, bias_correction="bc")
    with pytest.raises(OptionError, match="model='slx'"):
        fit(frame, graph, model="slx")
    # Lee-Yu time elimination needs constant row sums
    with pytest.raises(ModelError, match="row-standardise"):
        fit(frame, graph.transform("b"), effects="twoways", bias_correction="lee-yu")
    fit(frame, graph.transform("b"), effects="individual", bias_correction="lee-yu")  # fine: F_T only
    # a regressor constant within units disappears under individual effects
    const = frame.assign(x2=frame["adcode"].astype(int) / 1e5)
    with pytest.raises(ModelError, match="'x2' has no variation"):
        fit(const, graph, effects="individual")
    # collinear regressors
    col = frame.assign(x2=2 * frame["x1"])
    with pytest.raises(ModelError, match="collinear"):
        fit(col, graph, model="sar", effects="twoways")


def test_impacts_order_reaches_the_panel_fit(graph):
    from geo import durbin

    frame = simulate(graph, T=3, seed=4)
    res = durbin.fit(frame, "gdp", ["x1", "x2"], weights=graph, model="sdm", effects="twoways",
                     id="adcode", time="year", draws=0, impacts_order=3)
    orders = res.to_json()["impacts_by_order"]
    assert set(orders) == {"x1", "x2"}
    assert list(orders["x1"]) == ["0", "1", "2", "3"]  # W^0 .. W^3
    assert orders["x1"]["0"]["indirect"] == 0.0
