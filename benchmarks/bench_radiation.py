"""Benchmark: distance-band DID (TWFE, clustered SEs) in geo vs R (lm with unit and year dummies + the same
Stata-convention clustered covariance), on the SYNTHETIC demo panel (337 units x 24 years), same run.

    python benchmarks/bench_radiation.py

Also times the band assignment (centroid and area), the time-varying exposure, the stacked and imputation
estimators and the wild bootstrap, which have no R peer here (the imputation estimator's peer, diff-diff, is
timed from a cold process by benchmarks/mc_radiation.py).
Prints a Markdown table; the figures go into BENCHMARKS.md (section "Radiation").
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

R_SCRIPT = r"""
d <- read.csv(commandArgs(TRUE)[1], colClasses = c(adcode = "character"))
regs <- strsplit(commandArgs(TRUE)[2], ",")[[1]]
reps <- as.integer(commandArgs(TRUE)[3])
run <- function() {
  m <- lm(as.formula(paste("y ~", paste(regs, collapse = " + "), "+ factor(adcode) + factor(year)")), data = d)
  dm <- function(v) v - ave(v, d$adcode) - ave(v, d$year) + mean(v)
  Xt <- sapply(regs, function(v) dm(d[[v]]))
  u <- resid(m)
  B <- solve(crossprod(Xt))
  meat <- Reduce(`+`, lapply(split(seq_len(nrow(d)), d$adcode), function(i) {
    s <- crossprod(Xt[i, , drop = FALSE], u[i]); s %*% t(s) }))
  G <- length(unique(d$adcode)); N <- nrow(d); K <- length(regs) + length(unique(d$year))
  V <- B %*% meat %*% B * G / (G - 1) * (N - 1) / (N - K)
  list(b = unname(coef(m)[regs]), se = unname(sqrt(diag(V))))
}
res <- run()
t <- c()
for (i in seq_len(reps)) { t0 <- proc.time()[["elapsed"]]; res <- run(); t <- c(t, proc.time()[["elapsed"]] - t0) }
cat(jsonlite::toJSON(list(b = res$b, se = res$se, seconds = median(t)), digits = NA, auto_unbox = TRUE))
"""


def _median_time(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main(reps: int = 5) -> None:
    from geo import radiation as rad
    from geo.boundaries import china
    from geo.synthetic import DEMO_BANDS, demo_panel
    from geo.zones import registry

    units, zones = china(), registry(kind="new-zone")
    panel = demo_panel()
    controls = ["invest_share_synthetic", "log_pop_density_synthetic"]
    asg = rad.assign_bands(units, zones=zones, bands=DEMO_BANDS)
    fit = rad.band_did(panel, "log_gdp_pc_synthetic", asg, controls=controls, estimator="twfe")

    rows = []
    t_geo = _median_time(lambda: rad.band_did(panel, "log_gdp_pc_synthetic", asg, controls=controls, estimator="twfe"), reps)
    rscript = shutil.which("Rscript")
    if rscript:
        keep = ~panel["adcode"].isin(fit.always_treated)
        d = panel[keep].reset_index(drop=True)
        t = asg.table
        ty = t["treatment_year"].astype("Float64").to_numpy(dtype=float, na_value=np.inf)
        post = d["year"].to_numpy() >= pd.Series(ty, index=t.index).reindex(d["adcode"]).to_numpy()
        group = t["band"].reindex(d["adcode"]).to_numpy()
        out = pd.DataFrame({"adcode": d["adcode"], "year": d["year"], "y": d["log_gdp_pc_synthetic"]})
        regs = []
        for k, g in enumerate(["host", *asg.bands]):
            out[f"D{k}"] = ((group == g) & post).astype(float)
            regs.append(f"D{k}")
        for k, c in enumerate(controls):
            out[f"X{k}"] = d[c]
            regs.append(f"X{k}")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "twfe.csv"
            out.to_csv(path, index=False)
            script = Path(tmp) / "twfe.R"
            script.write_text(R_SCRIPT)
            r = subprocess.run([rscript, str(script), str(path), ",".join(regs), str(reps)],
                               capture_output=True, text=True, check=True)
        ref = json.loads(r.stdout)
        ours = np.r_[fit.table["estimate"], fit.controls_table["estimate"]]
        ours_se = np.r_[fit.table["se"], fit.controls_table["se"]]
        rel_b = float(np.max(np.abs(ours - ref["b"]) / np.abs(ref["b"])))
        rel_se = float(np.max(np.abs(ours_se - ref["se"]) / np.abs(ref["se"])))
        rows.append(("band-DID TWFE + clustered SE (8088 obs)", t_geo, ref["seconds"],
                     f"max rel. diff: estimates {rel_b:.1e}, SEs {rel_se:.1e}"))
    else:
        rows.append(("band-DID TWFE + clustered SE (8088 obs)", t_geo, None, "Rscript not found"))
    t_st = _median_time(lambda: rad.band_did(panel, "log_gdp_pc_synthetic", asg, estimator="stacked"), reps)
    rows.append(("stacked DID (no peer here)", t_st, None, ""))
    years = sorted(panel["year"].unique())
    t_e = _median_time(lambda: rad.exposure(units, years=years, zones=zones, bands=DEMO_BANDS), reps)
    rows.append(("time-varying exposure, nearest (337 units x 24 years, 19 zones)", t_e, None, ""))
    ex = rad.exposure(units, years=years, zones=zones, bands=DEMO_BANDS)
    t_i = _median_time(lambda: rad.band_did(panel, "log_gdp_pc_synthetic", ex, controls=controls), reps)
    rows.append(("imputation band-DID + GMM clustered SE (no peer here; see mc_radiation)", t_i, None, ""))
    t_w = _median_time(lambda: rad.band_did(panel, "log_gdp_pc_synthetic", ex, controls=controls, inference="wild",
                                            seed=1), max(1, reps // 2))
    rows.append(("imputation + restricted wild bootstrap, 999 draws x 4 effects", t_w, None, ""))
    t_c = _median_time(lambda: rad.assign_bands(units, zones=zones, bands=DEMO_BANDS), reps)
    rows.append(("band assignment, centroid (337 units, 19 zones)", t_c, None, ""))
    t_a = _median_time(lambda: rad.assign_bands(units, zones=zones, bands=DEMO_BANDS, assign="area"), max(1, reps // 2))
    rows.append(("band assignment, area shares (337 units, 19 zones)", t_a, None, ""))
    t_g = _median_time(lambda: rad.assign_bands(units, corridor=rad.corridor(units=units), bands=(50, 100, 200)), reps)
    rows.append(("G60 corridor assignment (incl. Songjiang lookup)", t_g, None, ""))

    print("| task | geo (s) | R (s) | R / geo | agreement |")
    print("| --- | --- | --- | --- | --- |")
    for name, g, r, note in rows:
        ratio = f"{r / g:.2f}" if r else "–"
        rs = f"{r:.3f}" if r else "–"
        print(f"| {name} | {g:.3f} | {rs} | {ratio} | {note} |")


if __name__ == "__main__":
    main()
