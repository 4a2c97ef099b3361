"""Benchmark: 100 million points into the 337 prefectures, streaming, against geopandas.sjoin, DuckDB and Dask.

Plain script, not a test.  Every measurement runs in its own subprocess (``nice``-able from outside), so its wall
time, CPU time and peak resident memory are its own.  Usage::

    nice -n 10 python benchmarks/bench_points_scale.py                      # 100 M points, everything
    nice -n 10 python benchmarks/bench_points_scale.py --points 2000000 --sjoin-sizes 1000000   # quick run
    python benchmarks/bench_points_scale.py --only geo,duckdb               # some engines only

Points: SYNTHETIC, seeded (``--seed``, default 0), generated in blocks of 5 M rows with one
``numpy.random.default_rng`` stream per block (``SeedSequence(seed).spawn``), so the file is the same on any
machine: 75% scattered around the 337 prefecture centroids (normal, sd 0.3 degrees), 25% uniform over the
prefectures' bounding box (73.5-134.8 E, 18.2-53.6 N, so many fall in the sea or abroad, in no unit); one value
column ``v`` ~ U(0, 1) to sum.  Written as Parquet with 1 M-row row groups under ``--workdir`` (default
``/tmp/geo_points_scale``, never in the repository; ~2.4 GB at 100 M points, kept for reruns).

Engines (all read the same Parquet file):
- geo: ``geo.points.aggregate_points`` (local engine: one row group at a time, lookup grid + exact tests near
  edges), on 10 M points and on all points, to show that memory does not grow with N.
- geopandas.sjoin (predicate="intersects", then a groupby) on the first 1 M and 5 M points; its time at 100 M is
  EXTRAPOLATED linearly from those (it does not fit in this machine's memory at 100 M: 3.8 GB at 10 M).
- DuckDB with its spatial extension: ``ST_Contains(unit, ST_Point(lon, lat))`` joined over ``read_parquet``,
  counts and sums grouped by unit; DuckDB's own threads (2 here); on the first 10 M points (``--duckdb-size``), its
  time at 100 M EXTRAPOLATED linearly (at ~9 s CPU per million points it would hold the shared machine ~15 min).  The extension is loaded from the PyPI package
  ``duckdb-extension-spatial`` (DuckDB's ``INSTALL spatial`` downloads from extensions.duckdb.org, which is not
  reachable here); the script records that error too.
- Dask: ``aggregate_points(engine="dask")`` on a ``distributed.LocalCluster`` of 1 and 2 worker processes (one
  thread each); speed-up per worker = time with 1 worker / time with n.

Also a micro-benchmark of three per-batch point-in-polygon methods on one 1 M-point batch (``locators``): geo's
lookup grid, an STRtree predicate query, and prepared polygons with ``contains_xy`` after STRtree candidates.

Results: ``benchmarks/results/points_scale.json`` and ``.md`` (with ``uptime`` before and after each run).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import bench_raster_points  # this folder (sys.path[0] when run as a script): the sjoin peer and the peak-memory reader

HERE = Path(__file__).resolve()
RESULTS = HERE.parent / "results"
BLOCK = 5_000_000
ROW_GROUP = 1_000_000


# ------------------------------------------------------------------------------------------ data


def make_points(path: Path, n: int, seed: int = 0) -> None:
    """The synthetic points (see the module doc), written block by block (memory bounded by one block)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import shapely

    from geo import boundaries

    units = boundaries.china()
    cents = boundaries.centroids(units)
    cx, cy = cents.x.to_numpy(), cents.y.to_numpy()
    xmin, ymin, xmax, ymax = shapely.total_bounds(units.geometry.values)
    tmp = path.with_suffix(".partial")
    blocks = (n + BLOCK - 1) // BLOCK
    streams = np.random.SeedSequence(seed).spawn(blocks)
    schema = pa.schema([("lon", pa.float64()), ("lat", pa.float64()), ("v", pa.float64())])
    with pq.ParquetWriter(tmp, schema) as writer:
        for b in range(blocks):
            rng = np.random.default_rng(streams[b])
            m = min(BLOCK, n - b * BLOCK)
            near = int(m * 0.75)
            pick = rng.integers(0, len(cx), near)
            lon = np.concatenate([cx[pick] + rng.normal(0, 0.3, near), rng.uniform(xmin, xmax, m - near)])
            lat = np.concatenate([cy[pick] + rng.normal(0, 0.3, near), rng.uniform(ymin, ymax, m - near)])
            order = rng.permutation(m)
            table = pa.table({"lon": lon[order], "lat": lat[order], "v": rng.random(m)}, schema=schema)
            writer.write_table(table, row_group_size=ROW_GROUP)
    tmp.replace(path)


