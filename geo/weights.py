"""Spatial weights: a spec string (``queen``, ``knn:6``, ``distance:150km``, …) to geo's :class:`Weights`.

Contract used by every other module (Durbin models, radiation, maps)::

    graph = geo.weights.build("queen", units)       # units: GeoDataFrame indexed by id
    graph.unique_ids   # pandas Index of the ids (str), in the order of units.index
    graph.sparse       # scipy CSR array (n x n) in that same order, row i = unit i
    graph.info         # WeightsInfo: spec, transform, islands policy and what it did
    geo.weights.to_csr(anything)   # THE conversion to a float CSR array (Weights, libpysal, scipy)

The returned object is a :class:`Weights` (``geo/_graph.py``): the metadata is
inside it and survives ``transform``; ``to_libpysal()`` gives libpysal's Graph
(and any other Graph method is reached through it).  ``build`` never mutates
``units``.  Units left without neighbours (``islands="keep"``) have an empty
row (no stored zero).  With ``islands="drop"`` the ids are ``units.index``
minus the dropped units (listed by :func:`info` and :func:`summarize`).

Spec strings (case-insensitive kind names; distances in km, or m with ``m``)
-------------------------------------------------------------------------
``queen`` / ``rook``
    Shared vertex / shared edge (the neighbour sets of libpysal's vertex-set
    method, computed by a vertex/edge hash in ``geo/_contiguity.py``: the
    boundaries must form a clean coverage, as the embedded ones do).  Needs no
    CRS (only exact shared coordinates matter).
``knn:K``
    The K nearest units by great-circle distance between centroids (not symmetric).
``distance:150km``
    Binary: every unit whose centroid is within 150 km (great circle).
``idw:P`` / ``idw:P:300km``
    Inverse distance ``d**-P`` (d in km) to every other unit / within 300 km.
    Without a cutoff the graph is complete (n² links), so it is limited to 4,000 units.
``kernel:NAME:K`` / ``kernel:NAME:150km``
    Kernel weights ``K(d / h)`` with NAME one of triangular, uniform, quadratic
    (Epanechnikov), quartic (bisquare), gaussian, using libpysal's kernel
    constants.  Adaptive (integer K): the K nearest units are neighbours and
    ``h_i`` is the distance to unit i's (K+1)-th nearest unit, so every one of
    the K neighbours has a positive weight.  Fixed (a distance): units with
    ``d < h`` are neighbours.  No self-weight (diagonal) is kept.
``economic:VAR`` / ``economic:VAR:BASE``
    Geographic weights of BASE (any other spec, default ``queen``) multiplied
    by ``1 / |x_i - x_j|`` of indicator VAR (its mean per unit when the data
    hold several years), as in the Chinese regional literature.  Equal values
    of two linked units are an error (infinite weight).
``…:order2`` / ``…:upto2``
    Higher-order neighbours of a binary spec (queen, rook, knn, distance):
    ``order2`` keeps units whose shortest path is exactly 2 steps (spdep's
    ``nblag``), ``upto2`` every unit within 2 steps (``nblag_cumul``).
A path ending in ``.gal``, ``.gwt`` or ``.parquet``
    A weights file whose ids are the unit ids (see :func:`read`).

Distances (``metric``): ``"great-circle"`` (default: geodesic on WGS-84 between
centroids computed in an equal-area projection) or ``"projected"`` (straight
lines in an equidistant projection).  Both projections come from
:func:`geo.boundaries.projection_for`: China's conics for data in China, else
conics fitted to the data's own extent; the one used is stated
(``projection`` in :func:`info` / :func:`summarize`).  Units without a CRS
(a file without one read with no ``--crs``) allow contiguity only.

Islands (units without neighbours) follow a named policy, applied to the
first-order graph (before higher orders are built from it, and before the
transformation); a unit can still end up with no neighbour of order K (the
centre of a 3 x 3 grid has none of order 2), and is then listed as such:

- ``"link"`` (default, same as ``"link:1"``) — link each island to its nearest
  unit by centroid distance, in both directions (``"link:K"``: K nearest).
  Link edges weigh 1 before the transformation (``d**-P`` for ``idw``).
  On the embedded boundaries this links 舟山 (330900) and Hainan's units.
- ``"keep"`` — keep them with an empty row (their spatial lag is 0; esda's
  and spdep ``zero.policy=TRUE`` behaviour).
- ``"drop"`` — remove them from the graph (its ids are then a subset).
- ``"error"`` — raise :class:`~geo.errors.InputError` naming them.

Transformations: ``"r"`` row-standardised (default), ``"b"`` binary, ``"v"``
variance-stabilising (libpysal's), ``"o"`` the weights as built.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from geo._contiguity import contiguity_pairs
from geo._graph import Weights, ids_of, str_ids, to_csr
from geo.errors import CRSError, GeometryError, InputError, OptionError, SchemaError

__all__ = [
    "Weights",
    "to_csr",
    "ids_of",
    "contiguity_pairs",
    "KINDS",
    "KERNELS",
    "TRANSFORMS",
    "DEFAULT_ISLANDS",
    "Spec",
    "WeightsInfo",
    "WeightsSummary",
    "parse_spec",
    "build",
    "info",
    "summarize",
    "save",
    "read",
]

KINDS = ("queen", "rook", "knn", "distance", "idw", "kernel", "economic", "file")
#: kernel name -> function of u = d / h on [0, 1) (libpysal's constants)
KERNELS = ("triangular", "uniform", "quadratic", "quartic", "gaussian")
_KERNEL_ALIASES = {"epanechnikov": "quadratic", "bisquare": "quartic"}
TRANSFORMS = ("r", "b", "v", "o")
METRICS = ("great-circle", "projected")
DEFAULT_ISLANDS = "link"
FILE_SUFFIXES = (".gal", ".gwt", ".parquet")
_BINARY_KINDS = ("queen", "rook", "knn", "distance")
#: complete inverse-distance graphs (no cutoff) are refused above this many units
IDW_MAX_COMPLETE = 4000


# --------------------------------------------------------------------------- spec strings


@dataclass(frozen=True)
class Spec:
    """A parsed weights spec; ``str(spec)`` gives the canonical spec string."""

    kind: str
    k: int | None = None
    km: float | None = None
    power: float | None = None
    kernel: str | None = None
    variable: str | None = None
    base: "Spec | None" = None
    order: int = 1
    cumulative: bool = False
    path: str | None = None

    def __str__(self) -> str:
        if self.kind == "file":
            return str(self.path)
        if self.kind in ("queen", "rook"):
            text = self.kind
        elif self.kind == "knn":
            text = f"knn:{self.k}"
        elif self.kind == "distance":
            text = f"distance:{_fmt_km(self.km)}"
        elif self.kind == "idw":
            text = f"idw:{_fmt_num(self.power)}" + (f":{_fmt_km(self.km)}" if self.km is not None else "")
        elif self.kind == "kernel":
            text = f"kernel:{self.kernel}:" + (str(self.k) if self.k is not None else _fmt_km(self.km))
        else:  # economic
            return f"economic:{self.variable}:{self.base}"
        if self.order > 1:
            text += f":{'upto' if self.cumulative else 'order'}{self.order}"
        return text


def _fmt_num(x: float) -> str:
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def _fmt_km(x: float) -> str:
    return _fmt_num(x) + "km"


_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_DIST_RE = re.compile(rf"^({_NUM})\s*(km|m)$", re.IGNORECASE)
_NUM_RE = re.compile(rf"^{_NUM}$")
_INT_RE = re.compile(r"^\d+$")
_ORDER_RE = re.compile(r"^(order|upto)(\d+)$", re.IGNORECASE)

_SPEC_HELP = (
    "use queen, rook, knn:6, distance:150km, idw:2, idw:2:300km, kernel:triangular:8, "
    "economic:VAR, queen:order2, or a .gal/.gwt/.parquet file"
)


def _bad(text, why: str) -> OptionError:
    return OptionError(f"weights spec {text!r}: {why}; {_SPEC_HELP}")


def _parse_distance(text, token) -> float:
    m = _DIST_RE.match(token.strip())
    if not m:
        raise _bad(text, f"{token!r} is not a distance such as 150km or 5000m")
    value = float(m.group(1))
    if m.group(2).lower() == "m":
        value /= 1000.0
    if not math.isfinite(value) or value <= 0:
        raise _bad(text, f"distance {token!r} must be positive")
    return value


def _parse_int(text, token, what) -> int:
    if not _INT_RE.match(token.strip()):
        raise _bad(text, f"{what} {token!r} is not a whole number")
    value = int(token)
    if value < 1:
        raise _bad(text, f"{what} must be at least 1")
    return value


def is_file_spec(text) -> bool:
    """True when ``text`` names a weights file (by its extension)."""
    return isinstance(text, (str, os.PathLike)) and Path(str(text)).suffix.lower() in FILE_SUFFIXES


def parse_spec(text) -> Spec:
    """Parse a spec string (see the module docstring); OptionError names what is wrong."""
    if isinstance(text, Spec):
        return text
    if not isinstance(text, (str, os.PathLike)):
        raise OptionError(f"weights spec must be a string, got {type(text).__name__}; {_SPEC_HELP}")
    raw = str(text)
    if is_file_spec(raw):
        return Spec(kind="file", path=raw)
    s = raw.strip()
    if not s:
        raise _bad(raw, "empty spec")
    tokens = [t.strip() for t in s.split(":")]
    kind = tokens[0].lower()
    if kind == "economic":
        if len(tokens) < 2 or not tokens[1]:
            raise _bad(raw, "economic weights need a variable, e.g. economic:gdp_pc")
        variable = tokens[1]
        if any(ch.isspace() for ch in variable):
            raise _bad(raw, f"variable name {variable!r} contains spaces")
        base = parse_spec(":".join(tokens[2:])) if len(tokens) > 2 else Spec(kind="queen")
        if base.kind in ("economic", "file"):
            raise _bad(raw, f"the base of economic weights cannot be {base.kind!r}")
        return Spec(kind="economic", variable=variable, base=base)
    order, cumulative = 1, False
    if len(tokens) > 1:
        m = _ORDER_RE.match(tokens[-1])
        if m:
            order = int(m.group(2))
            cumulative = m.group(1).lower() == "upto"
            if order < 2:
                raise _bad(raw, f"{tokens[-1]!r}: higher order must be 2 or more")
            if kind not in _BINARY_KINDS:
                raise _bad(raw, f"higher orders apply to {', '.join(_BINARY_KINDS)}, not {kind!r}")
            tokens = tokens[:-1]
    args = tokens[1:]
    if any(a == "" for a in args):
        raise _bad(raw, "empty field between ':'")
    if kind in ("queen", "rook"):
        if args:
            raise _bad(raw, f"{kind} takes no parameters")
        spec = Spec(kind=kind)
    elif kind == "knn":
        if len(args) != 1:
            raise _bad(raw, "knn needs the number of neighbours, e.g. knn:6")
        spec = Spec(kind="knn", k=_parse_int(raw, args[0], "k"))
    elif kind == "distance":
        if len(args) != 1:
            raise _bad(raw, "distance needs a threshold, e.g. distance:150km")
        spec = Spec(kind="distance", km=_parse_distance(raw, args[0]))
    elif kind == "idw":
        if len(args) not in (1, 2):
            raise _bad(raw, "idw needs a power and optionally a cutoff, e.g. idw:2 or idw:2:300km")
        if not _NUM_RE.match(args[0]):
            raise _bad(raw, f"power {args[0]!r} is not a number")
        power = float(args[0])
        if not math.isfinite(power) or power <= 0:
            raise _bad(raw, f"power {args[0]!r} must be positive")
        km = _parse_distance(raw, args[1]) if len(args) == 2 else None
        spec = Spec(kind="idw", power=power, km=km)
    elif kind == "kernel":
        if len(args) != 2:
            raise _bad(raw, "kernel needs a name and a bandwidth, e.g. kernel:triangular:8 or kernel:gaussian:150km")
        name = _KERNEL_ALIASES.get(args[0].lower(), args[0].lower())
        if name not in KERNELS:
            raise _bad(raw, f"unknown kernel {args[0]!r} (kernels: {', '.join(KERNELS)})")
        if _INT_RE.match(args[1]):
            spec = Spec(kind="kernel", kernel=name, k=_parse_int(raw, args[1], "k"))
        else:
            spec = Spec(kind="kernel", kernel=name, km=_parse_distance(raw, args[1]))
    else:
        raise _bad(raw, f"unknown kind {tokens[0]!r}")
    if order > 1:
        spec = Spec(**{**spec.__dict__, "order": order, "cumulative": cumulative})
    return spec


def _parse_islands(policy: str) -> tuple[str, int]:
    text = str(policy).strip().lower()
    if text in ("keep", "drop", "error"):
        return text, 0
    m = re.match(r"^link(?::(\d+))?$", text)
    if m:
        k = int(m.group(1) or 1)
        if k >= 1:
            return "link", k
    raise OptionError(f"islands={policy!r} is not one of 'link', 'link:K' (K >= 1), 'keep', 'drop', 'error'")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class WeightsInfo:
    """How a graph was built (attached to graphs made by :func:`build` / :func:`read`)."""

    spec: str
    kind: str
    transform: str
    islands_policy: str
    islands: tuple = ()  #: units with no neighbour before the islands policy
    linked: tuple = ()  #: (island, neighbour, km) links added by the ``link`` policy
    dropped: tuple = ()  #: units removed by the ``drop`` policy
    metric: str | None = None
    projection: str | None = None  #: CRS of the centroids / straight-line distances (boundaries.projection_for)
    notes: tuple = ()  #: e.g. that the units had no CRS (contiguity only)


@dataclass(frozen=True)
class WeightsSummary:
    """Size and shape of a weights graph; ``to_json()`` is what ``geo weights --json`` prints."""

    n: int
    links: int
    mean_neighbors: float
    min_neighbors: int
    max_neighbors: int
    islands: tuple
    isolates: tuple
    components: int
    symmetric: bool
    pct_nonzero: float
    kind: str
    spec: str
    transform: str
    islands_policy: str
    linked: tuple = ()
    dropped: tuple = ()
    metric: str | None = None
    projection: str | None = None
    notes: tuple = ()

    def to_json(self) -> dict:
        return {
            "n": self.n,
            "links": self.links,
            "mean_neighbors": self.mean_neighbors,
            "min_neighbors": self.min_neighbors,
            "max_neighbors": self.max_neighbors,
            "islands": list(self.islands),
            "isolates": list(self.isolates),
            "components": self.components,
            "symmetric": self.symmetric,
            "pct_nonzero": self.pct_nonzero,
            "kind": self.kind,
            "spec": self.spec,
            "transform": self.transform,
            "islands_policy": self.islands_policy,
            "linked": [{"island": a, "neighbor": b, "km": km} for a, b, km in self.linked],
            "dropped": list(self.dropped),
            "metric": self.metric,
            "projection": self.projection,
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        lines = [
            f"weights: {self.spec} (kind {self.kind}, transform {self.transform!r}"
            + (f", distances {self.metric}" if self.metric else "")
            + ")",
            f"units: {self.n}  links: {self.links}  neighbours mean {self.mean_neighbors:.2f} "
            f"(min {self.min_neighbors}, max {self.max_neighbors})  non-zero: {self.pct_nonzero:.3f}%",
            f"connected components: {self.components}  symmetric: {self.symmetric}",
            f"islands policy: {self.islands_policy}; islands found: {', '.join(self.islands) or 'none'}",
        ]
        for a, b, km in self.linked:
            lines.append(f"  linked {a} <-> {b} ({km:.1f} km)")
        if self.dropped:
            lines.append(f"  dropped: {', '.join(self.dropped)}")
        if self.isolates:
            lines.append(f"  units left without neighbours: {', '.join(self.isolates)}")
        if self.projection:
            lines.append(f"centroids/distances computed in: {self.projection}")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    __str__ = summary


def info(graph) -> WeightsInfo:
    """The :class:`WeightsInfo` of weights from :func:`build`/:func:`read` (a generic one otherwise)."""
    found = graph.info if isinstance(graph, Weights) else None
    if found is not None:
        return found
    iso = tuple(map(str, graph.isolates))
    return WeightsInfo(
        spec="(graph)", kind="graph", transform=str(graph.transformation).lower(), islands_policy="keep", islands=iso
    )


def summarize(graph) -> WeightsSummary:
    """n, links, neighbours per unit, islands, connected components and how the graph was built."""
    meta = info(graph)
    W = graph.sparse.tocsr()
    W.eliminate_zeros()
    card = np.diff(W.indptr)
    ids = [str(i) for i in graph.unique_ids]
    isolates = tuple(ids[i] for i in np.flatnonzero(card == 0))
    n_comp = int(sp.csgraph.connected_components(W, directed=True, connection="weak")[0]) if len(ids) else 0
    B = (W != 0).astype(np.int8)
    symmetric = bool((B - B.T).nnz == 0)  # of the neighbour structure (row-standardising breaks weight symmetry)
    n = len(ids)
    return WeightsSummary(
        n=n,
        links=int(W.nnz),
        mean_neighbors=float(card.mean()) if n else 0.0,
        min_neighbors=int(card.min()) if n else 0,
        max_neighbors=int(card.max()) if n else 0,
        islands=tuple(meta.islands) if meta.kind != "graph" else isolates,
        isolates=isolates,
        components=n_comp,
        symmetric=symmetric,
        pct_nonzero=100.0 * W.nnz / n**2 if n else 0.0,
        kind=meta.kind,
        spec=meta.spec,
        transform=str(graph.transformation).lower(),
        islands_policy=meta.islands_policy,
        linked=tuple(meta.linked),
        dropped=tuple(meta.dropped),
        metric=meta.metric,
        projection=meta.projection,
        notes=tuple(meta.notes),
    )


# --------------------------------------------------------------------------- geometry helpers


def _check_units(units):
    import geopandas as gpd

    if not isinstance(units, gpd.GeoDataFrame):
        raise InputError(f"units must be a GeoDataFrame indexed by unit id, got {type(units).__name__}")
    if len(units) < 2:
        raise InputError(f"weights need at least 2 units, got {len(units)}")
    ids = str_ids(units.index)
    dup = ids[ids.duplicated()]
    if len(dup):
        raise SchemaError(f"units have duplicate ids, e.g. {dup[0]!r}")
    if units.geometry.isna().any() or units.geometry.is_empty.any():
        bad = ids[(units.geometry.isna() | units.geometry.is_empty).to_numpy()]
        raise GeometryError(f"units with empty geometry: {list(bad[:5])}")
    return ids


class _Points:
    """Unit reference points (centroids of polygons) and distances between them in km."""

    def __init__(self, units, metric: str):
        from geo import boundaries

        self.metric = metric
        if units.crs is None:
            raise CRSError("the units have no CRS, so distances are unknown; give one with --crs EPSG:… "
                           "(library: set_crs()); contiguity (queen, rook) needs none")
        geom = units.geometry
        is_point = bool((geom.geom_type == "Point").all())
        if metric == "great-circle":
            self.projection = None if is_point else boundaries.projection_for(units, "equal-area")
            pts = units.to_crs("EPSG:4326").geometry if is_point else boundaries.centroids(units)
            lon = np.radians(pts.x.to_numpy())
            lat = np.radians(pts.y.to_numpy())
            self.lon, self.lat = pts.x.to_numpy(), pts.y.to_numpy()
            # unit-sphere coordinates: the chord length is monotone in great-circle distance
            self.xyz = np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
        else:
            self.projection = boundaries.projection_for(units, "equidistant")
            metric_units = boundaries.to_metric(units, self.projection)
            pts = metric_units.geometry if is_point else metric_units.geometry.centroid
            self.xyz = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()]) / 1000.0
        self.n = len(units)
        self._tree = None

    @property
    def tree(self):
        # built on first use: importing scipy.spatial costs ~0.3 s, more than linking a few islands
        if self._tree is None:
            from scipy.spatial import cKDTree

            self._tree = cKDTree(self.xyz)
        return self._tree

    def _candidates(self, rows, m):
        """The m nearest units (by straight-line distance in ``xyz``) of each row, self included."""
        if len(rows) * self.n <= 2_000_000 and self._tree is None:  # (rows x n x 3) floats: <= 48 MB
            d2 = ((self.xyz[rows, None, :] - self.xyz[None, :, :]) ** 2).sum(axis=2)
            part = np.argpartition(d2, m - 1, axis=1)[:, :m] if m < self.n else np.tile(np.arange(self.n), (len(rows), 1))
            return part
        _, cand = self.tree.query(self.xyz[rows], m)
        return np.asarray(cand).reshape(len(rows), m)

    def dist(self, i, j):
        i = np.asarray(i, dtype=np.int64)
        j = np.asarray(j, dtype=np.int64)
        if self.metric == "great-circle":
            from geo.boundaries import great_circle_km

            if i.size == 0:
                return np.zeros(0)
            return np.asarray(great_circle_km(self.lon[i], self.lat[i], self.lon[j], self.lat[j]), dtype=float)
        return np.sqrt(((self.xyz[i] - self.xyz[j]) ** 2).sum(axis=1))

    def _radius(self, km: float) -> float:
        if self.metric == "great-circle":
            # chord on a sphere smaller than the ellipsoid's minimum radius, plus 1%:
            # a superset of the pairs; exact geodesic distances filter them below
            angle = min(math.pi, 1.01 * km / 6356.0)
            return 2.0 * math.sin(angle / 2.0) + 1e-12
        return km * (1 + 1e-12)

    def pairs_within(self, km: float, *, strict: bool = False):
        """(i, j, d) for every ordered pair i != j with d <= km (d < km when strict)."""
        pairs = self.tree.query_pairs(self._radius(km), output_type="ndarray")
        i, j = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
        d = self.dist(i, j)
        keep = d < km if strict else d <= km
        i, j, d = i[keep], j[keep], d[keep]
        return np.concatenate([i, j]), np.concatenate([j, i]), np.concatenate([d, d])

    def nearest(self, k: int, rows=None):
        """(i, j, d) of each row's k nearest other units, and the (k+1)-th distance when it exists."""
        rows = np.arange(self.n) if rows is None else np.asarray(rows, dtype=np.int64)
        m = min(self.n, k + 1 + 4)
        cand = self._candidates(rows, m)
        ii = np.repeat(rows, m)
        jj = cand.ravel().astype(np.int64)
        ok = jj != ii
        ii, jj = ii[ok], jj[ok]
        d = self.dist(ii, jj)
        order = np.lexsort((jj, d, ii))  # by row, then distance, then position (stable ties)
        ii, jj, d = ii[order], jj[order], d[order]
        starts = np.r_[0, np.flatnonzero(np.diff(ii)) + 1]
        counts = np.diff(np.r_[starts, len(ii)])
        rank = np.arange(len(ii)) - np.repeat(starts, counts)
        take = rank < k
        nxt = np.full(len(rows), np.nan)
        at_k = rank == k
        nxt[np.searchsorted(rows, ii[at_k])] = d[at_k]
        return ii[take], jj[take], d[take], nxt


