"""geo's weights type: metadata inside, one sparse conversion, islands policy before higher orders."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import weights as gw


def grid(nrows, ncols, size=1.0):
    cells = [(r, c) for r in range(nrows) for c in range(ncols)]
    geoms = [shapely.box(c * size, r * size, (c + 1) * size, (r + 1) * size) for r, c in cells]
    return gpd.GeoDataFrame(geometry=geoms, index=pd.Index([f"r{r}c{c}" for r, c in cells], name="id"),
                            crs="EPSG:4326")


def nbrs(graph, uid):
    W = graph.sparse.tocsr()
    ids = list(map(str, graph.unique_ids))
    r = ids.index(uid)
    lo, hi = W.indptr[r], W.indptr[r + 1]
    return {ids[j] for j, v in zip(W.indices[lo:hi], W.data[lo:hi]) if v != 0}


def test_order2_on_3x3_does_not_link_the_centre_to_a_first_order_neighbour():
    units = grid(3, 3, size=0.1)
    g = gw.build("queen:order2", units, transform="b")  # default islands="link"
    # every other cell is a first-order queen neighbour of the centre: it has no order-2 neighbour
    assert nbrs(g, "r1c1") == set()
    first = nbrs(gw.build("queen", units, transform="b"), "r1c1")
    for uid in units.index:
        assert not (nbrs(g, uid) & nbrs(gw.build("queen", units, transform="b"), uid)), uid
    assert len(first) == 8
    meta = gw.info(g)
    assert meta.islands == ()  # the first-order graph has no island
    assert meta.linked == ()
    s = gw.summarize(g)
    assert s.isolates == ("r1c1",)  # stated: no neighbour of order 2
    # a corner's order-2 neighbours on the 3 x 3 queen grid: none either (all cells within one step
    # of the centre, and the centre neighbours everyone) -> rook shows the real structure
    r2 = gw.build("rook:order2", units, transform="b")
    assert nbrs(r2, "r0c0") == {"r0c2", "r1c1", "r2c0"}
    assert nbrs(r2, "r1c1") == {"r0c0", "r0c2", "r2c0", "r2c2"}


def test_islands_are_linked_on_first_order_before_higher_orders():
    units = grid(2, 2, size=0.1)
    far = gpd.GeoDataFrame(geometry=[shapely.box(1.0, 0.0, 1.1, 0.1)], index=pd.Index(["far"], name="id"),
                           crs="EPSG:4326")
    units = pd.concat([units, far])
    g1 = gw.build("queen", units, transform="b")
    (a, b, km), = gw.info(g1).linked
    assert a == "far" and b in ("r0c1", "r1c1")
    g2 = gw.build("queen:upto2", units, transform="b")
    # through its first-order link, "far" reaches every grid cell within two steps
    assert nbrs(g2, "far") == {"r0c0", "r0c1", "r1c0", "r1c1"}
    assert gw.info(g2).linked == gw.info(g1).linked


def _pts(n=30, seed=0):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 3, size=(n, 2))
    ids = [f"p{i}" for i in rng.permutation(n)]
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), index=pd.Index(ids, name="id"),
                            crs="EPSG:4326")


@pytest.mark.parametrize("t", ["R", "B", "V"])
def test_transformations_equal_libpysal(t):
    from libpysal.graph import Graph

    # inverse-distance weights within a cutoff, with units left without neighbours (kept)
    g = gw.build("idw:2:60km", _pts(), transform="o", islands="keep")
    assert len(g.isolates) > 0
    ref = Graph(g.adjacency, transformation="O", is_sorted=True).transform(t)
    mine = g.transform(t)
    assert list(ref.unique_ids) == list(mine.unique_ids)
    diff = abs(sp_float(ref.sparse) - mine.sparse)
    assert diff.max() <= 1e-14 * max(1.0, abs(mine.sparse).max())
    assert mine.transformation == t


def sp_float(M):
    import scipy.sparse as sp

    return sp.csr_array(M, dtype=float)


def test_metadata_lives_inside_and_survives_transform():
    units = grid(3, 3, size=0.1)
    g = gw.build("queen", units, transform="b")
    assert isinstance(g, gw.Weights) and g.info.spec == "queen" and g.info.transform == "b"
    r = g.transform("r")
    assert r.info.spec == "queen" and r.info.transform == "r" and gw.info(r).islands_policy == "link:1"
    assert g.info.transform == "b"  # the original is not changed
    assert gw.summarize(r).transform == "r"
    with pytest.raises(AttributeError):
        g.info = None  # no attribute setting from outside


def test_one_conversion_to_csr():
    import scipy.sparse as sp

    from geo.errors import ModelError

    units = grid(2, 3, size=0.1)
    g = gw.build("rook", units)
    M = gw.to_csr(g)
    assert isinstance(M, sp.csr_array) and M.dtype == np.float64 and M.has_sorted_indices
    for other in (g.to_libpysal(), g.to_W(), sp.csr_matrix(M), M.toarray()):
        assert (abs(gw.to_csr(other) - M) > 0).nnz == 0
    assert list(gw.ids_of(g)) == list(units.index) and gw.ids_of(M) is None
    with_zero = sp.csr_array((np.array([0.0, 1.0]), (np.array([0, 1]), np.array([1, 0]))), shape=(2, 2))
    assert gw.to_csr(with_zero).nnz == 1  # stored zeros dropped
    with pytest.raises(ModelError, match="square"):
        gw.to_csr(np.ones((2, 3)), error=ModelError)
    with pytest.raises(ModelError, match="NaN"):
        gw.to_csr(np.array([[0.0, np.nan], [1.0, 0.0]]), error=ModelError)


def test_libpysal_round_trip_and_files(tmp_path):
    units = grid(3, 3, size=0.1)
    g = gw.build("queen", units)
    lg = g.to_libpysal()
    assert list(lg.unique_ids) == list(g.unique_ids) and lg.transformation == "R"
    back = gw.Weights(lg.adjacency, transformation=lg.transformation)
    assert (abs(back.sparse - g.sparse) > 0).nnz == 0
    # libpysal methods are reachable (returning libpysal's objects)
    assert lg.n_edges == g.n_edges
    for suffix in (".parquet", ".gal", ".gwt"):
        p = gw.save(g, tmp_path / f"w{suffix}")
        r = gw.read(p, ids=units.index)
        assert list(r.unique_ids) == list(units.index)
        B = lambda M: (abs(M) > 0).astype(int)  # noqa: E731
        assert (B(r.sparse) != B(g.sparse)).nnz == 0


def test_units_without_neighbours_have_empty_rows():
    units = grid(1, 2, size=0.1)
    far = gpd.GeoDataFrame(geometry=[shapely.box(5, 5, 5.1, 5.1)], index=pd.Index(["far"], name="id"),
                           crs="EPSG:4326")
    g = gw.build("queen", pd.concat([units, far]), islands="keep")
    W = g.sparse
    assert W.nnz == 2 and list(g.isolates) == ["far"]
    adj = g.adjacency  # libpysal's convention: isolates as 0-weight self loops
    assert adj.loc[("far", "far")] == 0.0
