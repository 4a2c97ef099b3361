"""Noise-free check of the cs estimand when units move to nearer rings (SYNTHETIC outcomes, no error term).

    python benchmarks/cs_moves_noise_free.py     # writes benchmarks/results/mc_radiation_cs_moves.md

The designs, zones and effects of ``benchmarks/mc_radiation.py``; y = a_i + g_t + tau_it with no error, so any
gap to the truth (mean effect over each group's exposed unit-years) is the estimand's, not noise.  "before":
the cs of commit 6639448 (cells by the unit's *entry* group), read from git history; "now": geo.radiation.cs
(cells by the group held in year t).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from mc_radiation import BANDS, DESIGNS, YEARS, make_zones, true_effects, truths  # noqa: E402


def _before():
    src = subprocess.run(["git", "show", "6639448:geo/radiation/cs.py"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    path = Path(tempfile.mkdtemp()) / "cs_before.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("cs_before", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    from geo import radiation as rad
    from geo.boundaries import china
    from geo.radiation.design import design

    before = _before()
    units = china()
    lines = ["SYNTHETIC, noise-free (y = a_i + g_t + tau_it): estimates equal the truth unless the estimand differs",
             "",
             "| design | group | truth | cs before (cells by entry group) | cs now (cells by group held in t) |",
             "| --- | --- | ---: | ---: | ---: |"]
    for name in ("static", "dynamic", "overlapping", "five"):
        spec = DESIGNS[name]
        ex = rad.exposure(units, years=YEARS, zones=make_zones(units, spec["n_zones"], spec["seed"]), bands=BANDS)
        tau = true_effects(ex, spec["dynamic"], False)
        ids = pd.factorize(ex.table["id"])[0]
        tt = ex.table["year"].to_numpy() - 2000
        a = 0.3 * np.random.default_rng(0).standard_normal(ids.max() + 1)
        y = a[ids] + 0.05 * tt - 0.001 * tt**2 + sum(tau.values())
        df = ex.table[["id", "year"]].rename(columns={"id": "adcode"}).assign(y_synthetic=y)
        truth = truths(ex, tau, df)
        d = design(df, "y_synthetic", ex)
        labs, est_before, *_ = before.fit(d)
        old = dict(zip(labs, est_before))
        f = rad.cs.fit(d)
        for lab, b in zip(f.labels, f.est):
            lines.append(f"| {name} | {lab} | {truth[lab]:+.4f} | {old.get(lab, np.nan):+.4f} | {b:+.4f} |")
    out = ROOT / "benchmarks" / "results" / "mc_radiation_cs_moves.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
