"""Cold starts before and after (interleaved): another checkout's ``geo`` vs this one, fresh processes.

Run:  .venv/bin/python benchmarks/e2e_before_after.py /path/to/other/.venv/bin/geo [--reps 3] [--only map]

``before`` is a command line (split like a shell would), e.g. ``"env PYTHONPATH=/tmp/base .venv/bin/python -m
geo"`` to run an exported older tree (``git archive COMMIT | tar -x -C /tmp/base``) with this virtualenv.
Median wall and CPU (user + sys) time of ``geo --help``, ``geo moran`` (337 prefectures, demo panel, 999
permutations), ``geo sdm`` (panel 337 x 24, two-way FE, impacts) and ``geo map choropleth`` (quantiles, the
default, and jenks), the two ``geo`` alternating; ``--only`` keeps the jobs whose name contains the word.
"""

from __future__ import annotations

import argparse
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

D = str(Path(__file__).resolve().parents[1] / "layers" / "demo_panel_synthetic.csv")
JOBS = {
    "geo --help": ["--help"],
    "geo moran": ["moran", "--data", D, "--var", "log_gdp_pc_synthetic", "--year", "2023", "--seed", "1"],
    "geo sdm (panel)": ["sdm", "--data", D, "--y", "log_gdp_pc_synthetic", "--x", "invest_share_synthetic", "--x",
                        "log_pop_density_synthetic", "--time", "year", "--effects", "twoways", "--seed", "1"],
}
_OUT = str(Path(tempfile.gettempdir()) / "geo-bench-choropleth.html")
_MAP = ["map", "choropleth", "--data", D, "--var", "log_gdp_pc_synthetic", "--year", "2023", "--out", _OUT]
JOBS["geo map choropleth (quantiles)"] = _MAP
JOBS["geo map choropleth (jenks)"] = [*_MAP, "--scheme", "jenks"]


def run(cmd):
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    a = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - t, a.ru_utime - b.ru_utime + a.ru_stime - b.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("before", help="the other geo console script")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", default="", help="run only the jobs whose name contains this")
    a = ap.parse_args()
    before = shlex.split(a.before)
    after = str(Path(sys.executable).parent / "geo")
    print("| command | before wall (s) | before CPU (s) | after wall (s) | after CPU (s) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, args in JOBS.items():
        if a.only not in name:
            continue
        run([*before, *args]), run([after, *args])  # untimed: both fill geo's per-user cache first
        b, f = [], []
        for _ in range(a.reps):
            b.append(run([*before, *args]))
            f.append(run([after, *args]))
        med = lambda v, k: statistics.median(x[k] for x in v)  # noqa: E731
        print(f"| `{name}` | {med(b, 0):.2f} | {med(b, 1):.2f} | {med(f, 0):.2f} | {med(f, 1):.2f} |", flush=True)


if __name__ == "__main__":
    main()
