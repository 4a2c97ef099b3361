"""End-to-end benchmark: the command line as a user runs it, against the peers, from cold processes.

Run:  .venv/bin/python benchmarks/e2e.py [--reps 3] [--only lisa,sdm,did,cold] [--sdm-1m] [--out FILE.md]
(the peers: Rscript with sf, spdep, spatialreg; `pip install diff-diff` for the band-DID race)

Every measured run is a fresh process started by this script (``geo …`` through the
installed console script, ``Rscript …``, ``python peer.py …``); geo and its peer
alternate (interleaved) and the table reports the median wall time of ``--reps``
runs, the median CPU time (user + sys of the child: on a shared machine the wall
time also holds the waiting for a core), the peak memory (max RSS, from
``getrusage``), and the ratio peer / geo of the wall times (> 1: geo is faster).
The machine (CPU, cores) and its load (``uptime`` before and after) are printed
with the table.

Races (inputs are SYNTHETIC, generated here with a fixed seed and written to a
temporary folder; nothing is downloaded):

* ``lisa``: a 317 x 317 grid of square polygons (100,489 cells) in a GeoPackage with
  a spatially trended variable ``y``; ``geo moran --local --weights rook
  --permutations 999 --json`` (global and local Moran, per-unit JSON on stdout,
  redirected to a file) vs a Python script doing the same with geopandas +
  libpysal (``Graph.build_contiguity(rook=True)``, row-standardised) + esda
  (``Moran`` and ``Moran_Local``, 999 permutations) and writing the per-unit
  table as JSON.  Also ``--out FILE.parquet`` (the per-unit table) for geo.
* ``sdm``: a 100 x 100 grid (N = 10,000) in a GeoPackage with y simulated from an
  SDM (rho = 0.4); ``geo sdm --weights rook`` (ML, impacts with 1,000 draws) vs
  ``Rscript``: ``sf::st_read`` of the same file, ``spdep::poly2nb(queen = FALSE)``,
  ``spatialreg::lagsarlm(Durbin = TRUE, method = "LU")``, ``trW(type = "MC")``,
  ``impacts(R = 1000)``.
* ``did``: the demo panel (337 prefectures x 24 years, SYNTHETIC) with the
  state-level new zones; ``geo radiation --bands 100,200,300`` vs a Python script
  running diff-diff's ``SpilloverDiD(rings=[0, 100, 200, 300])`` on the same panel
  with each unit's centroid and first treatment year (prepared once by geo and
  written to CSV, not timed).  Both from a cold process; the estimators differ
  (TWFE band dummies vs Butts–Gardner two-stage), the race is the user's wait.
* ``cold``: ``geo --help``, ``geo moran``, ``geo map choropleth``, ``geo sdm``
  (panel, 337 x 24) and ``geo radiation`` on the embedded prefectures and the demo
  panel, with R's ``library(spdep)`` and Python's ``import esda, libpysal`` as
  reference start-ups.
* ``--sdm-1m``: ``geo sdm`` (cross-section, rook, impacts) on a 1000 x 1000 grid
  (N = 1,000,000) in a GeoParquet file; one run, time and peak memory.

The embedded boundaries are read from geo's per-user cache (built before timing,
as after a user's first command).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
GEO = str(BIN / "geo")
PY = sys.executable
DEMO = ROOT / "layers" / "demo_panel_synthetic.csv"


# --------------------------------------------------------------------------- running


def run(cmd, *, stdout=None, env=None, timeout=3600):
    """(wall s, cpu s, max rss MB) of one fresh process; raises on failure."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with open(stdout or os.devnull, "wb") as out:
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE, env=env, timeout=timeout)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))[:200]} failed: {proc.stderr.decode()[-800:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss / 1024.0  # ru_maxrss of children: the largest so far (KB on Linux)


def race(label, geo_cmd, peer_cmd, reps, *, geo_out=None, peer_out=None, peer_name="peer"):
    """Interleaved geo / peer runs; returns a row dict with medians."""
    g, p = [], []
    for _ in range(reps):
        g.append(run(geo_cmd, stdout=geo_out))
        if peer_cmd is not None:
            p.append(run(peer_cmd, stdout=peer_out))
    row = {"job": label, "geo_wall": statistics.median(x[0] for x in g),
           "geo_cpu": statistics.median(x[1] for x in g), "peer": peer_name}
    if p:
        row["peer_wall"] = statistics.median(x[0] for x in p)
        row["peer_cpu"] = statistics.median(x[1] for x in p)
        row["ratio"] = row["peer_wall"] / row["geo_wall"]
    print(json.dumps(row), flush=True)
    return row


# --------------------------------------------------------------------------- inputs (SYNTHETIC)


def grid_file(path: Path, side: int, *, sdm: bool, seed: int = 0):
    """A side x side grid of unit squares with SYNTHETIC variables, written to ``path``."""
    import geopandas as gpd
    import pandas as pd
    import scipy.sparse as sp
    import shapely

    rng = np.random.default_rng(seed)
    r, c = np.divmod(np.arange(side * side), side)
    geoms = shapely.box(c, r, c + 1, r + 1)
    ids = np.char.add("g", np.arange(side * side).astype(str))
    frame = {"id": ids}
    if sdm:
        idx = np.arange(side * side).reshape(side, side)
        a = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
        b = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
        n = side * side
        C = sp.csr_array((np.ones(2 * len(a)), (np.r_[a, b], np.r_[b, a])), shape=(n, n))
        W = sp.diags_array(1.0 / C.sum(axis=1)) @ C
        X = rng.normal(size=(n, 2))
        mu = 1.0 + X @ [1.0, -0.5] + (W @ X) @ [0.5, 0.3]
        e = mu + rng.normal(size=n)
        y = e.copy()
        for _ in range(80):  # y = (I - 0.4 W)^-1 e by fixed-point iteration (||0.4 W||_inf = 0.4: error 0.4^80)
            y = e + 0.4 * (W @ y)
        frame.update(y=y, x1=X[:, 0], x2=X[:, 1])
    else:
        trend = np.sin(r / side * 6.0) + np.cos(c / side * 4.0)
        frame["y"] = trend + rng.normal(scale=0.8, size=side * side)
    gdf = gpd.GeoDataFrame(pd.DataFrame(frame), geometry=geoms, crs="EPSG:3857")
    if path.suffix == ".gpkg":
        gdf.to_file(path, driver="GPKG", engine="pyogrio", layer="grid")
    else:
        gdf.to_parquet(path)
    return path


PEER_LISA = r"""
import sys, warnings
warnings.filterwarnings("ignore")
import geopandas as gpd, numpy as np, pandas as pd
import esda
from libpysal.graph import Graph
gdf = gpd.read_file(sys.argv[1], engine="pyogrio")
gdf.index = gdf["id"]
g = Graph.build_contiguity(gdf, rook=True).transform("R")
y = gdf["y"].to_numpy()
w = g.to_W()
np.random.seed(1)
mi = esda.Moran(y, w, permutations=999)
lm = esda.Moran_Local(y, w, permutations=999, seed=1)
out = pd.DataFrame({"id": gdf.index, "Ii": lm.Is, "z": lm.z_sim, "p_sim": lm.p_sim, "quadrant": lm.q})
sys.stdout.write('{"I": %r, "p_sim": %r, "local": ' % (float(mi.I), float(mi.p_sim)))
sys.stdout.write(out.to_json(orient="records"))
sys.stdout.write("}\n")
"""

R_SDM = r"""
suppressPackageStartupMessages({library(sf); library(spdep); library(spatialreg)})
args <- commandArgs(trailingOnly = TRUE)
d <- st_read(args[1], quiet = TRUE)
nb <- poly2nb(d, queen = FALSE)
lw <- nb2listw(nb, style = "W")
f <- lagsarlm(y ~ x1 + x2, data = st_drop_geometry(d), listw = lw, Durbin = TRUE, method = "LU")
tr <- trW(as(lw, "CsparseMatrix"), type = "MC")
set.seed(1)
im <- summary(impacts(f, tr = tr, R = 1000), zstats = TRUE)
cat(sprintf('{"rho": %.10f}\n', f$rho))
"""

PEER_DID = r"""
import sys, warnings
warnings.filterwarnings("ignore")
import pandas as pd
from diff_diff import SpilloverDiD
d = pd.read_csv(sys.argv[1])
m = SpilloverDiD(rings=[0.0, 100.0, 200.0, 300.0], conley_coords=("lat", "lon"), cluster="adcode")
r = m.fit(d, outcome="y", unit="adcode", time="year", first_treat="first_treat")
print(r.spillover_effects.to_json() if hasattr(r, "spillover_effects") else "{}")
"""


def did_panel(path: Path):
    """The demo panel with each unit's centroid and first treatment year (first new zone hosted)."""
    import pandas as pd

    from geo import boundaries, zones

    units = boundaries.china()
    cents = boundaries.centroids(units)
    z = zones.registry("new-zone")
    panel = pd.read_csv(DEMO, dtype={"adcode": str})
    host_col = next(c for c in ("host_adcode", "adcode", "host") if c in z.columns)
    year_col = next(c for c in ("approval_year", "year", "approved") if c in z.columns)
    years = pd.to_numeric(z[year_col].astype(str).str[:4], errors="coerce")
    first = pd.Series(years.values, index=z[host_col].astype(str).values).groupby(level=0).min()
    panel = panel[panel["adcode"].isin(units.index)]
    out = pd.DataFrame({
        "adcode": panel["adcode"], "year": panel["year"], "y": panel["log_gdp_pc_synthetic"],
        "lat": panel["adcode"].map(pd.Series(cents.y.values, index=units.index)),
        "lon": panel["adcode"].map(pd.Series(cents.x.values, index=units.index)),
        "first_treat": panel["adcode"].map(first).fillna(0).astype(int),
    })
    out.to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------- main


def machine():
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def uptime():
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "uptime not available"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", default="cold,lisa,sdm,did")
    ap.add_argument("--sdm-1m", action="store_true")
    ap.add_argument("--lisa-side", type=int, default=317)
    ap.add_argument("--out", default=None, help="also append the Markdown table to this file")
    args = ap.parse_args()
    only = set(args.only.split(","))
    rows = []
    load_before = uptime()
    tmp = Path(tempfile.mkdtemp(prefix="geo-e2e-"))
    try:
        run([GEO, "boundaries", "--out", str(tmp / "warm.gpkg")])  # builds the per-user boundary cache once
        if "cold" in only:
            D = str(DEMO)
            rows.append(race("`geo --help`", [GEO, "--help"], None, args.reps))
            rows.append(race("`geo moran` (337 prefectures, 999 perms)",
                             [GEO, "moran", "--data", D, "--var", "log_gdp_pc_synthetic", "--year", "2023",
                              "--seed", "1"],
                             ["Rscript", "-e", "suppressPackageStartupMessages(library(spdep))"], args.reps,
                             peer_name="R `library(spdep)` alone"))
            rows.append(race("`geo map choropleth` (337 units, jenks)",
                             [GEO, "map", "choropleth", "--data", D, "--var", "gdp_pc_synthetic", "--year", "2023",
                              "--scheme", "jenks", "--out", str(tmp / "map.html")],
                             [PY, "-c", "import esda, libpysal"], args.reps,
                             peer_name="Python `import esda, libpysal` alone"))
            rows.append(race("`geo sdm` panel 337 x 24, two-way FE, impacts",
                             [GEO, "sdm", "--data", D, "--y", "log_gdp_pc_synthetic", "--x",
                              "invest_share_synthetic", "--x", "log_pop_density_synthetic", "--time", "year",
                              "--effects", "twoways", "--seed", "1"], None, args.reps))
            rows.append(race("`geo radiation` (bands 100/200/300 km)",
                             [GEO, "radiation", "--data", D, "--y", "log_gdp_pc_synthetic", "--zone-kind",
                              "new-zone", "--bands", "100,200,300"], None, args.reps))
        if "lisa" in only:
            f = grid_file(tmp / "grid_lisa.gpkg", args.lisa_side, sdm=False)
            (tmp / "peer_lisa.py").write_text(PEER_LISA)
            n = args.lisa_side**2
            rows.append(race(f"LISA 999 perms, rook, N = {n:,} from a GeoPackage (JSON out)",
                             [GEO, "moran", "--data", str(f), "--id", "id", "--var", "y", "--weights", "rook",
                              "--local", "--permutations", "999", "--seed", "1", "--json"],
                             [PY, str(tmp / "peer_lisa.py"), str(f)], args.reps,
                             geo_out=tmp / "geo_lisa.json", peer_out=tmp / "peer_lisa.json",
                             peer_name="geopandas + libpysal + esda (Moran, Moran_Local)"))
            rows.append(race(f"same, per-unit table to Parquet (`--out`)",
                             [GEO, "moran", "--data", str(f), "--id", "id", "--var", "y", "--weights", "rook",
                              "--local", "--permutations", "999", "--seed", "1", "--out", str(tmp / "lisa.parquet")],
                             None, args.reps))
            g = json.loads((tmp / "geo_lisa.json").read_text())
            p = json.loads((tmp / "peer_lisa.json").read_text())
            print(json.dumps({"check": "lisa", "I_geo": g["I"], "I_esda": p["I"],
                              "Ii_max_rel_diff": float(np.max(np.abs(
                                  np.array([r["Ii"] for r in g["local"]]) * (n - 1) / n
                                  - np.array([r["Ii"] for r in p["local"]]))))}), flush=True)
        if "sdm" in only:
            f = grid_file(tmp / "grid_sdm.gpkg", 100, sdm=True)
            (tmp / "sdm.R").write_text(R_SDM)
            peer = ["Rscript", str(tmp / "sdm.R"), str(f)] if shutil.which("Rscript") else None
            rows.append(race("SDM + impacts (1,000 draws), rook, N = 10,000 from a GeoPackage",
                             [GEO, "sdm", "--data", str(f), "--id", "id", "--y", "y", "--x", "x1", "--x", "x2",
                              "--weights", "rook", "--seed", "1", "--json"],
                             peer, args.reps, geo_out=tmp / "geo_sdm.json", peer_out=tmp / "r_sdm.json",
                             peer_name="R sf + spdep poly2nb + spatialreg lagsarlm LU + trW MC + impacts"))
            g = json.loads((tmp / "geo_sdm.json").read_text())
            if peer:
                r = json.loads((tmp / "r_sdm.json").read_text())
                print(json.dumps({"check": "sdm", "rho_geo": g.get("rho"), "rho_R": r["rho"]}), flush=True)
        if "did" in only:
            f = did_panel(tmp / "did_panel.csv")
            (tmp / "peer_did.py").write_text(PEER_DID)
            rows.append(race("band-DID, cold process, demo panel 337 x 24",
                             [GEO, "radiation", "--data", str(DEMO), "--y", "log_gdp_pc_synthetic", "--zone-kind",
                              "new-zone", "--bands", "100,200,300"],
                             [PY, str(tmp / "peer_did.py"), str(f)], args.reps,
                             peer_name="diff-diff SpilloverDiD (rings 0/100/200/300 km)"))
        if args.sdm_1m:
            f = grid_file(tmp / "grid_1m.parquet", 1000, sdm=True)
            rows.append(race("SDM + impacts, rook, N = 1,000,000 from GeoParquet (1 run)",
                             [GEO, "sdm", "--data", str(f), "--id", "id", "--y", "y", "--x", "x1", "--x", "x2",
                              "--weights", "rook", "--seed", "1", "--json"], None, 1,
                             geo_out=tmp / "geo_sdm1m.json"))
            g = json.loads((tmp / "geo_sdm1m.json").read_text())
            print(json.dumps({"check": "sdm1m", "rho": g.get("rho"), "logdet": g.get("logdet_method"),
                              "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}),
                  flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = uptime()
    lines = [f"Machine: {machine()}", f"Load before: {load_before}", f"Load after: {load_after}",
             f"Median of {args.reps} fresh processes, geo and peer interleaved; CPU = user + sys of the process.", "",
             "| job, as a user runs it | geo wall (s) | geo CPU (s) | peer | peer wall (s) | peer CPU (s) | peer / geo |",
             "| --- | ---: | ---: | --- | ---: | ---: | ---: |"]
    for r in rows:
        pw = f"{r['peer_wall']:.2f}" if "peer_wall" in r else "–"
        pc = f"{r['peer_cpu']:.2f}" if "peer_cpu" in r else "–"
        ratio = f"{r['ratio']:.2f}×" if "ratio" in r else "–"
        peer = r["peer"] if "peer_wall" in r else "–"
        lines.append(f"| {r['job']} | {r['geo_wall']:.2f} | {r['geo_cpu']:.2f} | {peer} | {pw} | {pc} | {ratio} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as fh:
            fh.write(text + "\n\n")


if __name__ == "__main__":
    main()
