"""Benchmark: points into prefectures (geo vs geopandas.sjoin) and zonal statistics (geo vs rasterstats).

Plain script, not a test.  Every measurement runs in its own subprocess so that its wall time and peak
resident memory (ru_maxrss) are its own.  Usage::

    python benchmarks/bench_raster_points.py                       # 10M points, 10,000 x 10,000 raster
    python benchmarks/bench_raster_points.py --points 1000000 --raster-size 2000   # quick run
    python benchmarks/bench_raster_points.py --peer-points 10000000                # peer on all points

Points: synthetic, seeded; 75% scattered around prefecture centroids (sd 0.3 deg), 25% uniform over
73-135E 18-54N (many fall in the sea or abroad, exercising the "in no unit" path), with one value
column to sum.  Stored as Parquet; both sides read the same file.  The peer (geopandas.sjoin with
predicate="intersects", then a groupby) runs on the first ``--peer-points`` rows; geo runs on the
same subsample (equality of counts is checked) and on all points.

Raster: 10,000 x 10,000 float32 GeoTIFF over 73-135E 18-54N (smooth field + noise, 2% nodata).
geo centre rule (our label-strip engine) and rasterstats compute mean, sum, count, min, max, std;
geo coverage-weighted (exactextract) the same statistics with partial pixels.  Accuracy of the two
pixel rules: area of every prefecture from a raster of ones at 0.2 deg (like the shipped DEM)
against the polygon area.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()
STATS = ["mean", "sum", "count", "min", "max", "std"]


# ------------------------------------------------------------------------------------------ data


def make_points(path: Path, n: int, seed: int = 0) -> None:
    import pandas as pd

    from geo import boundaries

    rng = np.random.default_rng(seed)
    cents = boundaries.centroids(boundaries.china())
    cx, cy = cents.x.to_numpy(), cents.y.to_numpy()
    n_near = int(n * 0.75)
    pick = rng.integers(0, len(cx), n_near)
    lon = np.concatenate([cx[pick] + rng.normal(0, 0.3, n_near), rng.uniform(73, 135, n - n_near)])
    lat = np.concatenate([cy[pick] + rng.normal(0, 0.3, n_near), rng.uniform(18, 54, n - n_near)])
    order = rng.permutation(n)
    pd.DataFrame({"lon": lon[order], "lat": lat[order], "v": rng.random(n)}).to_parquet(path, row_group_size=1_000_000)


def make_raster(path: Path, size: int, seed: int = 0) -> None:
    import rasterio
    from rasterio.transform import from_bounds

    rng = np.random.default_rng(seed)
    profile = dict(driver="GTiff", height=size, width=size, count=1, dtype="float32", crs="EPSG:4326",
                   transform=from_bounds(73, 18, 135, 54, size, size), nodata=-9999.0, tiled=True,
                   blockxsize=512, blockysize=512)
    xs = np.linspace(0, 6 * np.pi, size)
    with rasterio.open(path, "w", **profile) as dst:
        step = 512
        for r in range(0, size, step):
            h = min(step, size - r)
            ys = np.linspace(r, r + h, h)[:, None] / size * 4 * np.pi
            block = (1000 + 500 * np.sin(xs)[None, :] * np.cos(ys) + rng.normal(0, 50, (h, size))).astype("float32")
            block[rng.random(block.shape) < 0.02] = -9999.0
            dst.write(block, 1, window=rasterio.windows.Window(0, r, size, h))


# ------------------------------------------------------------------------------------------ runs (subprocess)


def _subsample(path, n) -> Path:
    """The first n rows of the points file as their own Parquet file (made once, by the parent)."""
    import pyarrow.parquet as pq

    src = Path(path).with_name(f"sub_{n}.parquet")
    if not src.exists():
        pq.write_table(pq.read_table(path).slice(0, n), src, row_group_size=1_000_000)
    return src


def _run_geo_csv(path):
    from geo import boundaries, points

    units = boundaries.china()
    t = time.perf_counter()
    res = points.aggregate_points(path, units, sum_columns=["v"], chunksize=1_000_000)
    return time.perf_counter() - t, {"counts": res.table["count"].tolist(), "outside": res.n_outside, "n": res.n_points}


def _run_geo_points(path, n):
    from geo import boundaries, points

    units = boundaries.china()
    src = path if n is None else _subsample(path, n)
    t = time.perf_counter()
    res = points.aggregate_points(src, units, sum_columns=["v"], chunksize=1_000_000)
    dt = time.perf_counter() - t
    return dt, {"counts": res.table["count"].tolist(), "outside": res.n_outside, "n": res.n_points}


def _run_geo_dask(path):
    from geo import boundaries, points

    units = boundaries.china()
    t = time.perf_counter()
    res = points.aggregate_points(path, units, sum_columns=["v"], engine="dask", n_workers=2)
    dt = time.perf_counter() - t
    return dt, {"counts": res.table["count"].tolist(), "outside": res.n_outside, "n": res.n_points,
                "partitions": res.n_chunks}


def _run_sjoin(path, n):
    import geopandas as gpd
    import pyarrow.parquet as pq

    from geo import boundaries

    units = boundaries.china()
    src = path if n is None else _subsample(path, n)
    t = time.perf_counter()
    df = pq.read_table(src).to_pandas()
    g = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
    j = gpd.sjoin(g, units[["geometry"]], predicate="intersects", how="inner")
    j = j[~j.index.duplicated()]
    agg = j.groupby("adcode").agg(count=("v", "size"), v_sum=("v", "sum")).reindex(units.index, fill_value=0)
    dt = time.perf_counter() - t
    return dt, {"counts": agg["count"].tolist(), "outside": len(df) - len(j), "n": len(df)}


def _run_zonal(path, which):
    from geo import boundaries, raster

    units = boundaries.china()
    t = time.perf_counter()
    if which == "geo-centre":
        tab = raster.zonal_stats(path, units, stats=STATS).table
    elif which == "geo-coverage":
        tab = raster.zonal_stats(path, units, stats=[f"cov_{s}" for s in STATS]).table
        tab.columns = STATS
    else:
        import pandas as pd
        import rasterstats

        tab = pd.DataFrame(rasterstats.zonal_stats(list(units.geometry), str(path), stats=" ".join(STATS)),
                           index=units.index)
    dt = time.perf_counter() - t
    return dt, {s: [None if v is None or v != v else float(v) for v in tab[s]] for s in STATS}


def _peak_rss_mib() -> float:
    """Peak resident memory of this process (VmHWM; ru_maxrss would include the parent's peak at fork)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(argv):
    kind, path, arg = argv
    if kind == "geo-points":
        dt, out = _run_geo_points(path, None if arg == "all" else int(arg))
    elif kind == "geo-csv":
        dt, out = _run_geo_csv(path)
    elif kind == "geo-dask":
        dt, out = _run_geo_dask(path)
    elif kind == "sjoin":
        dt, out = _run_sjoin(path, None if arg == "all" else int(arg))
    else:
        dt, out = _run_zonal(path, arg)
    rss = _peak_rss_mib()
    print(json.dumps({"seconds": dt, "peak_rss_mib": rss, "out": out}))


def run(kind, path, arg):
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, str(HERE), "--child", kind, str(path), str(arg)], capture_output=True,
                          text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} {arg} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------ accuracy


