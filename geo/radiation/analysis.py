"""The one call: exposure, band means, band-DID, event study and spatial DID together."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.errors import OptionError, SchemaError, check_choice
from geo.radiation._common import num as _num
from geo.radiation.did import band_did, event_study
from geo.radiation.exposure import BandAssignment, Exposure, assign_bands
from geo.radiation.exposure import exposure as make_exposure
from geo.radiation.geometry import DEFAULT_BANDS, unit_centroids
from geo.radiation.reach import REACH_RULES, RULE_TEXT, CVReach, DistanceCurve, cv_reach, distance_curve
from geo.radiation.results import BandDID, EventStudy
from geo.radiation.spatial_did import SpatialDID, spatial_did
from geo.radiation.spatial_rings import RingSpatialDID, ring_spatial_did

__all__ = ["band_summary", "RadiationAnalysis", "analyse"]


def band_summary(data, y: str, assignment: BandAssignment, *, id: str = "adcode", time: str = "year") -> pd.DataFrame:
    """Mean of ``y`` per group before and after each unit's treatment year.

    Rows: host, the bands, outside (whose before/after are undefined and left
    empty; ``mean_all`` is given for every group).  Columns: band, n_units,
    mean_before, mean_after, change, mean_all.
    """
    need = [id, time, y]
    missing = [c for c in need if c not in data.columns]
    if missing:
        raise SchemaError(f"data has no column(s) {missing}")
    df = data[need].copy()
    df[id] = df[id].astype(str)
    df[y] = pd.to_numeric(df[y], errors="coerce")
    tab = assignment.table
    df["group"] = tab["band"].reindex(df[id]).to_numpy()
    ty = tab["treatment_year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    df["tyear"] = pd.Series(ty, index=tab.index).reindex(df[id]).to_numpy()
    rows = []
    for g in ["host"] + assignment.bands + ["outside"]:
        sub = df[df["group"] == g]
        before = sub.loc[sub[time] < sub["tyear"], y].mean() if g != "outside" else np.nan
        after = sub.loc[sub[time] >= sub["tyear"], y].mean() if g != "outside" else np.nan
        rows.append(
            {
                "band": g,
                "n_units": int(sub[id].nunique()),
                "mean_before": before,
                "mean_after": after,
                "change": after - before,
                "mean_all": sub[y].mean(),
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True, eq=False)
class RadiationAnalysis:
    """Everything ``geo radiation`` reports: assignment, band summary, band-DID, optional event study and spatial DID."""

    assignment: BandAssignment = field(repr=False)
    band_means: pd.DataFrame = field(repr=False)
    did: BandDID = field(repr=False)
    event: EventStudy | None = field(default=None, repr=False)
    spatial: SpatialDID | RingSpatialDID | None = field(default=None, repr=False)
    synthetic: bool = False
    exposure: Exposure | None = field(default=None, repr=False)
    reach: DistanceCurve | CVReach | None = field(default=None, repr=False)

    @property
    def reach_km(self):
        """The reach by the rule asked for: the band-DID's rings rule, or the curve's / Clarke's CV."""
        return self.did.reach_km if self.reach is None else self.reach.reach_km

    @property
    def reach_rule(self) -> str:
        return "rings" if self.reach is None else self.reach.rule

    def to_frame(self) -> pd.DataFrame:
        return self.assignment.to_frame()

    def to_json(self) -> dict:
        d = self.did.to_json()
        out = {
            "synthetic_data": self.synthetic,
            "y": d["y"],
            "estimator": d["estimator"],
            "method": d["method"],
            "target": d["target"],
            "assign": d["assign"],
            "distance_method": d["distance_method"],
            "bands": d["bands"],
            "controls": d["controls"],
            "reach_km": d["reach_km"] if self.reach is None else _num(self.reach.reach_km),
            "reach_rule": self.reach_rule,
            "reach": self.reach.to_json() if self.reach is not None else {
                "rule": "rings", "description": RULE_TEXT["rings"], "reach_km": d["reach_km"]},
            "exposure": d["exposure"],
            "kinds": d["kinds"],
            "inference": d["inference"],
            "sample": d["sample"],
            "notes": d["notes"],
            "n_obs": d["n_obs"],
            "n_units": d["n_units"],
            "n_clusters": d["n_clusters"],
            "always_treated_dropped": d["always_treated_dropped"],
            "warnings": d["warnings"],
            **({"kind_equality_tests": d["kind_equality_tests"]} if "kind_equality_tests" in d else {}),
            **({"by_cohort": d["by_cohort"]} if "by_cohort" in d else {}),
            "band_means": [
                {k: (_num(v) if k not in ("band", "n_units") else v) for k, v in r.items()}
                for r in self.band_means.to_dict("records")
            ],
            "assignment": self.assignment.to_json()["units"],
        }
        if self.exposure is not None:
            out["exposure_by_year"] = self.exposure.to_json()["units_exposed_by_year"]
        out["event_study"] = self.event.to_json() if self.event is not None else None
        if self.spatial is not None:
            out["spatial_did"] = self.spatial.to_json()
        return out

    def summary(self) -> str:
        parts = []
        if self.synthetic:
            parts.append("NOTE: the data are SYNTHETIC (demo panel), not real statistics")
        parts += [self.assignment.summary(), "", self.did.summary()]
        if self.reach is not None:
            parts += ["", self.reach.summary()]
        if self.event is not None:
            parts += ["", self.event.summary()]
        if self.spatial is not None:
            parts += ["", self.spatial.summary()]
        return "\n".join(parts)

    __str__ = summary


