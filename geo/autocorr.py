"""Spatial autocorrelation: global Moran's I, Geary's C, Getis-Ord G, bivariate Moran, LISA, local G.

Every function takes a frame indexed by unit id, a column name and weights
(a :class:`libpysal.graph.Graph`, e.g. from :func:`geo.weights.build`, or a
spec string, then built from the frame's geometry with the default row
standardisation and islands policy).  The statistic uses the graph's units, in
the graph's order; rows of the frame outside the graph (e.g. dropped islands)
are listed in ``excluded``.  Missing values are an error naming the units.

Formulas and conventions (checked against R spdep 1.2 and esda 2.9 in the tests)
-------------------------------------------------------------------------------
- Moran's I ``= n/S0 · z'Wz / z'z``; expectation, variance and z under
  normality and randomisation as in spdep's ``moran.test`` (Cliff and Ord),
  with n = all units, islands included (esda's choice; spdep's default
  ``adjust.n`` drops islands from n).
- Geary's C ``= (n−1) Σ w_ij (y_i−y_j)² / (2 S0 Σ z²)``; variances as spdep's
  ``geary.test``.  ``z = (C − 1)/sd`` (esda's sign: negative z means positive
  autocorrelation; spdep prints the opposite sign).
- Getis-Ord General G as spdep's ``globalG.test`` (Getis and Ord 1992).
- Bivariate Moran ``= n/S0 · zx'W zy / zx'zx`` (reduces to Moran's I when
  x = y; equals esda's ``Moran_BV`` for row-standardised weights), permutation inference.
- Local Moran ``Ii = z_i (Wz)_i / m2`` with ``m2 = Σz²/n`` — spdep's
  ``localmoran``; ``convention="esda"`` gives esda's ``(n−1)/n`` multiple.
  Expectation and variance are spdep's default (conditional, ``mlvar``); z does
  not depend on the convention.
- Local G / G* as spdep's ``localG``, whose z is right for any weights (esda
  2.9's local G z-scores are wrong for row-standardised weights).

Permutation p-values (``p_sim``) follow esda and GeoDa: ``(1 + M)/(1 + R)``
with R permutations and M the number of simulated statistics at least as
extreme as the observed one *in the observed tail* (the smaller of the two
tail counts).  Global statistics permute all values; local ones use
conditional permutation (unit i fixed, its k_i neighbours drawn without
replacement from the other n−1 units; one table of draws is shared by all
units as in esda).  The same ``seed`` gives the same p-values, with or
without numba.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.special import ndtr  # the normal cdf; scipy.stats costs ~0.8 s to import (norm.sf(x) is ndtr(-x))

from geo.errors import GeoError, InputError, ModelError, OptionError, SchemaError, check_choice
from geo._numbers import finite_or_none as _f

__all__ = [
    "ALTERNATIVES",
    "Moran",
    "Geary",
    "GeneralG",
    "MoranBV",
    "MoranByYear",
    "LocalMoran",
    "LocalG",
    "moran",
    "geary",
    "general_g",
    "moran_bv",
    "moran_by_year",
    "local_moran",
    "local_g",
    "adjust_pvalues",
]

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
    from geo import weights as gw

    meta = gw.info(graph)
    return meta.spec, meta.transform, meta.islands_policy


def _prepare_weights(data, weights) -> _Prepared:
    import geopandas as gpd

    from geo import weights as gw

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
    ids = pd.Index(np.asarray([str(i) for i in graph.unique_ids], dtype=object))
    W = sp.csr_array(graph.sparse, dtype=float)
    W.eliminate_zeros()
    W.sort_indices()
    if not np.all(np.isfinite(W.data)):
        raise ModelError("weights contain NaN or infinite values")
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
    from geo._numba import permuted_forms

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


# --------------------------------------------------------------------------- global results


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


@dataclass(frozen=True)
class Moran:
    """Global Moran's I with normality, randomisation and permutation inference."""

    variable: str
    n: int
    I: float  # noqa: E741 - the statistic's name
    EI: float
    VI_norm: float
    z_norm: float
    p_norm: float
    VI_rand: float
    z_rand: float
    p_rand: float
    p_sim: float
    EI_sim: float
    seI_sim: float
    z_sim: float
    permutations: int
    seed: object
    alternative: str
    S0: float
    S1: float
    S2: float
    weights: str
    transform: str
    islands_policy: str
    excluded: tuple = ()

    @property
    def seI_norm(self) -> float:
        return math.sqrt(self.VI_norm)

    @property
    def seI_rand(self) -> float:
        return math.sqrt(self.VI_rand)

    def to_json(self) -> dict:
        out = {"statistic": "moran"} | _common_json(self)
        for key in ("I", "EI", "VI_norm", "z_norm", "p_norm", "VI_rand", "z_rand", "p_rand",
                    "p_sim", "EI_sim", "seI_sim", "z_sim", "S0", "S1", "S2"):
            out[key] = _f(getattr(self, key))
        out["alternative"] = self.alternative
        return out

    def summary(self) -> str:
        lines = [
            f"Moran's I of {self.variable} (n = {self.n}; weights {self.weights}, transform {self.transform!r}, "
            f"islands {self.islands_policy})",
            f"  I = {self.I:.6f}   E[I] = {self.EI:.6f}",
            f"  normality:     Var = {self.VI_norm:.6g}  z = {self.z_norm:.4f}  p = {self.p_norm:.4g}",
            f"  randomisation: Var = {self.VI_rand:.6g}  z = {self.z_rand:.4f}  p = {self.p_rand:.4g}"
            f"  ({self.alternative})",
        ]
        if self.permutations:
            lines.append(f"  permutations: {self.permutations} (seed {self.seed})  pseudo p = {self.p_sim:.4g}"
                         f"  z_sim = {self.z_sim:.4f}")
        if self.excluded:
            lines.append(f"  rows not in the weights (left out): {', '.join(self.excluded[:10])}")
        return "\n".join(lines)

    __str__ = summary


