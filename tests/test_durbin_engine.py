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
from geo.errors import ModelError


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
