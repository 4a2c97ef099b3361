"""One conversion of weights to a sparse array (geo._graph.to_csr) behind every module that takes weights."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely

from geo import weights as gw
from geo.autocorr._common import _prepare_weights
from geo.durbin import _weights_matrix_and_ids
from geo.durbin import panel as P
from geo.durbin.logdet import as_sparse_weights
from geo.errors import ModelError, OptionError

GEO = Path(__file__).resolve().parents[1] / "geo"


def _grid(nrows=3, ncols=4):
    cells = [(r, c) for r in range(nrows) for c in range(ncols)]
    geoms = [shapely.box(c, r, c + 1, r + 1) for r, c in cells]
    ids = [f"u{r}{c}" for r, c in cells]
    order = np.random.default_rng(3).permutation(len(ids))  # ids not in sorted order
    return gpd.GeoDataFrame({"y": np.arange(len(ids), dtype=float)}, geometry=[geoms[i] for i in order],
                            index=pd.Index([ids[i] for i in order], name="id"), crs="EPSG:4326")


@pytest.fixture(scope="module")
def graph():
    return gw.build("rook", _grid())


def _same(a, b):
    assert isinstance(a, sp.csr_array)
    assert a.shape == b.shape
    assert (abs(a - sp.csr_array(b)) > 0).nnz == 0


def test_cross_section_converter_takes_every_form_and_gives_the_same_array(graph):
    ref = graph.sparse
    for form in (graph, graph.to_libpysal(), graph.to_W()):
        W, ids = _weights_matrix_and_ids(form)
        _same(W, ref)
        assert list(map(str, ids)) == list(graph.unique_ids)
    for bare in (sp.csr_matrix(ref), ref.toarray()):
        W, ids = _weights_matrix_and_ids(bare)
        _same(W, ref)
        assert ids is None
    with pytest.raises(ModelError, match="weights must be"):
        _weights_matrix_and_ids([[0, 1], [1, 0]])
    with pytest.raises(ModelError, match="square"):
        _weights_matrix_and_ids(sp.csr_matrix(np.ones((2, 3))))


def test_panel_converter_keeps_its_rules(graph):
    ref = graph.sparse
    W, ids = P._weights_and_ids(graph, None)
    _same(W, ref)
    assert list(ids) == list(graph.unique_ids)
    W2, ids2 = P._weights_and_ids(graph.to_libpysal(), None)
    _same(W2, ref)
    assert list(ids2) == list(ids)
    with pytest.raises(OptionError, match="weight_ids"):
        P._weights_and_ids(sp.csr_matrix(ref), None)
    with pytest.raises(OptionError, match="only for a sparse matrix"):
        P._weights_and_ids(graph, list(graph.unique_ids))
    W3, ids3 = P._weights_and_ids(sp.csr_matrix(ref), list(graph.unique_ids))
    _same(W3, ref)
    bad = ref.toarray()
    bad[0, 1] = np.nan
    with pytest.raises(ModelError, match="NaN"):
        P._weights_and_ids(bad, list(graph.unique_ids))


def test_logdet_and_autocorr_use_the_same_array(graph):
    ref = graph.sparse
    _same(as_sparse_weights(graph), ref)
    prep = _prepare_weights(_grid(), graph)
    _same(prep.W, ref)
    assert list(prep.ids) == list(graph.unique_ids)
    with_zero = sp.csr_array(ref.copy())
    with_zero.data[0] = 0.0  # a stored zero is dropped by the conversion
    out = as_sparse_weights(with_zero)
    assert out.nnz == ref.nnz - 1 and not np.any(out.data == 0)


def test_no_csr_matrix_left_in_the_modules_that_take_weights():
    # one sparse type (csr_array) in the weights, autocorrelation and model code
    files = [*(GEO / "weights").glob("*.py"), *(GEO / "autocorr").glob("*.py"), *(GEO / "durbin").glob("*.py"),
             GEO / "_graph.py"]
    offenders = [f"{f.name}:{i}" for f in files for i, line in enumerate(f.read_text().splitlines(), 1)
                 if re.search(r"\bcsr_matrix\b|\bsp\.diags\(|\bsp\.identity\(", line)]
    assert offenders == []
