"""Benchmark: weights and spatial autocorrelation, geo vs libpysal/esda (numba) in the same run.

Run:  .venv/bin/python benchmarks/bench_autocorr.py [--quick]

Cases: queen lattices with N = 1,000, 10,000 and 100,000 units (the same
sparse matrix is given to both libraries) and the embedded prefecture
boundaries (N = 337, queen, islands linked).  For each: global Moran's I with
999 permutations and LISA with 999 conditional permutations.  esda runs with
its defaults (``n_jobs=1``) and with ``n_jobs=2`` (joblib processes); geo
runs its numba kernels (numba's threads over the machine's cores).  The
script checks that Ii agree exactly (esda's (n−1)/n convention) and that the
pseudo p-values agree in distribution, and prints a Markdown table with
ratios = esda time / geo time (> 1: geo is faster).  Numba compilation is
done in a warm-up run before timing.  Weights construction is timed too
(queen on a 10,000-cell polygon grid and on the embedded boundaries; knn:6
on 100,000 points).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")


def _timed(fn, repeat=1):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def lattice(nrows, ncols):
    from libpysal.graph import Graph
    from libpysal.weights import lat2W

    w = lat2W(nrows, ncols, rook=False)
    w.transform = "r"
    ids = [f"c{i:07d}" for i in range(w.n)]
    g = Graph.from_sparse(w.sparse.tocsr(), ids=ids).transform("R")
    return w, g, ids


def _pcheck(p_geo, p_esda, perms=999):
    p = np.clip((p_geo + p_esda) / 2, 1 / (perms + 1), 0.5)
    sd = np.sqrt(2 * p * (1 - p) / (perms + 1))
    outside = float(np.mean(np.abs(p_geo - p_esda) > 4 * sd + 2 / (perms + 1)))
    return float(np.mean(p_geo)), float(np.mean(p_esda)), outside


def bench_stats(name, w, g, ids, y, repeat, rows):
    import esda

    from geo import autocorr as ac

    df = pd.DataFrame({"y": y}, index=ids)
    tg, m = _timed(lambda: ac.moran(df, "y", weights=g, permutations=999, seed=1), repeat)
    te, em = _timed(lambda: esda.Moran(y, w, permutations=999), repeat)
    assert abs(m.I - em.I) <= 1e-10 * abs(em.I) + 1e-14
    rows.append({"case": name, "n": len(y), "statistic": "global Moran, 999 perm", "geo_s": tg, "esda_s": te,
                 "esda2_s": None, "check": f"I equal; p_sim {m.p_sim:.3f} vs {em.p_sim:.3f}"})
    tg, lm = _timed(lambda: ac.local_moran(df, "y", weights=g, permutations=999, seed=1, convention="esda"), repeat)
    te, el = _timed(lambda: esda.Moran_Local(y, w, permutations=999, seed=1, n_jobs=1, keep_simulations=False),
                    repeat)
    te2, el2 = _timed(lambda: esda.Moran_Local(y, w, permutations=999, seed=1, n_jobs=2, keep_simulations=False),
                      repeat)
    dI = float(np.max(np.abs(lm.frame["Ii"].to_numpy() - el.Is)))
    mg, me, outside = _pcheck(lm.frame["p_sim"].to_numpy(), el.p_sim)
    rows.append({"case": name, "n": len(y), "statistic": "LISA, 999 perm", "geo_s": tg, "esda_s": te, "esda2_s": te2,
                 "check": f"max|ΔIi| {dI:.1e}; mean p_sim {mg:.4f} vs {me:.4f}; "
                          f"{100 * outside:.2f}% of units beyond 4 sd"})


def bench_weights(rows, quick):
    import geopandas as gpd
    import shapely
    from libpysal.graph import Graph

    from geo import boundaries
    from geo import weights as gw

    china = boundaries.china()
    # warm-up of both libraries (imports, first-call caches) outside the timings
    small = china.iloc[:50]
    gw.build("queen", small)
    gw.build("knn:6", small)
    Graph.build_contiguity(small, rook=False, strict=False).transform("R")
    Graph.build_knn(np.column_stack([small.centroid.x, small.centroid.y]), k=6).transform("R")
    tg, _ = _timed(lambda: gw.build("queen", china), 3)
    tl, _ = _timed(lambda: Graph.build_contiguity(china, rook=False, strict=False).transform("R"), 3)
    rows.append({"case": "China prefectures", "n": len(china), "statistic": "weights: queen (+island links)",
                 "geo_s": tg, "esda_s": tl, "esda2_s": None, "check": "libpysal Graph.build_contiguity"})
    side = 50 if quick else 100
    xs, ys = np.meshgrid(np.arange(side), np.arange(side))
    grid = gpd.GeoDataFrame(
        geometry=shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + 1, ys.ravel() + 1),
        index=[f"g{i}" for i in range(side * side)], crs="EPSG:3857",
    )
    tg, _ = _timed(lambda: gw.build("queen", grid), 3)
    tl, _ = _timed(lambda: Graph.build_contiguity(grid, rook=False, strict=False).transform("R"), 3)
    rows.append({"case": "polygon grid", "n": len(grid), "statistic": "weights: queen",
                 "geo_s": tg, "esda_s": tl, "esda2_s": None, "check": "libpysal Graph.build_contiguity"})
    n = 10_000 if quick else 100_000
    rng = np.random.default_rng(0)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(rng.uniform(73, 135, n), rng.uniform(18, 53, n)),
                           index=[f"p{i}" for i in range(n)], crs="EPSG:4326")
    tg, _ = _timed(lambda: gw.build("knn:6", pts), 1)
    coords = np.column_stack([pts.geometry.x, pts.geometry.y])
    tl, _ = _timed(lambda: Graph.build_knn(coords, k=6).transform("R"), 1)
    rows.append({"case": "random points", "n": n, "statistic": "weights: knn:6",
                 "geo_s": tg, "esda_s": tl, "esda2_s": None,
                 "check": "geo: geodesic on WGS-84; libpysal: planar lon/lat (not the same neighbours)"})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="N up to 10,000 only")
    args = ap.parse_args(argv)
    import esda
    import libpysal
    import numba

    from geo import autocorr as ac
    from geo import boundaries
    from geo import weights as gw

    t0 = time.perf_counter()
    rows: list[dict] = []
    # warm-up: compile numba for both libraries outside the timings
    w, g, ids = lattice(10, 10)
    y = np.random.default_rng(0).normal(size=100)
    ac.local_moran(pd.DataFrame({"y": y}, index=ids), "y", weights=g, permutations=9, seed=1)
    ac.moran(pd.DataFrame({"y": y}, index=ids), "y", weights=g, permutations=9, seed=1)
    esda.Moran_Local(y, w, permutations=9, seed=1, keep_simulations=False)

    china = boundaries.china()
    gc = gw.build("queen", china)
    wc = gc.to_W()
    area = np.log(boundaries.to_metric(china).area.to_numpy() / 1e6)
    bench_stats("China prefectures (queen)", wc, gc, list(gc.unique_ids), area, 5, rows)
    shapes = [(25, 40), (100, 100)] + ([] if args.quick else [(250, 400)])
    for nr, nc in shapes:
        w, g, ids = lattice(nr, nc)
        y = np.random.default_rng(nr).normal(size=w.n)
        # a smooth trend plus noise so some units are significant
        y = y + np.repeat(np.sin(np.arange(nr) / 8.0), nc)
        bench_stats(f"queen lattice {nr}x{nc}", w, g, ids, y, 3 if w.n <= 10_000 else 1, rows)
    bench_weights(rows, args.quick)

    print(f"\nMachine: {os.cpu_count()} cores; numba {numba.__version__} ({numba.config.NUMBA_NUM_THREADS} threads), "
          f"esda {esda.__version__}, libpysal {libpysal.__version__}, numpy {np.__version__}, "
          f"python {sys.version.split()[0]}; total run {time.perf_counter() - t0:.0f} s\n")
    print("| case | N | task | geo (s) | peer (s) | ratio | esda n_jobs=2 (s) | ratio | check |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        e2 = "" if r["esda2_s"] is None else f"{r['esda2_s']:.3f}"
        ratio2 = "" if r["esda2_s"] is None else f"{r['esda2_s'] / r['geo_s']:.1f}"
        print(f"| {r['case']} | {r['n']:,} | {r['statistic']} | {r['geo_s']:.3f} | {r['esda_s']:.3f} | "
              f"{r['esda_s'] / r['geo_s']:.1f} | {e2} | {ratio2} | {r['check']} |")


if __name__ == "__main__":
    main()