def area_accuracy(tmp: Path) -> dict:
    """Prefecture areas from a 0.2-degree raster of ones: centre rule vs coverage weights vs the polygons."""
    import rasterio
    from rasterio.transform import from_origin

    from geo import boundaries, raster

    units = boundaries.china()
    path = tmp / "ones.tif"
    with rasterio.open(path, "w", driver="GTiff", height=300, width=350, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(70, 58, 0.2, 0.2)) as dst:
        dst.write(np.ones((1, 300, 350), dtype="float32"))
    tab = raster.zonal_stats(path, units, stats=["count", "cov_count"]).table
    # polygon area in pixel units, measured in the same lon/lat plane as the pixels
    true = np.asarray(__import__("shapely").area(units.geometry.values)) / 0.04
    err_c = np.abs(tab["count"].to_numpy() - true) / true
    err_w = np.abs(tab["cov_count"].to_numpy() - true) / true
    return {
        "centre_median_err": float(np.median(err_c)), "centre_max_err": float(err_c.max()),
        "centre_empty": int((tab["count"] == 0).sum()),
        "coverage_median_err": float(np.median(err_w)), "coverage_max_err": float(err_w.max()),
    }


# ------------------------------------------------------------------------------------------ main


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description="geo points/raster benchmark")
    ap.add_argument("--points", type=int, default=10_000_000)
    ap.add_argument("--peer-points", type=int, default=2_000_000, help="rows given to geopandas.sjoin")
    ap.add_argument("--raster-size", type=int, default=10_000)
    ap.add_argument("--skip-points", action="store_true")
    ap.add_argument("--csv", action="store_true", help="also time geo reading the same points from CSV")
    ap.add_argument("--dask", action="store_true", help="also time engine='dask' on a local 2-process cluster")
    ap.add_argument("--small", type=int, default=1_000_000, help="a smaller geo run, to show memory does not grow with N")
    ap.add_argument("--skip-raster", action="store_true")
    ap.add_argument("--workdir", default=None, help="folder for the generated inputs (default: a temp folder)")
    args = ap.parse_args()
    tmpctx = tempfile.TemporaryDirectory() if args.workdir is None else None
    tmp = Path(args.workdir or tmpctx.name)
    tmp.mkdir(parents=True, exist_ok=True)
    report = {"machine": f"{os.cpu_count()} cores"}
    if not args.skip_points:
        ppath = tmp / f"points_{args.points}.parquet"
        if not ppath.exists():
            t = time.perf_counter()
            make_points(ppath, args.points)
            print(f"generated {args.points:,} points in {time.perf_counter() - t:.1f}s", file=sys.stderr)
        npeer = min(args.peer_points, args.points)
        nsmall = min(args.small, args.points)
        for m in {npeer, nsmall} - {args.points}:
            _subsample(ppath, m)
        sub_arg = "all" if npeer == args.points else npeer
        peer = run("sjoin", ppath, sub_arg)
        geo_sub = run("geo-points", ppath, sub_arg)
        geo_all = run("geo-points", ppath, "all")
        geo_small = run("geo-points", ppath, nsmall)
        same = peer["out"]["counts"] == geo_sub["out"]["counts"] and peer["out"]["outside"] == geo_sub["out"]["outside"]
        report["points"] = {
            "n_points": args.points, "n_peer": npeer, "counts_identical_on_peer_sample": same,
            "sjoin_s": peer["seconds"], "sjoin_rss_mib": peer["peak_rss_mib"],
            "geo_sub_s": geo_sub["seconds"], "geo_sub_rss_mib": geo_sub["peak_rss_mib"],
            "geo_all_s": geo_all["seconds"], "geo_all_rss_mib": geo_all["peak_rss_mib"],
            "ratio_same_n": peer["seconds"] / geo_sub["seconds"],
            "sjoin_all_extrapolated_s": peer["seconds"] * args.points / npeer,
            "ratio_all_extrapolated": peer["seconds"] * args.points / npeer / geo_all["seconds"],
            "outside_share": geo_all["out"]["outside"] / geo_all["out"]["n"],
            "geo_small_n": nsmall, "geo_small_s": geo_small["seconds"],
            "geo_small_rss_mib": geo_small["peak_rss_mib"],
        }
        if args.csv:
            cpath = ppath.with_suffix(".csv")
            if not cpath.exists():
                import pyarrow.csv as pcsv
                import pyarrow.parquet as pq

                pcsv.write_csv(pq.read_table(ppath), cpath)
            gcsv = run("geo-csv", cpath, "all")
            report["points"].update({
                "geo_csv_s": gcsv["seconds"], "geo_csv_rss_mib": gcsv["peak_rss_mib"],
                "csv_equals_parquet": gcsv["out"]["counts"] == geo_all["out"]["counts"],
            })
        if args.dask:
            gd = run("geo-dask", ppath, "all")
            report["points"].update({
                "dask_local_2proc_s": gd["seconds"], "dask_partitions": gd["out"]["partitions"],
                "dask_client_rss_mib": gd["peak_rss_mib"],
                "dask_equals_local": gd["out"]["counts"] == geo_all["out"]["counts"],
            })
        print(json.dumps(report["points"], indent=1), file=sys.stderr)
    if not args.skip_raster:
        rpath = tmp / f"raster_{args.raster_size}.tif"
        if not rpath.exists():
            t = time.perf_counter()
            make_raster(rpath, args.raster_size)
            print(f"generated raster in {time.perf_counter() - t:.1f}s", file=sys.stderr)
        rs = run("zonal", rpath, "rasterstats")
        gc = run("zonal", rpath, "geo-centre")
        gw = run("zonal", rpath, "geo-coverage")
        diffs = {}
        for s in STATS:
            a = np.array([np.nan if v is None else v for v in gc["out"][s]], float)
            b = np.array([np.nan if v is None else v for v in rs["out"][s]], float)
            ok = np.isfinite(a) & np.isfinite(b)
            diffs[s] = float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1e-12))) if ok.any() else 0.0
        a = np.array(gc["out"]["mean"], float)
        w = np.array(gw["out"]["mean"], float)
        report["raster"] = {
            "size": args.raster_size,
            "rasterstats_s": rs["seconds"], "rasterstats_rss_mib": rs["peak_rss_mib"],
            "geo_centre_s": gc["seconds"], "geo_centre_rss_mib": gc["peak_rss_mib"],
            "exactextract_coverage_s": gw["seconds"], "exactextract_coverage_rss_mib": gw["peak_rss_mib"],
            "ratio_centre": rs["seconds"] / gc["seconds"], "ratio_coverage": rs["seconds"] / gw["seconds"],
            "max_rel_diff_centre_vs_rasterstats": diffs,
            "median_rel_diff_mean_coverage_vs_centre": float(np.nanmedian(np.abs(w - a) / np.abs(a))),
        }
        report["area_accuracy_0p2deg"] = area_accuracy(tmp)
        print(json.dumps({k: report[k] for k in ("raster", "area_accuracy_0p2deg")}, indent=1), file=sys.stderr)
    print(json.dumps(report, indent=1))
    if tmpctx is not None:
        tmpctx.cleanup()


if __name__ == "__main__":
    main()
