"""Radiation effects of zones and corridors: does a zone lift its host and radiate to, or drain, its neighbours?

The package follows the data, one way:

``geometry``   band edges, unit lookup, corridors, zones, geodesic distances, rings
``exposure``   who is a host or in which ring of which zone, and from when: static
               (:func:`assign_bands`) or time-varying unit-year exposure to every approved zone
               (:func:`exposure`, nearest or count, several kinds of zone)
``design``     the estimation sample (unbalanced panels; always-exposed units dropped)
``twfe`` · ``stacked`` · ``imputation``   the estimators, each linear in the outcome
``inference``  clustered, restricted wild cluster bootstrap, Conley, randomization; sup-t bands
``did``        :func:`band_did` and :func:`event_study` over the estimators
``spatial_rings`` the spatial DID that sees rings (spatial Durbin panel in D, W D and the ring exposures)
``spatial_did`` the panel-SDM spatial DID with D and WD (queen, static geography)
``reach``      how far the effect reaches, from the data: the distance curve with a uniform band and
               Clarke's (2017) cross-validated reach
``analysis``   :func:`analyse`, the one call behind ``geo radiation``
``scenario``   the new-zone scenario (also importable as :mod:`geo.scenario`)
"""

from geo.radiation.analysis import EXPOSURES, Placebo, RadiationAnalysis, analyse, band_summary
from geo.radiation.did import ESTIMATORS, band_did, event_study
from geo.radiation.exposure import (
    ASSIGN_METHODS,
    EXPOSURE_MODES,
    BandAssignment,
    Exposure,
    assign_bands,
    exposure,
    group_label,
)
from geo.radiation.geometry import (
    DEFAULT_BANDS,
    DISTANCE_METHOD,
    Corridor,
    band_label,
    corridor,
    parse_bands,
    resolve_unit,
    rings,
)
from geo.radiation.inference import INFERENCE, parse_inference
from geo.radiation.reach import REACH_RULES, CVReach, DistanceCurve, cv_reach, distance_curve, ring_edges
from geo.radiation.results import BandDID, EventStudy
from geo.radiation.spatial_did import SpatialDID, queen_weights, spatial_did
from geo.radiation.spatial_rings import RingSpatialDID, ring_spatial_did

__all__ = [
    "DEFAULT_BANDS",
    "DISTANCE_METHOD",
    "ASSIGN_METHODS",
    "EXPOSURE_MODES",
    "EXPOSURES",
    "ESTIMATORS",
    "INFERENCE",
    "Corridor",
    "BandAssignment",
    "Exposure",
    "parse_bands",
    "band_label",
    "group_label",
    "resolve_unit",
    "corridor",
    "assign_bands",
    "exposure",
    "rings",
    "parse_inference",
    "BandDID",
    "EventStudy",
    "band_did",
    "event_study",
    "band_summary",
    "queen_weights",
    "SpatialDID",
    "spatial_did",
    "RingSpatialDID",
    "ring_spatial_did",
    "REACH_RULES",
    "DistanceCurve",
    "CVReach",
    "distance_curve",
    "cv_reach",
    "ring_edges",
    "Placebo",
    "RadiationAnalysis",
    "analyse",
]
