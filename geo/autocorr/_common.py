"""What every statistic of :mod:`geo.autocorr` shares: the weights and values prepared in the graph's
order, seeds, permutation counts, normal and permutation p-values, the global permutation engine's
summary, the JSON keys common to the results."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.special import ndtr  # the normal cdf; scipy.stats costs ~0.8 s to import (norm.sf(x) is ndtr(-x))

from geo import weights as gw
from geo._graph import str_ids, to_csr
from geo._numba import permuted_forms
from geo.errors import InputError, ModelError, OptionError, SchemaError

ALTERNATIVES = ("two-sided", "greater", "less")
ADJUSTMENTS = ("none", "fdr", "bonferroni")
CONVENTIONS = ("spdep", "esda")
QUADRANTS = ("HH", "LH", "LL", "HL", "ns")


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class _Prepared:
    ids: pd.Index
    W: sp.csr_array
    weights: str
    transform: str
    islands_policy: str
    excluded: tuple
    graph: object


def _weights_label(graph):
    meta = gw.info(graph)
    return meta.spec, meta.transform, meta.islands_policy


def _prepare_weights(data, weights) -> _Prepared:
    import geopandas as gpd  # lazy: geopandas costs ~0.5 s; only its class is needed here

    if isinstance(weights, (str, gw.Spec)) or hasattr(weights, "__fspath__"):
        if not isinstance(data, gpd.GeoDataFrame):
            raise InputError(
                f"weights={str(weights)!r} needs unit geometry: pass a GeoDataFrame, or build the graph "
                "with geo.weights.build() and pass it"
            )
        graph = gw.build(weights, data)
    elif hasattr(weights, "sparse") and hasattr(weights, "unique_ids"):
        graph = weights
    else:
        raise OptionError(f"weights must be a libpysal Graph or a spec string, got {type(weights).__name__}")
    ids = str_ids(graph.unique_ids)
    W = to_csr(graph, error=ModelError)  # the one conversion (geo._graph)
    spec, transform, policy = _weights_label(graph)
    data_ids = pd.Index(np.asarray([str(i) for i in data.index], dtype=object))
    excluded = tuple(data_ids[ids.get_indexer(data_ids) < 0])
    return _Prepared(ids, W, spec, transform, policy, excluded, graph)


def _values(data, column, ids, *, name="column") -> np.ndarray:
    if isinstance(data, pd.Series):
        series = data
        label = column or data.name or "values"
    else:
        if column is None:
            raise SchemaError(f"name the {name} to analyse")
        if column not in data.columns:
            cols = ", ".join(map(str, list(data.columns)[:20]))
            raise SchemaError(f"no column {column!r} (columns are: {cols})")
        series = data[column]
        label = column
    idx = pd.Index(np.asarray([str(i) for i in series.index], dtype=object))
    if idx.has_duplicates:
        raise SchemaError(f"duplicate unit id {idx[idx.duplicated()][0]!r} in the data; one row per unit")
    pos = idx.get_indexer(pd.Index(np.asarray(ids, dtype=object)))
    if (pos < 0).any():
        missing = list(np.asarray(ids, dtype=object)[pos < 0])
        raise SchemaError(f"{len(missing)} units of the weights have no row in the data (e.g. {missing[:5]})")
    raw = pd.Series(series.to_numpy()[pos], index=ids)
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if bad.any():
        raise SchemaError(f"column {label!r} is not numeric for unit {values.index[bad.to_numpy()][0]!r}")
    if values.isna().any():
        na = list(values.index[values.isna().to_numpy()])
        raise SchemaError(f"column {label!r} is empty for {len(na)} units (e.g. {na[:5]}); drop or fill them first")
    y = values.to_numpy(dtype=float)
    if not np.all(np.isfinite(y)):
        raise SchemaError(f"column {label!r} has infinite values")
    return y


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _check_permutations(permutations) -> int:
    if not isinstance(permutations, (int, np.integer)) or permutations < 0:
        raise OptionError(f"permutations={permutations!r} must be a whole number >= 0")
    return int(permutations)


def _p_normal(z, alternative):
    z = np.asarray(z, dtype=float)
    if alternative == "two-sided":
        return 2.0 * ndtr(-np.abs(z))
    if alternative == "greater":
        return ndtr(-z)
    return ndtr(z)


def _p_sim_global(observed, sims):
    perms = len(sims)
    if perms == 0:
        return math.nan
    larger = int(np.sum(sims >= observed))
    if perms - larger < larger:
        larger = perms - larger
    return (larger + 1.0) / (perms + 1.0)


def _moments(W):
    S0 = float(W.sum())
    sym = W + W.T
    S1 = 0.5 * float((sym * sym).sum())
    rs = np.asarray(W.sum(axis=1)).ravel()
    cs = np.asarray(W.sum(axis=0)).ravel()
    S2 = float(((rs + cs) ** 2).sum())
    return S0, S1, S2, rs, cs


def _simulate(values, W, permutations, rng, *, rc=None, fixed=None):
    """Quadratic forms of ``permutations`` random permutations of ``values`` (see geo._numba.permuted_forms)."""
    if permutations == 0:
        return np.empty(0), np.empty(0)
    return permuted_forms(values, W, permutations, rng, rc=rc, fixed=fixed)


def _sim_summary(observed, sims):
    if len(sims) == 0:
        return math.nan, math.nan, math.nan, math.nan
    mean = float(np.mean(sims))
    se = float(np.std(sims, ddof=1)) if len(sims) > 1 else math.nan
    z = (observed - mean) / se if se and se > 0 else math.nan
    return _p_sim_global(observed, sims), mean, se, z


def _common_json(r) -> dict:
    return {
        "variable": r.variable,
        "n": r.n,
        "weights": r.weights,
        "transform": r.transform,
        "islands_policy": r.islands_policy,
        "permutations": r.permutations,
        "seed": r.seed,
        "excluded": list(r.excluded),
    }


def _require_finite(what: str, column, y, **values) -> None:
    """A statistic that is not finite is an error (values that overflow in squares or fourth powers), not NaN."""
    bad = [k for k, v in values.items() if not math.isfinite(v)]
    if bad:
        big = float(np.max(np.abs(y))) if len(y) else float("nan")
        raise ModelError(
            f"{what} of {column!r} is not finite ({', '.join(bad)}): the values are too large to square "
            f"(largest |value| {big:.3g}); rescale the column (e.g. divide by 1e6 or take logs)"
        )
