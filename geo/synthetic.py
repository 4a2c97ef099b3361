"""A SYNTHETIC city-year panel on the real boundaries and the real zone registry (for demos and tests).

No real prefecture-level statistics can be shipped with `geo`, so the demo
uses this panel.  Every variable it invents ends in ``_synthetic``; the frame
has a ``synthetic`` column (all True) and ``attrs["synthetic"] = True``.

Data-generating process (parameters in :data:`DEMO_TRUTH`)
---------------------------------------------------------
Units i: the embedded prefecture-and-above units (337); years t: 2000-2023.
Zones: the state-level new zones of ``geo.zones.registry(kind="new-zone")``.

1. Band assignment (:func:`geo.radiation.assign_bands`, ``assign="centroid"``,
   bands 100/200/300 km): hosts are the zones' host units (treatment year = the
   earliest approval year); every other unit takes the band of the geodesic
   distance from its equal-area centroid to the nearest zone point and that
   zone's approval year; units 300 km or more away are never treated.
   ``post_it = 1[t >= treatment_year_i]``.
2. Covariates (synthetic):
   ``invest_share_synthetic_it = clip(0.25 + 0.05 a_i + 0.004 (t-2000) + 0.03 e_it, 0.05, 0.80)``,
   ``log_pop_density_synthetic_it = 5.5 + 0.9 b_i + 0.005 (t-2000) + 0.02 f_it`` with a, b, e, f iid N(0, 1).
3. Fixed effects: ``alpha_i = 0.25 z(lon_i) + 0.30 c_i`` (z = standardised
   centroid longitude, c iid N(0, 1)); ``gamma_t = 0.10 (t-2000) - 0.0012 (t-2000)^2``.
4. Zone terms: ``Z_it = tau_host H_i post_it + sum_b delta_b B_ib post_it`` with
   tau_host = 0.12 and delta = +0.05 (0-100 km), +0.02 (100-200 km) and
   -0.03 (200-300 km, the "siphon" band).
5. Spatial Durbin structure on W = row-standardised queen contiguity, each
   island (no queen neighbour) linked both ways to its nearest unit by centroid
   distance, before standardising:
   ``y_t = (I - rho W)^{-1} [5.8 + alpha + gamma_t + X_t beta + W X_t theta + Z_t + sigma eps_t]``,
   rho = 0.30, beta = (0.80, 0.10), theta = (0.30, -0.05) for
   (invest_share, log_pop_density), sigma = 0.05, eps iid N(0, 1).
   ``log_gdp_pc_synthetic = y``; ``gdp_pc_synthetic = exp(y)`` (yuan, synthetic).
6. ``zone_effect_synthetic_it = [(I - rho W)^{-1} Z_t]_i``: the true effect of
   all zones on unit i in year t (direct plus spatial multiplier).  Because of
   rho, a band-DID on this panel estimates band averages of this reduced-form
   effect, not the structural tau/delta; :func:`implied_effects` computes
   those averages (listed in ``layers/demo_panel_synthetic.PROVENANCE.md``).

Random draws come from ``numpy.random.default_rng(seed)`` in the order a, b, c,
e, f, eps (arrays of shape (n_units,) for a, b, c and (n_years, n_units) for e, f, eps).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.boundaries import centroids, china
from geo.errors import InputError
from geo.zones import registry

__all__ = [
    "DEMO_TRUTH",
    "DEMO_SEED",
    "DEMO_BANDS",
    "demo_panel",
    "demo_weights",
    "true_zone_effects",
    "implied_effects",
    "simulate",
]

DEMO_SEED = 20261122
DEMO_BANDS = (100.0, 200.0, 300.0)

#: The true parameters of :func:`demo_panel` (the defaults).
DEMO_TRUTH: dict = {
    "outcome": "log_gdp_pc_synthetic",
    "covariates": ["invest_share_synthetic", "log_pop_density_synthetic"],
    "seed": DEMO_SEED,
    "years": [2000, 2023],
    "zones": "geo.zones.registry(kind='new-zone') (19 state-level new zones, real approval years)",
    "assignment": "geo.radiation.assign_bands(assign='centroid', bands=(100, 200, 300)); nearest zone; "
    "host = zone host units; post = year >= treatment_year",
    "bands_km": list(DEMO_BANDS),
    "host_effect": 0.12,
    "band_effects": {"0-100 km": 0.05, "100-200 km": 0.02, "200-300 km": -0.03},
    "siphon_band": "200-300 km",
    "rho": 0.30,
    "beta": {"invest_share_synthetic": 0.80, "log_pop_density_synthetic": 0.10},
    "theta": {"invest_share_synthetic": 0.30, "log_pop_density_synthetic": -0.05},
    "intercept": 5.8,
    "sigma": 0.05,
    "unit_effect": "0.25 * standardised centroid longitude + 0.30 * N(0,1)",
    "year_effect": "0.10 (t-2000) - 0.0012 (t-2000)^2",
    "weights": "queen contiguity, islands linked both ways to the nearest unit by centroid distance, row-standardised",
}


def demo_weights(units):
    """Row-standardised queen weights (scipy CSR) with islands linked to their nearest unit."""
    from geo.radiation import queen_weights  # lazy: geo.radiation loads scipy's solvers, not needed for the indicators

    return queen_weights(units)


def _default_zones():
    return registry(kind="new-zone")


def true_zone_effects(assignment, years, *, host_effect, band_effects) -> np.ndarray:
    """(n_years, n_units) structural zone terms Z_t from a :class:`geo.radiation.BandAssignment`."""
    t = assignment.table
    per_unit = np.zeros(len(t))
    per_unit[t["host"].to_numpy()] = host_effect
    for band, eff in band_effects.items():
        per_unit[(t["band"] == band).to_numpy()] = eff
    ty = t["treatment_year"].astype("Float64").to_numpy(dtype=float, na_value=np.inf)
    yrs = np.asarray(list(years))[:, None]
    return (yrs >= ty[None, :]) * per_unit[None, :]


def demo_panel(units=None, zones=None, *, years=range(2000, 2024), seed: int = DEMO_SEED) -> pd.DataFrame:
    """The SYNTHETIC demo panel (long: adcode, year, name, variables); see the module docstring.

    ``units``: boundaries (default the embedded 337 units); ``zones``: zone
    GeoDataFrame (default the real new-zone registry).  Same seed, same panel.
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu

    from geo.radiation import assign_bands  # lazy: as above

    units = china() if units is None else units
    zones = _default_zones() if zones is None else zones
    years = [int(y) for y in years]
    if not years:
        raise InputError("demo_panel: give at least one year")
    T = DEMO_TRUTH
    n, nt = len(units), len(years)
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(n)
    b = rng.standard_normal(n)
    c = rng.standard_normal(n)
    e = rng.standard_normal((nt, n))
    f = rng.standard_normal((nt, n))
    eps = rng.standard_normal((nt, n))

    tt = (np.asarray(years, float) - 2000.0)[:, None]
    invest = np.clip(0.25 + 0.05 * a[None, :] + 0.004 * tt + 0.03 * e, 0.05, 0.80)
    popd = 5.5 + 0.9 * b[None, :] + 0.005 * tt + 0.02 * f
    lon = centroids(units).x.to_numpy()
    alpha = 0.25 * (lon - lon.mean()) / lon.std() + 0.30 * c
    gamma = 0.10 * tt - 0.0012 * tt**2

    asg = assign_bands(units, zones=zones, bands=DEMO_BANDS, assign="centroid")
    Z = true_zone_effects(asg, years, host_effect=T["host_effect"], band_effects=T["band_effects"])

    W = demo_weights(units)
    bi, bp = T["beta"]["invest_share_synthetic"], T["beta"]["log_pop_density_synthetic"]
    ti, tp = T["theta"]["invest_share_synthetic"], T["theta"]["log_pop_density_synthetic"]
    WX_i = (W @ invest.T).T
    WX_p = (W @ popd.T).T
    rhs = T["intercept"] + alpha[None, :] + gamma + bi * invest + bp * popd + ti * WX_i + tp * WX_p + Z
    rhs = rhs + T["sigma"] * eps
    lu = splu(sp.csc_matrix(sp.identity(n) - T["rho"] * W))
    y = lu.solve(np.ascontiguousarray(rhs.T)).T
    zeff = lu.solve(np.ascontiguousarray(Z.T)).T

    idx = units.index.name or "adcode"
    out = pd.DataFrame(
        {
            idx: np.tile(units.index.astype(str).to_numpy(), nt),
            "year": np.repeat(years, n),
            "name": np.tile(units["name"].astype(str).to_numpy() if "name" in units.columns else units.index, nt),
            "log_gdp_pc_synthetic": y.ravel(),
            "gdp_pc_synthetic": np.exp(y.ravel()),
            "invest_share_synthetic": invest.ravel(),
            "log_pop_density_synthetic": popd.ravel(),
            "zone_effect_synthetic": zeff.ravel(),
            "synthetic": True,
        }
    )
    out = out.sort_values([idx, "year"], kind="stable").reset_index(drop=True)
    out.attrs["synthetic"] = True
    out.attrs["truth"] = dict(T, seed=seed)
    return out