def _kernel(name: str, u):
    u = np.asarray(u, dtype=float)
    if name == "triangular":
        return 1.0 - u
    if name == "uniform":
        return np.full_like(u, 0.5)
    if name == "quadratic":
        return 0.75 * (1.0 - u**2)
    if name == "quartic":
        return (15.0 / 16.0) * (1.0 - u**2) ** 2
    return np.exp(-0.5 * u**2) / math.sqrt(2.0 * math.pi)  # gaussian


# --------------------------------------------------------------------------- builders (positions)


@dataclass
class _Edges:
    n: int
    heads: np.ndarray
    tails: np.ndarray
    weights: np.ndarray
    link_weight: object = None  # function of km -> weight for island links
    metric: str | None = None

    def dedupe(self):
        key = self.heads * self.n + self.tails
        _, first = np.unique(key, return_index=True)
        self.heads, self.tails, self.weights = self.heads[first], self.tails[first], self.weights[first]
        return self


def _ones(km):
    return np.ones_like(np.asarray(km, dtype=float))


def _contiguity(units, ids, rook: bool) -> _Edges:
    types = set(units.geometry.geom_type)
    if not types <= {"Polygon", "MultiPolygon"}:
        raise GeometryError(
            f"{'rook' if rook else 'queen'} contiguity needs polygons, got {sorted(types)}; "
            "use knn:6 or distance:150km for points"
        )
    h, t = contiguity_pairs(units.geometry.values, rook=rook)
    return _Edges(len(ids), h, t, np.ones(len(h)), _ones)


