"""geo's weights type: unit ids, one CSR sparse array in their order, the transformation, how it was built.

Why a type of geo's own rather than :class:`libpysal.graph.Graph`: the metadata
(spec, islands policy and what it did, distances) must travel with the weights
(attaching it to libpysal's object from outside lost it after any operation),
every module needs the same thing (a square float CSR array and the ids of its
rows), and importing libpysal costs about a second of every command's start.
libpysal stays one call away: :meth:`Weights.to_libpysal` (and ``to_W``,
``to_parquet``) for interoperability, and :func:`to_csr` accepts a libpysal
Graph or W as well.

:func:`to_csr` is THE conversion of anything weights-like to a sparse array
(``scipy.sparse.csr_array``, float64, square, finite, no stored zeros, sorted
indices); :func:`ids_of` gives the row ids when the object carries them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import scipy.sparse as sp

from geo.errors import InputError, OptionError

__all__ = ["Weights", "to_csr", "ids_of", "str_ids"]

_TRANSFORMS = ("O", "B", "R", "V")


def str_ids(ids) -> pd.Index:
    """Unit ids as an object-dtype Index of ``str`` (vectorised: iterating pandas' Arrow-backed strings one
    by one costs ~2 µs per id, seconds at N = 100,000)."""
    idx = ids if isinstance(ids, pd.Index) else pd.Index(list(ids) if not hasattr(ids, "__array__") else ids)
    return pd.Index(np.asarray(idx.astype(str), dtype=object), dtype=object)


def to_csr(weights, *, error=InputError) -> sp.csr_array:
    """The weights as a square float64 ``scipy.sparse.csr_array`` with no stored zeros and sorted indices.

    Accepts a :class:`Weights`, a libpysal Graph or W (anything with ``.sparse``),
    a scipy sparse matrix/array or a dense 2-D array.  ``error`` is the exception
    class raised for a non-square matrix or NaN/inf weights (callers pass their
    module's own, e.g. ModelError).  Returns a new array (the input is never modified).
    """
    if isinstance(weights, Weights):
        W = weights._W
    elif hasattr(weights, "sparse") and not sp.issparse(weights):
        W = weights.sparse
    else:
        W = weights
    if sp.issparse(W):
        M = sp.csr_array(W, dtype=float, copy=True)
    else:
        arr = np.asarray(W, dtype=float)
        if arr.ndim != 2:
            raise error(f"weights must be a square matrix, got an array of shape {arr.shape}")
        M = sp.csr_array(arr)
    if M.shape[0] != M.shape[1]:
        raise error(f"weights must be a square matrix, got shape {M.shape}")
    if not np.all(np.isfinite(M.data)):
        raise error("weights contain NaN or infinite values")
    M.sum_duplicates()
    M.eliminate_zeros()
    M.sort_indices()
    return M


def ids_of(weights) -> pd.Index | None:
    """The unit id of each row (a :class:`Weights`, libpysal Graph or W), or None for a bare matrix."""
    if hasattr(weights, "unique_ids"):
        return pd.Index(list(weights.unique_ids))
    if hasattr(weights, "id_order"):  # legacy libpysal W
        return pd.Index(list(weights.id_order))
    return None


class Weights:
    """Spatial weights: ``unique_ids`` (the unit of each row), ``sparse`` (CSR array), ``transformation``,
    and ``info`` (a :class:`geo.weights.WeightsInfo`: spec, islands policy, links added, …).

    Immutable: :meth:`transform`, :meth:`with_info` return new objects.  Units
    without neighbours have an empty row (no stored zero).  Built by
    :func:`geo.weights.build` / :func:`geo.weights.read`; ``Weights(ids=…, sparse=…)``
    wraps a matrix, and ``Weights(adjacency, transformation)`` takes libpysal's
    adjacency form (a ``weight`` Series on a ``(focal, neighbor)`` MultiIndex).
    """

    __slots__ = ("_ids", "_W", "_transformation", "_info")

    def __init__(self, adjacency=None, transformation: str = "O", is_sorted: bool = False, *, ids=None,
                 sparse=None, info=None):
        if adjacency is not None:
            if ids is not None or sparse is not None:
                raise OptionError("give either adjacency or ids and sparse, not both")
            ids, sparse = _from_adjacency(adjacency)
        if ids is None or sparse is None:
            raise OptionError("Weights needs ids and a sparse matrix (or libpysal's adjacency Series)")
        t = str(transformation).upper()
        if t not in _TRANSFORMS:
            raise OptionError(f"transformation={transformation!r} is not one of {', '.join(_TRANSFORMS)}")
        W = to_csr(sparse)
        idx = str_ids(ids)
        if len(idx) != W.shape[0]:
            raise InputError(f"{len(idx)} ids for a {W.shape[0]} x {W.shape[0]} weights matrix")
        if idx.has_duplicates:
            raise InputError(f"weights ids are not unique, e.g. {idx[idx.duplicated()][0]!r}")
        self._ids = idx
        self._W = W
        self._transformation = t
        self._info = info

    # ------------------------------------------------------------------ the contract
    @property
    def unique_ids(self) -> pd.Index:
        """Unit ids (str) in row order."""
        return self._ids

    @property
    def sparse(self) -> sp.csr_array:
        """A copy of the weights as a CSR array in the order of :attr:`unique_ids`."""
        return self._W.copy()

    @property
    def transformation(self) -> str:
        """``"O"`` as built, ``"B"`` binary, ``"R"`` row-standardised, ``"V"`` variance-stabilising."""
        return self._transformation

    @property
    def info(self):
        """How the weights were built (:class:`geo.weights.WeightsInfo`), or None for a wrapped matrix."""
        return self._info

    @property
    def n(self) -> int:
        return int(self._W.shape[0])

    @property
    def cardinalities(self) -> pd.Series:
        """Number of neighbours of each unit."""
        return pd.Series(np.diff(self._W.indptr), index=self._ids, name="cardinalities")

    @property
    def isolates(self) -> pd.Index:
        """Units without neighbours."""
        return self._ids[np.diff(self._W.indptr) == 0]

    @property
    def n_components(self) -> int:
        return int(sp.csgraph.connected_components(self._W, directed=True, connection="weak")[0])

    @property
    def adjacency(self) -> pd.Series:
        """libpysal's form: a ``weight`` Series on a (focal, neighbor) MultiIndex, isolates as 0-weight self loops."""
        W = sp.coo_array(self._W)
        heads, tails, w = W.row.astype(np.int64), W.col.astype(np.int64), W.data
        iso = np.flatnonzero(np.diff(self._W.indptr) == 0)
        heads = np.concatenate([heads, iso])
        tails = np.concatenate([tails, iso])
        w = np.concatenate([w, np.zeros(len(iso))])
        order = np.lexsort((tails, heads))
        index = pd.MultiIndex(levels=[self._ids, self._ids], codes=[heads[order], tails[order]],
                              names=["focal", "neighbor"], verify_integrity=False)
        return pd.Series(w[order], index=index, name="weight")

    # ------------------------------------------------------------------ new objects
    def with_info(self, info) -> "Weights":
        return Weights(ids=self._ids, sparse=self._W, transformation=self._transformation, info=info)

    def transform(self, transformation: str) -> "Weights":
        """A new Weights transformed as libpysal's ``Graph.transform`` does (from the current weights):
        ``R`` rows sum to 1, ``B`` every link weighs 1, ``V`` variance-stabilising (rows scaled to unit
        norm, then all by n / their total), ``O`` unchanged."""
        t = str(transformation).upper()
        if t not in _TRANSFORMS:
            raise OptionError(f"transform={transformation!r} is not one of 'r', 'b', 'v', 'o'")
        if t in ("O", self._transformation):
            return self
        W = self._W.copy()
        rows = np.repeat(np.arange(self.n), np.diff(W.indptr))
        if t == "B":
            W.data[:] = 1.0
        elif t == "R":
            W.data = W.data / np.bincount(rows, weights=W.data, minlength=self.n)[rows]
        else:  # V
            norm = np.sqrt(np.bincount(rows, weights=W.data**2, minlength=self.n))
            s = W.data / norm[rows]
            W.data = s * (self.n / s.sum()) if s.size else s
        info = self._info
        if info is not None and dataclasses.is_dataclass(info) and hasattr(info, "transform"):
            info = dataclasses.replace(info, transform=t.lower())
        return Weights(ids=self._ids, sparse=W, transformation=t, info=info)

    def lag(self, y) -> np.ndarray:
        """Spatial lag W y of values in the order of :attr:`unique_ids`."""
        return self._W @ np.asarray(y, dtype=float)

    # ------------------------------------------------------------------ libpysal interoperability
    def to_libpysal(self):
        """The same weights as a :class:`libpysal.graph.Graph` (same ids, order and transformation)."""
        from libpysal.graph import Graph

        return Graph(self.adjacency, transformation=self._transformation, is_sorted=True)

    def to_W(self):
        """The same weights as a legacy :class:`libpysal.weights.W`."""
        return self.to_libpysal().to_W()

    def to_parquet(self, path) -> None:
        """libpysal's parquet format (read back by :func:`geo.weights.read` or ``libpysal.graph.read_parquet``)."""
        self.to_libpysal().to_parquet(path)

    def __getattr__(self, name):
        # any other libpysal Graph method or property (higher_order, lag, explore, …) through a libpysal
        # copy, so code written for libpysal's Graph keeps working; the result is libpysal's object
        if name.startswith("_"):
            raise AttributeError(name)
        from libpysal.graph import Graph

        if not hasattr(Graph, name):
            raise AttributeError(f"'Weights' object has no attribute {name!r}")
        return getattr(self.to_libpysal(), name)

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        spec = getattr(self._info, "spec", None)
        return (f"<geo Weights n={self.n} links={self._W.nnz} transformation={self._transformation!r}"
                + (f" spec={spec!r}" if spec else "") + ">")


def _from_adjacency(adjacency):
    """(ids, csr) from libpysal's adjacency Series; ids in the order they first appear as focal."""
    if not isinstance(adjacency, pd.Series) or not isinstance(adjacency.index, pd.MultiIndex):
        raise InputError("adjacency must be a weight Series on a (focal, neighbor) MultiIndex")
    focal = adjacency.index.get_level_values(0)
    neighbor = adjacency.index.get_level_values(1)
    ids = pd.Index(pd.unique(np.asarray(focal, dtype=object)))
    h = ids.get_indexer(focal)
    t = ids.get_indexer(neighbor)
    if (t < 0).any():
        bad = neighbor[t < 0][0]
        raise InputError(f"neighbour {bad!r} is not listed as a focal unit")
    w = adjacency.to_numpy(dtype=float)
    if not np.all(np.isfinite(w)):
        raise InputError("weights contain NaN or infinite values")
    n = len(ids)
    return ids, sp.csr_array((w, (h, t)), shape=(n, n))
