"""Benchmark: queen/rook contiguity from polygons, geo's vertex/edge hash vs libpysal's vertex-set method.

Run:  .venv/bin/python benchmarks/bench_contiguity.py [--side 317] [--reps 3]

A side x side grid of square polygons (ids shuffled) and the embedded 372-unit coverage; the same
geometries are given to both; the neighbour sets are checked equal; best of ``--reps`` (CPU time of
this process, and wall), ratio = libpysal / geo.
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from libpysal.graph import Graph

from geo import boundaries
from geo.weights import contiguity_pairs


def _best(fn, reps):
    best_w, best_c, out = float("inf"), float("inf"), None
    for _ in range(reps):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        best_w = min(best_w, time.perf_counter() - w0)
        best_c = min(best_c, time.process_time() - c0)
    return best_w, best_c, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--side", type=int, default=317)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    r, c = np.divmod(np.arange(a.side**2), a.side)
    order = np.random.default_rng(0).permutation(a.side**2)
    grid = gpd.GeoSeries(shapely.box(c, r, c + 1, r + 1)[order], index=pd.Index([f"g{i}" for i in order]))
    china = boundaries.china(scope="all").geometry
    print("| layout | N | kind | geo wall (s) | geo CPU (s) | libpysal wall (s) | libpysal CPU (s) | libpysal / geo (CPU) |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for name, gs in ((f"grid {a.side}x{a.side}, shuffled ids", grid), ("embedded coverage", china)):
        for rook in (False, True):
            gw_, gc_, (i, j) = _best(lambda: contiguity_pairs(gs.values, rook=rook), a.reps)
            lw_, lc_, g = _best(lambda: Graph.build_contiguity(gs, rook=rook, strict=False), a.reps)
            adj = g.adjacency
            keep = adj.to_numpy() != 0
            ref = set(zip(gs.index.get_indexer(adj.index.get_level_values(0)[keep]),
                          gs.index.get_indexer(adj.index.get_level_values(1)[keep])))
            assert ref == set(zip(i.tolist(), j.tolist())), "neighbour sets differ"
            print(f"| {name} | {len(gs):,} | {'rook' if rook else 'queen'} | {gw_:.3f} | {gc_:.3f} | {lw_:.3f} | "
                  f"{lc_:.3f} | {lc_ / gc_:.1f}× |", flush=True)


if __name__ == "__main__":
    main()