def _geographic(spec: Spec, units, ids, metric: str, pts_cache: dict) -> _Edges:
    kind = spec.kind
    if kind in ("queen", "rook"):
        return _contiguity(units, ids, rook=kind == "rook")
    pts = _points(units, metric, pts_cache)
    n = len(ids)
    if kind == "knn":
        if spec.k >= n:
            raise OptionError(f"knn:{spec.k} needs more than {spec.k} units; there are {n}")
        i, j, _, _ = pts.nearest(spec.k)
        return _Edges(n, i, j, np.ones(len(i)), _ones, metric)
    if kind == "distance":
        i, j, _ = pts.pairs_within(spec.km)
        return _Edges(n, i, j, np.ones(len(i)), _ones, metric)
    if kind == "idw":
        power = spec.power
        if spec.km is not None:
            i, j, d = pts.pairs_within(spec.km)
        else:
            if n > IDW_MAX_COMPLETE:
                raise OptionError(
                    f"idw:{_fmt_num(power)} without a cutoff links all {n}² pairs; give a cutoff, "
                    f"e.g. idw:{_fmt_num(power)}:300km (allowed up to {IDW_MAX_COMPLETE} units)"
                )
            i, j = np.nonzero(~np.eye(n, dtype=bool))
            i, j = i.astype(np.int64), j.astype(np.int64)
            d = pts.dist(i, j)
        _check_positive_distance(ids, i, j, d)

        def idw(km, power=power):
            return np.asarray(km, dtype=float) ** -power

        return _Edges(n, i, j, idw(d), idw, metric)
    if kind == "kernel":
        if spec.k is not None:
            if spec.k + 1 >= n:
                raise OptionError(f"kernel with k={spec.k} needs more than {spec.k + 1} units; there are {n}")
            i, j, d, h = pts.nearest(spec.k)
            bw = h[i]
        else:
            i, j, d = pts.pairs_within(spec.km, strict=True)
            bw = np.full(len(i), spec.km)
        with np.errstate(divide="ignore", invalid="ignore"):
            w = _kernel(spec.kernel, d / bw)
        keep = np.isfinite(w) & (w > 0)
        return _Edges(n, i[keep], j[keep], w[keep], _ones, metric)
    raise OptionError(f"unknown weights kind {kind!r}")  # pragma: no cover - parse_spec guards