def _require_finite(what: str, column, y, **values) -> None:
    """A statistic that is not finite is an error (values that overflow in squares or fourth powers), not NaN."""
    bad = [k for k, v in values.items() if not math.isfinite(v)]
    if bad:
        big = float(np.max(np.abs(y))) if len(y) else float("nan")
        raise ModelError(
            f"{what} of {column!r} is not finite ({', '.join(bad)}): the values are too large to square "
            f"(largest |value| {big:.3g}); rescale the column (e.g. divide by 1e6 or take logs)"
        )


def _moran_core(y, W, S, permutations, rng, column="the variable"):
    n = len(y)
    S0, S1, S2, _, _ = S
    z = y - y.mean()
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked below and raised as an error
        zz = float(z @ z)
    if zz == 0:
        raise ModelError(f"{column!r} is constant: Moran's I is undefined" if column != "the variable" else
                         "the variable is constant: Moran's I is undefined")
    _require_finite("Moran's I", column, y, sum_of_squares=zz)
    I = n / S0 * float(z @ (W @ z)) / zz  # noqa: E741
    quad, _ = _simulate(z, W, permutations, rng)
    return z, zz, I, n / S0 * quad / zz


def moran(data, column=None, *, weights="queen", permutations: int = 999, seed=None,
          alternative: str = "two-sided") -> Moran:
    """Global Moran's I of ``data[column]`` (see the module docstring for the formulas).

    ``alternative`` ("two-sided", "greater", "less") applies to the normal
    p-values ``p_norm`` and ``p_rand``; ``p_sim`` is the folded pseudo p-value.
    """
    check_choice("alternative", alternative, ALTERNATIVES)
    permutations = _check_permutations(permutations)
    prep = _prepare_weights(data, weights)
    y = _values(data, column, prep.ids)
    W = prep.W
    n = len(y)
    if n < 4:
        raise InputError(f"Moran's I needs at least 4 units, got {n}")
    S = _moments(W)
    S0, S1, S2 = S[:3]
    if S0 == 0:
        raise ModelError("the weights have no links")
    z, zz, I, sims = _moran_core(y, W, S, permutations, _rng(seed), column=column)
    EI = -1.0 / (n - 1)
    VI_norm = (n * n * S1 - n * S2 + 3 * S0 * S0) / ((n * n - 1) * S0 * S0) - EI * EI
    with np.errstate(over="ignore", invalid="ignore"):
        k = n * float(np.sum(z**4)) / zz**2
    VI_rand = (
        n * ((n * n - 3 * n + 3) * S1 - n * S2 + 3 * S0 * S0) - k * ((n * n - n) * S1 - 2 * n * S2 + 6 * S0 * S0)
    ) / ((n - 1) * (n - 2) * (n - 3) * S0 * S0) - EI * EI
    z_norm = (I - EI) / math.sqrt(VI_norm)
    _require_finite("Moran's I", column, y, I=I, z_norm=z_norm, kurtosis=k)
    z_rand = (I - EI) / math.sqrt(VI_rand) if VI_rand > 0 else math.nan
    p_sim, EI_sim, seI_sim, z_sim = _sim_summary(I, sims)
    return Moran(
        variable=str(column if column is not None else getattr(data, "name", "values")),
        n=n, I=I, EI=EI,
        VI_norm=VI_norm, z_norm=z_norm, p_norm=float(_p_normal(z_norm, alternative)),
        VI_rand=VI_rand, z_rand=z_rand, p_rand=float(_p_normal(z_rand, alternative)),
        p_sim=p_sim, EI_sim=EI_sim, seI_sim=seI_sim, z_sim=z_sim,
        permutations=permutations, seed=seed if not isinstance(seed, np.random.Generator) else "generator",
        alternative=alternative, S0=S0, S1=S1, S2=S2,
        weights=prep.weights, transform=prep.transform, islands_policy=prep.islands_policy,
        excluded=prep.excluded,
    )


@dataclass(frozen=True)
class Geary:
    """Geary's C with normality, randomisation and permutation inference."""

    variable: str
    n: int
    C: float
    EC: float
    VC_norm: float
    z_norm: float
    p_norm: float
    VC_rand: float
    z_rand: float
    p_rand: float
    p_sim: float
    EC_sim: float
    seC_sim: float
    z_sim: float
    permutations: int
    seed: object
    alternative: str
    weights: str
    transform: str
    islands_policy: str
    excluded: tuple = ()

    def to_json(self) -> dict:
        out = {"statistic": "geary"} | _common_json(self)
        for key in ("C", "EC", "VC_norm", "z_norm", "p_norm", "VC_rand", "z_rand", "p_rand",
                    "p_sim", "EC_sim", "seC_sim", "z_sim"):
            out[key] = _f(getattr(self, key))
        out["alternative"] = self.alternative
        return out

    def summary(self) -> str:
        lines = [
            f"Geary's C of {self.variable} (n = {self.n}; weights {self.weights}, transform {self.transform!r})",
            f"  C = {self.C:.6f}   E[C] = 1  (C < 1: positive autocorrelation; z = (C - 1)/sd)",
            f"  normality:     Var = {self.VC_norm:.6g}  z = {self.z_norm:.4f}  p = {self.p_norm:.4g}",
            f"  randomisation: Var = {self.VC_rand:.6g}  z = {self.z_rand:.4f}  p = {self.p_rand:.4g}",
        ]
        if self.permutations:
            lines.append(f"  permutations: {self.permutations} (seed {self.seed})  pseudo p = {self.p_sim:.4g}")
        return "\n".join(lines)

    __str__ = summary


