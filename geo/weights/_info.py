"""How weights were built (:class:`WeightsInfo`, inside every :class:`~geo._graph.Weights` made by
:func:`geo.weights.build` / :func:`geo.weights.read`), their summary (:func:`summarize`), and the last
steps shared by the builders and the file reader: a Weights from edge positions, the transformation,
the record put inside."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from geo._graph import Weights, str_ids
from geo.errors import OptionError
from geo.weights._spec import TRANSFORMS

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
