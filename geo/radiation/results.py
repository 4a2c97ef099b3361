"""Result objects of the band-DID estimators and the event study (frozen; summary, to_frame, to_json)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.radiation._common import num as _num
from geo.radiation.exposure import BandAssignment

__all__ = ["BandDID", "EventStudy", "reach"]


_FEW_TREATED = 10  # a ring with fewer exposed units gets a warning and is passed over by the reach rules


def _count(v):
    """A whole number (a count or degrees of freedom) as an int for JSON, or None."""
    v = _num(v)
    return None if v is None else int(round(v))


def reach(table: pd.DataFrame) -> float:
    """Upper edge of the last ring, from the nearest, whose interval excludes zero with the nearest ring's sign.

    Nearest rings that carry no evidence either way are passed over: an unbounded interval (the wild
    bootstrap cannot reject anything with one or two treated units) or fewer than ``BandDID.FEW_TREATED`` (10)
    exposed units (prefecture centroids lie ~100 km apart, so a 0-50 km ring holds a few cities and its
    clustered interval misses their own noise; the curve and CV rules skip such rings too).  The run starts at
    the first ring with evidence; the reach is still an upper ring edge.
    """
    bands = table[~table["band"].str.endswith("host")].reset_index(drop=True)
    informative = np.isfinite(bands["ci_lower"].to_numpy(float)) & np.isfinite(bands["ci_upper"].to_numpy(float))
    if "n_units" in bands:
        informative &= bands["n_units"].to_numpy(float) >= _FEW_TREATED
    if informative.any() and not informative[0]:
        bands = bands.iloc[int(np.argmax(informative)):].reset_index(drop=True)
    if bands.empty:
        return 0.0
    sign = np.sign(bands["estimate"].iat[0])
    out = 0.0
    for r in bands.itertuples():
        significant = r.ci_lower > 0 if sign > 0 else r.ci_upper < 0
        if not significant:
            break
        out = float(r.upper_km)
    return out


@dataclass(frozen=True, eq=False)
class BandDID:
    """Distance-band difference-in-differences: host and ring effects.

    ``table`` (one row per group, "host" first, then the rings; with several
    kinds of zone, per kind, labels "<kind>:host", "<kind>:0-100 km"): band,
    kind, lower_km, upper_km, estimate, se, p, ci_lower, ci_upper, n_units
    (units exposed to that group in the estimation sample).  ``cov``:
    covariance of the group estimates (clustered, or Conley).  ``inference``:
    how p and the interval were obtained.  ``reach_km``: the upper edge of the
    last ring in the run, from the nearest, whose interval excludes zero with
    the nearest ring's sign (0 when the nearest is not distinguishable from
    zero; per kind with several kinds).  ``kind_tests``: tests that each
    group's effect is equal across kinds.  ``by_cohort`` (imputation only):
    the effects by group and cohort (first exposure year).
    """

    y: str
    method: str
    estimator: str
    table: pd.DataFrame = field(repr=False)
    cov: pd.DataFrame = field(repr=False)
    controls: tuple
    n_obs: int
    n_units: int
    n_clusters: int
    always_treated: tuple
    level: float
    reach_km: object
    assignment: BandAssignment = field(repr=False)
    controls_table: pd.DataFrame = field(repr=False, default=None)
    dof: int | None = None
    inference: dict = field(default_factory=dict)
    exposure: str = "static"
    kinds: tuple = ()
    kind_tests: pd.DataFrame | None = field(repr=False, default=None)
    sample: dict = field(default_factory=dict)
    notes: tuple = ()
    by_cohort: pd.DataFrame | None = field(repr=False, default=None)

    #: below this many treated units in a group, clustered standard errors are flagged as unreliable
    FEW_TREATED = _FEW_TREATED

    @property
    def warnings(self) -> tuple:
        """Caveats about inference: groups with few treated units (clustered SEs over-reject there;
        MacKinnon & Webb 2017, Conley & Taber 2011)."""
        few = self.table[(self.table["n_units"] > 0) & (self.table["n_units"] < self.FEW_TREATED)]
        out = [
            f"{r.band}: only {int(r.n_units)} treated units; clustered SEs with few treated clusters are "
            "unreliable (MacKinnon & Webb 2017): read its p-value and interval with caution"
            + ("" if self.inference.get("method") == "wild" else " (try --inference wild)")
            for r in few.itertuples()
        ]
        out += [f"{r.band}: no exposed unit in the sample, so no estimate (null in the JSON)"
                for r in self.table[self.table["n_units"] == 0].itertuples()]
        if self.method == "twfe":
            out.append("twfe is biased when effects change with time since exposure; prefer --estimator imputation")
        return tuple(out)

    @property
    def effects(self) -> pd.Series:
        return self.table.set_index("band")["estimate"]

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def decay(self) -> pd.DataFrame:
        """The radiation-decay curve: ring mid-distance, estimate and interval (rings only)."""
        t = self.table[~self.table["band"].str.endswith("host")].copy()
        t.insert(3, "mid_km", (t["lower_km"] + t["upper_km"]) / 2)
        return t.reset_index(drop=True)

    def to_json(self) -> dict:
        rows = []
        for r in self.table.to_dict("records"):
            row = {
                "band": r["band"],
                "lower_km": _num(r["lower_km"]),
                "upper_km": _num(r["upper_km"]),
                "estimate": _num(r["estimate"]),
                "se": _num(r["se"]),
                "p": _num(r["p"]),
                "ci_lower": _num(r["ci_lower"]),
                "ci_upper": _num(r["ci_upper"]),
                "n_units": int(r["n_units"]),
            }
            if self.kinds:
                row["kind"] = r["kind"]
            rows.append(row)
        ctl = []
        if self.controls_table is not None:
            for name, r in self.controls_table.iterrows():
                ctl.append({"name": name, "estimate": _num(r["estimate"]), "se": _num(r["se"]), "p": _num(r["p"])})
        reach_js = (
            {k: _num(v) for k, v in self.reach_km.items()} if isinstance(self.reach_km, dict) else _num(self.reach_km)
        )
        out = {
            "y": self.y,
            "method": self.method,
            "estimator": self.estimator,
            "target": self.assignment.target,
            "assign": self.assignment.assign,
            "exposure": self.exposure,
            "kinds": list(self.kinds),
            "distance_method": self.assignment.distance_method,
            "bands": rows,
            "controls": ctl,
            "reach_km": reach_js,
            "reach_rule": "rings",
            "reach_description": "upper edge of the last ring, from the nearest, whose interval excludes zero with "
            "the nearest ring's sign",
            "inference": {k: (_num(v) if isinstance(v, float) else v) for k, v in self.inference.items()},
            "level": self.level,
            "n_obs": self.n_obs,
            "n_units": self.n_units,
            "n_clusters": self.n_clusters,
            "sample": self.sample,
            "always_treated_dropped": list(self.always_treated),
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }
        if self.by_cohort is not None:
            out["by_cohort"] = [
                {"band": r["band"], "cohort": int(r["cohort"]), "estimate": _num(r["estimate"]), "se": _num(r["se"]),
                 "p": _num(r["p"]), "ci_lower": _num(r["ci_lower"]), "ci_upper": _num(r["ci_upper"]),
                 "n_units": int(r["n_units"])}
                for r in self.by_cohort.to_dict("records")
            ]
        if self.kind_tests is not None:
            out["kind_equality_tests"] = [
                {"group": r["group"], "stat": _num(r["stat"]), "df": int(r["df"]), "p": _num(r["p"])}
                for r in self.kind_tests.to_dict("records")
            ]
        return out

    def summary(self) -> str:
        inf = self.inference
        w = max(14, *(len(b) for b in self.table["band"]))
        lines = [
            f"distance-band DID of {self.y} ({self.method}, {self.exposure} exposure) around {self.assignment.target}",
            f"  {self.estimator}",
            f"  inference: {inf.get('description', '')}",
            f"  obs {self.n_obs}, units {self.n_units}, clusters {self.n_clusters}; "
            f"{len(self.always_treated)} always-treated units dropped",
            f"  {'band':>{w}} {'estimate':>10} {'se':>9} {'p':>7}  {int(self.level * 100)}% interval   units",
        ]
        for r in self.table.itertuples():
            if not np.isfinite(r.estimate):  # a band with no exposed unit: nothing estimated, no NaN printed
                lines.append(f"  {r.band:>{w}} {'—':>10} {'—':>9} {'—':>7}  {'no exposed unit':<20} {r.n_units:>5}")
                continue
            ci = (f"[{r.ci_lower:.4f}, {r.ci_upper:.4f}]" if np.isfinite(r.ci_lower) and np.isfinite(r.ci_upper)
                  else "unbounded (too few units)")
            lines.append(f"  {r.band:>{w}} {r.estimate:>10.4f} {r.se:>9.4f} {r.p:>7.3f}  {ci} {r.n_units:>5}")
        if self.controls_table is not None and len(self.controls_table):
            for name, r in self.controls_table.iterrows():
                lines.append(f"  {name:>{w}} {r['estimate']:>10.4f} {r['se']:>9.4f} {r['p']:>7.3f}")
        if self.kind_tests is not None:
            for r in self.kind_tests.itertuples():
                lines.append(f"  equal across kinds, {r.group}: F({r.df}, {self.dof}) = {r.stat:.2f}, p = {r.p:.3f}")
        if isinstance(self.reach_km, dict):
            for k, v in self.reach_km.items():
                lines.append(f"  radiation reach ({k}): {v:g} km")
        else:
            lines.append(f"  radiation reach: {self.reach_km:g} km (rings beyond are not distinguishable from zero)")
        neg = self.table[(~self.table["band"].str.endswith("host")) & (self.table["ci_upper"] < 0)]
        if len(neg):
            lines.append(f"  siphon (significantly negative) bands: {', '.join(neg['band'])}")
        lines.extend(f"  note: {n}" for n in self.notes)
        lines.extend(f"  warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    __str__ = summary


@dataclass(frozen=True, eq=False)
class EventStudy:
    """Effects by group and years since first exposure.

    ``table``: band, rel_time, estimate, se, p, ci_lower, ci_upper,
    band_lower, band_upper (uniform sup-t band over each group's lags, and
    separately over its leads; equal to the pointwise interval for the TWFE
    event study's reference row).  ``pretrend``: per group and "all": band,
    wald (the clustered Wald statistic), df (number of leads), p (the reported
    p-value, named by ``test``: the restricted wild cluster bootstrap when
    computed, else the small-G F), p_f (small-G F, Hotelling-type, with
    df_den = treated_clusters - df; groups combined for "all"; None when a
    group has no more treated units than leads), p_wild, treated_clusters,
    note (see :func:`geo.radiation.inference.pretrend_tests`).
    """

    y: str
    estimator: str
    table: pd.DataFrame = field(repr=False)
    pretrend: pd.DataFrame = field(repr=False)
    window: tuple
    n_obs: int
    n_units: int
    always_treated: tuple
    level: float
    reference_period: int | None = -1
    pretrend_method: str = ""
    method: str = "twfe"

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_json(self) -> dict:
        coefs = []
        for r in self.table.to_dict("records"):
            coefs.append({
                "band": r["band"],
                "rel_time": int(r["rel_time"]),
                "estimate": _num(r["estimate"]),
                "se": _num(r["se"]),
                "p": _num(r["p"]),
                "ci_lower": _num(r["ci_lower"]),
                "ci_upper": _num(r["ci_upper"]),
                "band_lower": _num(r.get("band_lower")),
                "band_upper": _num(r.get("band_upper")),
            })
        pre = [
            {"band": r["band"], "wald": _num(r["wald"]), "df": int(r["df"]), "p": _num(r["p"]),
             "test": r.get("test", ""), "p_f": _num(r.get("p_f")), "df_den": _count(r.get("df_den")),
             "treated_clusters": _count(r.get("treated_clusters")), "p_wild": _num(r.get("p_wild")),
             "note": r.get("note") or ""}
            for r in self.pretrend.to_dict("records")
        ]
        return {
            "y": self.y,
            "method": self.method,
            "estimator": self.estimator,
            "reference_period": self.reference_period,
            "window": list(self.window),
            "coefficients": coefs,
            "pretrend_tests": pre,
            "pretrend_method": self.pretrend_method,
            "n_obs": self.n_obs,
            "n_units": self.n_units,
            "level": self.level,
        }

    def summary(self) -> str:
        ref = "reference year -1" if self.reference_period is not None else "leads from the untreated-rows test"
        lines = [f"event study of {self.y} ({ref}; end points binned)", f"  {self.estimator}"]
        for band, sub in self.table.groupby("band", sort=False):
            cells = " ".join(f"{int(r.rel_time):+d}:{r.estimate:.3f}" for r in sub.itertuples())
            lines.append(f"  {band:>22}: {cells}")
        lines.append(f"  pre-trend tests (all leads = 0; {self.pretrend_method}):")
        for r in self.pretrend.to_dict("records"):
            p, pf = r.get("p"), r.get("p_f")
            ptxt = f"p = {p:.3f} ({r.get('test', '')})" if p is not None and np.isfinite(p) else "no valid test"
            ftxt = f"; small-G F p = {pf:.3f}" if pf is not None and np.isfinite(pf) and r.get("p_wild") is not None \
                else ""
            note = f"; {r['note']}" if r.get("note") else ""
            lines.append(f"  {r['band']:>22}: {ptxt} (Wald {r['wald']:.2f}, {int(r['df'])} leads, "
                         f"{int(r.get('treated_clusters') or 0)} treated units{ftxt}{note})")
        return "\n".join(lines)

    __str__ = summary
