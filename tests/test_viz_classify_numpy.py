"""geo's numpy quantiles / equal intervals / user breaks equal mapclassify's, bit for bit (issue 14: mapclassify
is imported only for Fisher-Jenks, to keep it out of the map commands' cold start)."""

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


def test_fisher_jenks_still_uses_mapclassify():
    y = np.array([1.0, 1.1, 1.2, 5.0, 5.1, 9.0, 9.2, 9.3])
    got = classify(pd.Series(y), scheme="jenks", k=3)
    ref = mapclassify.FisherJenks(y, k=3)
    assert got.bins == tuple(float(b) for b in ref.bins) == (1.2, 5.1, 9.3)
    assert got.codes.tolist() == ref.yb.tolist()


def test_quantile_choropleth_does_not_import_mapclassify_or_matplotlib():
    code = ("import sys, pandas as pd; from geo.viz._classify import classify; "
            "classify(pd.Series([1.0, 2, 3, 4, 5, 6]), scheme='quantiles', k=3); "
            "classify(pd.Series([1.0, 2, 3]), scheme='equal', k=2); "
            "print(sorted(m for m in ('mapclassify', 'matplotlib', 'sklearn', 'numba') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
