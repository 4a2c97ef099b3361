"""The estimation sample: a long unit-year frame with the outcome, controls and one column per treatment.

Every estimator (:mod:`.twfe`, :mod:`.stacked`, :mod:`.imputation`) starts
from :func:`design`.  The treatment columns come either from a static
:class:`~geo.radiation.exposure.BandAssignment` (``D_g,it = 1[group_i = g and
t >= treatment_year_i]``) or from a time-varying
:class:`~geo.radiation.exposure.Exposure` (its unit-year columns).  Panels may
be unbalanced (any unit-years missing); the units and years used are
recorded.  Units exposed in or before their first year with data have no
untreated year and are dropped (``always``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.errors import ModelError, SchemaError
from geo.radiation.exposure import BandAssignment, Exposure

__all__ = ["Design", "design", "labels_of", "entry_labels"]


@dataclass(frozen=True, eq=False)
class Design:
    """``df``: columns id, time, y, controls, the treatment columns (``cols``), ``first`` (first
    exposure year, NaN never), ``untreated`` (no treatment column is non-zero)."""

    df: pd.DataFrame = field(repr=False)
    y: str
    id: str
    time: str
    controls: tuple
    labels: tuple  # every treatment label, in reporting order
    cols: dict  # label -> column name in df (labels with some exposure in the sample)
    always: tuple
    geography: BandAssignment = field(repr=False)
    exposure: Exposure | None = field(repr=False, default=None)

    @property
    def kinds(self) -> tuple:
        return self.exposure.kinds if self.exposure is not None else ()

    @property
    def used(self) -> dict:
        d = self.df
        return {
            "units": int(d[self.id].nunique()),
            "years": [int(d[self.time].min()), int(d[self.time].max())],
            "n_years": int(d[self.time].nunique()),
            "obs": int(len(d)),
            "balanced": bool(d.groupby(self.id)[self.time].size().nunique() == 1
                             and d.groupby(self.id)[self.time].size().iat[0] == d[self.time].nunique()),
        }


def labels_of(treatment) -> tuple:
    if isinstance(treatment, Exposure):
        return treatment.labels
    return tuple(["host"] + treatment.bands)


def _column(label: str) -> str:
    return "D_" + "".join(ch if ch.isalnum() else "_" for ch in label)


def design(data, y: str, treatment, *, id: str = "adcode", time: str = "year", controls=()) -> Design:
    """Validate ``data`` and attach the treatment columns of ``treatment`` (BandAssignment or Exposure)."""
    controls = tuple(controls or ())
    if isinstance(data, pd.DataFrame) and isinstance(data.index, pd.MultiIndex) and id not in data.columns:
        data = data.reset_index()
    need = [id, time, y] + [c for c in controls if c != y]
    missing = [c for c in need if c not in data.columns]
    if missing:
        present = ", ".join(map(str, list(data.columns)[:20]))
        raise SchemaError(f"data has no column(s) {missing} (columns are: {present})")
    df = data[need].copy()
    df[id] = df[id].astype(str)
    geo_tab = treatment.assignment.table if isinstance(treatment, Exposure) else treatment.table
    unknown = ~df[id].isin(geo_tab.index)
    if unknown.any():
        raise SchemaError(f"column {id!r}: ids not in the band assignment, e.g. {df.loc[unknown, id].iat[0]!r}")
    for c in [y, *controls]:
        df[c] = pd.to_numeric(df[c], errors="coerce")
    bad = df[[y, *controls]].isna().any(axis=1) | ~np.isfinite(df[[y, *controls]].to_numpy(dtype=float)).all(axis=1)
    if bad.any():
        r = df[bad].iloc[0]
        raise SchemaError(
            f"column(s) {[y, *controls]} have empty or non-numeric values, e.g. {id} {r[id]} in {r[time]} "
            "(drop those unit-years: unbalanced panels are fine)"
        )
    try:
        df[time] = df[time].astype(int)
    except (TypeError, ValueError):
        raise SchemaError(f"column {time!r} must hold integer years") from None
    if df.duplicated([id, time]).any():
        r = df[df.duplicated([id, time])].iloc[0]
        raise SchemaError(f"duplicate rows for {id} {r[id]} in {r[time]}")
    if df[y].nunique() < 2:
        raise ModelError(f"outcome {y!r} is constant ({df[y].iat[0]!r}) in the data: there is nothing to estimate")
    labels = labels_of(treatment)
    if isinstance(treatment, Exposure):
        t = treatment.table.rename(columns={"id": id, "year": time})
        yrs = set(treatment.years)
        outside = ~df[time].isin(yrs)
        if outside.any():
            raise SchemaError(f"year {int(df.loc[outside, time].iat[0])} is not among the exposure's years")
        merged = df.merge(t[[id, time, *labels, "first_year"]], on=[id, time], how="left", validate="one_to_one")
        D = merged[list(labels)].to_numpy(dtype=float)
        first = merged["first_year"].to_numpy(dtype=float)
        geography = treatment.assignment
    else:
        tab = treatment.table
        group = tab["band"].reindex(df[id]).to_numpy()
        ty = tab["treatment_year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        first = pd.Series(ty, index=tab.index).reindex(df[id]).to_numpy()
        post = df[time].to_numpy() >= first
        D = np.column_stack([((group == g) & post).astype(float) for g in labels])
        first = np.where(np.isin(group, labels), first, np.nan)
        geography = treatment
    df = df.reset_index(drop=True)
    cols = {}
    for k, lab in enumerate(labels):
        cols[lab] = _column(lab)
        df[cols[lab]] = D[:, k]
    df["first"] = first
    df["untreated"] = ~(D != 0).any(axis=1)
    start = df.groupby(id)[time].transform("min").to_numpy()
    always_mask = df["first"].to_numpy() <= start
    always = tuple(sorted(df.loc[always_mask, id].unique()))
    df = df[~always_mask].reset_index(drop=True)
    if df.empty:
        raise ModelError("every unit is treated in or before its first year; nothing to compare")
    if df["untreated"].all():
        raise ModelError("no unit is exposed within the panel years; nothing to estimate")
    cols = {lab: c for lab, c in cols.items() if (df[c] != 0).any()}
    return Design(
        df=df, y=y, id=id, time=time, controls=controls, labels=tuple(labels), cols=cols, always=always,
        geography=geography, exposure=treatment if isinstance(treatment, Exposure) else None,
    )


def entry_labels(d: Design) -> dict:
    """unit id -> its entry group: the first treatment label (in ``d.cols`` order) non-zero in its first
    exposed year in the sample.  Leads and Callaway-Sant'Anna cohorts are defined by it."""
    df = d.df
    cols = list(d.cols.items())
    exposed = df[~df["untreated"]].sort_values(d.time).drop_duplicates(d.id)
    D = exposed[[c for _, c in cols]].to_numpy() != 0
    first = D.argmax(axis=1)
    return {u: cols[k][0] for u, k, any_ in zip(exposed[d.id], first, D.any(axis=1)) if any_}
