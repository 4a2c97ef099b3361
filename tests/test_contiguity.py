"""Contiguity from polygons (geo.weights.contiguity_pairs) equals libpysal's vertex-set neighbour sets."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from libpysal.graph import Graph

from geo import weights as gw


def _sets_geo(gdf, rook):
    g = gw.build("rook" if rook else "queen", gdf, transform="b", islands="keep")
    W = g.sparse.tocsr()
    ids = list(map(str, g.unique_ids))
    return {ids[r]: {ids[c] for c, v in zip(W.indices[W.indptr[r]:W.indptr[r + 1]],
                                            W.data[W.indptr[r]:W.indptr[r + 1]]) if v != 0}
            for r in range(len(ids))}


def _sets_libpysal(gdf, rook):
    gs = gdf.geometry.copy()
    gs.index = [str(i) for i in gdf.index]
    g = Graph.build_contiguity(gs, rook=rook, strict=False)
    adj = g.adjacency
    out = {str(i): set() for i in gs.index}
    for (a, b), v in adj.items():
        if v != 0 and a != b:
            out[str(a)].add(str(b))
    return out


def _check(gdf):
    for rook in (False, True):
        assert _sets_geo(gdf, rook) == _sets_libpysal(gdf, rook), "rook" if rook else "queen"


def _layout(nrows, ncols, merges, holes, seed):
    """A grid coverage with some cells merged into multipolygon units (non-adjacent cells too) and
    some cells carrying an enclave (a hole filled by its own unit); ids shuffled."""
    rng = np.random.default_rng(seed)
    cells = {(r, c): shapely.box(c, r, c + 1, r + 1) for r in range(nrows) for c in range(ncols)}
    units = {}
    keys = list(cells)
    rng.shuffle(keys)
    used = set()
    for m in range(min(merges, len(keys) // 2)):
        a, b = keys[2 * m], keys[2 * m + 1]
        units[f"m{m}"] = shapely.MultiPolygon([cells[a], cells[b]]) if not cells[a].touches(cells[b]) \
            else shapely.union(cells[a], cells[b])
        used |= {a, b}
    rest = [k for k in keys if k not in used]
    for h, key in enumerate(rest[:holes]):
        r, c = key
        inner = shapely.box(c + 0.25, r + 0.25, c + 0.75, r + 0.75)
        units[f"h{h}"] = shapely.Polygon(cells[key].exterior.coords, [inner.exterior.coords])
        units[f"e{h}"] = inner
        used.add(key)
    for key in rest[holes:]:
        units[f"c{key[0]}_{key[1]}"] = cells[key]
    ids = list(units)
    rng.shuffle(ids)
    return gpd.GeoDataFrame(geometry=[units[i] for i in ids], index=pd.Index(ids, name="id"), crs="EPSG:3857")


@settings(max_examples=40, deadline=None)
@given(
    nrows=st.integers(1, 7),
    ncols=st.integers(2, 7),
    merges=st.integers(0, 4),
    holes=st.integers(0, 3),
    seed=st.integers(0, 10_000),
)
def test_equal_to_libpysal_on_generated_coverages(nrows, ncols, merges, holes, seed):
    gdf = _layout(nrows, ncols, merges, holes, seed)
    if len(gdf) < 2:
        return
    _check(gdf)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(3, 60), seed=st.integers(0, 10_000))
def test_equal_to_libpysal_on_voronoi_coverages(n, seed):
    # irregular cells with many three-way vertices and some exactly four-way ones (a near-grid)
    rng = np.random.default_rng(seed)
    pts = rng.uniform(-5, 5, size=(n, 2)).round(1)
    pts = np.unique(pts, axis=0)
    if len(pts) < 3:
        return
    cells = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=shapely.box(-6, -6, 6, 6))
    parts = shapely.get_parts(cells)
    gdf = gpd.GeoDataFrame(geometry=parts, index=pd.Index([f"v{i}" for i in rng.permutation(len(parts))]))
    _check(gdf)


def test_signed_zero_is_one_vertex():
    a = shapely.Polygon([(-1, 0.0), (0.0, 0.0), (0.0, 1), (-1, 1)])
    b = shapely.Polygon([(-0.0, -0.0), (1, -0.0), (1, 1), (-0.0, 1)])
    gdf = gpd.GeoDataFrame(geometry=[a, b], index=pd.Index(["a", "b"]))
    assert _sets_geo(gdf, False) == {"a": {"b"}, "b": {"a"}}
    assert _sets_geo(gdf, True) == {"a": {"b"}, "b": {"a"}}
    _check(gdf)


def test_corner_only_is_queen_not_rook():
    a, b = shapely.box(0, 0, 1, 1), shapely.box(1, 1, 2, 2)
    pairs_q = gw.contiguity_pairs(np.array([a, b]), rook=False)
    pairs_r = gw.contiguity_pairs(np.array([a, b]), rook=True)
    assert [list(x) for x in pairs_q] == [[0, 1], [1, 0]]
    assert [len(x) for x in pairs_r] == [0, 0]


def test_equal_to_libpysal_on_the_embedded_coverage(china_all):
    _check(china_all)


@pytest.mark.slow
def test_equal_to_libpysal_on_a_large_grid():
    n = 120
    cells = [shapely.box(c, r, c + 1, r + 1) for r in range(n) for c in range(n)]
    order = np.random.default_rng(3).permutation(len(cells))
    gdf = gpd.GeoDataFrame(geometry=[cells[i] for i in order], index=pd.Index([f"g{i}" for i in order]))
    _check(gdf)
