"""Classification of a numeric indicator into colour classes (mapclassify's definitions) and number formatting.

Quantiles, equal intervals, user breaks and Fisher-Jenks natural breaks are computed here with numpy, exactly
as mapclassify defines them (same bins to the last bit, same class of every value; ``tests/test_viz_classify_numpy.py``
checks equality with mapclassify on random, tied and real data).  Why our own code rather than the well-kept
library: cold start.  ``import mapclassify`` costs about 3 s of CPU in a fresh process (``mapclassify/classifiers.py``
compiles its Fisher-Jenks function with numba eagerly at import, and the package imports scikit-learn, scipy.stats
and matplotlib), which was most of the ~4.2 s that ``geo map choropleth --scheme jenks`` took; every submodule goes
through ``mapclassify/__init__``, so importing only the classifier is not possible.  mapclassify is no longer
imported by geo at all; it stays the reference in the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo._numba import HAVE_NUMBA
from geo.errors import OptionError, SchemaError
from geo.labels import t

__all__ = [
    "Classes",
    "classify",
    "diverging",
    "numeric_values",
    "parse_scheme",
    "palette",
    "fmt_number",
    "SCHEMES",
    "NO_DATA_COLOR",
]

#: scheme names accepted (aliases map to the three mapclassify classifiers and user breaks)
SCHEMES = {
    "quantiles": "quantiles",
    "equal": "equal_interval",
    "equal_interval": "equal_interval",
    "jenks": "fisher_jenks",
    "natural_breaks": "fisher_jenks",
    "fisher_jenks": "fisher_jenks",
    "breaks": "user_defined",
}
NO_DATA_COLOR = "#d9d9d9"


@dataclass(frozen=True)
class Classes:
    """The classes of one indicator: mapclassify's upper bounds, labels, colours, and each unit's class."""

    scheme: str  # canonical: quantiles, equal_interval, fisher_jenks, user_defined
    k: int
    bins: tuple[float, ...]  # upper bounds of the classes (mapclassify's ``bins``)
    minimum: float
    labels: tuple[str, ...]
    colors: tuple[str, ...]
    codes: pd.Series  # class index per unit, -1 = no data
    n_missing: int

    @property
    def description(self) -> str:
        return self.describe("en")

    def describe(self, lang: str = "en") -> str:
        sep = "，" if lang == "zh" else ", "
        return f"{t(self.scheme, lang)}{sep}{t('classes_n', lang, k=self.k)}"


def parse_scheme(scheme: str, breaks=None) -> tuple[str, list[float] | None]:
    """``"quantiles"``, ``"equal"``, ``"jenks"`` or ``"breaks:1,2,3"`` -> (canonical name, breaks)."""
    if not isinstance(scheme, str):
        raise OptionError(f"scheme={scheme!r} must be a string such as 'quantiles' or 'breaks:10,20,50'")
    text = scheme.strip()
    if text.lower().startswith("breaks:"):
        if breaks is not None:
            raise OptionError("give breaks either in scheme='breaks:…' or as breaks=[…], not both")
        try:
            breaks = [float(b) for b in text.split(":", 1)[1].split(",") if b.strip()]
        except ValueError:
            raise OptionError(f"scheme={scheme!r}: breaks must be numbers separated by commas, e.g. breaks:10,20,50") from None
        text = "breaks"
    name = SCHEMES.get(text.lower())
    if name is None:
        choices = ", ".join(repr(s) for s in ("quantiles", "equal", "jenks", "breaks:…"))
        raise OptionError(f"scheme={scheme!r} is not one of {choices}")
    if name == "user_defined":
        if not breaks:
            raise OptionError("scheme='breaks' needs the breaks, e.g. scheme='breaks:10,20,50'")
        breaks = [float(b) for b in breaks]
        if any(not math.isfinite(b) for b in breaks) or any(b2 <= b1 for b1, b2 in zip(breaks, breaks[1:])):
            raise OptionError(f"breaks {breaks} must be finite and strictly increasing")
    elif breaks is not None:
        raise OptionError(f"breaks are only used with scheme='breaks', not scheme={scheme!r}")
    return name, breaks


def palette(name: str, n: int) -> list[str]:
    """``n`` colours of a ColorBrewer scheme (branca's copy), for any n >= 1."""
    from branca.utilities import color_brewer

    try:
        base = list(color_brewer(name, 3))
    except (ValueError, KeyError):
        raise OptionError(f"cmap={name!r} is not a ColorBrewer scheme (e.g. YlOrRd, Blues, RdBu, Set2)") from None
    if n >= 3:
        try:
            return list(color_brewer(name, n))
        except ValueError as exc:  # branca interpolates up to a maximum number of colours per series
            raise OptionError(f"--k: {n} classes are more than colour scheme {name!r} can draw ({exc}); "
                              "use fewer classes, e.g. --k 5") from None
    return [base[1]] if n == 1 else [base[0], base[2]]


def fmt_number(x: float) -> str:
    """A short, readable number for legends and tooltips."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "no data"
    x = float(x)
    if x == 0:
        return "0"
    ax = abs(x)
    if ax >= 1000:
        return f"{x:,.0f}"
    if ax >= 100:
        return f"{x:,.1f}".rstrip("0").rstrip(".")
    if ax >= 1e-3:
        return f"{x:.4g}"
    return f"{x:.3g}"


def numeric_values(values: pd.Series, what: str) -> pd.Series:
    """``values`` as floats (NaN = missing); SchemaError naming ``what`` if it is not numeric."""
    if pd.api.types.is_bool_dtype(values):
        values = values.astype(float)
    converted = pd.to_numeric(values, errors="coerce")
    bad = converted.isna() & values.notna()
    if bad.any():
        example = values[bad].iloc[0]
        raise SchemaError(f"{what}: value {example!r} (unit {values[bad].index[0]!r}) is not a number")
    return converted.astype(float).replace([np.inf, -np.inf], np.nan)


def _quantile_bins(y: np.ndarray, k: int) -> np.ndarray:
    """``mapclassify.Quantiles(y, k).bins``: percentiles 100/k, 200/k, …, 100 by scipy's
    ``scoreatpercentile`` "fraction" rule (weights and their sum as scipy forms them), ties collapsed."""
    w = 100.0 / k
    p = np.arange(w, 100 + w, w)
    if p[-1] > 100.0:
        p[-1] = 100.0
    s = np.sort(y)
    last = s.shape[0] - 1
    q = []
    for per in p:
        idx = per / 100.0 * last
        i = int(idx)
        if i == idx:
            q.append(s[i])
        else:
            w0, w1 = (i + 1) - idx, idx - i
            q.append((s[i] * w0 + s[i + 1] * w1) / (w0 + w1))
    return np.unique(np.array(q, dtype=float))


def _equal_interval_bins(y: np.ndarray, k: int) -> np.ndarray:
    """``mapclassify.EqualInterval(y, k).bins`` (needs min(y) < max(y))."""
    max_y, min_y = max(y), min(y)
    width = (max_y - min_y) * 1.0 / k
    cuts = np.arange(min_y + width, max_y + width, width)
    if len(cuts) > k:  # arange overshoots by one when the float steps land just below max_y + width
        cuts = cuts[0:k]
    cuts[-1] = max_y
    return cuts.copy()


def _user_bins(y: np.ndarray, breaks) -> np.ndarray:
    """``mapclassify.UserDefined(y, bins=breaks).bins``: the breaks, plus max(y) when it lies above them."""
    bins = np.asarray(breaks, dtype=float)
    if bins[-1] < max(y):
        bins = np.append(bins, max(y))
    return bins


#: from this many values on, Fisher-Jenks runs as a numba loop (geo/viz/_jenks_numba.py) when numba is installed:
#: the numpy version's per-row overhead grows (0.03 s at 337 values, ~1 s at 3,000), while importing numba and
#: loading the cached kernel costs ~0.5 s once
JENKS_NUMBA_MIN = 2000


def _fisher_jenks_bins(x: np.ndarray, k: int, *, engine: str | None = None) -> np.ndarray:
    """``mapclassify.FisherJenks(y, k).bins`` for sorted float64 ``x`` (mapclassify's ``_fisher_jenks_means``).

    Fisher's (1958) exact optimal partition of sorted data into ``k`` contiguous classes minimising the
    within-class sum of squared deviations, by dynamic programming (Jenks' formulation): for every prefix
    ``x[:l]`` and class count ``j``, the best cost is the minimum over the start ``i3`` of the last class of
    SSD(x[i3-1:l]) + best cost of ``x[:i3-1]`` in ``j - 1`` classes.  The breaks are read back from the
    table of arg-minima.  O(k n^2) time, O(k n) memory, as mapclassify.

    mapclassify computes the sums, SSDs and the cost table in float32.  Both engines here do the same float32
    operations in the same order (numpy's ``cumsum`` accumulates sequentially), and ties between equal costs go
    to the same candidate as mapclassify's ``>=`` comparison (the last one scanned, the earliest start), so the
    table, and hence the breaks, are identical.  ``engine``: "numpy" (vectorised over the last class's start) or
    "numba"; default numba from :data:`JENKS_NUMBA_MIN` values on when it is installed.  Returned breaks are
    data values (float64), the last one ``max(x)``.
    """
    n = len(x)
    x32 = x.astype(np.float32)
    sq = x32 * x32
    if engine is None:
        engine = "numba" if n >= JENKS_NUMBA_MIN and HAVE_NUMBA else "numpy"
    if engine == "numba":
        from geo.viz._jenks_numba import jenks_starts  # numba is heavy: imported only for large inputs

        best = jenks_starts(x32, sq, int(k))
    else:
        best = _jenks_starts_numpy(x32, sq, int(k))
    kclass = np.zeros(k + 1, dtype=x.dtype)
    kclass[k] = x[n - 1]
    kclass[0] = x[0]
    row = n
    for j in range(k, 1, -1):
        pivot = int(best[row, j])
        kclass[j - 1] = x[pivot - 2]
        row = pivot - 1
    return kclass[1:].copy()


def _jenks_starts_numpy(x32: np.ndarray, sq: np.ndarray, k: int) -> np.ndarray:
    """Table of the best start (1-based) of the last class, for every prefix length and class count."""
    n = len(x32)
    best = np.zeros((n + 1, k + 1), dtype=np.int32)
    cost = np.zeros((n + 1, k + 1), dtype=np.float32)  # best within-class SSD
    best[1, 1:] = 1
    cost[2:, 1:] = np.inf
    for length in range(2, n + 1):
        # classes ending at x[length-1] and starting at i3 = length, length-1, ..., 1 (m = 1 .. length)
        s1 = np.cumsum(x32[length - 1 :: -1], dtype=np.float32)
        s2 = np.cumsum(sq[length - 1 :: -1], dtype=np.float32)
        w = np.arange(1, length + 1, dtype=np.float32)
        ssd = s2 - (s1 * s1) / w
        if k >= 2:
            # candidates m = 1 .. length-1 (the prefix before the class is not empty), every j = 2 .. k at once
            cand = ssd[: length - 1, None] + cost[length - 1 : 0 : -1, 1:k]
            low = np.where(np.isnan(cand), np.inf, cand).min(axis=0)
            hit = cand == low  # NaN never wins, as in mapclassify's ``>=`` test
            found = hit.any(axis=0)
            last = (length - 2) - np.argmax(hit[::-1], axis=0)  # the last m reaching the minimum
            cols = np.flatnonzero(found) + 2
            best[length, cols] = length - last[found]
            cost[length, cols] = low[found]
        best[length, 1] = 1
        cost[length, 1] = ssd[-1]
    return best


def _bin_ids(y: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """``mapclassify``'s ``yb`` (its ``bin1d``): the sum over classes j of j where bins[j-1] < y <= bins[j]
    (bins[-1] = -inf), so class 0 holds y <= bins[0].  For increasing bins that is a ``searchsorted``; written as
    the sum so that it stays mapclassify's answer when Fisher-Jenks returns non-increasing bins (values that
    underflow in its float32 arithmetic, e.g. 1e-25 and 1e-219)."""
    ids = np.zeros(len(y), dtype=int)
    lower = np.r_[-np.inf, bins[:-1]]
    for j in range(len(bins)):
        ids += j * ((y > lower[j]) & (y <= bins[j]))
    return ids


def classify(values: pd.Series, *, scheme: str = "quantiles", k: int = 5, breaks=None, cmap: str = "YlOrRd") -> Classes:
    """Classify ``values`` (a float Series, NaN = missing) as mapclassify does."""
    name, breaks = parse_scheme(scheme, breaks)
    if name != "user_defined" and (not isinstance(k, (int, np.integer)) or k < 1):
        raise OptionError(f"k={k!r} must be a positive integer (number of classes)")
    present = values.dropna()
    codes = pd.Series(-1, index=values.index, dtype=int)
    if present.empty:
        return Classes(name, 0, (), math.nan, (), (), codes, int(values.isna().sum()))
    y = present.to_numpy(float)
    n_unique = len(np.unique(y))
    if name == "user_defined":
        bin_array = _user_bins(y, breaks)
    elif n_unique == 1:
        bin_array = _user_bins(y, [float(y[0])])
    elif name == "quantiles":
        bin_array = _quantile_bins(y, min(int(k), n_unique))
    elif name == "equal_interval":
        bin_array = _equal_interval_bins(y, int(k))
    else:
        bin_array = _fisher_jenks_bins(np.sort(y), min(int(k), n_unique))
    yb = _bin_ids(y, bin_array)
    bins = tuple(float(b) for b in bin_array)
    kk = len(bins)
    codes.loc[present.index] = yb
    lower = float(y.min())
    labels = []
    for i, upper in enumerate(bins):
        lo = lower if i == 0 else bins[i - 1]
        if i == 0 and upper == lo:
            labels.append(fmt_number(upper))
        elif i == 0:
            labels.append(f"{fmt_number(lo)} – {fmt_number(upper)}")
        else:
            labels.append(f"> {fmt_number(lo)} – {fmt_number(upper)}")
    colors = palette(cmap, kk)
    return Classes(name, kk, bins, lower, tuple(labels), tuple(colors), codes, int(values.isna().sum()))


def diverging(values: pd.Series, *, k: int = 3, cmap: str = "RdBu", scale: str = "equal", lang: str = "en") -> Classes:
    """Classes symmetric around zero; negative values blue, positive red (RdBu reversed).

    ``scale="equal"``: ``k`` equal-width classes on each side of 0 up to max |value|, plus a class
    for exact zeros.  ``scale="log"``: one class per decade of max |value| on each side (the
    largest decade first), and a middle class for |value| at or below max|value|/10**k, shown as
    "about 0": spillover effects decay geometrically with neighbour order, so equal widths would
    put a neighbour's effect and a far city's 1e-6 in the same class.
    """
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise OptionError(f"k={k!r} must be a positive integer (classes on each side of zero)")
    if scale not in ("equal", "log"):
        raise OptionError(f"scale={scale!r} is not one of 'equal', 'log'")
    k = int(k)
    if scale == "log":
        return _diverging_log(values, k, cmap, lang)
    codes = pd.Series(-1, index=values.index, dtype=int)
    present = values.dropna()
    n_missing = int(values.isna().sum())
    if present.empty:
        return Classes("diverging", 0, (), math.nan, (), (), codes, n_missing)
    top = float(present.abs().max()) or 1.0
    width = top / k
    colors = list(reversed(palette(cmap, 2 * k + 1)))  # RdBu starts red; reversed: blue = negative
    y = present.to_numpy(float)
    idx = np.where(
        y < 0,
        np.clip(np.floor((y + top) / width), 0, k - 1),
        np.where(y == 0, k, k + 1 + np.clip(np.ceil(y / width) - 1, 0, k - 1)),
    ).astype(int)
    codes.loc[present.index] = idx
    labels, bins = [], []
    for j in range(k):
        lo, hi = -top + j * width, -top + (j + 1) * width
        labels.append(f"{fmt_number(lo)} – {fmt_number(hi) if j < k - 1 else '< 0'}")
        bins.append(hi)
    labels.append("0")
    bins.append(0.0)
    for j in range(k):
        lo, hi = j * width, (j + 1) * width
        labels.append(f"> {fmt_number(lo)} – {fmt_number(hi)}")
        bins.append(hi)
    return Classes("diverging", 2 * k + 1, tuple(bins), -top, tuple(labels), tuple(colors), codes, n_missing)


def _diverging_log(values: pd.Series, k: int, cmap: str, lang: str = "en") -> Classes:
    codes = pd.Series(-1, index=values.index, dtype=int)
    present = values.dropna()
    n_missing = int(values.isna().sum())
    if present.empty:
        return Classes("diverging_log", 0, (), math.nan, (), (), codes, n_missing)
    top = float(present.abs().max()) or 1.0
    small = top * 10.0 ** (-k)
    colors = list(reversed(palette(cmap, 2 * k + 1)))
    y = present.to_numpy(float)
    a = np.abs(y)
    with np.errstate(divide="ignore"):
        level = np.clip(np.floor(np.log10(top / np.where(a > 0, a, top))), 0, k - 1).astype(int)
    idx = np.where(a <= small, k, np.where(y < 0, level, k + 1 + (k - 1 - level)))
    codes.loc[present.index] = idx
    labels, bins = [], []
    for j in range(k):  # negative side, most negative first: [-top*10^-j, -top*10^-(j+1))
        lo, hi = -top * 10.0 ** (-j), -top * 10.0 ** (-(j + 1))
        labels.append(f"{fmt_number(lo)} – {fmt_number(hi)}")
        bins.append(hi)
    labels.append(f"{t('about 0', lang)} (|value| ≤ {fmt_number(small)})")
    bins.append(small)
    for j in range(k):  # positive side: (top*10^-(k-j), top*10^-(k-1-j)]
        lo, hi = top * 10.0 ** (-(k - j)), top * 10.0 ** (-(k - 1 - j))
        labels.append(f"> {fmt_number(lo)} – {fmt_number(hi)}")
        bins.append(hi)
    return Classes("diverging_log", 2 * k + 1, tuple(bins), -top, tuple(labels), tuple(colors), codes, n_missing)
