"""Callaway & Sant'Anna (2021) group-time effects per ring (``estimator="cs"``).

For each entry group l (the unit's group in its first exposed year: host or a
ring), cohort g (first exposure year) and year t, with the universal base year
g - 1 and the not-yet-exposed units as controls (exposed after max(t, g-1), or
never):

    ATT(g, t, l) = mean_{i in cohort g, entry l} (y_it - y_i,g-1) - mean_{j not yet exposed} (y_jt - y_j,g-1)

over the units observed in both years (unbalanced panels: each cell uses its
own units).  Aggregations per group l, weighted by the number of treated units
in each cell: ``simple`` (all t >= g: the group's effect, the row of the band
table), ``dynamic`` (by e = t - g) and ``group`` (by cohort).  Standard errors
from the influence functions of the cell means summed by unit (clustered by
unit, the aggregation weights taken as known), times G/(G-1); t with G-1 df.
No covariates (unconditional parallel trends).  With the time-varying exposure
a unit entering a ring may later move to a nearer one: its ATT is the effect
of having entered through l, whatever came after.  The wild bootstrap, Conley
and randomization inference are not wired for this estimator (``cluster``
only).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.errors import ModelError
from geo.radiation.design import entry_labels

__all__ = ["TEXT", "fit"]

TEXT = (
    "Callaway & Sant'Anna (2021) ATT(g,t) per entry group (host or ring) with not-yet-exposed controls, base year "
    "g-1, simple aggregation weighted by treated units; influence-function SEs clustered by unit, G/(G-1), t(G-1)"
)


def cells(d):
    """Per (label, g, t) cell: ATT, n_treated and the unit-level influence (dict unit -> value)."""
    df = d.df
    wide = df.pivot(index=d.id, columns=d.time, values=d.y)
    first = df.drop_duplicates(d.id).set_index(d.id)["first"].reindex(wide.index)
    entry = pd.Series(entry_labels(d), dtype=object).reindex(wide.index)
    years = list(wide.columns)
    out = []
    for lab in d.cols:
        for g in sorted(first[entry == lab].dropna().unique()):
            base = g - 1
            if base not in wide.columns:
                continue
            treated = (entry == lab) & (first == g)
            for t in years:
                if t == base:
                    continue
                ctrl = first.isna() | (first > max(t, base))
                dy = wide[t] - wide[base]
                ti = dy[treated].dropna()
                ci = dy[ctrl & ~treated].dropna()
                if len(ti) == 0 or len(ci) < 2:
                    continue
                att = ti.mean() - ci.mean()
                infl = pd.concat([(ti - ti.mean()) / len(ti), -(ci - ci.mean()) / len(ci)])
                out.append({"label": lab, "g": int(g), "t": int(t), "att": float(att), "n": len(ti), "infl": infl})
    if not out:
        raise ModelError("no cohort has a base year and not-yet-exposed controls; nothing to estimate")
    return out


def aggregate(cs, key, units):
    """{key value: (estimate, influence Series over units)} for cells grouped by ``key(cell)`` (None drops)."""
    groups = {}
    for c in cs:
        k = key(c)
        if k is not None:
            groups.setdefault(k, []).append(c)
    out = {}
    for k, cl in groups.items():
        w = np.array([c["n"] for c in cl], float)
        w = w / w.sum()
        est = float(np.dot(w, [c["att"] for c in cl]))
        infl = pd.Series(0.0, index=units)
        for wi, c in zip(w, cl):
            infl = infl.add(wi * c["infl"], fill_value=0.0)
        out[k] = (est, infl)
    return out


def fit(d):
    """{label: (estimate, se)}, n_units per label, G, and the cells (for the event study)."""
    cs = cells(d)
    units = pd.Index(d.df[d.id].unique())
    G = len(units)
    simple = aggregate(cs, lambda c: c["label"] if c["t"] >= c["g"] else None, units)
    labels = [lab for lab in d.cols if lab in simple]
    est = np.array([simple[lab][0] for lab in labels])
    P = np.column_stack([simple[lab][1].reindex(units).fillna(0.0).to_numpy() for lab in labels])
    V = G / (G - 1) * (P.T @ P)
    return labels, est, V, G, cs
