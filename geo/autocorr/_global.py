"""Global statistics: Moran's I, Geary's C, Getis-Ord General G, bivariate Moran (formulas in
:mod:`geo.autocorr`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from geo._numbers import finite_or_none as _f
from geo.autocorr._common import (
    ALTERNATIVES,
    _prepare_weights,
    _values,
    _rng,
    _check_permutations,
    _p_normal,
    _moments,
    _simulate,
    _sim_summary,
    _common_json,
    _require_finite,
)
from geo.errors import InputError, ModelError, SchemaError, check_choice

# --------------------------------------------------------------------------- global results


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
