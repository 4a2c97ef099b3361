"""Benchmark: reading GAL/GWT weights files (issue 11), geo vs libpysal and vs geo before the fix, same run.

Run:  .venv/bin/python benchmarks/bench_weights_files.py [--sizes 1000,2000,4000,8000,25000] [--old-max 4000]

For each N: N random points, their 6 nearest neighbours (scipy cKDTree), written as a GAL and a GWT file
with text ids in shuffled order (FIPS-like).  Timed: ``geo.weights.read(path, ids=table_ids)`` (the path
of ``geo moran --weights FILE``: ids checked against the table and reordered), libpysal's
``libpysal.io.open(path).read()`` (the peer; it reads the file and does no id check), and the reader of
commit 19b8b47 (before the fix, taken from git; run once and only up to ``--old-max`` ids since it is
quadratic).  geo and libpysal: best of three runs.
Prints a Markdown table; ratios > 1 mean geo is faster.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")


def _old_reader(folder: Path):
    """geo.weights as of commit 19b8b47 (before the linear reader), or None outside a git checkout."""
    try:
        src = subprocess.run(["git", "show", "19b8b47:geo/weights.py"], capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parent).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = folder / "old_weights.py"
    path.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("old_weights", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["old_weights"] = mod  # dataclasses look their module up while the class is made
    spec.loader.exec_module(mod)
    return mod


def _files(folder: Path, n: int, rng):
    from scipy.spatial import cKDTree

    pts = rng.random((n, 2))
    _, nb = cKDTree(pts).query(pts, k=7)
    ids = np.array([f"{i:05d}" for i in rng.permutation(n)], dtype=object)
    gal = folder / f"knn6_{n}.gal"
    gwt = folder / f"knn6_{n}.gwt"
    lines = [f"0 {n} bench id"]
    wl = [f"0 {n} bench id"]
    for i in range(n):
        js = nb[i, 1:]
        lines.append(f"{ids[i]} 6")
        lines.append(" ".join(ids[j] for j in js))
        wl += [f"{ids[i]} {ids[j]} 1.0" for j in js]
    gal.write_text("\n".join(lines) + "\n")
    gwt.write_text("\n".join(wl) + "\n")
    return gal, gwt, list(rng.permutation(ids))


def _time(fn, repeat=3):
    """Best of ``repeat`` runs (the machine is shared; the minimum is the least disturbed run)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,2000,4000,8000,25000")
    ap.add_argument("--old-max", type=int, default=2000)
    args = ap.parse_args(argv)
    import libpysal

    from geo import weights as gw

    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        old = _old_reader(folder)
        for n in [int(s) for s in args.sizes.split(",")]:
            gal, gwt, ids = _files(folder, n, rng)
            for kind, path in (("GAL", gal), ("GWT", gwt)):
                t_geo = _time(lambda: gw.read(path, ids=ids))
                t_lps = _time(lambda: libpysal.io.open(str(path)).read())
                t_old = _time(lambda: old.read(path, ids=ids), repeat=1) if old is not None and n <= args.old_max else None
                rows.append((n, kind, t_geo, t_lps, t_old))
                print(f"N={n} {kind}: geo {t_geo:.3f}s libpysal {t_lps:.3f}s old "
                      f"{'-' if t_old is None else f'{t_old:.3f}s'}", file=sys.stderr)
    print("| N (kNN-6) | file | geo (s) | libpysal (s) | libpysal / geo | geo before (s) | before / now |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for n, kind, a, b, c in rows:
        before = "not run" if c is None else f"{c:.2f}"
        ratio = "–" if c is None else f"{c / a:.0f}x"
        print(f"| {n:,} | {kind} | {a:.3f} | {b:.3f} | {b / a:.1f} | {before} | {ratio} |")


if __name__ == "__main__":
    main()