EXPOSURES = ("nearest", "count", "static")


@dataclass(frozen=True)
class Placebo:
    """Placebo treatments for randomization inference.

    ``kind="zones"``: every zone moves to a unit drawn at random (without
    replacement) from the units with data that host no real zone, keeping its
    approval year and kind (the unit's equal-area centroid becomes the zone
    point, the unit its host).  ``kind="years"``: the zones keep their places
    and their approval years are permuted among them.  The exposure is then
    rebuilt exactly as for the real zones.
    """

    kind: str
    draws: int
    units: object = field(repr=False)
    zones: object = field(repr=False)
    eligible: tuple = field(repr=False)
    build: object = field(repr=False)

    def draw(self, rng):
        import geopandas as gpd

        cents = unit_centroids(self.units)
        for _ in range(self.draws):
            z = self.zones.copy()
            if self.kind == "years":
                z["approval_year"] = rng.permutation(pd.to_numeric(z["approval_year"], errors="coerce").to_numpy())
            else:
                pick = rng.choice(np.asarray(self.eligible, dtype=object), size=len(z), replace=False)
                z = gpd.GeoDataFrame(
                    z.drop(columns="geometry"),
                    geometry=gpd.points_from_xy(cents.loc[pick, "lon"], cents.loc[pick, "lat"]),
                    crs="EPSG:4326",
                )
                z["host_adcodes"] = list(pick)
                if "host_adcode" in z.columns:
                    z = z.drop(columns="host_adcode")
            yield self.build(z)