def head_file(path: Path, n: int) -> Path:
    """The first n rows of the points file as their own Parquet file, copied row group by row group."""
    import pyarrow.parquet as pq

    out = path.with_name(f"{path.stem}_head{n}.parquet")
    if out.exists():
        return out
    pf = pq.ParquetFile(path)
    done = 0
    with pq.ParquetWriter(out.with_suffix(".partial"), pf.schema_arrow) as writer:
        for i in range(pf.num_row_groups):
            if done >= n:
                break
            t = pf.read_row_group(i)
            t = t.slice(0, min(len(t), n - done))
            writer.write_table(t, row_group_size=ROW_GROUP)
            done += len(t)
    out.with_suffix(".partial").replace(out)
    return out


# ------------------------------------------------------------------------------------------ runs (subprocess)


def _units():
    from geo import boundaries

    return boundaries.china()


def _run_geo(path, _arg):
    from geo import points

    units = _units()
    t = time.perf_counter()
    res = points.aggregate_points(path, units, sum_columns=["v"])
    dt = time.perf_counter() - t
    return dt, {"counts": res.table["count"].tolist(), "v_sum": res.table["v_sum"].tolist(),
                "outside": res.n_outside, "n": res.n_points, "chunks": res.n_chunks}


def _run_dask(path, workers):
    from geo import points

    units = _units()
    t = time.perf_counter()
    res = points.aggregate_points(path, units, sum_columns=["v"], engine="dask", n_workers=int(workers))
    dt = time.perf_counter() - t
    return dt, {"counts": res.table["count"].tolist(), "outside": res.n_outside, "n": res.n_points,
                "partitions": res.n_chunks}


def _run_sjoin(path, _arg):
    return bench_raster_points._run_sjoin(path, None)  # the same peer as the 10 M benchmark, on this file


def _duckdb_connect():
    """A DuckDB connection with the spatial extension: ``INSTALL spatial`` first (as its docs say), and if that
    cannot download, the extension file shipped by the PyPI package ``duckdb-extension-spatial``."""
    import duckdb

    con = duckdb.connect()
    note = {"duckdb": duckdb.__version__}
    try:
        con.sql("INSTALL spatial")
        con.sql("LOAD spatial")
        note["spatial_from"] = "INSTALL spatial"
        return con, note
    except duckdb.Error as exc:
        note["install_spatial_error"] = str(exc).splitlines()[0]
    import duckdb_extension_spatial

    ext = next(Path(duckdb_extension_spatial.__file__).parent.glob("extensions/*/spatial.duckdb_extension"))
    con.sql(f"LOAD '{ext}'")
    note["spatial_from"] = f"PyPI duckdb-extension-spatial ({ext.parent.name})"
    return con, note


def _run_duckdb(path, threads):
    import pandas as pd
    import shapely

    units = _units()
    con, note = _duckdb_connect()
    con.sql(f"SET threads = {int(threads)}")
    t = time.perf_counter()
    frame = pd.DataFrame({"adcode": units.index.astype(str), "wkb": shapely.to_wkb(units.geometry.values)})
    con.register("units_wkb", frame)
    con.sql("CREATE TABLE units AS SELECT adcode, ST_GeomFromWKB(wkb) AS geom FROM units_wkb")
    out = con.sql(
        f"SELECT u.adcode, count(*) AS n, sum(p.v) AS v_sum FROM read_parquet('{path}') p "
        "JOIN units u ON ST_Contains(u.geom, ST_Point(p.lon, p.lat)) GROUP BY u.adcode"
    ).df()
    total = con.sql(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0]
    dt = time.perf_counter() - t
    agg = out.set_index("adcode").reindex(units.index.astype(str), fill_value=0)
    note["plan_has_spatial_join"] = "SPATIAL_JOIN" in str(con.sql(
        f"EXPLAIN SELECT u.adcode FROM read_parquet('{path}') p JOIN units u "
        "ON ST_Contains(u.geom, ST_Point(p.lon, p.lat))").fetchall())
    return dt, {"counts": agg["n"].astype(int).tolist(), "outside": int(total - agg["n"].sum()), "n": int(total),
                **note}