def _check_positive_distance(ids, i, j, d):
    zero = d <= 0
    if zero.any():
        a, b = ids[i[zero][0]], ids[j[zero][0]]
        raise InputError(f"units {a!r} and {b!r} have the same centroid: inverse distance is infinite")


def _points(units, metric, cache):
    if metric not in cache:
        cache[metric] = _Points(units, metric)
    return cache[metric]


def _higher_order(edges: _Edges, order: int, cumulative: bool) -> _Edges:
    n = edges.n
    A = sp.csr_array((np.ones(len(edges.heads)), (edges.heads, edges.tails)), shape=(n, n))
    A.data[:] = 1.0
    seen = A + sp.eye_array(n, format="csr")
    seen.data[:] = 1.0
    frontier = A
    for _ in range(order - 1):
        step = frontier @ A
        step.data[:] = 1.0
        step = step - step.multiply(seen)
        step.eliminate_zeros()
        seen = seen + step
        frontier = step
    result = seen - sp.eye_array(n, format="csr") if cumulative else frontier
    result = sp.coo_array(result)
    keep = result.data != 0
    return _Edges(n, result.row[keep].astype(np.int64), result.col[keep].astype(np.int64),
                  np.ones(int(keep.sum())), _ones, edges.metric)


# --------------------------------------------------------------------------- islands, graph