def geary(data, column=None, *, weights="queen", permutations: int = 999, seed=None,
          alternative: str = "two-sided") -> Geary:
    """Geary's C of ``data[column]``; ``z = (C − 1)/sd`` (negative for positive autocorrelation)."""
    check_choice("alternative", alternative, ALTERNATIVES)
    permutations = _check_permutations(permutations)
    prep = _prepare_weights(data, weights)
    y = _values(data, column, prep.ids)
    W = prep.W
    n = len(y)
    if n < 4:
        raise InputError(f"Geary's C needs at least 4 units, got {n}")
    S0, S1, S2, rs, cs = _moments(W)
    if S0 == 0:
        raise ModelError("the weights have no links")
    z = y - y.mean()
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked below and raised as an error
        zz = float(z @ z)
    if zz == 0:
        raise ModelError(f"the variable {column!r} is constant: Geary's C is undefined")
    _require_finite("Geary's C", column, y, sum_of_squares=zz)
    rc = rs + cs

    def num(v):  # sum_ij w_ij (v_i - v_j)^2 for the columns of v
        return (v * v * rc[:, None]).sum(axis=0) - 2.0 * np.einsum("ij,ij->j", v, W @ v)

    C = (n - 1) * float(num(z[:, None])[0]) / (2.0 * S0 * zz)
    with np.errstate(over="ignore", invalid="ignore"):
        k = n * float(np.sum(z**4)) / zz**2
    VC_norm = ((2 * S1 + S2) * (n - 1) - 4 * S0 * S0) / (2 * (n + 1) * S0 * S0)
    VC_rand = (
        (n - 1) * S1 * (n * n - 3 * n + 3 - (n - 1) * k)
        - 0.25 * (n - 1) * S2 * (n * n + 3 * n - 6 - (n * n - n + 2) * k)
        + S0 * S0 * (n * n - 3 - (n - 1) ** 2 * k)
    ) / (n * (n - 2) * (n - 3) * S0 * S0)
    quad, sq = _simulate(z, W, permutations, _rng(seed), rc=rc)
    sims = (n - 1) * (sq - 2.0 * quad) / (2.0 * S0 * zz)
    p_sim, EC_sim, seC_sim, z_sim = _sim_summary(C, sims)
    z_norm = (C - 1.0) / math.sqrt(VC_norm)
    _require_finite("Geary's C", column, y, C=C, z_norm=z_norm, kurtosis=k)
    z_rand = (C - 1.0) / math.sqrt(VC_rand) if VC_rand > 0 else math.nan
    return Geary(
        variable=str(column), n=n, C=C, EC=1.0,
        VC_norm=VC_norm, z_norm=z_norm, p_norm=float(_p_normal(z_norm, alternative)),
        VC_rand=VC_rand, z_rand=z_rand, p_rand=float(_p_normal(z_rand, alternative)),
        p_sim=p_sim, EC_sim=EC_sim, seC_sim=seC_sim, z_sim=z_sim,
        permutations=permutations, seed=seed if not isinstance(seed, np.random.Generator) else "generator",
        alternative=alternative, weights=prep.weights, transform=prep.transform,
        islands_policy=prep.islands_policy, excluded=prep.excluded,
    )


@dataclass(frozen=True)
class GeneralG:
    """Getis-Ord General G (for non-negative variables; binary weights are the usual choice)."""

    variable: str
    n: int
    G: float
    EG: float
    VG: float
    z_norm: float
    p_norm: float
    p_sim: float
    EG_sim: float
    seG_sim: float
    z_sim: float
    permutations: int
    seed: object
    alternative: str
    weights: str
    transform: str
    islands_policy: str
    excluded: tuple = ()

    def to_json(self) -> dict:
        out = {"statistic": "general_g"} | _common_json(self)
        for key in ("G", "EG", "VG", "z_norm", "p_norm", "p_sim", "EG_sim", "seG_sim", "z_sim"):
            out[key] = _f(getattr(self, key))
        out["alternative"] = self.alternative
        return out

    def summary(self) -> str:
        lines = [
            f"Getis-Ord General G of {self.variable} (n = {self.n}; weights {self.weights}, "
            f"transform {self.transform!r})",
            f"  G = {self.G:.6g}   E[G] = {self.EG:.6g}   Var = {self.VG:.6g}",
            f"  z = {self.z_norm:.4f}  p = {self.p_norm:.4g} ({self.alternative})",
        ]
        if self.permutations:
            lines.append(f"  permutations: {self.permutations} (seed {self.seed})  pseudo p = {self.p_sim:.4g}")
        return "\n".join(lines)

    __str__ = summary


