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
