"""Dynamic spatial Durbin panel: the bias term, stability, outputs, CLI, and a fast Monte Carlo."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from geo.durbin.dynamic import fit_dynamic, nickell_score, stability

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


def ring(n, k=2):
    """Row-standardised circular k-neighbour graph (symmetric-similar, W 1 = 1)."""
    W = np.zeros((n, n))
    for i in range(n):
        for d in range(1, k + 1):
            W[i, (i + d) % n] = W[i, (i - d) % n] = 1
    return W / W.sum(axis=1, keepdims=True)


def test_expected_score_equals_dense_traces():
    rng = np.random.default_rng(0)
    A0 = (rng.uniform(size=(25, 25)) < 0.2).astype(float)
    np.fill_diagonal(A0, 0)
    A0[np.arange(25), (np.arange(25) + 1) % 25] = 1
    W = A0 / A0.sum(axis=1, keepdims=True)  # asymmetric: complex eigenvalues
    tau, rho, eta, T = 0.35, 0.25, -0.1, 6
    N = W.shape[0]
    S_inv = np.linalg.inv(np.eye(N) - rho * W)
    A = S_inv @ (tau * np.eye(N) + eta * W)
    J = np.eye(N) - np.ones((N, N)) / N
    for drop in (None, 1.0):
        P = J if drop else np.eye(N)  # tr on the F_{N,N-1} space = tr(J f(W)) when W 1 = 1
        st = sum((T - 1 - h) * np.trace(P @ np.linalg.matrix_power(A, h) @ S_inv) for h in range(T - 1)) / T
        se = sum((T - 1 - h) * np.trace(P @ W @ np.linalg.matrix_power(A, h) @ S_inv) for h in range(T - 1)) / T
        sr = sum((T - 1 - h) * np.trace(P @ W @ np.linalg.matrix_power(A, h + 1) @ S_inv) for h in range(T - 1)) / T
        got = nickell_score(np.linalg.eigvals(W), T, tau, rho, eta, drop)
        np.testing.assert_allclose(got, (-sr, -st, -se), rtol=1e-10)


def test_expected_score_matches_simulated_scores():
    """The derivation itself: the average score at the true parameters over 3,000 simulated panels."""
    W = ring(30)
    N, T, tau, rho, eta = 30, 5, 0.5, 0.3, -0.2
    rng = np.random.default_rng(1)
    S = np.eye(N) - rho * W
    S_inv = np.linalg.inv(S)
    G = W @ S_inv
    scores = []
    for _ in range(3000):
        mu = rng.normal(size=N)
        y = np.linalg.solve(np.eye(N) - S_inv @ (tau * np.eye(N) + eta * W), S_inv @ mu)  # stationary mean
        y = y + rng.normal(size=N)
        ys = [y]
        for _t in range(T + 20):
            y = S_inv @ (tau * y + eta * W @ y + mu + rng.normal(size=N))
            ys.append(y)
        Y = np.array(ys[-(T + 1):])
        Yl, Yc = Y[:-1], Y[1:]
        d = lambda a: a - a.mean(axis=0, keepdims=True)  # noqa: E731
        V = d(Yc @ S.T - tau * Yl - eta * Yl @ W.T)
        s_tau = float((d(Yl) * V).sum())
        s_eta = float((d(Yl @ W.T) * V).sum())
        s_rho = -(T - 1) * np.trace(G) + float((d(Yc @ W.T) * V).sum())
        scores.append((s_rho, s_tau, s_eta))
    m = np.mean(scores, axis=0)
    sd = np.std(scores, axis=0) / np.sqrt(len(scores))
    expected = nickell_score(np.linalg.eigvals(W), T, tau, rho, eta)
    assert np.all(np.abs(m - expected) < 4 * sd), (m, expected, sd)
    assert abs(expected[1]) > 10 * sd[1]  # the bias term is far from 0: the check has power


def test_stability_radius():
    W = ring(20)
    ev = np.linalg.eigvals(W)
    A = np.linalg.solve(np.eye(20) - 0.3 * W, 0.4 * np.eye(20) - 0.15 * W)
    assert stability(ev, 0.4, 0.3, -0.15) == pytest.approx(np.max(np.abs(np.linalg.eigvals(A))), rel=1e-10)
    assert stability(ev, 0.6, 0.3, 0.2) > 1
    assert np.allclose(stability(ev, np.array([0.4, 0.6]), np.array([0.3, 0.3]), np.array([-0.15, 0.2])),
                       [stability(ev, 0.4, 0.3, -0.15), stability(ev, 0.6, 0.3, 0.2)])


@pytest.fixture(scope="module")
def china_panel():
    import mc_durbin

    graph = mc_durbin.china_graph()
    return graph, mc_durbin.simulate(graph, graph.sparse.toarray(), 8, seed=5)


def test_outputs_and_json_keys(china_panel):
    graph, df = china_panel
    res = fit_dynamic(df, "y_synthetic", ["x1", "x2"], weights=graph, id="id", time="year", draws=100, seed=2)
    js = res.to_json()
    for key in ("tau", "eta", "rho"):
        assert set(js[key]) == {"estimate", "se", "z", "p"}
    assert js["stable"] is True and 0 < js["spectral_radius"] < 1
    assert js["impacts_short_run"] == js["impacts"]
    lr = js["impacts_long_run"]["x1"]
    assert lr["total"]["estimate"] == pytest.approx(
        (res.coefficients.at["x1", "estimate"] + res.coefficients.at["W_x1", "estimate"])
        / (1 - res.rho - js["tau"]["estimate"] - js["eta"]["estimate"]), rel=1e-10)
    assert lr["total"]["lower"] < lr["total"]["estimate"] < lr["total"]["upper"]
    json.dumps(js, allow_nan=False)
    assert "Long-run Impacts" in res.summary() and "Stable: yes" in res.summary()
    assert res.to_frame().shape == (337 * 8, 2) and "tau" in res.coefficient_table().index
    # uncorrected: tau biased down (Nickell); the correction moves it up
    raw = fit_dynamic(df, "y_synthetic", ["x1", "x2"], weights=graph, id="id", time="year", draws=0,
                      bias_correction="none")
    assert raw.spatial_more["tau"]["estimate"] < res.spatial_more["tau"]["estimate"]


def test_cli_dynamic(tmp_path, capsys, china_panel):
    from geo.cli import main

    graph, df = china_panel
    path = tmp_path / "dyn_synthetic.csv"
    df.rename(columns={"id": "adcode"}).to_csv(path, index=False)
    assert main(["sdm", "--data", str(path), "--y", "y_synthetic", "--x", "x1,x2", "--time", "year", "--dynamic",
                 "--draws", "50", "--seed", "1", "--json"]) == 0
    js = json.loads(capsys.readouterr().out)
    assert js["dynamic"] is True and {"tau", "eta", "stable", "impacts_long_run"} <= set(js)
    assert main(["sdm", "--data", str(path), "--y", "y_synthetic", "--x", "x1", "--dynamic"]) == 2
    assert "--dynamic needs a panel" in capsys.readouterr().err


@pytest.mark.slow
def test_monte_carlo_fast_mode():
    """12 replications of benchmarks/mc_durbin.py: the correction removes the Nickell bias of tau."""
    import mc_durbin

    out = mc_durbin.run(12, 10, seed=777, draws=100)
    c, u = out["results"]["lee-yu"], out["results"]["none"]
    assert u["tau"]["bias"] < -0.04  # uncorrected: the O(1/T) bias
    assert abs(c["tau"]["bias"]) < 0.02 and abs(c["rho"]["bias"]) < 0.03 and abs(c["eta"]["bias"]) < 0.04
    for name in ("x1", "x2", "W_x1", "W_x2"):
        assert abs(c[name]["bias"]) < 0.05
    assert c["tau"]["coverage"] >= 0.75 and u["tau"]["coverage"] <= 0.5
    assert abs(c["LR_direct_x1"]["bias"]) < abs(u["LR_direct_x1"]["bias"])