def general_g(data, column=None, *, weights="queen", permutations: int = 999, seed=None,
              alternative: str = "two-sided") -> GeneralG:
    """Getis-Ord General G of a non-negative ``data[column]`` (self-weights are ignored)."""
    check_choice("alternative", alternative, ALTERNATIVES)
    permutations = _check_permutations(permutations)
    prep = _prepare_weights(data, weights)
    y = _values(data, column, prep.ids)
    if np.any(y < 0):
        raise SchemaError(f"General G needs non-negative values; column {column!r} has negatives")
    W = prep.W.copy()
    W.setdiag(0)
    W.eliminate_zeros()
    n = len(y)
    if n < 4:
        raise InputError(f"General G needs at least 4 units, got {n}")
    S0, S1, S2, _, _ = _moments(W)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked below and raised as an error
        m1, m2, m3, m4 = (float(np.sum(y**p)) for p in (1, 2, 3, 4))
    den = m1 * m1 - m2
    if den <= 0:
        raise ModelError("General G is undefined: fewer than two non-zero values")
    G = float(y @ (W @ y)) / den
    EG = S0 / (n * (n - 1))
    B0 = (n * n - 3 * n + 3) * S1 - n * S2 + 3 * S0 * S0
    B1 = -((n * n - n) * S1 - 2 * n * S2 + 6 * S0 * S0)
    B2 = -(2 * n * S1 - (n + 3) * S2 + 6 * S0 * S0)
    B3 = 4 * (n - 1) * S1 - 2 * (n + 1) * S2 + 8 * S0 * S0
    B4 = S1 - S2 + S0 * S0
    EG2 = (B0 * m2 * m2 + B1 * m4 + B2 * m1 * m1 * m2 + B3 * m1 * m3 + B4 * m1**4) / (
        den * den * n * (n - 1) * (n - 2) * (n - 3)
    )
    VG = EG2 - EG * EG
    quad, _ = _simulate(y, W, permutations, _rng(seed))
    sims = quad / den
    p_sim, EG_sim, seG_sim, z_sim = _sim_summary(G, sims)
    z = (G - EG) / math.sqrt(VG) if VG > 0 else math.nan
    _require_finite("General G", column, y, G=G, variance=VG, moment4=m4)
    return GeneralG(
        variable=str(column), n=n, G=G, EG=EG, VG=VG, z_norm=z, p_norm=float(_p_normal(z, alternative)),
        p_sim=p_sim, EG_sim=EG_sim, seG_sim=seG_sim, z_sim=z_sim, permutations=permutations,
        seed=seed if not isinstance(seed, np.random.Generator) else "generator", alternative=alternative,
        weights=prep.weights, transform=prep.transform, islands_policy=prep.islands_policy,
        excluded=prep.excluded,
    )


@dataclass(frozen=True)
class MoranBV:
    """Bivariate Moran's I of x with the spatial lag of y (permutation inference: y is permuted)."""

    x: str
    y: str
    n: int
    I: float  # noqa: E741
    p_sim: float
    EI_sim: float
    seI_sim: float
    z_sim: float
    permutations: int
    seed: object
    weights: str
    transform: str
    islands_policy: str
    excluded: tuple = ()

    @property
    def variable(self) -> str:
        return f"{self.x} ~ W·{self.y}"

    def to_json(self) -> dict:
        out = {"statistic": "moran_bv", "x": self.x, "y": self.y} | _common_json(self)
        for key in ("I", "p_sim", "EI_sim", "seI_sim", "z_sim"):
            out[key] = _f(getattr(self, key))
        return out

    def summary(self) -> str:
        return "\n".join([
            f"Bivariate Moran's I of {self.x} with the spatial lag of {self.y} (n = {self.n}; "
            f"weights {self.weights}, transform {self.transform!r})",
            f"  I = {self.I:.6f}   permutations {self.permutations} (seed {self.seed}): pseudo p = {self.p_sim:.4g}, "
            f"E = {self.EI_sim:.4g}, sd = {self.seI_sim:.4g}, z = {self.z_sim:.4f}",
        ])

    __str__ = summary


def moran_bv(data, x, y, *, weights="queen", permutations: int = 999, seed=None) -> MoranBV:
    """Bivariate Moran's I: ``n/S0 · zx' W zy / zx'zx`` with zx, zy standardised."""
    permutations = _check_permutations(permutations)
    prep = _prepare_weights(data, weights)
    xv = _values(data, x, prep.ids)
    yv = _values(data, y, prep.ids)
    n = len(xv)
    W = prep.W
    S0 = float(W.sum())
    sx, sy = xv.std(ddof=1), yv.std(ddof=1)
    if sx == 0 or sy == 0:
        raise ModelError("a variable is constant: bivariate Moran's I is undefined")
    zx = (xv - xv.mean()) / sx
    zy = (yv - yv.mean()) / sy
    scale = n / S0 / float(zx @ zx)
    I = scale * float(zx @ (W @ zy))  # noqa: E741
    quad, _ = _simulate(zy, W, permutations, _rng(seed), fixed=zx)
    sims = scale * quad
    p_sim, E, se, zs = _sim_summary(I, sims)
    return MoranBV(
        x=str(x), y=str(y), n=n, I=I, p_sim=p_sim, EI_sim=E, seI_sim=se, z_sim=zs, permutations=permutations,
        seed=seed if not isinstance(seed, np.random.Generator) else "generator",
        weights=prep.weights, transform=prep.transform, islands_policy=prep.islands_policy,
        excluded=prep.excluded,
    )


_MAIN = {"moran": ("I", "Moran's I"), "geary": ("C", "Geary's C"), "g": ("G", "General G")}
STATISTICS = tuple(_MAIN)