def _apply_islands(edges: _Edges, ids, policy: str, k_link: int, units, metric, pts_cache):
    """Return (edges, keep_mask, islands, linked, dropped)."""
    n = edges.n
    card = np.bincount(edges.heads, minlength=n)
    isolated = np.flatnonzero(card == 0)
    islands = tuple(ids[i] for i in isolated)
    keep_mask = np.ones(n, dtype=bool)
    if len(isolated) == 0 or policy == "keep":
        return edges, keep_mask, islands, (), ()
    if policy == "error":
        shown = ", ".join(islands[:10]) + (" …" if len(islands) > 10 else "")
        raise InputError(
            f"{len(islands)} units have no neighbours ({shown}); choose islands='link' (link to the nearest), "
            "'drop' or 'keep'"
        )
    if policy == "drop":
        while True:
            card = np.bincount(edges.heads[keep_mask[edges.heads] & keep_mask[edges.tails]], minlength=n)
            newly = keep_mask & (card == 0)
            if not newly.any():
                break
            keep_mask &= ~newly
        if keep_mask.sum() < 2:
            raise InputError("dropping the units without neighbours leaves fewer than 2 units")
        dropped = tuple(ids[i] for i in np.flatnonzero(~keep_mask))
        return edges, keep_mask, islands, (), dropped
    # link: each island to its k nearest units, both directions
    pts = _points(units, metric or "great-circle", pts_cache)
    if k_link >= n:
        raise OptionError(f"islands='link:{k_link}' needs more than {k_link} units; there are {n}")
    i, j, d, _ = pts.nearest(k_link, rows=isolated)
    lw = edges.link_weight or _ones
    w = np.asarray(lw(d), dtype=float)
    if not np.all(np.isfinite(w)):
        _check_positive_distance(ids, i, j, d)
    new = _Edges(
        n,
        np.concatenate([edges.heads, i, j]),
        np.concatenate([edges.tails, j, i]),
        np.concatenate([edges.weights, w, w]),
        edges.link_weight,
        edges.metric,
    ).dedupe()
    linked = tuple((ids[a], ids[b], float(km)) for a, b, km in zip(i, j, d))
    return new, keep_mask, islands, linked, ()


