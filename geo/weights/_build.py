"""Building weights from geometry: contiguity, nearest neighbours, distance bands, inverse distance,
kernels, economic weights; the islands policy on the first-order graph, then higher orders
(:func:`build`, documented in :mod:`geo.weights`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from geo import boundaries
from geo._contiguity import contiguity_pairs
from geo._graph import str_ids
from geo.errors import CRSError, GeometryError, InputError, OptionError, SchemaError, check_choice
from geo.weights._files import read
from geo.weights._info import WeightsInfo, _graph_from_positions, _transform, _with_info
from geo.weights._spec import DEFAULT_ISLANDS, METRICS, TRANSFORMS, Spec, _fmt_num, _parse_islands, parse_spec

#: complete inverse-distance graphs (no cutoff) are refused above this many units
IDW_MAX_COMPLETE = 4000


# --------------------------------------------------------------------------- geometry helpers


def _check_units(units):
    import geopandas as gpd  # lazy: geopandas costs ~0.5 s; only its class is needed here

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
            if i.size == 0:
                return np.zeros(0)
            km = boundaries.great_circle_km(self.lon[i], self.lat[i], self.lon[j], self.lat[j])
            return np.asarray(km, dtype=float)
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
