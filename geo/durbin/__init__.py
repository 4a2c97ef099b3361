"""Spatial Durbin-family models by maximum likelihood, with impacts and tests.

``fit(data, y, x, *, weights, model="sdm", ...)`` fits a cross-section (or, with
``time=``, a fixed-effects panel via :mod:`geo.durbin.panel`) and returns a
:class:`~geo.durbin.results.DurbinResult`.

Modules: ``engine`` (the one concentrated-likelihood maximiser, design and outcome
checks), ``tests`` (chi-squared records: LR, Wald, Hausman, LM), ``logdet``
(log|I - rho W|), ``cross`` (cross-section ML), ``impacts`` (LeSage-Pace impacts with
simulated inference), ``results`` (the result object), ``panel`` (panel fixed effects).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from geo._graph import ids_of, to_csr
from geo.durbin.cross import fit_cross
from geo.durbin.dynamic import fit_dynamic
from geo.durbin.logdet import LogDet, make_logdet
from geo.durbin.panel import fit_panel
from geo.durbin.random import fit_random
from geo.durbin.results import DurbinResult
from geo.errors import InputError, JoinError, ModelError, OptionError, SchemaError, check_choice

__all__ = ["fit", "make_logdet", "LogDet", "DurbinResult", "MODELS", "EFFECTS"]

MODELS = ("sdm", "sar", "sem", "slx", "sdem", "ols", "sac", "gns")
EFFECTS = ("none", "individual", "time", "twoways", "random")


def _weights_matrix_and_ids(weights):
    """(CSR array, ids or None) from geo's Weights, a libpysal Graph / W or a scipy sparse / dense matrix
    (the one conversion, :func:`geo._graph.to_csr`; ids by :func:`geo._graph.ids_of`)."""
    if not (hasattr(weights, "sparse") or sp.issparse(weights) or isinstance(weights, np.ndarray)):
        raise ModelError(
            f"weights must be geo's Weights (geo.weights.build), a libpysal Graph or a scipy sparse matrix, "
            f"got {type(weights).__name__}"
        )
    return to_csr(weights, error=ModelError), ids_of(weights)


def _align(data: pd.DataFrame, columns, ids, id_col):
    """Rows of ``data`` in the order of ``ids`` (the graph's), indexed by id."""
    frame = data
    if id_col is not None:
        if id_col not in frame.columns:
            raise SchemaError(f"id column {id_col!r} not found; columns are {', '.join(map(str, frame.columns))}")
        frame = frame.set_index(id_col)
    if ids is None:
        return frame.loc[:, columns]
    if frame.index.has_duplicates:
        dup = frame.index[frame.index.duplicated()][:5].tolist()
        raise JoinError(f"data has duplicated ids {dup}; one row per unit is needed for a cross-section")
    if not ids.isin(frame.index).all() or len(ids) != len(frame):
        # ids as text on both sides (e.g. integer POLYID in the file, string ids in the graph)
        frame = frame.set_axis(frame.index.map(str))
        ids_key = ids.map(str)
    else:
        ids_key = ids
    missing = ids_key.difference(frame.index)
    if len(missing):
        raise JoinError(
            f"{len(missing)} unit(s) of the weights have no row in the data, e.g. {list(missing[:5])}; "
            "subset the weights or complete the data"
        )
    extra = frame.index.difference(ids_key)
    if len(extra):
        raise JoinError(
            f"{len(extra)} data row(s) have ids not in the weights, e.g. {list(extra[:5])}; "
            "build the weights on the same units"
        )
    frame = frame.loc[ids_key, columns]
    return frame.set_axis(ids)


def fit(
    data,
    y: str,
    x,
    *,
    weights,
    model: str = "sdm",
    effects: str = "none",
    id=None,
    time=None,
    bias_correction: str = "lee-yu",
    logdet="auto",
    draws: int = 1000,
    seed=None,
    impacts_order: int = 5,
    covariance: str = "auto",
    dynamic: bool = False,
    balance: str = "error",
) -> DurbinResult:
    """Fit a spatial Durbin-family model.

    Parameters
    ----------
    data : DataFrame or GeoDataFrame
        Indexed by unit id (or with the ids in column ``id``); rows are aligned to the
        weights' ids (``graph.unique_ids``) by id, never by position.
    y : str
        Dependent variable.
    x : str or list of str
        Regressors (an intercept is added; never lagged).
    weights : libpysal Graph or scipy sparse matrix
        With a sparse matrix, rows of ``data`` are taken in their order.
    model : {"sdm", "sar", "sem", "slx", "sdem", "ols", "sac", "gns"}
        ``sac``: lag and error (spatialreg ``sacsarlm``); ``gns``: SAC with WX (``Durbin=TRUE``);
        cross-section only (see :mod:`geo.durbin.sac` for the identification caveat).
        ``ols`` adds the LM diagnostics (LM-lag, LM-error, robust, SARMA) as ``tests``.
    effects : {"none", "individual", "time", "twoways", "random"}
        Fixed effects, or random effects (SAR/SDM/SEM, :mod:`geo.durbin.random`, with a Hausman
        test against fixed effects); only with ``time`` (panel).
    id, time : str, optional
        Unit-id and period columns (``time`` selects the panel estimator).
    bias_correction : {"lee-yu", "none"}
        Panel two-way effects only.
    logdet : {"auto", "eigen", "lu", "chebyshev", "mc"} or LogDet
    draws, seed : simulation of the impacts' distribution.
    impacts_order : highest power of W in the decomposition of impacts by neighbour order.
    covariance : {"auto", "information", "hessian"}
    dynamic : bool
        Panels only: the dynamic spatial Durbin (or lag) panel with y_{t-1} and W y_{t-1}
        (:mod:`geo.durbin.dynamic`; bias-corrected QML, short- and long-run impacts).
    balance : {"error", "drop", "ml"}
        Panels only: an unbalanced panel is an error naming the gaps, or the units not
        observed in every period are dropped (:mod:`geo.durbin.balance`), or (SAR/SDM) the
        missing outcomes are integrated out by exact ML (:mod:`geo.durbin.missing`).
    """
    check_choice("model", model, MODELS)
    check_choice("effects", effects, EFFECTS)
    check_choice("bias_correction", bias_correction, ("lee-yu", "none"))
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    xs = [x] if isinstance(x, str) else list(x)
    if not xs:
        raise OptionError(f"x={x!r}: give at least one regressor")
    if isinstance(impacts_order, bool) or not isinstance(impacts_order, (int, np.integer)) or impacts_order < 0:
        raise OptionError(f"impacts_order={impacts_order!r} (--order) must be a whole number >= 0")
    columns = [y] + xs
    for c in columns + ([time] if time is not None else []):
        if c not in data.columns:
            raise SchemaError(f"column {c!r} not found in data; columns are {', '.join(map(str, data.columns))}")
    if len(set(columns)) != len(columns):
        raise ModelError(f"y and x must be distinct columns, got y={y!r}, x={xs!r}")

    if time is not None:
        if effects == "random":
            if dynamic:
                raise OptionError("dynamic=True with effects='random' is not offered; use fixed effects")
            return fit_random(data, y, xs, weights=weights, model=model, id=id, time=time, logdet=logdet,
                              draws=draws, seed=seed, balance=balance)
        if dynamic:
            return fit_dynamic(
                data, y, xs, weights=weights, model=model, effects=effects, id=id, time=time,
                bias_correction=bias_correction, logdet=logdet, draws=draws, seed=seed, balance=balance,
            )
        return fit_panel(
            data, y, xs, weights=weights, model=model, effects=effects, id=id, time=time,
            bias_correction=bias_correction, logdet=logdet, draws=draws, seed=seed, covariance=covariance,
            impacts_order=impacts_order, balance=balance,
        )
    if dynamic:
        raise OptionError("dynamic=True needs a panel: pass time= (the period column)")
    if effects != "none":
        raise ModelError(f"effects={effects!r} needs a panel: pass time= (the period column)")

    W, ids = _weights_matrix_and_ids(weights)
    frame = _align(data, columns, ids, id)
    if ids is None and len(frame) != W.shape[0]:
        raise ModelError(f"weights have {W.shape[0]} rows but data has {len(frame)}")
    values = frame.apply(pd.to_numeric, errors="coerce")
    for c in columns:
        bad = values[c].isna() & frame[c].notna()
        if bad.any():
            raise SchemaError(f"column {c!r} has non-numeric values, e.g. {frame[c][bad].iloc[0]!r}")
        if values[c].isna().any():
            k = int(values[c].isna().sum())
            raise SchemaError(
                f"column {c!r} has {k} missing value(s) (e.g. unit {values.index[values[c].isna()][0]!r}); "
                "spatial models need every unit of the weights: impute or drop the units from data and weights"
            )
    return fit_cross(
        values[y].to_numpy(float), values[xs].to_numpy(float), W, x_names=xs, y_name=y, index=values.index,
        model=model, logdet=logdet, covariance=covariance, draws=draws, seed=seed, impacts_order=impacts_order,
    )