def _graph_from_positions(ids, heads, tails, weights, keep_mask=None):
    """A :class:`Weights` ordered like ``ids`` from edge positions (zero weights dropped)."""
    ids = str_ids(ids)
    heads = np.asarray(heads, dtype=np.int64)
    tails = np.asarray(tails, dtype=np.int64)
    weights = np.asarray(weights, dtype=float)
    if keep_mask is not None and not keep_mask.all():
        ok = keep_mask[heads] & keep_mask[tails]
        heads, tails, weights = heads[ok], tails[ok], weights[ok]
        newpos = np.cumsum(keep_mask) - 1
        heads, tails = newpos[heads], newpos[tails]
        ids = ids[keep_mask]
    n = len(ids)
    nz = weights != 0
    W = sp.csr_array((weights[nz], (heads[nz], tails[nz])), shape=(n, n))
    return Weights(ids=ids, sparse=W)


def _with_info(graph, meta: WeightsInfo):
    """``graph`` with its build record inside (a :class:`Weights`; a libpysal Graph is converted)."""
    if not isinstance(graph, Weights):
        graph = Weights(ids=graph.unique_ids, sparse=graph.sparse, transformation=str(graph.transformation))
    return graph.with_info(meta)


def _transform(graph, transform: str):
    t = str(transform).lower()
    if t not in TRANSFORMS:
        raise OptionError(f"transform={transform!r} is not one of 'r', 'b', 'v', 'o'")
    if t == "o":
        return graph
    return graph.transform(t.upper())


def _indicator(variable: str, units, data, ids) -> np.ndarray:
    source = data if data is not None else units
    if isinstance(source, pd.Series):
        values = source
    else:
        if variable not in source.columns:
            where = "data" if data is not None else "units (give the indicator with data= / --data)"
            cols = ", ".join(map(str, list(source.columns)[:20]))
            raise SchemaError(f"economic:{variable}: no column {variable!r} in the {where} (columns: {cols})")
        values = source[variable]
    idx = values.index
    if isinstance(idx, pd.MultiIndex):
        key = idx.get_level_values(0).astype(str)
    else:
        key = idx.astype(str)
    values = pd.to_numeric(pd.Series(values.to_numpy(), index=key), errors="coerce")
    values = values.groupby(level=0).mean()  # a panel: the mean per unit over its years
    values = values.reindex(ids)
    missing = list(values.index[values.isna().to_numpy()])
    if missing:
        raise SchemaError(
            f"economic:{variable}: no numeric value for {len(missing)} units (e.g. {missing[:5]})"
        )
    return values.to_numpy(dtype=float)


