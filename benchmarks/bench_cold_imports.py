"""Cold start of the command line before and after moving geo's own imports to module level.

Run:  .venv/bin/python benchmarks/bench_cold_imports.py --base DIR [--reps 7] [--out FILE]

``DIR`` holds an unpacked older tree of geo (e.g. ``git archive 6639448 | tar -x -C DIR``);
its ``geo`` package is put first on ``PYTHONPATH`` for the "base" runs, the checkout's own
for the "head" runs, with the same interpreter and installed dependencies.  Every run is a
fresh process of the installed ``geo`` console script; base and head alternate (interleaved,
so that the load of a shared machine falls on both alike) and the table gives the median
wall time and CPU time (user + sys of the child: on a shared machine the wall time also holds the
wait for a core) of ``--reps`` runs, and the ratios base / head (> 1: head starts faster).

Commands (the cold-start goals of issue #14): ``geo --help`` and ``geo moran`` on the
embedded prefectures with the demo panel (SYNTHETIC indicators, 999 permutations).  The
per-user boundary cache is warmed once before timing (as after a user's first command).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GEO = str(Path(sys.executable).parent / "geo")
DEMO = str(ROOT / "layers" / "demo_panel_synthetic.csv")

COMMANDS = {
    "geo --help": [GEO, "--help"],
    "geo moran (337 prefectures, 999 perms)": [GEO, "moran", "--data", DEMO, "--var", "log_gdp_pc_synthetic",
                                               "--year", "2023", "--seed", "1"],
}


def _wall(cmd, env) -> tuple[float, float]:
    """(wall s, cpu s = user + sys of the child) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="folder with an older geo tree (its geo/ package)")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    envs = {"base": dict(os.environ, PYTHONPATH=str(Path(args.base).resolve())),
            "head": dict(os.environ, PYTHONPATH=str(ROOT))}
    for env in envs.values():
        _wall(COMMANDS["geo moran (337 prefectures, 999 perms)"], env)  # warm caches (boundaries, bytecode)
    lines = [f"load before: {os.getloadavg()}", "",
             "| command | base wall (s) | head wall (s) | base / head | base cpu (s) | head cpu (s) | base / head |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for label, cmd in COMMANDS.items():
        times = {"base": [], "head": []}
        for _ in range(args.reps):
            for name, env in envs.items():
                times[name].append(_wall(cmd, env))
        b, h = (statistics.median(t[0] for t in times[k]) for k in ("base", "head"))
        bc, hc = (statistics.median(t[1] for t in times[k]) for k in ("base", "head"))
        lines.append(f"| `{label}` | {b:.3f} | {h:.3f} | {b / h:.2f} | {bc:.3f} | {hc:.3f} | {bc / hc:.2f} |")
    lines += ["", f"load after: {os.getloadavg()}  (median of {args.reps} fresh processes each, interleaved)"]
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