def _run_locators(path, _arg):
    """Three per-batch point-in-polygon methods on one 1 M-point batch (the first row group)."""
    import pyarrow.parquet as pq
    import shapely

    from geo._points_locate import Locator

    units = _units()
    geoms = np.asarray(units.geometry.values, dtype=object)
    t = pq.ParquetFile(path).read_row_group(0)
    x, y = t["lon"].to_numpy(), t["lat"].to_numpy()
    out = {}
    s = time.perf_counter()
    loc = Locator(geoms)
    out["grid_build_s"] = time.perf_counter() - s
    s = time.perf_counter()
    pi, gi = loc.locate(x, y)
    out["grid_locate_s"] = time.perf_counter() - s
    ref = np.bincount(gi, minlength=len(geoms))
    tree = shapely.STRtree(geoms)
    s = time.perf_counter()
    pts = shapely.points(x, y)
    qp, qg = tree.query(pts, predicate="intersects")
    out["strtree_predicate_s"] = time.perf_counter() - s
    out["strtree_predicate_equal"] = bool(np.array_equal(np.bincount(qg[np.unique(qp, return_index=True)[1]],
                                                                    minlength=len(geoms)), ref))
    s = time.perf_counter()
    shapely.prepare(geoms)
    qp, qg = tree.query(shapely.points(x, y))
    keep = np.zeros(len(qp), dtype=bool)
    order = np.argsort(qg, kind="stable")
    qp, qg = qp[order], qg[order]
    starts = np.flatnonzero(np.r_[True, qg[1:] != qg[:-1]])
    for a, b in zip(starts, np.r_[starts[1:], len(qg)]):
        keep[a:b] = shapely.contains_xy(geoms[qg[a]], x[qp[a:b]], y[qp[a:b]])
    qp, qg = qp[keep], qg[keep]
    out["prepared_contains_xy_s"] = time.perf_counter() - s
    first = np.unique(qp, return_index=True)[1]
    out["prepared_contains_xy_equal"] = bool(np.array_equal(np.bincount(qg[first], minlength=len(geoms)), ref))
    out["n"] = len(x)
    dt = out["grid_build_s"] + out["grid_locate_s"]
    return dt, out


RUNS = {"geo": _run_geo, "dask": _run_dask, "sjoin": _run_sjoin, "duckdb": _run_duckdb, "locators": _run_locators}


def _child(argv):
    kind, path, arg = argv
    dt, out = RUNS[kind](path, arg)
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "seconds": dt, "peak_rss_mib": bench_raster_points._peak_rss_mib(),
        "cpu_s": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
        # largest peak of a finished child process (the Dask workers), in MiB
        "child_peak_rss_mib": kids.ru_maxrss / 1024, "out": out,
    }))


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run(kind, path, arg="-"):
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    before = _load()
    proc = subprocess.run([sys.executable, str(HERE), "--child", kind, str(path), str(arg)], capture_output=True,
                          text=True, env=env)
    after = _load()
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}",
                "load_before": before, "load_after": after}
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res.update(load_before=before, load_after=after)
    print(f"{kind} {arg} {Path(path).name}: {res['seconds']:.1f} s, {res['peak_rss_mib']:.0f} MiB, load {before} -> "
          f"{after}", file=sys.stderr)
    return res


