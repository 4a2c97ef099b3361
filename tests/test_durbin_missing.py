"""Panels with gaps by exact ML (balance='ml'): equal to the complete-data fit without gaps, close to it with
5-30 % of the outcomes removed at random (synthetic data on the China queen graph)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_durbin_panel import simulate

from geo.durbin.panel import fit_panel
from geo.errors import ModelError, SchemaError


pytestmark = pytest.mark.usefixtures("one_blas_thread")


@pytest.fixture(scope="module")
def graph(china):
    from geo import weights

    return weights.build("queen", china)


def holes(df, frac, seed):
    """Outcomes removed at random (MAR) in a share ``frac`` of the cells; a unit left with none keeps its first."""
    out = df.copy()
    out.loc[np.random.default_rng(seed).uniform(size=len(df)) < frac, "gdp"] = np.nan
    empty = out.groupby("adcode")["gdp"].transform(lambda v: v.isna().all())
    first = out[empty].groupby("adcode").head(1).index
    out.loc[first, "gdp"] = df.loc[first, "gdp"]
    return out


def fit(frame, graph, **kw):
    kw.setdefault("draws", 0)
    return fit_panel(frame, "gdp", ["x1", "x2"], weights=graph, id="adcode", time="year", **kw)


def test_without_gaps_equals_the_direct_approach(graph):
    df = simulate(graph, T=5, seed=3)
    a = fit(df, graph, bias_correction="none")
    b = fit(df, graph, balance="ml")
    assert b.rho == pytest.approx(a.rho, rel=1e-6)
    assert b.loglik == pytest.approx(a.loglik, rel=1e-11)
    assert b.sigma2 == pytest.approx(a.sigma2, rel=1e-6)
    np.testing.assert_allclose(b.coefficients["estimate"], a.coefficients["estimate"], rtol=1e-6)
    # observed (ours) vs expected (fit_panel) information: asymptotically equal
    np.testing.assert_allclose(b.coefficients["se"], a.coefficients["se"], rtol=0.03)


@pytest.mark.parametrize("frac", [0.05, 0.15, 0.30])
def test_gaps_close_to_complete_data_estimates(graph, frac):
    df = simulate(graph, T=5, seed=4)
    full = fit(df, graph, balance="ml")
    holed = holes(df, frac, int(frac * 100))
    res = fit(holed, graph, balance="ml", draws=50, seed=1)
    assert res.extra["balance"]["gaps"] == int(holed["gdp"].isna().sum())
    est = np.concatenate([[res.rho], res.coefficients["estimate"]])
    ref = np.concatenate([[full.rho], full.coefficients["estimate"]])
    se = np.concatenate([[res.spatial["se"]], res.coefficients["se"]])
    se_full = np.concatenate([[full.spatial["se"]], full.coefficients["se"]])
    assert np.all(se >= se_full * 0.99)  # less information
    # the difference of an efficient and a less efficient estimator has variance ~ V_gaps - V_full
    sd = np.sqrt(np.maximum(se**2 - se_full**2, (0.2 * se) ** 2))
    assert np.all(np.abs(est - ref) < 4 * sd), (frac, est, ref, sd)
    js = res.to_json()
    json.dumps(js, allow_nan=False)
    assert js["balance"]["policy"] == "ml" and any("missing at random" in n for n in js["notes"])


def test_missing_regressor_and_never_observed_unit_are_errors(graph):
    df = simulate(graph, T=4, seed=5)
    bad = df.copy()
    bad.loc[bad.index[0], "x1"] = np.nan
    with pytest.raises(SchemaError, match="needs every regressor in every unit-period: 'x1' is missing"):
        fit(bad, graph, balance="ml")
    never = df.copy()
    never.loc[never["adcode"] == "110000", "gdp"] = np.nan
    with pytest.raises(ModelError, match="'110000' has no observed 'gdp' in any period"):
        fit(never, graph, balance="ml")
    with pytest.raises(Exception, match="balance='ml' is for model='sdm' or 'sar'"):
        fit(df, graph, balance="ml", model="sem")


@pytest.mark.slow
def test_monte_carlo_with_30_percent_gaps(graph):
    """8 replications, T = 5, 30 % of outcomes removed at random: mean estimates near the truth."""
    est = []
    for r in range(8):
        df = holes(simulate(graph, T=5, seed=50 + r), 0.3, r)
        res = fit(df, graph, balance="ml")
        est.append([res.rho, *res.coefficients["estimate"]])
    m = np.mean(est, axis=0)
    np.testing.assert_allclose(m, [0.4, 1.0, -0.5, 0.5, 0.3], atol=0.06)
