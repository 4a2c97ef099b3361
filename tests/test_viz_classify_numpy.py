"""geo's numpy quantiles / equal intervals / user breaks / Fisher-Jenks equal mapclassify's, bit for bit (issue 14:
mapclassify is not imported by geo, to keep it out of the map commands' cold start; it is the reference here)."""

from __future__ import annotations

import subprocess
import sys
import warnings

import mapclassify
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.viz._classify import classify

finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False, width=64)
# tied data: few distinct values, repeated
tied = st.lists(st.sampled_from([-3.5, 0.0, 0.1, 0.1 + 1e-12, 2.0, 7.25, 1e6]), min_size=2, max_size=80)
values = st.one_of(st.lists(finite, min_size=2, max_size=120), tied,
                   st.lists(st.integers(-50, 50).map(float), min_size=2, max_size=200))


def _reference(y: np.ndarray, scheme: str, k: int, breaks=None):
    n_unique = len(np.unique(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if scheme == "user_defined":
            clf = mapclassify.UserDefined(y, bins=breaks)
        elif n_unique == 1:
            clf = mapclassify.UserDefined(y, bins=[float(y[0])])
        elif scheme == "quantiles":
            clf = mapclassify.Quantiles(y, k=min(k, n_unique))
        else:
            clf = mapclassify.EqualInterval(y, k=k)
    return np.asarray(clf.bins, dtype=float), np.asarray(clf.yb, dtype=int)


def _check(y, scheme, k, breaks=None):
    y = np.asarray(y, dtype=float)
    ref_bins, ref_yb = _reference(y, scheme, k, breaks)
    got = classify(pd.Series(y), scheme=scheme if scheme != "user_defined" else "breaks", k=k, breaks=breaks)
    assert got.bins == tuple(float(b) for b in ref_bins)  # exact, not approximately
    assert np.array_equal(got.codes.to_numpy(), ref_yb)
    assert got.k == len(ref_bins)


@settings(max_examples=300, deadline=None)
@given(values, st.integers(1, 9), st.sampled_from(["quantiles", "equal_interval"]))
def test_quantiles_and_equal_interval_equal_mapclassify(y, k, scheme):
    _check(y, scheme, k)


@settings(max_examples=200, deadline=None)
@given(values, st.lists(finite, min_size=1, max_size=6, unique=True))
def test_user_breaks_equal_mapclassify(y, breaks):
    _check(y, "user_defined", 5, sorted(breaks))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("scheme", ["quantiles", "equal_interval"])
def test_random_lognormal_and_rounded(seed, scheme):
    rng = np.random.default_rng(seed)
    y = rng.lognormal(9, 1.2, 337)
    for k in (3, 4, 5, 7, 10):
        _check(y, scheme, k)
        _check(np.round(y, -3), scheme, k)  # many ties


def test_missing_values_stay_no_data():
    y = pd.Series([1.0, np.nan, 3.0, 2.0, np.nan, 5.0])
    got = classify(y, scheme="quantiles", k=2)
    assert got.codes.tolist() == [0, -1, 1, 0, -1, 1] and got.n_missing == 2
    assert got.bins == (2.5, 5.0)


def _check_jenks(y, k):
    y = np.asarray(y, dtype=float)
    n_unique = len(np.unique(y))
    got = classify(pd.Series(y), scheme="jenks", k=k)
    if n_unique == 1:  # mapclassify.FisherJenks refuses one value; geo draws one class (as for quantiles)
        assert got.bins == (float(y[0]),)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = mapclassify.FisherJenks(y, k=min(k, n_unique))
    assert got.bins == tuple(float(b) for b in ref.bins)  # exact, not approximately
    assert np.array_equal(got.codes.to_numpy(), np.asarray(ref.yb, dtype=int))
    assert got.k == len(ref.bins)


def test_fisher_jenks_by_hand():
    y = np.array([1.0, 1.1, 1.2, 5.0, 5.1, 9.0, 9.2, 9.3])
    got = classify(pd.Series(y), scheme="jenks", k=3)
    assert got.bins == (1.2, 5.1, 9.3)  # the three visible groups
    assert got.codes.tolist() == [0, 0, 0, 1, 1, 2, 2, 2]
    _check_jenks(y, 3)
    # values that underflow in mapclassify's float32 arithmetic: non-increasing bins, classes as mapclassify's bin1d
    _check_jenks([0.0, 1.3324461556448487e-25, 7.174875626173142e-219, 5e-324], 4)


@settings(max_examples=300, deadline=None)
@given(values, st.integers(1, 9))
def test_fisher_jenks_equals_mapclassify(y, k):
    _check_jenks(y, k)


@pytest.mark.parametrize("seed", range(4))
def test_fisher_jenks_random_lognormal_and_rounded(seed):
    rng = np.random.default_rng(seed)
    y = rng.lognormal(9, 1.2, 337)
    for k in (2, 3, 5, 7, 10):
        _check_jenks(y, k)
        _check_jenks(np.round(y, -3), k)  # many ties


@settings(max_examples=150, deadline=None)
@given(values, st.integers(2, 9))
def test_fisher_jenks_numba_and_numpy_engines_equal_mapclassify(y, k):
    """Both engines of geo's Fisher-Jenks (numba is used from JENKS_NUMBA_MIN values on) give mapclassify's bins."""
    pytest.importorskip("numba")
    from geo.viz._classify import _fisher_jenks_bins

    y = np.asarray(y, dtype=float)
    kk = min(k, len(np.unique(y)))
    if kk < 2:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = np.asarray(mapclassify.FisherJenks(y, k=kk).bins, dtype=float)
    x = np.sort(y)
    assert np.array_equal(_fisher_jenks_bins(x, kk, engine="numba"), ref)
    assert np.array_equal(_fisher_jenks_bins(x, kk, engine="numpy"), ref)


def test_fisher_jenks_large_input_uses_numba_and_equals_mapclassify():
    pytest.importorskip("numba")
    from geo.viz._classify import JENKS_NUMBA_MIN

    rng = np.random.default_rng(7)
    y = np.r_[rng.lognormal(9, 1.2, JENKS_NUMBA_MIN), np.round(rng.normal(50, 5, 500))]
    _check_jenks(y, 6)


def test_fisher_jenks_real_indicators():
    """Real data: the prefectures' elevation statistics (layers/elevation_prefecture.csv, from a DEM) and the
    prefectures' areas from the embedded boundaries."""
    from geo import boundaries
    from geo._paths import LAYERS_DIR

    frame = pd.read_csv(LAYERS_DIR / "elevation_prefecture.csv")
    columns = ["elev_mean_m", "elev_std_m", "elev_min_m", "elev_max_m", "tri_mean_m", "cells_covered"]
    series = [frame[c].dropna().to_numpy(float) for c in columns]
    units = boundaries.china()
    series.append(units.geometry.to_crs("ESRI:102025").area.to_numpy() / 1e6)  # km2, Albers for Asia
    for y in series:
        assert len(y) > 300
        for k in (3, 5, 7, 9):
            _check_jenks(y, k)


def test_classify_does_not_import_mapclassify_or_matplotlib():
    code = ("import sys, pandas as pd; from geo.viz._classify import classify; "
            "classify(pd.Series([1.0, 2, 3, 4, 5, 6]), scheme='quantiles', k=3); "
            "classify(pd.Series([1.0, 2, 3]), scheme='equal', k=2); "
            "classify(pd.Series([1.0, 2, 3, 9, 10, 20]), scheme='jenks', k=3); "
            "print(sorted(m for m in ('mapclassify', 'matplotlib', 'sklearn', 'numba') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
