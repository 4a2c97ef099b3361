"""geo compare: log-marginal likelihoods checked by brute-force integration, the comparison table, the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import integrate
from test_logdet import lattice

from geo.durbin.bayes import log_marginal, posterior_probabilities
from geo.durbin.compare import compare
from geo.durbin.logdet import make_logdet


def _conditional_brute(y, Z, W, r, kind):
    """log p(y | r) = log int int L(r, b, sigma) (1/sigma) db dsigma by adaptive quadrature (k = 1)."""
    n = len(y)
    ld = make_logdet(W, method="eigen")
    z = Z[:, 0]
    B = lambda v: v - r * (W @ v)  # noqa: E731
    ys, zs = (B(y), B(z)) if kind == "error" else (y - r * (W @ y), z)
    b0 = float(zs @ ys / (zs @ zs))
    sse = float((ys - b0 * zs) @ (ys - b0 * zs))
    s0 = 0.5 * math.log(sse / n)
    sd_b = math.sqrt(sse / n / (zs @ zs))

    def ll(b, s):  # s = log sigma, so (1/sigma) d sigma = ds
        e = ys - b * zs
        return ld(r) - n * s - 0.5 * n * math.log(2 * math.pi) - float(e @ e) / (2 * math.exp(2 * s))

    off = ll(b0, s0)
    val, _ = integrate.dblquad(lambda s, b: math.exp(ll(b, s) - off), b0 - 15 * sd_b, b0 + 15 * sd_b,
                               s0 - 2.5, s0 + 4, epsabs=0, epsrel=1e-9)
    return off + math.log(val)


def _conditional(y, Z, W, r, kind):
    """The closed form of bayes.log_marginal before the rho integral (same formula, evaluated directly)."""
    from scipy.special import gammaln

    n, k = Z.shape
    ld = make_logdet(W, method="eigen")
    B = lambda v: v - r * (W @ v)  # noqa: E731
    ys, Zs = (B(y), B(Z)) if kind == "error" else (y - r * (W @ y), Z)
    b = np.linalg.lstsq(Zs, ys, rcond=None)[0]
    sse = float((ys - Zs @ b) @ (ys - Zs @ b))
    m = n - k
    return (ld(r) - 0.5 * np.linalg.slogdet(Zs.T @ Zs)[1] + gammaln(m / 2) - m / 2 * math.log(math.pi)
            - math.log(2) - m / 2 * math.log(sse))


@pytest.mark.parametrize("kind", ["lag", "error"])
def test_log_marginal_equals_brute_force_integral(kind):
    """beta and sigma integrate out as the closed form says (checked by quadrature at several rho), and the
    rho integral equals a 200-node Gauss-Legendre rule on the conditional."""
    W = lattice(3, 3)
    rng = np.random.default_rng(3)
    n = W.shape[0]
    Z = np.ones((n, 1))
    y = 1.0 + 0.5 * (W @ rng.normal(size=n)) + rng.normal(size=n)
    ld = make_logdet(W, method="eigen")
    for r in (-0.5, 0.1, 0.7):
        assert _conditional(y, Z, W, r, kind) == pytest.approx(_conditional_brute(y, Z, W, r, kind), abs=1e-6)
    got = log_marginal(y, Z, kind=kind, Wy=W @ y, WZ=W @ Z, jac=ld, lower=ld.lower, upper=ld.upper)
    assert got["quad_relative_error"] < 1e-8
    x, w = np.polynomial.legendre.leggauss(200)
    lo, hi = ld.lower, ld.upper
    rs = 0.5 * (hi - lo) * x + 0.5 * (hi + lo)
    vals = np.array([_conditional(y, Z, W, r, kind) for r in rs])
    top = vals.max()
    gl = top + math.log(float(np.sum(w * np.exp(vals - top))) * 0.5 * (hi - lo)) - math.log(hi - lo)
    assert got["log_marginal"] == pytest.approx(gl, abs=1e-7)


def test_posterior_probabilities_sum_to_one():
    p = posterior_probabilities([-1000.0, -1001.0, -1010.0])
    assert p.sum() == pytest.approx(1.0, abs=1e-15) and p[0] / p[1] == pytest.approx(math.e, rel=1e-12)


@pytest.fixture(scope="module")
def columbus_graphs(columbus):
    from libpysal.graph import Graph

    g1 = Graph.build_contiguity(columbus, rook=False).transform("r")
    g2 = Graph.build_knn(columbus.set_geometry(columbus.centroid), k=4).transform("r")
    return g1, g2


def test_compare_table(columbus, columbus_graphs):
    import geo.durbin as gd

    g1, g2 = columbus_graphs
    c = compare(columbus, "CRIME", ["INC", "HOVAL"], weights={"queen": g1, "knn:4": g2},
                models=["sdm", "sar", "sem", "slx", "sac"])
    js = c.to_json()
    assert len(js["fits"]) == 10
    probs = [f["posterior_probability"] for f in js["fits"] if f["posterior_probability"] is not None]
    assert len(probs) == 8 and sum(probs) == pytest.approx(1.0, abs=1e-12)
    for f in js["fits"]:
        assert set(f) >= {"weights", "model", "loglik", "aic", "bic", "posterior_probability", "rho", "impacts"}
    sdm = gd.fit(columbus, "CRIME", ["INC", "HOVAL"], weights=g2, model="sdm", draws=0)
    row = next(f for f in js["fits"] if f["weights"] == "knn:4" and f["model"] == "sdm")
    assert row["loglik"] == pytest.approx(sdm.loglik, rel=1e-12) and row["rho"]["estimate"] == pytest.approx(sdm.rho)
    assert row["bic"] == pytest.approx(-2 * sdm.loglik + sdm.n_params * math.log(49), rel=1e-12)
    lr = next(t for t in js["lr_tests"] if t["weights"] == "queen" and t["full"] == "sdm" and t["restricted"] == "sar")
    sdm_q = gd.fit(columbus, "CRIME", ["INC", "HOVAL"], weights=g1, model="sdm", draws=0)
    assert lr["df"] == 2 and lr["statistic"] == pytest.approx(sdm_q.tests["LR_sdm_vs_sar"]["statistic"], rel=1e-9)
    frame = c.to_frame()
    assert ("queen", "sdm") in frame.index and "INC:direct" in frame.columns
    json.dumps(js, allow_nan=False)
    assert "P(model|y)" in c.summary()


def test_compare_static_panel_and_cli(tmp_path, capsys):
    from geo._paths import LAYERS_DIR
    from geo.cli import main

    demo = str(LAYERS_DIR / "demo_panel_synthetic.csv")
    rc = main(["compare", "--data", demo, "--y", "log_gdp_pc_synthetic", "--x", "invest_share_synthetic",
               "--time", "year", "--weights", "queen,knn:6", "--model", "sdm,sar,sem", "--json"])
    assert rc == 0
    js = json.loads(capsys.readouterr().out)
    assert len(js["fits"]) == 6
    assert sum(f["posterior_probability"] for f in js["fits"]) == pytest.approx(1.0, abs=1e-12)
    assert {f["weights"] for f in js["fits"]} == {"queen", "knn:6"}
    assert main(["compare", "--data", demo, "--y", "log_gdp_pc_synthetic", "--x", "invest_share_synthetic",
                 "--time", "year", "--weights", "queen", "--model", "sac"]) == 2
    assert capsys.readouterr().err.startswith("error: ")
