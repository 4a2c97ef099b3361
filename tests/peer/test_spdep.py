"""geo.autocorr against R spdep, run by the test on files the test writes.

The weights go to R as a GAL file written by ``geo.weights.save`` (binary
structure, then ``nb2listw`` with the same style) or as a dense matrix
(``mat2listw`` with ``style="M"``, i.e. our exact weights), so R and geo use
the same neighbours.  Closed forms agree to CLOSED_FORM_RTOL; permutation
p-values agree in distribution (binomial tolerance).
"""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pandas as pd
import pytest

from geo import autocorr as ac
from geo import weights as gw

pytestmark = pytest.mark.peer

RTOL = 1e-8  # CLOSED_FORM_RTOL in conftest


def _run_r(rscript, folder, body: str) -> dict:
    """Run ``body`` once in R; it loops over the case folders listed in cases.txt."""
    script = folder / "run.R"
    script.write_text(
        "suppressMessages(library(spdep)); suppressMessages(library(jsonlite))\n"
        'cases <- readLines("cases.txt")\nresult <- list()\n'
        "for (case in cases) {\n"
        '  d <- read.csv(file.path(case, "d.csv"), colClasses = c("character", "numeric"))\n'
        "  x <- d$x\n" + body + "\n  result[[case]] <- out\n}\n"
        'write_json(result, "out.json", digits = NA, auto_unbox = TRUE)\n',
        encoding="utf-8",
    )
    proc = subprocess.run([rscript, str(script)], cwd=folder, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads((folder / "out.json").read_text())


def _write(folder, ids, x):
    folder.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame({"id": list(ids), "x": np.asarray(x, float)})
    frame.to_csv(folder / "d.csv", index=False, float_format="%.17g")


def _close(a, b, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=0)


_GAL_BODY = r"""
  if (file.exists(file.path(case, "w.gal"))) {
  nb <- read.gal(file.path(case, "w.gal"), override.id = TRUE)
  stopifnot(identical(attr(nb, "region.id"), d$id))
  lw <- nb2listw(nb, style = "W")
  lb <- nb2listw(nb, style = "B")
  mr <- moran.test(x, lw, randomisation = TRUE, alternative = "two.sided")
  mn <- moran.test(x, lw, randomisation = FALSE, alternative = "two.sided")
  gr <- geary.test(x, lw, randomisation = TRUE)
  gn <- geary.test(x, lw, randomisation = FALSE)
  gg <- globalG.test(x, lb, alternative = "two.sided")
  lm <- localmoran(x, lw)
  lgw <- attr(localG(x, lw, return_internals = TRUE), "internals")
  lgb <- attr(localG(x, lb, return_internals = TRUE), "internals")
  lgsw <- attr(localG(x, nb2listw(include.self(nb), style = "W"), return_internals = TRUE), "internals")
  lgsb <- attr(localG(x, nb2listw(include.self(nb), style = "B"), return_internals = TRUE), "internals")
  lp <- localmoran_perm(x, lw, nsim = 999, iseed = 1)
  wg <- read.gwt2nb(file.path(case, "w.gwt"), region.id = d$id)
  mg <- moran.test(x, nb2listw(wg, glist = attr(wg, "GeoDa")$dist, style = "B"), randomisation = TRUE)
  out <- list(
    gwt_moran = c(unname(mg$estimate), unname(mg$statistic)),
    moran_rand = c(unname(mr$estimate), unname(mr$statistic), mr$p.value),
    moran_norm = c(unname(mn$estimate), unname(mn$statistic), mn$p.value),
    geary_rand = c(unname(gr$estimate), unname(gr$statistic)),
    geary_norm = c(unname(gn$estimate), unname(gn$statistic)),
    globalg = c(unname(gg$estimate), unname(gg$statistic), gg$p.value),
    local_ii = unname(lm[, 1]), local_e = unname(lm[, 2]), local_v = unname(lm[, 3]), local_z = unname(lm[, 4]),
    local_p = unname(lm[, 5]),
    lg_w = unname(lgw[, 1]), lgz_w = unname(lgw[, 4]), lg_b = unname(lgb[, 1]), lgz_b = unname(lgb[, 4]),
    lgs_w = unname(lgsw[, 1]), lgsz_w = unname(lgsw[, 4]), lgs_b = unname(lgsb[, 1]), lgsz_b = unname(lgsb[, 4]),
    lag = lag.listw(lw, x),
    folded = unname(lp[, "Pr(folded) Sim"])
  )
  } else {
  M <- as.matrix(read.csv(file.path(case, "W.csv"), header = FALSE))
  lw <- mat2listw(M, row.names = d$id, style = "M")
  mr <- moran.test(x, lw, randomisation = TRUE, alternative = "two.sided")
  lm <- localmoran(x, lw)
  out <- list(moran = c(unname(mr$estimate), unname(mr$statistic)), ii = unname(lm[, 1]), z = unname(lm[, 4]))
  }
"""


@pytest.fixture(scope="module")
def columbus_shuffled(columbus):
    # string ids in shuffled order: nothing may rely on sorted or integer ids
    return columbus.sample(frac=1.0, random_state=7)


def _case_gal(folder, units, x, spec):
    graph_w = gw.build(spec, units)
    _write(folder, list(graph_w.unique_ids), x.reindex(list(graph_w.unique_ids)))
    gw.save(graph_w, folder / "w.gal")
    gw.save(graph_w, folder / "w.gwt")  # row-standardised weights, read by spdep's read.gwt2nb
    return {"kind": "gal", "x": x, "w": graph_w, "b": gw.build(spec, units, transform="b")}


@pytest.fixture(scope="module")
def spdep_results(rscript, tmp_path_factory, columbus_shuffled, china):
    """All cases computed by one R process (R with spdep takes seconds to start)."""
    from geo.boundaries import to_metric

    root = tmp_path_factory.mktemp("spdep")
    col = columbus_shuffled
    # a real variable of the embedded units: log area in km² (equal-area CRS)
    china_x = np.log(to_metric(china).area / 1e6)
    cases = {
        "columbus_queen": _case_gal(root / "columbus_queen", col, col["CRIME"], "queen"),
        "columbus_rook": _case_gal(root / "columbus_rook", col, col["HOVAL"], "rook"),
        "columbus_upto2": _case_gal(root / "columbus_upto2", col, col["HOVAL"], "queen:upto2"),
        "china_queen": _case_gal(root / "china_queen", china, china_x, "queen"),
    }
    g = gw.build("idw:1:400km", china)
    ids = list(g.unique_ids)
    _write(root / "china_idw", ids, china_x.reindex(ids))
    np.savetxt(root / "china_idw" / "W.csv", g.sparse.toarray(), delimiter=",", fmt="%.17g")
    cases["china_idw"] = {"kind": "matrix", "x": china_x, "w": g}
    (root / "cases.txt").write_text("\n".join(cases) + "\n")
    r = _run_r(rscript, root, _GAL_BODY)
    return {k: (v, r[k]) for k, v in cases.items()}


@pytest.mark.parametrize("case", ["columbus_queen", "columbus_rook", "columbus_upto2", "china_queen"])
def test_closed_forms_match_spdep(spdep_results, case):
    c, r = spdep_results[case]
    x, graph_w, graph_b = c["x"], c["w"], c["b"]
    ids = list(graph_w.unique_ids)
    frame = pd.DataFrame({"x": x})
    m = ac.moran(frame, "x", weights=graph_w, permutations=0)
    _close([m.I, m.EI, m.VI_rand, m.z_rand, m.p_rand], r["moran_rand"])
    _close([m.I, m.EI, m.VI_norm, m.z_norm, m.p_norm], r["moran_norm"])
    _close([m.I, m.EI, m.VI_rand, m.z_rand], r["gwt_moran"])
    g = ac.geary(frame, "x", weights=graph_w, permutations=0)
    # spdep's statistic is (E[C] - C)/sd; geo (and esda) report (C - E[C])/sd
    _close([g.C, g.EC, g.VC_rand, -g.z_rand], r["geary_rand"])
    _close([g.C, g.EC, g.VC_norm, -g.z_norm], r["geary_norm"])
    gg = ac.general_g(frame, "x", weights=graph_b, permutations=0)
    _close([gg.G, gg.EG, gg.VG, gg.z_norm, gg.p_norm], r["globalg"])
    lm = ac.local_moran(frame, "x", weights=graph_w, permutations=0)
    _close(lm.frame["Ii"], r["local_ii"])
    _close(lm.frame["EIi"], r["local_e"])
    _close(lm.frame["VIi"], r["local_v"])
    _close(lm.frame["z"], r["local_z"])
    _close(lm.frame["p_norm"], r["local_p"])
    _close(graph_w.sparse @ x.reindex(ids).to_numpy(), r["lag"])
    for graph, key in ((graph_w, "w"), (graph_b, "b")):
        lg = ac.local_g(frame, "x", weights=graph, permutations=0)
        _close(lg.frame["G"], r[f"lg_{key}"])
        _close(lg.frame["z"], r[f"lgz_{key}"])
        lgs = ac.local_g(frame, "x", weights=graph, star=True, permutations=0)
        _close(lgs.frame["G"], r[f"lgs_{key}"])
        _close(lgs.frame["z"], r[f"lgsz_{key}"])


def test_china_default_weights_have_no_isolates(spdep_results):
    c, _ = spdep_results["china_queen"]
    s = gw.summarize(c["w"])
    assert s.isolates == () and len(s.islands) == 5 and s.islands_policy == "link:1"


def test_general_weights_match_spdep_mat2listw(spdep_results):
    """Non-binary weights (inverse distance with a cutoff, row-standardised) passed to R as a matrix."""
    c, r = spdep_results["china_idw"]
    frame = pd.DataFrame({"x": c["x"]})
    m = ac.moran(frame, "x", weights=c["w"], permutations=0)
    _close([m.I, m.EI, m.VI_rand, m.z_rand], r["moran"])
    lm = ac.local_moran(frame, "x", weights=c["w"], permutations=0)
    _close(lm.frame["Ii"], r["ii"])
    _close(lm.frame["z"], r["z"])


@pytest.mark.parametrize("case", ["columbus_queen", "china_queen"])
def test_permutation_pvalues_agree_in_distribution(spdep_results, case):
    """Folded pseudo p-values of LISA: geo (seed 1) vs spdep localmoran_perm (iseed 1), 999 draws each.

    Each p-value estimates the same conditional-permutation probability; the two
    estimates differ by binomial noise only, sd = sqrt(2 p (1 - p) / 1000).
    """
    c, r = spdep_results[case]
    lm = ac.local_moran(pd.DataFrame({"x": c["x"]}), "x", weights=c["w"], permutations=999, seed=1)
    ours = lm.frame["p_sim"].to_numpy()
    theirs = np.asarray(r["folded"], float)
    p = np.clip((ours + theirs) / 2, 1e-3, 0.5)
    sd = np.sqrt(2 * p * (1 - p) / 1000)
    bad = np.abs(ours - theirs) > 4.5 * sd + 2e-3
    assert not bad.any(), np.c_[ours, theirs][bad]
    # two independent random streams: not identical, and no systematic shift (geo shares one table of
    # draws across units, as esda does, so the units' errors are correlated: bound for full correlation)
    assert not np.array_equal(ours, theirs)
    assert abs(np.mean(ours - theirs)) < 3 * np.sqrt(np.mean(sd**2))