@dataclass(frozen=True, eq=False)
class MoranByYear:
    """A global statistic (Moran's I by default) for each year of a panel, one result per year.

    On an unbalanced panel each year uses the units with a value that year: ``left_out`` holds, per
    year, the units of the weights' universe without one, and ``islands`` what the islands policy did
    to the weights restricted to that year's units.  Nothing is imputed.
    """

    variable: str
    years: tuple
    results: tuple
    statistic: str = "moran"
    left_out: tuple = ()
    islands: tuple = ()

    def __getitem__(self, year):
        return self.results[self.years.index(year)]

    def _keys(self):
        main = _MAIN[self.statistic][0]
        if self.statistic == "moran":
            return ("n", "I", "EI", "VI_norm", "z_norm", "p_norm", "VI_rand", "z_rand", "p_rand", "p_sim", "z_sim")
        if self.statistic == "geary":
            return ("n", main, "EC", "VC_norm", "z_norm", "p_norm", "VC_rand", "z_rand", "p_rand", "p_sim", "z_sim")
        return ("n", main, "EG", "VG", "z_norm", "p_norm", "p_sim", "z_sim")

    def to_frame(self) -> pd.DataFrame:
        keys = self._keys()
        return pd.DataFrame([{k: getattr(r, k) for k in keys} for r in self.results],
                            index=pd.Index(self.years, name="year"))

    def to_json(self) -> dict:
        first = self.results[0]
        keys = self._keys()
        years = []
        for t, (y, r) in enumerate(zip(self.years, self.results)):
            entry = {"year": int(y)} | {k: v for k, v in r.to_json().items() if k in keys}
            entry["units_left_out"] = list(self.left_out[t]) if self.left_out else []
            entry["islands"] = dict(self.islands[t]) if self.islands else {}
            years.append(entry)
        return {
            "statistic": "moran_by_year" if self.statistic == "moran" else f"{self.statistic}_by_year",
            "variable": self.variable,
            "weights": first.weights,
            "transform": first.transform,
            "islands_policy": first.islands_policy,
            "permutations": first.permutations,
            "balanced": not any(self.left_out),
            "years": years,
        }

    def summary(self) -> str:
        first = self.results[0]
        main, title = _MAIN[self.statistic]
        lines = [f"{title} of {self.variable} by year (weights {first.weights}, transform {first.transform!r}, "
                 f"{first.permutations} permutations)",
                 f"  year     n  {main:>9}     z_norm   p_norm    p_sim"]
        for t, (y, r) in enumerate(zip(self.years, self.results)):
            extra = ""
            if self.left_out and self.left_out[t]:
                extra += f"  ({len(self.left_out[t])} units without data left out)"
            isl = self.islands[t] if self.islands else {}
            if isl.get("islands"):
                extra += f"  (islands: {len(isl['islands'])}, policy {isl['policy']})"
            lines.append(f"  {y}  {r.n:4d}  {getattr(r, main):9.5f}  {r.z_norm:9.3f}  {r.p_norm:7.4f}  "
                         f"{r.p_sim:7.4f}{extra}")
        return "\n".join(lines)

    __str__ = summary


def moran_by_year(panel, column, *, weights, year="year", units=None, permutations: int = 999, seed=None,
                  alternative: str = "two-sided", statistic: str = "moran", transform: str = "r",
                  islands: str | None = None, data=None) -> MoranByYear:
    """A global statistic (``statistic``: moran, geary or g) of ``column`` for every year of a long panel.

    ``panel``: a DataFrame indexed by unit id with a ``year`` column, or indexed
    by (id, year).  ``weights``: a Graph (then every year must have a value for
    every unit of the graph), or a spec string with ``units`` (a GeoDataFrame
    indexed by id): then each year uses the units with a value that year,
    the weights are built on them (``transform``, ``islands`` policy applied
    per year and reported), and units without a value are listed, never
    imputed.  Year t uses the seed ``SeedSequence(seed).spawn(...)[t]``.
    """
    from geo import weights as gw

    check_choice("statistic", statistic, STATISTICS)
    func = {"moran": moran, "geary": geary, "g": general_g}[statistic]
    if isinstance(panel.index, pd.MultiIndex):
        frame = panel.reset_index(level=list(range(1, panel.index.nlevels)))
        if year not in frame.columns:
            raise SchemaError(f"panel has no {year!r} column or index level")
    else:
        frame = panel
        if year not in frame.columns:
            raise SchemaError(f"panel has no {year!r} column; name it with year=")
    if column not in frame.columns:
        raise SchemaError(f"panel has no column {column!r}")
    per_year = not hasattr(weights, "sparse")
    if per_year and units is None:
        raise InputError("a weights spec needs units= (a GeoDataFrame indexed by unit id) to build on")
    years = sorted(pd.unique(frame[year]).tolist())
    if not years:
        raise SchemaError("panel has no rows")
    children = np.random.SeedSequence(seed).spawn(len(years)) if not isinstance(seed, np.random.Generator) else None
    results, left_out, island_info = [], [], []
    universe = [str(i) for i in (units.index if per_year else weights.unique_ids)]
    for t, yr in enumerate(years):
        cross = frame.loc[frame[year] == yr, [column]]
        values = pd.to_numeric(cross[column], errors="coerce")
        cross = cross[values.notna().to_numpy()]
        cross.index = cross.index.astype(str)
        rng = seed if children is None else np.random.default_rng(children[t])
        graph = weights
        if per_year:
            have = [i for i in universe if i in set(cross.index)]
            if len(have) < 4:
                raise SchemaError(f"year {yr}: only {len(have)} units have a value of {column!r}; "
                                  "a statistic needs at least 4")
            kwargs = {"transform": transform} | ({"islands": islands} if islands is not None else {})
            try:
                if gw.is_file_spec(weights):
                    # a weights file: its links among this year's units; no shapes to link islands by
                    graph = gw.read(weights, ids=have, transform=transform, restrict=True)
                    found = gw.info(graph).islands
                    if found and islands != "keep":
                        raise OptionError(
                            f"{len(found)} units have no neighbour among this year's units in {weights} "
                            f"(e.g. {list(found[:5])}); pass islands='keep' (--islands keep)")
                else:
                    graph = gw.build(weights, units.loc[have], data=data, **kwargs)
            except GeoError as exc:
                raise type(exc)(f"year {yr}: {exc}") from None
            meta = gw.info(graph)
            island_info.append({"policy": meta.islands_policy, "islands": list(meta.islands),
                                "linked": [list(x) for x in meta.linked], "dropped": list(meta.dropped)})
            left_out.append(tuple(i for i in universe if i not in set(have)))
        try:
            r = func(cross, column, weights=graph, permutations=permutations, seed=rng, alternative=alternative)
        except (SchemaError, ModelError, InputError) as exc:
            raise type(exc)(f"year {yr}: {exc}") from None
        results.append(r)
    return MoranByYear(variable=str(column), years=tuple(int(y) for y in years), results=tuple(results),
                       statistic=statistic, left_out=tuple(left_out), islands=tuple(island_info))


