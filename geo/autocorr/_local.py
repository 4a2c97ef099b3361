"""Local statistics: LISA (local Moran) and local G / G*, conditional permutation inference, adjusted
p-values (formulas in :mod:`geo.autocorr`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.special import ndtr  # the normal cdf; scipy.stats costs ~0.8 s to import (norm.sf(x) is ndtr(-x))

from geo._numba import conditional_counts
from geo._numbers import finite_or_none as _f
from geo.autocorr._common import (
    ADJUSTMENTS,
    CONVENTIONS,
    QUADRANTS,
    _prepare_weights,
    _values,
    _rng,
    _check_permutations,
)
from geo.errors import InputError, ModelError, OptionError, check_choice

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
