"""Stacked DID (Cengiz, Dube, Lindner & Zipperer 2019) on the host and ring exposure columns.

One sub-experiment per first-exposure year g: the units first exposed in g and
clean controls (never exposed, or first exposed after g + post), years
g - pre .. g + post; stack x unit and stack x year fixed effects; clustered by
unit (a unit appears in several stacks) with the factor G/(G-1)·(N-1)/(N-K),
K = regressors + stack-year cells - stacks + 1.  Robust to effects that differ
across cohorts; within a stack the effect is averaged over its window.
"""

from __future__ import annotations

import pandas as pd

from geo.errors import ModelError, OptionError
from geo.radiation.twfe import fit_fe_ols

__all__ = ["TEXT", "stack", "fit"]

TEXT = (
    "stacked DID (Cengiz, Dube, Lindner & Zipperer 2019): one sub-experiment per first-exposure year g with the "
    "units first exposed in g and clean controls (never exposed, or first exposed after g+{post}), years "
    "g-{pre}..g+{post}; stack x unit and stack x year fixed effects, SEs clustered by unit"
)


def stack(df, id, time, window) -> pd.DataFrame:
    pre, post = int(window[0]), int(window[1])
    if pre < 1 or post < 0:
        raise OptionError(f"window={window!r}: need at least one pre-period and a non-negative post window")
    cohorts = sorted(df["first"].dropna().unique())
    tmin, tmax = df[time].min(), df[time].max()
    parts = []
    for k, g in enumerate(cohorts):
        lo, hi = g - pre, g + post
        treated = df["first"] == g
        clean = df["first"].isna() | (df["first"] > hi)
        if not clean.any() or g > tmax:
            continue
        sub = df[(treated | clean) & (df[time] >= max(lo, tmin)) & (df[time] <= min(hi, tmax))].copy()
        if sub.loc[sub["first"] == g, time].lt(g).sum() == 0:
            continue
        sub["g"] = g
        sub["treated"] = sub["first"] == g
        sub["stack_unit"] = f"{int(g)}|" + sub[id]
        sub["stack_year"] = k * 10000 + sub[time]
        parts.append(sub)
    if not parts:
        raise ModelError("no treatment cohort has both a pre-period and clean controls; nothing to stack")
    out = pd.concat(parts, ignore_index=True)
    out["cluster"] = pd.factorize(out[id])[0]
    return out


def fit(d, window):
    st = stack(d.df, d.id, d.time, window)
    cols = [c for c in d.cols.values() if (st[c] != 0).any()]
    if not cols:
        raise ModelError("no treatment cohort has clean controls within the window; nothing to estimate")
    su = pd.factorize(st["stack_unit"])[0]
    sy = pd.factorize(st["stack_year"])[0]
    n_second = int(st["stack_year"].nunique()) - int(st["g"].nunique()) + 1
    lf, _ = fit_fe_ols(st, d.y, cols + list(d.controls), [su, sy], st["cluster"].to_numpy(), n_second)
    return lf, st