def analyse(
    data,
    y: str,
    *,
    units,
    zones=None,
    corridor=None,
    bands=DEFAULT_BANDS,
    assign: str = "centroid",
    controls=(),
    id: str = "adcode",
    time: str = "year",
    estimator: str = "imputation",
    exposure: str = "nearest",
    kinds=None,
    inference: str | None = None,
    draws: int = 999,
    wild_weights: str = "webb",
    placebo: str = "zones",
    event: bool = False,
    spatial: bool = False,
    spatial_model: str = "rings",
    spatial_weights: str = "idw:1:300km",
    weights="queen",
    window: tuple[int, int] = (5, 5),
    seed=None,
    synthetic: bool = False,
    reach: str = "rings",
    reach_step_km: float = 50.0,
    reach_max_km: float | None = None,
    reach_folds: int = 10,
    progress=None,
    control_group: str = "notyet",
) -> RadiationAnalysis:
    """Exposure, band means, the band-DID (and optionally the event study and the spatial DID) in one call.

    ``exposure``: "nearest" (default: each unit-year's ring from the nearest zone already approved),
    "count" (approved zones per ring) or "static" (one band and year per unit from the nearest zone, the
    pre-2026 behaviour).  ``kinds``: kinds of zone to treat separately (e.g. ("new-zone", "high-tech")).
    ``estimator``, ``inference``, ``draws``, ``wild_weights``: see :func:`geo.radiation.band_did`;
    ``inference="ri"`` draws ``draws`` placebo treatments of kind ``placebo`` ("zones" or "years").
    The default inference (None) is the restricted wild cluster bootstrap (it holds its level with few zones,
    where clustered SEs do not; BENCHMARKS.md); without ``seed`` the bootstrap and placebo draws use seed 0,
    stated in the result.  ``control_group``: "notyet" or "never" (``estimator="cs"`` only).
    ``spatial``: also fit a spatial DID: ``spatial_model="rings"`` (default; host and ring exposures in a
    spatial lag panel with ``spatial_weights``, see :mod:`geo.radiation.spatial_rings`) or ``"queen"`` (the
    panel SDM with D = host x post and WD on ``weights``, static geography).
    ``reach``: the rule behind ``reach_km`` (:mod:`geo.radiation.reach`): "rings" (default: the last ring of
    ``bands``, from the nearest, whose interval excludes zero), "curve" (the distance curve with rings of
    ``reach_step_km`` to ``reach_max_km``, default the last band edge, read through its uniform band) or "cv"
    (Clarke's 2017 cross-validated reach over bin widths ``reach_step_km``, 2·``reach_step_km``, … with
    ``reach_folds`` folds by unit).  ``progress``: optional callable(done, total) for the CV search.
    """
    check_choice("exposure", exposure, EXPOSURES)
    check_choice("placebo", placebo, ("zones", "years"))
    check_choice("spatial_model", spatial_model, ("rings", "queen"))
    check_choice("reach", reach, REACH_RULES)
    if inference is None:
        inference = "wild"
    if seed is None and str(inference).lower().split(":")[0] in ("wild", "ri"):
        seed = 0
    if isinstance(data.index, pd.MultiIndex) and id not in data.columns:
        data = data.reset_index()
    if time not in data.columns:
        raise SchemaError(f"data has no column {time!r}")
    years = sorted(pd.to_numeric(data[time], errors="coerce").dropna().astype(int).unique())
    if exposure == "static":
        if kinds:
            raise OptionError("several kinds of zone need a time-varying exposure (nearest or count)")
        treat = assign_bands(units, zones=zones, corridor=corridor, bands=bands, assign=assign)
        asg = treat
    else:
        treat = make_exposure(units, years=years, zones=zones, corridor=corridor, bands=bands, mode=exposure,
                              kinds=kinds, assign=assign)
        asg = treat.assignment
    pl = None
    if str(inference).lower().startswith("ri"):
        if zones is None:
            raise OptionError("randomization inference draws placebo zones; it needs zones, not a corridor")
        ids_with_data = set(data[id].astype(str))
        real_hosts = {h for v in asg.table.index[asg.table["host"]] for h in [v]}
        eligible = tuple(sorted(i for i in units.index.astype(str) if i in ids_with_data and i not in real_hosts))
        zz = zones if not kinds else zones[zones["kind"].astype(str).isin(list(kinds))]
        zz = zz[(pd.to_numeric(zz["approval_year"], errors="coerce").astype(float) <= years[-1]).to_numpy(dtype=bool)]

        def build(z):
            if exposure == "static":
                return assign_bands(units, zones=z, bands=bands, assign=assign)
            return make_exposure(units, years=years, zones=z, bands=bands, mode=exposure, kinds=kinds, assign=assign)

        pl = Placebo(kind=placebo, draws=int(draws), units=units, zones=zz.reset_index(drop=True),
                     eligible=eligible, build=build)
    means = band_summary(data, y, asg, id=id, time=time)
    did = band_did(
        data, y, treat, id=id, time=time, controls=controls, estimator=estimator, window=window,
        inference=inference, draws=draws, wild_weights=wild_weights, seed=seed, placebo=pl,
        control_group=control_group,
    )
    ev = (
        event_study(data, y, treat, id=id, time=time, controls=controls, window=window,
                    estimator=estimator if estimator in ("twfe", "cs") else "imputation", draws=min(int(draws), 999),
                    seed=seed, control_group=control_group)
        if event
        else None
    )
    sp_ = None
    if spatial and spatial_model == "rings":
        if not isinstance(treat, Exposure):
            raise OptionError("the spatial DID with rings needs a time-varying exposure (nearest or count)")
        sp_ = ring_spatial_did(data, y, treat, units=units, weights=spatial_weights, id=id, time=time,
                               controls=controls, seed=seed)
    elif spatial:
        sp_ = spatial_did(data, y, asg, units=units, weights=weights, id=id, time=time, controls=controls, seed=seed)
    rch = None
    if reach != "rings":
        top = float(asg.edges[-1]) if reach_max_km is None else reach_max_km
        common = dict(units=units, zones=zones, corridor=corridor, step_km=reach_step_km, max_km=top,
                      exposure=exposure, kinds=kinds, assign=assign, controls=controls, id=id, time=time)
        if reach == "curve":
            method = str(inference).lower().split(":")[0]
            rch = distance_curve(data, y, **common, inference="wild" if method == "ri" else inference,
                                 draws=draws, wild_weights=wild_weights, seed=seed)
        else:
            rch = cv_reach(data, y, **common, folds=reach_folds, seed=seed, progress=progress)
    return RadiationAnalysis(
        assignment=asg, band_means=means, did=did, event=ev, spatial=sp_, synthetic=synthetic,
        exposure=treat if isinstance(treat, Exposure) else None, reach=rch,
    )
