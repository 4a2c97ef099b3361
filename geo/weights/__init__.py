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

Modules, in the order the data flows: ``_spec`` (spec strings, option values) →
``_build`` (edges from geometry, islands, higher orders, economic weights) or
``_files`` (GAL / GWT / parquet, read and written) → ``_info`` (a Weights from
edge positions, the transformation, the build record, :func:`summarize`).  The
weights type itself and THE conversion to a sparse array are in ``geo/_graph.py``.
"""


from __future__ import annotations

from geo._contiguity import contiguity_pairs
from geo._graph import Weights, ids_of, to_csr
from geo.weights._build import IDW_MAX_COMPLETE, build
from geo.weights._files import read, save
from geo.weights._info import WeightsInfo, WeightsSummary, info, summarize
from geo.weights._spec import (
    DEFAULT_ISLANDS,
    FILE_SUFFIXES,
    KERNELS,
    KINDS,
    METRICS,
    TRANSFORMS,
    Spec,
    is_file_spec,
    parse_spec,
)

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
    "is_file_spec",
    "METRICS",
    "FILE_SUFFIXES",
    "IDW_MAX_COMPLETE",
]