# ------------------------------------------------------------------------------------------ main


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description="geo points at 100 M: streaming vs sjoin (extrapolated), DuckDB, Dask")
    ap.add_argument("--points", type=int, default=100_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--small", type=int, default=10_000_000, help="a smaller geo run (memory must not grow with N)")
    ap.add_argument("--sjoin-sizes", default="1000000,5000000")
    ap.add_argument("--dask-workers", default="1,2")
    ap.add_argument("--duckdb-threads", type=int, default=2)
    ap.add_argument("--duckdb-size", type=int, default=10_000_000,
                    help="points given to DuckDB (its time at --points is extrapolated linearly when smaller)")
    ap.add_argument("--only", default="locators,geo,sjoin,duckdb,dask")
    ap.add_argument("--workdir", default="/tmp/geo_points_scale")
    ap.add_argument("--out", default=str(RESULTS / "points_scale"), help="results stem (.json and .md)")
    args = ap.parse_args()
    only = set(args.only.split(","))
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"points_{args.points}_seed{args.seed}.parquet"
    report = {"machine": f"{os.cpu_count()} cores", "n_points": args.points, "seed": args.seed,
              "data": "SYNTHETIC (see benchmarks/bench_points_scale.py)", "load_start": _load()}
    if not path.exists():
        t = time.perf_counter()
        make_points(path, args.points, args.seed)
        report["generate_s"] = time.perf_counter() - t
        print(f"generated {args.points:,} points in {report['generate_s']:.0f} s", file=sys.stderr)
    report["file_mib"] = path.stat().st_size / 2**20
    prev = {}
    out_json = Path(args.out).with_suffix(".json")
    if out_json.exists():
        prev = json.loads(out_json.read_text())
        if prev.get("n_points") == args.points and prev.get("seed") == args.seed:
            report = {**prev, **{k: v for k, v in report.items() if k not in ("load_start",)}}
    if "locators" in only:
        report["locators"] = run("locators", path)
    if "geo" in only:
        small = head_file(path, args.small) if args.small < args.points else path
        report["geo_small"] = {**run("geo", small), "n": min(args.small, args.points)}
        report["geo_all"] = run("geo", path)
    if "sjoin" in only:
        for n in [int(s) for s in args.sjoin_sizes.split(",") if s]:
            sub = head_file(path, n)
            report[f"sjoin_{n}"] = run("sjoin", sub)
            report[f"geo_{n}"] = run("geo", sub)
    if "duckdb" in only:
        nd = min(args.duckdb_size, args.points)
        report["duckdb"] = {**run("duckdb", head_file(path, nd) if nd < args.points else path, args.duckdb_threads),
                            "n": nd}
    if "dask" in only:
        for w in [int(s) for s in args.dask_workers.split(",") if s]:
            report[f"dask_{w}"] = run("dask", path, w)
    report["load_end"] = _load()
    _summarise(report, args)
    counts_note(report)
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(report) + "\n")  # per-unit counts kept: later partial reruns compare with them
    out_json.with_suffix(".md").write_text(markdown(report))


def markdown(report) -> str:
    """The runs as a table (wall, CPU of the process and its children, peak memory, load) and the summary."""
    n = report["n_points"]
    lines = [f"# Points into prefectures at {n:,} points (SYNTHETIC, seed {report['seed']})", "",
             "Written by `benchmarks/bench_points_scale.py`; load = /proc/loadavg (1, 5, 15 min) before -> after each "
             "run, on a machine with " + report["machine"] + ".", "",
             "| run | points | wall (s) | CPU (s) | peak RSS (MiB) | load before -> after |",
             "| --- | ---: | ---: | ---: | ---: | --- |"]
    for key, v in report.items():
        if not isinstance(v, dict) or "seconds" not in v:
            continue
        npts = v.get("n") or v.get("out", {}).get("n") or ""
        npts = f"{npts:,}" if isinstance(npts, int) else npts
        rss = f"{v['peak_rss_mib']:.0f}" + (f" (largest worker {v['child_peak_rss_mib']:.0f})"
                                            if key.startswith("dask_") else "")
        lines.append(f"| {key} | {npts} | {v['seconds']:.1f} | {v['cpu_s']:.1f} | {rss} | "
                     f"{v['load_before']} -> {v['load_after']} |")
    lines += ["", "```json", json.dumps(report.get("summary", {}), indent=1), "```", ""]
    if "locators" in report and "out" in report["locators"]:
        lines += ["Per-batch point-in-polygon methods on one 1 M-point batch (wall s):", "", "```json",
                  json.dumps(report["locators"]["out"], indent=1), "```", ""]
    return "\n".join(lines)
    print(json.dumps(report.get("summary", {}), indent=1))


