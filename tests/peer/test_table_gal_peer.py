"""Table + weights file, ids of any kind (issue 11): `geo moran` and `geo sdm` on spData's elect80 with the
k4 nearest-neighbour GAL written by spdep (`write.nb.gal(oldstyle = FALSE)`, FIPS ids), against spdep's
`moran.test` and spatialreg's `lagsarlm(Durbin = TRUE)` run by the test on the same files."""

from __future__ import annotations

import json
import subprocess

import pytest

from geo.cli import main

pytestmark = pytest.mark.peer

R = r"""
suppressPackageStartupMessages({library(spdep); library(spatialreg); library(spData); library(jsonlite)})
dir <- commandArgs(trailingOnly = TRUE)[1]
data(elect80, package = "spData")
d <- as.data.frame(elect80)
d$FIPS <- as.character(d$FIPS)
attr(k4, "region.id") <- d$FIPS
write.nb.gal(k4, file.path(dir, "k4.gal"), oldstyle = FALSE)
write.nb.gal(k4, file.path(dir, "k4_rows.gal"))  # old style: row numbers, not ids
o <- sample(nrow(d))  # the table in another order than the weights file
write.csv(d[o, c("FIPS", "pc_turnout", "pc_college", "pc_homeownership", "pc_income")], file.path(dir, "elect80.csv"),
          row.names = FALSE)
lw <- nb2listw(k4, style = "W")
m <- moran.test(d$pc_turnout, lw, randomisation = TRUE, alternative = "two.sided")
f <- lagsarlm(pc_turnout ~ pc_college + pc_homeownership + pc_income, data = d, listw = lw, Durbin = TRUE,
              method = "LU")
out <- list(I = unname(m$estimate[1]), VI_rand = unname(m$estimate[3]), z_rand = unname(m$statistic),
            rho = unname(f$rho), coef = as.list(f$coefficients), loglik = as.numeric(logLik(f)))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE), file.path(dir, "r.json"))
"""


@pytest.fixture(scope="module")
def elect80(rscript, tmp_path_factory):
    folder = tmp_path_factory.mktemp("elect80")
    script = folder / "peer.R"
    script.write_text(R, encoding="utf-8")
    subprocess.run([rscript, str(script), str(folder)], check=True, capture_output=True, timeout=600)
    return folder, json.loads((folder / "r.json").read_text())


def _run(args, capsys):
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert rc == 0, err
    return json.loads(out)


def test_moran_on_table_and_spdep_gal(elect80, capsys):
    folder, r = elect80
    got = _run(["moran", "--data", folder / "elect80.csv", "--id", "FIPS", "--var", "pc_turnout",
                "--weights", folder / "k4.gal", "--permutations", "0", "--json"], capsys)
    assert got["n"] == 3107
    assert got["I"] == pytest.approx(r["I"], rel=1e-8)
    assert got["VI_rand"] == pytest.approx(r["VI_rand"], rel=1e-8)
    assert got["z_rand"] == pytest.approx(r["z_rand"], rel=1e-8)


def test_sdm_on_table_and_spdep_gal(elect80, capsys):
    folder, r = elect80
    got = _run(["sdm", "--data", folder / "elect80.csv", "--id", "FIPS", "--y", "pc_turnout",
                "--x", "pc_college,pc_homeownership,pc_income", "--weights", folder / "k4.gal", "--draws", "0",
                "--json"], capsys)
    assert got["n"] == 3107
    assert got["rho"]["estimate"] == pytest.approx(r["rho"], rel=1e-5)
    assert got["loglik"] == pytest.approx(r["loglik"], rel=1e-5)
    for name, value in r["coef"].items():
        ours = "W_" + name[4:] if name.startswith("lag.") else name
        assert got["coefficients"][ours]["estimate"] == pytest.approx(value, rel=1e-5, abs=1e-8), name


def test_spdep_row_number_gal_is_named_in_the_error(elect80, capsys):
    folder, _ = elect80
    rc = main(["moran", "--data", str(folder / "elect80.csv"), "--id", "FIPS", "--var", "pc_turnout",
               "--weights", str(folder / "k4_rows.gal")])
    err = capsys.readouterr().err
    assert rc == 2 and "oldstyle=FALSE" in err and err.count("\n") == 1