# --------------------------------------------------------------------------- local statistics


def adjust_pvalues(p, method: str = "fdr") -> np.ndarray:
    """Benjamini-Hochberg (``fdr``) or Bonferroni adjusted p-values; NaN stays NaN and is not counted."""
    check_choice("adjust", method, ADJUSTMENTS)
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if method == "none" or m == 0:
        return p.copy()
    q = p[ok]
    if method == "bonferroni":
        out[ok] = np.minimum(1.0, q * m)
        return out
    order = np.argsort(q, kind="stable")
    ranked = q[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    adj = np.empty(m)
    adj[order] = np.minimum(1.0, ranked)
    out[ok] = adj
    return out


def _draws(rng, n, kmax, permutations):
    """(permutations, kmax) positions in range(n - 1), distinct within each row.

    Small populations: the first kmax of a random ordering of each row.  Large
    ones: draws with replacement, rows with a repeat drawn again (vectorised
    rejection; a repeat is rare when kmax is small relative to n).
    """
    if kmax == 0:
        return np.empty((permutations, 0), dtype=np.int64)
    if 4 * kmax > n - 1 or n - 1 <= 64:
        return np.argsort(rng.random((permutations, n - 1)), axis=1)[:, :kmax].astype(np.int64)
    out = rng.integers(0, n - 1, size=(permutations, kmax), dtype=np.int64)
    for _ in range(100):
        s = np.sort(out, axis=1)
        bad = np.flatnonzero((s[:, 1:] == s[:, :-1]).any(axis=1))
        if len(bad) == 0:
            return out
        out[bad] = rng.integers(0, n - 1, size=(len(bad), kmax), dtype=np.int64)
    for p in bad:  # pragma: no cover - vanishingly unlikely
        out[p] = rng.choice(n - 1, size=kmax, replace=False)
    return out


def _split_diagonal(W):
    diag = W.diagonal()
    if np.any(diag != 0):
        Wo = W.copy()
        Wo.setdiag(0)
        Wo.eliminate_zeros()
        return sp.csr_array(Wo), diag
    return W, diag


def _local_permutation(values, Wo, scale, shift, observed, permutations, rng, engine):
    from geo._numba import conditional_counts

    n = len(values)
    card = np.diff(Wo.indptr)
    if permutations == 0:
        nan = np.full(n, np.nan)
        return nan, nan, nan
    draws = _draws(rng, n, int(card.max()) if n else 0, permutations)
    larger, mean, sd = conditional_counts(values, Wo, scale, shift, observed, draws, engine=engine)
    larger = larger.astype(float)
    folded = np.where(permutations - larger < larger, permutations - larger, larger)
    p_sim = (folded + 1.0) / (permutations + 1.0)
    p_sim[card == 0] = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        z_sim = np.where(sd > 0, (observed - mean) / sd, np.nan)
    return p_sim, z_sim, mean


def _geometry_of(data, ids):
    import geopandas as gpd

    if isinstance(data, gpd.GeoDataFrame):
        g = data.geometry.copy()
        g.index = pd.Index([str(i) for i in g.index])
        return g.reindex(ids)
    return None


@dataclass(frozen=True, eq=False)
class LocalMoran:
    """Local Moran's I (LISA) per unit; ``frame`` is indexed by unit id."""

    variable: str
    n: int
    frame: pd.DataFrame
    convention: str
    permutations: int
    seed: object
    adjust: str
    alpha: float
    weights: str
    transform: str
    islands_policy: str
    geometry: object = None
    excluded: tuple = ()

    @property
    def Ii(self) -> pd.Series:
        return self.frame["Ii"]

    @property
    def z(self) -> pd.Series:
        return self.frame["z"]

    @property
    def p_sim(self) -> pd.Series:
        return self.frame["p_sim"]

    @property
    def quadrant(self) -> pd.Series:
        return self.frame["quadrant"]

    def counts(self) -> dict:
        vc = self.frame["quadrant"].value_counts()
        return {q: int(vc.get(q, 0)) for q in QUADRANTS}

    def to_frame(self):
        """The per-unit table (a GeoDataFrame when the input had geometry)."""
        out = self.frame.copy()
        if self.geometry is not None:
            import geopandas as gpd

            return gpd.GeoDataFrame(out, geometry=self.geometry.reindex(out.index), crs=self.geometry.crs)
        return out

    def to_json(self) -> dict:
        f = self.frame
        rows = [
            {"id": i, "Ii": _f(r.Ii), "EIi": _f(r.EIi), "VIi": _f(r.VIi), "z": _f(r.z), "p_norm": _f(r.p_norm),
             "p_sim": _f(r.p_sim), "p": _f(r.p), "quadrant": r.quadrant}
            for i, r in zip(f.index, f.itertuples(index=False))
        ]
        return {
            "statistic": "local_moran",
            "variable": self.variable,
            "n": self.n,
            "convention": self.convention,
            "permutations": self.permutations,
            "seed": self.seed,
            "adjust": self.adjust,
            "alpha": self.alpha,
            "weights": self.weights,
            "transform": self.transform,
            "islands_policy": self.islands_policy,
            "counts": self.counts(),
            "excluded": list(self.excluded),
            "local": rows,
        }

    def summary(self) -> str:
        c = self.counts()
        basis = "pseudo p (conditional permutation)" if self.permutations else "normal p"
        return "\n".join([
            f"Local Moran (LISA) of {self.variable} (n = {self.n}; weights {self.weights}, transform "
            f"{self.transform!r}; Ii convention {self.convention})",
            f"  significance: {basis}, adjust {self.adjust}, alpha {self.alpha}"
            + (f", {self.permutations} permutations (seed {self.seed})" if self.permutations else ""),
            "  clusters: " + "  ".join(f"{q} {c[q]}" for q in QUADRANTS),
        ])

    __str__ = summary


def local_moran(data, column=None, *, weights="queen", permutations: int = 999, seed=None,
                adjust: str = "none", alpha: float = 0.05, convention: str = "spdep",
                engine: str | None = None) -> LocalMoran:
    """Local Moran's I with conditional-permutation pseudo p-values and cluster labels.

    Quadrants (HH, LH, LL, HL) compare the unit's deviation from the mean and
    its spatial lag with 0; a unit is labelled only when its p-value — ``p_sim``
    (or ``p_norm`` with ``permutations=0``), adjusted by ``adjust`` ("none",
    "fdr" for Benjamini-Hochberg, "bonferroni") — is at most ``alpha``;
    otherwise "ns".  Units without neighbours get Ii = 0, p = NaN and "ns".
    ``engine``: "numba" or "numpy" for the permutation engine (default: numba if installed).
    """
    check_choice("adjust", adjust, ADJUSTMENTS)
    check_choice("convention", convention, CONVENTIONS)
    if engine is not None:
        check_choice("engine", engine, ("numba", "numpy"))
    if not (0 < alpha < 1):
        raise OptionError(f"alpha={alpha!r} must be between 0 and 1")
    permutations = _check_permutations(permutations)
    prep = _prepare_weights(data, weights)
    y = _values(data, column, prep.ids)
    n = len(y)
    if n < 4:
        raise InputError(f"local Moran needs at least 4 units, got {n}")
    Wo, diag = _split_diagonal(prep.W)
    if np.any(diag != 0):
        raise ModelError("local Moran needs weights without self-weights (the diagonal must be 0)")
    z = y - y.mean()
    m2 = float(z @ z) / n
    if m2 == 0:
        raise ModelError("the variable is constant: local Moran is undefined")
    lag = Wo @ z
    factor = 1.0 if convention == "spdep" else (n - 1) / n
    Ii = factor * z / m2 * lag
    Wi = np.asarray(Wo.sum(axis=1)).ravel()
    Wi2 = np.asarray(Wo.multiply(Wo).sum(axis=1)).ravel()
    EIi = factor * (-(z**2) * Wi / ((n - 1) * m2))
    VIi = factor**2 * ((z / m2) ** 2 * (n / (n - 2)) * (Wi2 - Wi**2 / (n - 1)) * (m2 - z**2 / (n - 1)))
    with np.errstate(divide="ignore", invalid="ignore"):
        zi = np.where(VIi > 0, (Ii - EIi) / np.sqrt(VIi), np.nan)
    p_norm = 2.0 * ndtr(-np.abs(zi))
    p_sim, z_sim, _ = _local_permutation(z, Wo, factor * z / m2, np.zeros(n), Ii, permutations, _rng(seed), engine)
    card = np.diff(Wo.indptr)
    base = p_sim if permutations else p_norm
    base = np.where(card == 0, np.nan, base)
    p = adjust_pvalues(base, adjust)
    sig = np.isfinite(p) & (p <= alpha)
    hz = z > 0
    hl = lag > 0
    quad = np.where(hz & hl, "HH", np.where(~hz & ~hl, "LL", np.where(hz & ~hl, "HL", "LH")))
    quad = np.where(sig, quad, "ns")
    frame = pd.DataFrame(
        {"value": y, "lag": lag, "Ii": Ii, "EIi": EIi, "VIi": VIi, "z": zi, "p_norm": p_norm,
         "p_sim": p_sim, "z_sim": z_sim, "p": p, "quadrant": quad},
        index=pd.Index(prep.ids, name=getattr(data.index, "name", None) or "id"),
    )
    return LocalMoran(
        variable=str(column), n=n, frame=frame, convention=convention, permutations=permutations,
        seed=seed if not isinstance(seed, np.random.Generator) else "generator", adjust=adjust, alpha=alpha,
        weights=prep.weights, transform=prep.transform, islands_policy=prep.islands_policy,
        geometry=_geometry_of(data, prep.ids), excluded=prep.excluded,
    )


@dataclass(frozen=True, eq=False)
class LocalG:
    """Getis-Ord local G (or G* with ``star``) per unit; ``frame`` is indexed by unit id."""

    variable: str
    n: int
    star: bool
    frame: pd.DataFrame
    permutations: int
    seed: object
    adjust: str
    alpha: float
    weights: str
    transform: str
    islands_policy: str
    geometry: object = None
    excluded: tuple = ()

    @property
    def G(self) -> pd.Series:
        return self.frame["G"]

    @property
    def z(self) -> pd.Series:
        return self.frame["z"]

    @property
    def p_sim(self) -> pd.Series:
        return self.frame["p_sim"]

    def counts(self) -> dict:
        vc = self.frame["cluster"].value_counts()
        return {c: int(vc.get(c, 0)) for c in ("hot", "cold", "ns")}

    def to_frame(self):
        out = self.frame.copy()
        if self.geometry is not None:
            import geopandas as gpd

            return gpd.GeoDataFrame(out, geometry=self.geometry.reindex(out.index), crs=self.geometry.crs)
        return out

    def to_json(self) -> dict:
        f = self.frame
        return {
            "statistic": "local_g_star" if self.star else "local_g",
            "variable": self.variable,
            "n": self.n,
            "star": self.star,
            "permutations": self.permutations,
            "seed": self.seed,
            "adjust": self.adjust,
            "alpha": self.alpha,
            "weights": self.weights,
            "transform": self.transform,
            "islands_policy": self.islands_policy,
            "counts": self.counts(),
            "excluded": list(self.excluded),
            "local": [
                {"id": i, "G": _f(r.G), "EG": _f(r.EG), "VG": _f(r.VG), "z": _f(r.z), "p_norm": _f(r.p_norm),
                 "p_sim": _f(r.p_sim), "p": _f(r.p), "cluster": r.cluster}
                for i, r in zip(f.index, f.itertuples(index=False))
            ],
        }

    def summary(self) -> str:
        c = self.counts()
        return "\n".join([
            f"Local {'G*' if self.star else 'G'} of {self.variable} (n = {self.n}; weights {self.weights}, "
            f"transform {self.transform!r})",
            f"  hot spots {c['hot']}, cold spots {c['cold']}, not significant {c['ns']} "
            f"(adjust {self.adjust}, alpha {self.alpha})",
        ])

    __str__ = summary


def _star_weights(W, transform):
    """W with self-weights for G*: the diagonal as given, else the binary pattern plus self, re-transformed."""
    Wo, diag = _split_diagonal(W)
    if np.any(diag != 0):
        return W
    B = Wo.copy()
    rows = np.repeat(np.arange(B.shape[0]), np.diff(B.indptr))
    ok = np.ones(B.shape[0], dtype=bool)
    if B.nnz:
        rmax = np.maximum.reduceat(B.data, B.indptr[:-1][np.diff(B.indptr) > 0])
        rmin = np.minimum.reduceat(B.data, B.indptr[:-1][np.diff(B.indptr) > 0])
        ok = np.allclose(rmax, rmin, rtol=1e-12, atol=0)
    del rows
    t = str(transform).lower()
    if not ok or t not in ("r", "b", "o"):
        raise OptionError(
            "G* needs self-weights: use binary or row-standardised contiguity, knn or distance-band weights, "
            "or pass a graph that already has a diagonal"
        )
    if t in ("b", "o") and B.nnz and not np.allclose(B.data, 1.0):
        raise OptionError("G* with untransformed weights needs binary weights (transform='b')")
    B.data[:] = 1.0
    S = sp.csr_array(B + sp.eye_array(B.shape[0], format="csr"))
    if t == "r":
        rs = np.asarray(S.sum(axis=1)).ravel()
        S = sp.csr_array(sp.diags_array(1.0 / rs) @ S)
    S.sort_indices()
    return S


def local_g(data, column=None, *, weights="queen", star: bool = False, permutations: int = 999, seed=None,
            adjust: str = "none", alpha: float = 0.05, engine: str | None = None) -> LocalG:
    """Getis-Ord local G_i (``star=False``) or G*_i (``star=True``) with spdep's z-scores.

    G*: when the weights have no diagonal, each unit's own weight is added as
    one more neighbour of the binary pattern and the graph's transformation is
    re-applied (spdep's ``include.self()``), so row-standardised rows give
    1/(k_i + 1) to each of k_i neighbours and the unit itself.  Clusters: "hot"
    (z > 0) or "cold" (z < 0) when the (adjusted) p-value is at most ``alpha``.
    """
    check_choice("adjust", adjust, ADJUSTMENTS)
    if engine is not None:
        check_choice("engine", engine, ("numba", "numpy"))
    permutations = _check_permutations(permutations)
    prep = _prepare_weights(data, weights)
    x = _values(data, column, prep.ids)
    n = len(x)
    if n < 4:
        raise InputError(f"local G needs at least 4 units, got {n}")
    W = _star_weights(prep.W, prep.transform) if star else _split_diagonal(prep.W)[0]
    Wo, diag = _split_diagonal(W)
    lx = W @ x
    Wi = np.asarray(W.sum(axis=1)).ravel()
    S1i = np.asarray(W.multiply(W).sum(axis=1)).ravel()
    total = float(x.sum())
    if star:
        xibar = np.full(n, x.mean())
        si2 = np.full(n, float(np.sum((x - x.mean()) ** 2)) / n)
        VGraw = si2 * (n * S1i - Wi**2) / (n - 1)
        denom = np.full(n, total)
    else:
        xibar = (total - x) / (n - 1)
        si2 = (float(np.sum(x**2)) - x**2) / (n - 1) - xibar**2
        VGraw = si2 * ((n - 1) * S1i - Wi**2) / (n - 2)
        denom = total - x
    EGraw = Wi * xibar
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(VGraw > 0, (lx - EGraw) / np.sqrt(VGraw), np.nan)
        G = lx / denom
        EG = EGraw / denom
        VG = VGraw / denom**2
    p_norm = 2.0 * ndtr(-np.abs(z))
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = 1.0 / denom
    shift = diag * x * scale
    p_sim, z_sim, _ = _local_permutation(x, Wo, scale, shift, G, permutations, _rng(seed), engine)
    card = np.diff(Wo.indptr)
    base = p_sim if permutations else p_norm
    base = np.where(card == 0, np.nan, base)
    p = adjust_pvalues(base, adjust)
    sig = np.isfinite(p) & (p <= alpha)
    cluster = np.where(sig & (z > 0), "hot", np.where(sig & (z < 0), "cold", "ns"))
    frame = pd.DataFrame(
        {"value": x, "G": G, "EG": EG, "VG": VG, "z": z, "p_norm": p_norm, "p_sim": p_sim, "z_sim": z_sim,
         "p": p, "cluster": cluster},
        index=pd.Index(prep.ids, name=getattr(data.index, "name", None) or "id"),
    )
    return LocalG(
        variable=str(column), n=n, star=bool(star), frame=frame, permutations=permutations,
        seed=seed if not isinstance(seed, np.random.Generator) else "generator", adjust=adjust, alpha=alpha,
        weights=prep.weights, transform=prep.transform, islands_policy=prep.islands_policy,
        geometry=_geometry_of(data, prep.ids), excluded=prep.excluded,
    )