def implied_effects(panel: pd.DataFrame, assignment) -> dict:
    """Mean of ``zone_effect_synthetic`` over treated unit-years per group (host and each band)."""
    idx = panel.columns[0]
    t = assignment.table
    ty = t["treatment_year"].astype("Float64").to_numpy(dtype=float, na_value=np.inf)
    tyear = pd.Series(ty, index=t.index).reindex(panel[idx]).to_numpy()
    group = t["band"].reindex(panel[idx]).to_numpy()
    post = panel["year"].to_numpy() >= tyear
    out = {}
    for g in ["host"] + assignment.bands:
        m = post & (group == g)
        out[g] = float(panel.loc[m, "zone_effect_synthetic"].mean()) if m.any() else float("nan")
    return out


def simulate(
    assignment,
    *,
    years=range(2005, 2021),
    host_effect: float = 0.0,
    band_effects: dict | None = None,
    wd_effect: float = 0.0,
    rho: float = 0.0,
    weights=None,
    sigma: float = 0.05,
    seed=None,
    id_name: str = "adcode",
) -> pd.DataFrame:
    """A SYNTHETIC panel with known zone effects on the units of a :class:`geo.radiation.BandAssignment`.

    ``y_synthetic_it = [(I - rho W)^{-1} (alpha + gamma_t + Z_t + wd_effect W D_t + sigma eps_t)]_i`` with
    Z from ``host_effect`` and ``band_effects`` (as in :func:`demo_panel`),
    D_t = host x post, alpha ~ N(0, 0.3^2), gamma_t = 0.05 (t - t_0), eps iid N(0, 1).
    ``weights`` (row-standardised sparse, rows in assignment order) is needed
    when rho or wd_effect is non-zero.  For recovery tests and power checks.
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu

    years = [int(y) for y in years]
    t = assignment.table
    n, nt = len(t), len(years)
    rng = np.random.default_rng(seed)
    alpha = 0.3 * rng.standard_normal(n)
    eps = rng.standard_normal((nt, n))
    gamma = 0.05 * (np.asarray(years, float) - years[0])[:, None]
    Z = true_zone_effects(assignment, years, host_effect=host_effect, band_effects=band_effects or {})
    rhs = alpha[None, :] + gamma + Z + sigma * eps
    if wd_effect or rho:
        if weights is None:
            raise InputError("simulate: rho or wd_effect needs weights")
        D = true_zone_effects(assignment, years, host_effect=1.0, band_effects={})
        rhs = rhs + wd_effect * (weights @ D.T).T
        lu = splu(sp.csc_matrix(sp.identity(n) - rho * weights))
        y = lu.solve(np.ascontiguousarray(rhs.T)).T
    else:
        y = rhs
    out = pd.DataFrame(
        {
            id_name: np.tile(t.index.astype(str).to_numpy(), nt),
            "year": np.repeat(years, n),
            "y_synthetic": y.ravel(),
            "synthetic": True,
        }
    )
    out.attrs["synthetic"] = True
    return out
