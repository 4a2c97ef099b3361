"""Publication tables for the newer models, from the JSON the fits really write: the dynamic panel SDM (tau,
eta, stability, short- and long-run impacts), random effects (phi, sigma2_mu, Hausman), SAC/GNS (lambda),
and a ``geo compare`` result (one row per fit).  Each cell is checked against the JSON it came from."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_durbin_dynamic import ring

from geo import durbin
from geo.tables import compare_table, fmt_estimate, impacts_table, latex_escape, models_table, table_from_json

N, T = 30, 8


def _ring_graph(n, k=2):
    import scipy.sparse as sp
    from libpysal.graph import Graph

    W = ring(n, k)
    return W, Graph.from_sparse(sp.csr_matrix(W), ids=[f"u{i:02d}" for i in range(n)])


def _panel(seed=3):
    """y_t = (I - 0.3 W)^-1 (0.4 y_{t-1} - 0.1 W y_{t-1} + x_t + 0.3 W x_t + mu + e_t) on a ring (synthetic)."""
    W, G = _ring_graph(N)
    rng = np.random.default_rng(seed)
    mu = rng.normal(size=N)
    S_inv = np.linalg.inv(np.eye(N) - 0.3 * W)
    rows, y = [], np.zeros(N)
    for t in range(T + 1):
        x = rng.normal(size=N)
        y = S_inv @ (0.4 * y - 0.1 * W @ y + x + 0.3 * W @ x + mu + rng.normal(scale=0.5, size=N))
        if t:
            rows += [{"id": f"u{i:02d}", "t": 2000 + t, "y": y[i], "x": x[i]} for i in range(N)]
    return pd.DataFrame(rows), G


@pytest.fixture(scope="module")
def fits():
    df, G = _panel()
    kw = dict(weights=G, model="sdm", id="id", time="t", draws=50, seed=1)
    dyn = durbin.fit(df, "y", ["x"], dynamic=True, effects="twoways", **kw).to_json()
    re_ = durbin.fit(df, "y", ["x"], effects="random", **kw).to_json()
    return json.loads(json.dumps(dyn)), json.loads(json.dumps(re_))


def _row(table, label):
    rows = [r for r in table.rows if r.label == label]
    assert len(rows) == 1, (label, [r.label for r in table.rows])
    return rows[0]


def _below(table, label):
    return table.rows[table.rows.index(_row(table, label)) + 1]


def test_dynamic_and_random_effects_rows(fits):
    dyn, re_ = fits
    table = models_table([dyn, re_], names=["dynamic", "RE"])
    # tau and eta: the JSON's estimates with stars from their p, SE beneath; absent for the static RE model
    for key, label in (("tau", "τ (y_{t−1})"), ("eta", "η (W·y_{t−1})")):
        row = _row(table, label)
        assert row.cells[0].rstrip("*") == fmt_estimate(dyn[key]["estimate"]) and row.cells[1] == ""
        assert _below(table, label).cells[0] == f"({fmt_estimate(dyn[key]['se'])})"
    assert _row(table, "τ (y_{t−1})").cells[0].endswith("***")  # tau = 0.45, z ~ 13 on this panel
    labels = [r.label for r in table.rows]
    assert labels.index("ρ (W·y)") < labels.index("τ (y_{t−1})") < labels.index("η (W·y_{t−1})") < labels.index("Effects")
    assert _row(table, "Effects").cells == ("unit and year", "random (unit)")
    assert _row(table, "Stable (dynamic)").cells == ("yes" if dyn["stable"] else "no", "")
    assert _row(table, "φ (φ² = σ²/(σ² + T σ²_μ))").cells == ("", fmt_estimate(re_["phi"]))
    assert _row(table, "σ²_μ (unit effect)").cells == ("", fmt_estimate(re_["sigma2_mu"]))
    h = re_["hausman"]
    assert _row(table, "Hausman χ² [p]").cells == ("", f"{fmt_estimate(h['statistic'], 2)} [{h['p']:.3f}]")
    assert _row(table, "Observations").cells == (f"{N * (T - 1):,}", f"{N * T:,}")  # the dynamic panel loses a year
    # a fixed-effects-only table keeps its "Fixed effects" row and has no RE/dynamic rows
    static = models_table([{k: v for k, v in re_.items() if k not in ("phi", "sigma2_mu", "hausman")} | {"effects": "twoways"}])
    assert "Fixed effects" in [r.label for r in static.rows]
    assert not {"Effects", "Stable (dynamic)", "Hausman χ² [p]"} & {r.label for r in static.rows}


def test_dynamic_impacts_short_and_long_run(fits):
    dyn, _ = fits
    table = impacts_table(dyn)
    labels = [r.label for r in table.rows]
    assert labels == ["Short run", "x", "", "Long run", "x", ""]
    for start, block in ((1, dyn["impacts_short_run"]), (4, dyn["impacts_long_run"])):
        est = [c.rstrip("*") for c in table.rows[start].cells]
        assert est == [fmt_estimate(block["x"][k]["estimate"]) for k in ("direct", "indirect", "total")]
    # long-run effects exceed short-run ones when tau + eta > 0 and rho > 0 (here tau = 0.4, eta = -0.1)
    assert dyn["impacts_long_run"]["x"]["total"]["estimate"] > dyn["impacts_short_run"]["x"]["total"]["estimate"]
    zh = impacts_table(dyn, lang="zh")
    assert [r.label for r in zh.rows][0] == "短期" and "长期" in [r.label for r in zh.rows]


def test_sac_and_gns_lambda(columbus):
    from geo import weights as gw

    g = gw.build("queen", columbus)
    res = [json.loads(json.dumps(durbin.fit(columbus, "CRIME", ["INC", "HOVAL"], weights=g, model=m, draws=0).to_json()))
           for m in ("sac", "gns")]
    table = table_from_json(res)
    assert table.columns == ("(1) SAC", "(2) GNS")
    lam = _row(table, "λ (W·u)")
    assert [c.rstrip("*") for c in lam.cells] == [fmt_estimate(r["lambda"]["estimate"]) for r in res]
    rho = _row(table, "ρ (W·y)")
    assert [c.rstrip("*") for c in rho.cells] == [fmt_estimate(r["rho"]["estimate"]) for r in res]
    assert "W·INC" in [r.label for r in table.rows] and _row(table, "W·INC").cells[0] == ""  # SAC has no WX


@pytest.fixture(scope="module")
def comparison():
    from geo.durbin.compare import compare

    df, G = _panel()
    _, G1 = _ring_graph(N, k=1)
    return json.loads(json.dumps(compare(df, "y", ["x"], weights={"ring:2": G, "ring:1": G1}, models=("sdm", "sar", "sem"),
                                         id="id", time="t", effects="twoways").to_json()))


def test_compare_table_one_row_per_fit(comparison, tmp_path):
    table = table_from_json([comparison])
    assert table.kind == "compare" and table.head == "Weights"
    assert table.columns == ("Model", "Log-likelihood", "AIC", "BIC", "P(model | y)", "ρ (W·y)", "λ (W·u)")
    assert len(table.rows) == len(comparison["fits"]) == 6
    for row, fit in zip(table.rows, comparison["fits"]):
        assert row.label == fit["weights"] and row.cells[0] == fit["model"].upper()
        assert row.cells[1:4] == (fmt_estimate(fit["loglik"], 1), fmt_estimate(fit["aic"], 1), fmt_estimate(fit["bic"], 1))
        p = fit["posterior_probability"]
        assert row.cells[4] == ("<0.001" if p < 0.0005 else f"{p:.3f}")
        assert (row.cells[5] == "") == (fit["rho"] is None) and (row.cells[6] == "") == (fit["lambda"] is None)
    assert sum(f["posterior_probability"] for f in comparison["fits"]) == pytest.approx(1.0, abs=1e-12)
    assert sum(n.startswith("LR ") for n in table.notes) == len(comparison["lr_tests"]) == 4
    # the four formats
    import docx

    d = docx.Document(str(table.save(tmp_path / "c.docx")))
    assert [c.text for c in d.tables[0].rows[0].cells][:3] == ["Weights", "Model", "Log-likelihood"]
    assert len(d.tables[0].rows) == 7
    tex = table.save(tmp_path / "c.tex").read_text(encoding="utf-8")
    assert "ring:2 & SDM &" in tex and "\\textless{}0.001" not in tex.split("\\midrule")[0]
    md = table.save(tmp_path / "c.md").read_text(encoding="utf-8")
    assert md.count("\n| ring:") == 6
    page = table.save(tmp_path / "c.html").read_text(encoding="utf-8")
    assert page.count('<th scope="row">ring:') == 6 and "<th>Weights</th>" in page


def test_compare_table_escapes_user_text(comparison, tmp_path):
    evil = "<script>x</script> & 100% $w_1$ #{~^}\\"
    obj = json.loads(json.dumps(comparison))
    obj["fits"][0]["weights"] = evil
    obj["y"] = evil
    table = compare_table(obj, title=evil)
    tex = table.to_latex()
    assert "<script>" not in tex and f"\\caption{{{latex_escape(evil)}}}" in tex
    assert f"\n{latex_escape(evil)} & SDM &" in tex
    assert "<script>" not in table.to_html() and "<script>" not in table.to_markdown()
    import docx

    d = docx.Document(str(table.save(tmp_path / "e.docx")))
    assert d.tables[0].cell(1, 0).text == evil


def test_compare_table_errors_and_cli(comparison, tmp_path, capsys):
    from geo.cli import main
    from geo.errors import OptionError, SchemaError

    with pytest.raises(SchemaError, match="fits"):
        compare_table({"fits": []})
    with pytest.raises(OptionError, match="one geo compare result"):
        table_from_json([comparison, comparison], kind="compare")
    src = tmp_path / "cmp.json"
    src.write_text(json.dumps(comparison), encoding="utf-8")
    out = tmp_path / "cmp.docx"
    assert main(["table", "--from", str(src), "--out", str(out), "--lang", "zh"]) in (0, None)
    import docx

    head = [c.text for c in docx.Document(str(out)).tables[0].rows[0].cells]
    assert head[:2] == ["空间权重", "模型"] and "后验模型概率" in head
    capsys.readouterr()


def test_report_shows_the_comparison(comparison):
    from geo.report import describe
    from geo.tables import PubTable

    title, items = describe(comparison, stem="compare")
    assert title.startswith("Models and weights compared")
    tables = [i for i in items if isinstance(i, PubTable)]
    assert len(tables) == 1 and len(tables[0].rows) == 6
    assert not any(n.startswith("LR ") for n in tables[0].notes)  # the LR tests are a table of their own
    frames = [i for i in items if isinstance(i, pd.DataFrame)]
    assert len(frames[0]) == 4 and len(frames[1]) == 6  # LR tests; impacts of x side by side