def _summarise(report, args):
    s = {}
    ga = report.get("geo_all", {})
    if "seconds" in ga:
        s["geo_all_s"], s["geo_all_rss_mib"] = ga["seconds"], ga["peak_rss_mib"]
        s["geo_points_per_s"] = args.points / ga["seconds"]
    gs = report.get("geo_small", {})
    if "seconds" in gs:
        s["geo_small_n"], s["geo_small_s"], s["geo_small_rss_mib"] = gs["n"], gs["seconds"], gs["peak_rss_mib"]
    sizes = sorted(int(k.split("_")[1]) for k in report if k.startswith("sjoin_") and "seconds" in report[k])
    if sizes:
        ts = [report[f"sjoin_{n}"]["seconds"] for n in sizes]
        s["sjoin_measured"] = {str(n): {"s": t, "rss_mib": report[f"sjoin_{n}"]["peak_rss_mib"],
                                        "geo_s": report.get(f"geo_{n}", {}).get("seconds")} for n, t in zip(sizes, ts)}
        big = sizes[-1]
        s["sjoin_extrapolated_s"] = ts[-1] * args.points / big  # linear in N from the largest measured size
        if len(sizes) > 1:  # slope between the two largest sizes (start-up cost removed)
            slope = (ts[-1] - ts[-2]) / (sizes[-1] - sizes[-2])
            s["sjoin_extrapolated_slope_s"] = ts[-1] + slope * (args.points - big)
        if "geo_all_s" in s:
            s["ratio_sjoin_extrapolated_over_geo"] = s["sjoin_extrapolated_s"] / s["geo_all_s"]
            # CPU seconds (the fair measure when the shared machine is loaded: wall time then depends on the load)
            s["sjoin_cpu_extrapolated_s"] = report[f"sjoin_{big}"]["cpu_s"] * args.points / big
            s["geo_all_cpu_s"] = ga["cpu_s"]
            s["ratio_cpu_sjoin_extrapolated_over_geo"] = s["sjoin_cpu_extrapolated_s"] / ga["cpu_s"]
    dd = report.get("duckdb", {})
    if "seconds" in dd:
        s["duckdb_n"], s["duckdb_s"], s["duckdb_rss_mib"] = dd["n"], dd["seconds"], dd["peak_rss_mib"]
        s["duckdb_cpu_s"] = dd["cpu_s"]
        s["duckdb_extrapolated_s"] = dd["seconds"] * args.points / dd["n"]  # linear in N (1.0 when not extrapolated)
        if "geo_all_s" in s:
            s["ratio_duckdb_extrapolated_over_geo"] = s["duckdb_extrapolated_s"] / s["geo_all_s"]
        if gs.get("n") == dd["n"] and "seconds" in gs:
            s["ratio_duckdb_over_geo_same_n"] = dd["seconds"] / gs["seconds"]
            s["ratio_cpu_duckdb_over_geo_same_n"] = dd["cpu_s"] / gs["cpu_s"]
    elif "error" in dd:
        s["duckdb_error"] = dd["error"]
    ws = sorted(int(k.split("_")[1]) for k in report if k.startswith("dask_") and "seconds" in report[k])
    if ws:
        t1 = report[f"dask_{ws[0]}"]["seconds"] * ws[0]  # time with one worker (ws[0] is 1 in the default run)
        s["dask"] = {str(w): {"s": report[f"dask_{w}"]["seconds"], "speedup": t1 / report[f"dask_{w}"]["seconds"],
                              "speedup_per_worker": t1 / report[f"dask_{w}"]["seconds"] / w,
                              "cpu_s": report[f"dask_{w}"]["cpu_s"],
                              "client_rss_mib": report[f"dask_{w}"]["peak_rss_mib"],
                              "largest_worker_rss_mib": report[f"dask_{w}"]["child_peak_rss_mib"],
                              "load": f"{report[f'dask_{w}']['load_before']} -> {report[f'dask_{w}']['load_after']}"}
                     for w in ws}
    report["summary"] = s


def counts_note(report):
    """Equality of the per-unit counts between engines (same input file)."""
    checks = {}
    ga = report.get("geo_all", {}).get("out", {})
    gs = report.get("geo_small", {})
    dd = report.get("duckdb", {})
    if "counts" in dd.get("out", {}) and "counts" in gs.get("out", {}) and gs.get("n") == dd.get("n"):
        diff = np.abs(np.asarray(dd["out"]["counts"]) - np.asarray(gs["out"]["counts"]))
        checks["duckdb_vs_geo_same_n"] = {"identical": bool(diff.sum() == 0), "units_differing": int((diff > 0).sum()),
                                          "points_differing": int(diff.sum()),
                                          "outside_equal": dd["out"].get("outside") == gs["out"].get("outside")}
    for key in [k for k in report if k.startswith("dask_")]:
        o = report[key].get("out", {})
        if "counts" in o and "counts" in ga:
            diff = np.abs(np.asarray(o["counts"]) - np.asarray(ga["counts"]))
            checks[f"{key}_vs_geo_all"] = {"identical": bool(diff.sum() == 0), "units_differing": int((diff > 0).sum()),
                                           "points_differing": int(diff.sum()),
                                           "outside_equal": o.get("outside") == ga.get("outside")}
    for key in [k for k in report if k.startswith("sjoin_")]:
        n = key.split("_")[1]
        a, b = report[key].get("out", {}), report.get(f"geo_{n}", {}).get("out", {})
        if "counts" in a and "counts" in b:
            checks[f"{key}_vs_geo_{n}"] = {"identical": a["counts"] == b["counts"] and a["outside"] == b["outside"]}
    if checks:
        report.setdefault("summary", {})["agreement"] = checks


if __name__ == "__main__":
    main()
