"""The shared ML engine (one maximiser, one design check, one test module) and degenerate data."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from geo.durbin import engine, tests as T
from geo.durbin.panel import fit_panel
from geo.errors import ModelError, SchemaError


@pytest.fixture(scope="module")
def graph(china):
    from geo import weights

    return weights.build("queen", china)


def _panel(graph, T=4, seed=0):
    rng = np.random.default_rng(seed)
    ids = np.asarray(graph.unique_ids)
    N = len(ids)
    x = rng.normal(size=(T, N))
    return pd.DataFrame({"adcode": np.tile(ids, T), "year": np.repeat(np.arange(2001, 2001 + T), N),
                         "x1": x.ravel(), "gdp": (x + rng.normal(size=(T, N))).ravel()})


def test_one_maximiser_finds_a_known_maximum_and_names_the_bound():
    f = lambda r: -((r - 0.3141592653) ** 2)  # noqa: E731
    assert engine.maximise(f, -1.0, 1.0, "rho") == pytest.approx(0.3141592653, abs=1e-8)
    with pytest.raises(ModelError, match="rho = .* on the bound"):
        engine.maximise(lambda r: r, -1.0, 1.0, "rho")
    with pytest.raises(ModelError, match="not finite"):
        engine.maximise(lambda r: math.nan, -1.0, 1.0, "rho")


def test_chi2_lr_wald_and_hausman_records():
    rec = T.lr_test(-10.0, -12.5, 2, "H0")
    assert rec == {"statistic": 5.0, "df": 2, "p": pytest.approx(math.exp(-2.5)), "note": "H0"}
    assert T.lr_test(-10.0, -10.0 + 1e-12, 1)["statistic"] == 0.0  # rounding below 0 reported as 0
    V = np.array([[0.5, 0.1], [0.1, 0.2]])
    g = np.array([0.3, -0.2])
    w = T.wald_test(g, np.eye(2), V)
    assert w["statistic"] == pytest.approx(float(g @ np.linalg.solve(V, g)), rel=1e-12)
    assert w["p"] == pytest.approx(stats.chi2.sf(w["statistic"], 2), rel=1e-12)
    h = T.hausman_test([1.0, 2.0], np.diag([0.3, 0.5]), [0.8, 2.1], np.diag([0.1, 0.4]))
    assert h["df"] == 2 and h["statistic"] == pytest.approx(0.2**2 / 0.2 + 0.1**2 / 0.1, rel=1e-12)


def test_design_check_names_columns():
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(50, 3))
    Z[:, 2] = Z[:, 0] + 2 * Z[:, 1]
    with pytest.raises(ModelError, match="collinear"):
        engine.check_design(Z, ["a", "b", "c"])
    with pytest.raises(ModelError, match="'b' has no variation after x"):
        engine.check_design(np.column_stack([Z[:, 0], 1e-17 * Z[:, 1]]), ["a", "b"], scale_before=[1.0, 1.0],
                            context="after x")


def test_constant_y_panel_is_one_clear_error_without_runtime_warnings(graph):
    frame = _panel(graph).assign(gdp=3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning would fail the test
        with pytest.raises(ModelError, match="'gdp' .* is constant after sweeping out the twoways effects"):
            fit_panel(frame, "gdp", ["x1"], weights=graph, id="adcode", time="year", draws=0)
    # constant within units only: individual effects leave nothing
    unit = _panel(graph)
    unit["gdp"] = unit["adcode"].astype(int) / 1e5
    with pytest.raises(ModelError, match="is constant after sweeping out the individual effects"):
        fit_panel(unit, "gdp", ["x1"], weights=graph, id="adcode", time="year", effects="individual", draws=0)


def test_y_identical_to_x_says_so(graph):
    frame = _panel(graph)
    frame["x2"] = frame["gdp"]
    with pytest.raises(ModelError, match="'gdp' .* exact linear combination of 'x1', 'x2'.*remove the regressor"):
        fit_panel(frame, "gdp", ["x1", "x2"], weights=graph, id="adcode", time="year", draws=0)


def test_cross_section_degenerate_y(graph):
    import geo.durbin as gd

    ids = list(graph.unique_ids)
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"x": rng.normal(size=len(ids))}, index=ids)
    with pytest.raises(ModelError, match="'y' .* is constant"):
        gd.fit(df.assign(y=1.0), "y", ["x"], weights=graph, draws=0)
    with pytest.raises(ModelError, match="exact linear combination"):
        gd.fit(df.assign(y=2 * df["x"] + 1), "y", ["x"], weights=graph, draws=0)


def test_unbalanced_panel_error_names_gaps_and_offers_drop(graph):
    frame = _panel(graph, T=5)
    ids = list(graph.unique_ids)
    gone = frame[(frame["adcode"] == ids[3]) & (frame["year"] == 2003)].index
    frame = frame.drop(gone)
    frame.loc[(frame["adcode"] == ids[7]) & (frame["year"] == 2005), "x1"] = np.nan
    with pytest.raises(SchemaError, match=rf"unbalanced panel: 2 of 337 units .*{ids[3]} lacks 2003; "
                                          rf"{ids[7]} lacks 2005 \(empty 'x1'\)\).*--balance drop.* 335 units.*losing 8 obs"):
        fit_panel(frame, "gdp", ["x1"], weights=graph, id="adcode", time="year", draws=0)


def test_balance_drop_equals_a_fit_on_the_complete_units(graph):

    frame = _panel(graph, T=5, seed=3)
    ids = list(graph.unique_ids)
    drop_ids = [ids[3], ids[100]]
    holed = frame.drop(frame[(frame["adcode"] == ids[3]) & (frame["year"] == 2003)].index)
    holed.loc[(holed["adcode"] == ids[100]) & (holed["year"] == 2001), "gdp"] = np.nan
    res = fit_panel(holed, "gdp", ["x1"], weights=graph, id="adcode", time="year", draws=0, balance="drop",
                    names={ids[3]: "unit three"})
    b = res.extra["balance"]
    assert [d["id"] for d in b["dropped_units"]] == drop_ids
    assert b["dropped_units"][0]["name"] == "unit three"
    assert b["observations_lost"] == 4 + 4 and b["units_kept"] == 335
    assert any("2 unit(s) not observed in every period were dropped" in n for n in res.notes)
    # reference: the same rows, weights restricted to the kept units and row-standardised again
    W = graph.sparse.tocsr()
    keep = ~np.isin(ids, drop_ids)
    Wk = W[keep][:, keep]
    rs = np.asarray(Wk.sum(axis=1)).ravel()
    Wk = (Wk.multiply(1 / rs[:, None])).tocsr()
    ref = fit_panel(frame[~frame["adcode"].isin(drop_ids)], "gdp", ["x1"], weights=Wk,
                    weight_ids=[i for i, k in zip(ids, keep) if k], id="adcode", time="year", draws=0)
    assert res.rho == pytest.approx(ref.rho, rel=1e-10)
    assert res.loglik == pytest.approx(ref.loglik, rel=1e-10)
    assert res.n == 335 and not res.residuals.isna().any()