def build(
    spec,
    units,
    *,
    data=None,
    transform: str = "r",
    islands: str = DEFAULT_ISLANDS,
    metric: str = "great-circle",
):
    """Spatial weights for ``units`` from a spec string, as a :class:`Weights`.

    Parameters
    ----------
    spec : str or Spec
        ``queen``, ``rook``, ``knn:6``, ``distance:150km``, ``idw:2``, ``idw:2:300km``,
        ``kernel:triangular:8``, ``economic:gdp_pc``, ``queen:order2``, or a
        ``.gal``/``.gwt``/``.parquet`` file whose ids are the unit ids (module docstring).
    units : GeoDataFrame indexed by unit id (any CRS; polygons, or points for distance kinds).
    data : DataFrame or Series indexed by unit id, optional
        Holds the indicator of ``economic:VAR`` (default: the column of ``units``).
        Several rows per unit (a panel) are averaged.
    transform : {"r", "b", "v", "o"}
        Row-standardised (default), binary, variance-stabilising, or as built.
    islands : {"link", "link:K", "keep", "drop", "error"}
        What to do with units without neighbours (default: link to the nearest unit).
    metric : {"great-circle", "projected"}
        Distances between centroids for the distance kinds.

    Returns
    -------
    Weights
        ``graph.unique_ids`` are the ids as strings in the order of ``units.index``
        (minus dropped islands); ``graph.sparse`` is the CSR array in that order.
        :func:`info` tells how it was built; :func:`summarize` gives counts.
    """
    from geo.errors import check_choice

    parsed = parse_spec(spec)
    check_choice("metric", metric, METRICS)
    policy, k_link = _parse_islands(islands)
    policy_text = f"link:{k_link}" if policy == "link" else policy
    transform = str(transform).lower()
    check_choice("transform", transform, TRANSFORMS)
    ids = _check_units(units)
    cache: dict = {}
    if parsed.kind == "file":
        g = read(parsed.path, ids=ids, transform="o")
        W = sp.coo_array(g.sparse)
        edges = _Edges(len(ids), W.row.astype(np.int64), W.col.astype(np.int64), W.data.astype(float), _ones)
        edges = _Edges(len(ids), edges.heads[edges.weights != 0], edges.tails[edges.weights != 0],
                       edges.weights[edges.weights != 0], _ones)
        kind, used_metric = "file", None
    else:
        base = parsed.base if parsed.kind == "economic" else parsed
        edges = _geographic(base, units, ids, metric, cache)
        kind = parsed.kind
        used_metric = edges.metric
    # the islands policy acts on the first-order graph; higher orders are built from its result
    # (so on a 3 x 3 grid the centre, whose every queen neighbour is first-order, has no order-2
    # neighbour rather than being "linked" to a first-order one)
    edges, keep_mask, found, linked, dropped = _apply_islands(edges, ids, policy, k_link, units, used_metric, cache)
    if parsed.kind != "file" and base.order > 1:
        edges = _higher_order(edges, base.order, base.cumulative)
    if parsed.kind == "economic":
        x = _indicator(parsed.variable, units, data, ids)
        gap = np.abs(x[edges.heads] - x[edges.tails])
        zero = gap == 0
        if zero.any():
            a, b = ids[edges.heads[zero][0]], ids[edges.tails[zero][0]]
            raise InputError(
                f"economic:{parsed.variable}: units {a!r} and {b!r} are neighbours with equal values, "
                "so 1/|x_i - x_j| is infinite"
            )
        edges.weights = edges.weights / gap
    graph = _graph_from_positions(ids, edges.heads, edges.tails, edges.weights, keep_mask)
    graph = _transform(graph, transform)
    used_points = next(iter(cache.values()), None)
    notes = ()
    if units.crs is None:
        notes = ("the units have no CRS: contiguity used their coordinates as they are (no distances)",)
    meta = WeightsInfo(
        projection=getattr(used_points, "projection", None),
        notes=notes,
        spec=str(parsed),
        kind=kind,
        transform=transform,
        islands_policy=policy_text,
        islands=found,
        linked=linked,
        dropped=dropped,
        metric=used_metric,
    )
    return _with_info(graph, meta)


# --------------------------------------------------------------------------- files


def _check_id_text(ids):
    for i in ids:
        if not i or any(ch.isspace() for ch in i):
            raise InputError(f"id {i!r} is empty or contains spaces; GAL/GWT files cannot hold it (use .parquet)")


def save(graph, path) -> Path:
    """Write a graph to ``.gal`` (neighbours only, GeoDa/libpysal/spdep ``read.gal``), ``.gwt`` (with
    weights, ``read.gwt2nb``) or ``.parquet`` (libpysal's Graph format, keeps the transformation).

    The write is atomic.  Ids are written as text.
    """
    from geo._io import atomic_write, check_output_path

    p = check_output_path(path)
    suffix = p.suffix.lower()
    if suffix not in FILE_SUFFIXES:
        raise InputError(f"{p}: unknown weights format {suffix!r}; use .gal, .gwt or .parquet")
    ids = [str(i) for i in graph.unique_ids]
    W = graph.sparse.tocsr()
    W.eliminate_zeros()
    W.sort_indices()
    if suffix == ".parquet":
        return atomic_write(p, lambda tmp: graph.to_parquet(str(tmp)))
    _check_id_text(ids)
    lines = [f"0 {len(ids)} {p.stem} id"]
    if suffix == ".gal":
        for r, i in enumerate(ids):
            nb = W.indices[W.indptr[r] : W.indptr[r + 1]]
            lines.append(f"{i} {len(nb)}")
            lines.append(" ".join(ids[j] for j in nb))
    else:
        for r, i in enumerate(ids):
            lo, hi = W.indptr[r], W.indptr[r + 1]
            for j, w in zip(W.indices[lo:hi], W.data[lo:hi]):
                lines.append(f"{i} {ids[j]} {float(w)!r}")
    text = "\n".join(lines) + "\n"
    return atomic_write(p, lambda tmp: tmp.write_text(text, encoding="utf-8"))


#: spdep writes row numbers 1..n unless told to write the region ids (see docs/methods.md)
_ROW_NUMBER_HINT = (
    "ids must be the table's --id values; spdep writes row numbers 1..n unless called as "
    "write.nb.gal(nb, file, oldstyle=FALSE) with attr(nb, 'region.id') set to the ids, or "
    "write.sn2gwt(sn, file, useInd=TRUE)"
)


def _read_gal(p: Path):
    from geo._io import check_input_path

    check_input_path(p)
    rows = [line.split() for line in p.read_text(encoding="utf-8-sig").splitlines()]
    rows = [r for r in rows if r]
    if not rows:
        raise InputError(f"{p}: empty GAL file")
    head = rows[0]
    try:
        n = int(head[1]) if len(head) >= 2 and head[0] == "0" else int(head[0])
    except ValueError:
        raise InputError(f"{p}: first line {' '.join(head)!r} is not a GAL header ('0 N …' or 'N')") from None
    heads, tails, focal = [], [], []
    pos = 1
    for _ in range(n):
        if pos >= len(rows):
            raise InputError(f"{p}: GAL file ends early (expected {n} units)")
        rec = rows[pos]
        if len(rec) != 2 or not rec[1].isdigit():
            raise InputError(f"{p}: line {' '.join(rec)!r} is not 'id count'")
        i, k = rec[0], int(rec[1])
        focal.append(i)
        pos += 1
        nb = []
        if k > 0:
            if pos >= len(rows):
                raise InputError(f"{p}: GAL file ends early after unit {i!r}")
            nb = rows[pos]
            pos += 1
            if len(nb) != k:
                raise InputError(f"{p}: unit {i!r} lists {len(nb)} neighbours, header says {k}")
            if i in nb:
                raise InputError(f"{p}: unit {i!r} lists itself as a neighbour; spatial weights have no self-links")
        heads += [i] * len(nb)
        tails += nb
    return focal, heads, tails, np.ones(len(heads))


