"""Weights files: ``.gal`` and ``.gwt`` (GeoDa, libpysal, spdep) in linear time, and libpysal's ``.parquet``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from geo._io import atomic_write, check_input_path, check_output_path
from geo.errors import InputError
from geo.weights._info import WeightsInfo, _graph_from_positions, _transform, _with_info
from geo.weights._spec import FILE_SUFFIXES

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
        from libpysal.graph import read_parquet  # lazy: libpysal costs ~1 s to import

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
