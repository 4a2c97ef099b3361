"""Spatial DID: a two-way fixed-effects panel spatial Durbin model with the zone dummy D and WD."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo._graph import to_csr
from geo.boundaries import china
from geo.errors import ModelError, SchemaError
from geo.radiation._common import num as _num
from geo.radiation.exposure import BandAssignment
from geo.radiation.spatial_rings import data_columns
from geo.weights import build

__all__ = ["queen_weights", "SpatialDID", "spatial_did"]


def queen_weights(units):
    """Row-standardised queen contiguity (scipy CSR, rows in ``units`` order) with each island linked both
    ways to its nearest unit by centroid distance (``geo.weights.build("queen", units)``), so every row
    sums to 1 as the two-way Lee-Yu panel estimator needs."""
    g = build("queen", units)
    if list(map(str, g.unique_ids)) != list(map(str, units.index)):
        raise ModelError("queen weights dropped or reordered units; cannot align them with the data")
    return to_csr(g, error=ModelError)


@dataclass(frozen=True, eq=False)
class SpatialDID:
    """Spatial DID: a two-way fixed-effects panel SDM with the zone dummy D (host x post) and WD.

    ``direct``: the zone's average effect on its host units; ``indirect``: the
    average effect on the other units through W (radiation if positive,
    siphon if negative); ``total``.  Each a dict with estimate, se, p, lower,
    upper (LeSage-Pace impacts simulated from the ML covariance, see
    ``durbin.impacts``).  ``durbin`` is the full :class:`geo.durbin.results.DurbinResult`.
    """

    y: str
    d_name: str
    direct: dict
    indirect: dict
    total: dict
    durbin: object = field(repr=False)
    assignment: BandAssignment = field(repr=False)
    weights: object = field(repr=False)
    weight_ids: tuple = field(repr=False)
    n_hosts: int = 0

    @property
    def rho(self) -> float:
        return float(self.durbin.rho)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({k: getattr(self, k) for k in ("direct", "indirect", "total")}).T

    def to_json(self) -> dict:
        clean = lambda d: {k: _num(v) for k, v in d.items()}  # noqa: E731
        return {
            "y": self.y,
            "estimator": "panel spatial Durbin model (two-way fixed effects, ML, Lee-Yu bias correction) with "
            "the zone dummy D = host x post and its spatial lag WD; impacts by LeSage-Pace",
            "zone_dummy": self.d_name,
            "direct": clean(self.direct),
            "indirect": clean(self.indirect),
            "total": clean(self.total),
            "rho": _num(self.rho),
            "n_hosts": self.n_hosts,
            "model": self.durbin.to_json(),
        }

    def summary(self) -> str:
        lines = [f"spatial DID of {self.y}: panel SDM with D (host x post) and WD, two-way fixed effects"]
        lines.append(f"  rho = {self.rho:.4f}; {self.n_hosts} host units")
        for k in ("direct", "indirect", "total"):
            d = getattr(self, k)
            lines.append(
                f"  {k:>8}: {d['estimate']:.4f} (se {d['se']:.4f}, p {d['p']:.3f}) [{d['lower']:.4f}, {d['upper']:.4f}]"
            )
        return "\n".join(lines)

    __str__ = summary


def spatial_did(
    data,
    y: str,
    assignment: BandAssignment,
    *,
    units=None,
    weights="queen",
    weight_ids=None,
    id: str = "adcode",
    time: str = "year",
    controls=(),
    draws: int = 1000,
    seed=None,
) -> SpatialDID:
    """Panel SDM  y_t = rho W y_t + D_t b + W D_t t + X_t beta + W X_t theta + mu + alpha_t + e_t.

    D_it = host_i x 1[t >= treatment_year_i].  ``weights``: a spec string for
    :func:`geo.weights.build` on ``units`` (default "queen": row-standardised,
    islands linked to their nearest unit; ``units`` default to the embedded
    boundaries restricted to the data's ids), a libpysal Graph, or a sparse
    matrix with ``weight_ids``.  Fitted by :func:`geo.durbin.panel.fit_panel`
    (balanced panels only).
    """
    controls = tuple(controls or ())
    if isinstance(data, pd.DataFrame) and isinstance(data.index, pd.MultiIndex) and id not in data.columns:
        data = data.reset_index()
    df = data_columns(data, id, time, y, controls)
    tab = assignment.table
    unknown = ~df[id].isin(tab.index)
    if unknown.any():
        raise SchemaError(f"column {id!r}: ids not in the band assignment, e.g. {df.loc[unknown, id].iat[0]!r}")
    ty = tab["treatment_year"].astype("Float64").to_numpy(dtype=float, na_value=np.inf)
    tyear = pd.Series(ty, index=tab.index).reindex(df[id]).to_numpy()
    host = tab["host"].reindex(df[id]).to_numpy(dtype=bool)
    d_name = "zone_D"
    df[d_name] = (host & (df[time].to_numpy() >= tyear)).astype(float)
    if df[d_name].nunique() < 2:
        raise ModelError("the zone dummy D never changes in the data; no host is treated within the panel years")
    ids = pd.Index(sorted(df[id].unique()))
    if isinstance(weights, str):
        if units is None:
            units = china()
        missing_units = ids.difference(units.index.astype(str))
        if len(missing_units):
            raise SchemaError(f"ids not in the boundaries, e.g. {missing_units[0]!r}")
        frame = data.copy()
        frame[id] = frame[id].astype(str)
        graph = build(weights, units.loc[list(ids)], data=frame.set_index(id))
        weights, weight_ids = graph.sparse.tocsr(), tuple(map(str, graph.unique_ids))
    elif hasattr(weights, "unique_ids") and hasattr(weights, "sparse"):
        weights, weight_ids = weights.sparse.tocsr(), tuple(map(str, weights.unique_ids))
    from geo.durbin.panel import fit_panel  # lazy: geo.durbin loads scipy.stats (~0.6 s); --spatial only

    res = fit_panel(
        df, y, [d_name, *controls], weights=weights, weight_ids=weight_ids, id=id, time=time,
        model="sdm", effects="twoways", draws=draws, seed=seed,
    )
    imp = res.impacts

    def pick(kind):
        get = lambda frame: float(frame.at[d_name, kind]) if frame is not None else float("nan")  # noqa: E731
        return {
            "estimate": float(imp.estimates.at[d_name, kind]),
            "se": get(imp.se),
            "p": get(imp.p),
            "lower": get(imp.lower),
            "upper": get(imp.upper),
        }

    return SpatialDID(
        y=y,
        d_name=d_name,
        direct=pick("direct"),
        indirect=pick("indirect"),
        total=pick("total"),
        durbin=res,
        assignment=assignment,
        weights=weights,
        weight_ids=tuple(map(str, weight_ids)),
        n_hosts=int(tab.loc[tab.index.isin(ids), "host"].sum()),
    )