def _read_gwt(p: Path):
    from geo._io import check_input_path

    check_input_path(p)
    rows = [line.split() for line in p.read_text(encoding="utf-8-sig").splitlines()]
    rows = [r for r in rows if r]
    if not rows:
        raise InputError(f"{p}: empty GWT file")
    body = rows[1:] if (len(rows[0]) != 3 or rows[0][0] == "0") else rows
    heads, tails, w = [], [], []
    for r in body:
        if len(r) != 3:
            raise InputError(f"{p}: line {' '.join(r)!r} is not 'id neighbour weight'")
        try:
            value = float(r[2])
        except ValueError:
            raise InputError(f"{p}: weight {r[2]!r} is not a number") from None
        if not math.isfinite(value) or value < 0:
            raise InputError(f"{p}: line {' '.join(r)!r}: weights must be finite and non-negative")
        if r[0] == r[1]:
            raise InputError(f"{p}: line {' '.join(r)!r}: unit {r[0]!r} is its own neighbour; "
                             "spatial weights have no self-links")
        w.append(value)
        heads.append(r[0])
        tails.append(r[1])
    focal = list(dict.fromkeys(heads + tails))
    return focal, heads, tails, np.asarray(w, dtype=float)


def read(path, ids=None, *, transform: str | None = None, restrict: bool = False):
    """Read a ``.gal``, ``.gwt`` or ``.parquet`` weights file into a Graph.

    ``ids`` (e.g. ``units.index``): reorder to these ids; every id must be in
    the file and the file must hold no other ids (InputError names them),
    unless ``restrict``: then the file may hold more ids, and the graph is the
    file's restricted to ``ids`` (links to other units dropped; units left
    without a neighbour are islands, in the metadata) — the weights of one
    year of an unbalanced panel.
    ``transform`` (``r``, ``b``, ``v``, ``o``): applied after reading; None
    keeps what the file holds (GAL: binary).  A GWT file cannot list units
    without neighbours, so pass ``ids`` to keep them (as islands).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".parquet":
        from geo._io import check_input_path
        from libpysal.graph import read_parquet

        check_input_path(p)
        try:
            g = read_parquet(str(p))
        except Exception as exc:  # pyarrow/libpysal raise many kinds for a foreign parquet
            raise InputError(f"{p}: not a weights parquet written by libpysal/geo: {exc}") from None
        # use the labelled adjacency: the Graph read from parquet keeps the file's level order,
        # so its .sparse need not follow unique_ids
        adj = g.adjacency
        focal = [str(i) for i in g.unique_ids]
        heads = np.asarray([str(i) for i in adj.index.get_level_values("focal")], dtype=object)
        tails = np.asarray([str(i) for i in adj.index.get_level_values("neighbor")], dtype=object)
        weights = adj.to_numpy(dtype=float)
        real = (weights != 0) | (heads != tails)
        heads, tails, weights = heads[real], tails[real], weights[real]
        file_transform = str(g.transformation).lower()
    elif suffix == ".gal":
        focal, heads, tails, weights = _read_gal(p)
        file_transform = "b"
    elif suffix == ".gwt":
        focal, heads, tails, weights = _read_gwt(p)
        file_transform = "o"
    else:
        raise InputError(f"{p}: unknown weights format {suffix!r}; use .gal, .gwt or .parquet")
    focal_idx = pd.Index(focal)
    if focal_idx.duplicated().any():
        raise InputError(f"{p}: id {focal_idx[focal_idx.duplicated()][0]!r} appears twice")
    if ids is not None:
        # sets built once: the reader is linear in the number of ids and links
        want = pd.Index([str(i) for i in ids])
        want_set = set(want)
        present = set(focal_idx)
        present.update(heads)
        present.update(tails)
        missing = [i for i in want if i not in present]
        extra = sorted(i for i in present if i not in want_set)
        if missing:
            raise InputError(
                f"{p}: {len(missing)} of the {len(want)} table ids are not in the weights file (e.g. {missing[:5]}; "
                f"the file has e.g. {sorted(present)[:5]}); {_ROW_NUMBER_HINT}"
            )
        if extra and not restrict:
            raise InputError(
                f"{p}: the weights file has {len(extra)} ids that are not in the table (e.g. {extra[:5]}); "
                f"{_ROW_NUMBER_HINT}"
            )
        order = want
        if extra:
            keep_links = np.isin(np.asarray(heads, dtype=object), want.to_numpy()) & np.isin(
                np.asarray(tails, dtype=object), want.to_numpy())
            heads = np.asarray(heads, dtype=object)[keep_links]
            tails = np.asarray(tails, dtype=object)[keep_links]
            weights = np.asarray(weights, dtype=float)[keep_links]
    else:
        order = focal_idx
    h = order.get_indexer(pd.Index(heads, dtype=object))
    t = order.get_indexer(pd.Index(tails, dtype=object))
    if (h < 0).any() or (t < 0).any():
        bad = np.asarray(heads, dtype=object)[h < 0].tolist() + np.asarray(tails, dtype=object)[t < 0].tolist()
        raise InputError(f"{p}: neighbour {bad[0]!r} is not listed as a unit")
    w = np.asarray(weights, dtype=float)
    if not np.all(np.isfinite(w)):
        raise InputError(f"{p}: weights contain NaN or infinite values")
    g = _graph_from_positions(order, h, t, w)
    g = type(g)(g.adjacency, transformation=file_transform.upper(), is_sorted=True)
    if transform is not None:
        g = _transform(g, transform)
    card = np.diff(g.sparse.tocsr().indptr)
    meta = WeightsInfo(
        spec=str(p),
        kind="file",
        transform=str(g.transformation).lower(),
        islands_policy="keep",
        islands=tuple(str(order[i]) for i in np.flatnonzero(card == 0)),
    )
    return _with_info(g, meta)
