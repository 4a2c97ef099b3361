"""Balanced panels from unbalanced tables: find the gaps, refuse them clearly, or keep the complete units.

``balance_panel(frame, id=, time=, columns=, policy=)`` looks at every (unit, period) of
the units in ``units`` (default: the ids in the table) and the periods in the table. A
cell is a gap when its row is absent or any of ``columns`` is empty there.

* ``policy="error"`` (the default of every panel model): a :class:`~geo.errors.SchemaError`
  that names the gaps (units, periods, how many) and offers ``balance="drop"``
  (``--balance drop``);
* ``policy="drop"``: keep the units observed in every period, and report the dropped
  units (code and name when ``names`` are given) and the observations lost.

Nothing is imputed. ML on the observed cells of a panel with missing outcomes is
``balance="ml"`` in :mod:`geo.durbin.missing` (this module then only reports the gaps).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.errors import ModelError, SchemaError, check_choice

__all__ = ["BalanceReport", "balance_panel", "POLICIES"]

POLICIES = ("error", "drop", "ml")


@dataclass(frozen=True)
class BalanceReport:
    """What balancing did: policy, units kept and dropped, observations lost, gaps found."""

    policy: str
    n_units: int  # units kept
    n_periods: int
    dropped_units: tuple  # ids
    dropped_names: tuple  # names (or ids when no names are known)
    observations_lost: int  # observed (complete) unit-periods of the dropped units
    gaps: int  # unit-periods without complete data among the units considered

    def to_json(self) -> dict:
        return {
            "policy": self.policy,
            "units_kept": int(self.n_units),
            "periods": int(self.n_periods),
            "dropped_units": [{"id": str(i), "name": str(n)} for i, n in zip(self.dropped_units, self.dropped_names)],
            "observations_lost": int(self.observations_lost),
            "gaps": int(self.gaps),
        }

    def note(self) -> str | None:
        if self.policy == "error" or not self.gaps:
            return None
        if self.policy == "ml":
            return (f"unbalanced panel: {self.gaps} unit-periods missing, estimated by ML on the observed cells "
                    "(missing at random assumed)")
        shown = ", ".join(f"{i} {n}" if str(n) != str(i) else str(i)
                          for i, n in zip(self.dropped_units[:10], self.dropped_names[:10]))
        more = f" and {len(self.dropped_units) - 10} more" if len(self.dropped_units) > 10 else ""
        return (f"balance=drop: {len(self.dropped_units)} unit(s) not observed in every period were dropped "
                f"({shown}{more}); {self.observations_lost} observation(s) lost; {self.n_units} units x "
                f"{self.n_periods} periods used")


def _label(i, names) -> str:
    if names is None:
        return str(i)
    n = names.get(i, None) if hasattr(names, "get") else None
    return f"{i} {n}" if n is not None and str(n) != str(i) else str(i)


def balance_panel(frame: pd.DataFrame, *, id: str, time: str, columns, units=None, names=None,
                  policy: str = "error", option: str = "balance='drop' (--balance drop)"):
    """(balanced long frame, BalanceReport) for ``columns`` over ``units`` x the table's periods.

    ``units``: the ids that should be there (e.g. the weights' units; default the table's);
    ``names``: a mapping id -> display name for messages and the report. Rows of units not
    in ``units`` are left to the caller's id checks. With ``policy="ml"`` the frame is
    returned unchanged (gaps kept) with the report of the gaps.
    """
    check_choice("balance", policy, POLICIES)
    columns = list(columns)
    ids = pd.Index(pd.unique(frame[id])) if units is None else pd.Index(units)
    periods = pd.Index(np.sort(pd.unique(frame[time].dropna())))
    sub = frame.loc[frame[id].isin(ids), [id, time] + columns]
    complete = sub[columns].notna().all(axis=1)
    for c in columns:
        v = sub[c]
        if pd.api.types.is_numeric_dtype(v):
            complete &= np.isfinite(v.to_numpy(dtype=float, na_value=np.nan))
    have = sub.loc[complete.to_numpy(), [id, time]].drop_duplicates()  # duplicated rows: the caller's error
    counts = have.groupby(id)[time].nunique().reindex(ids, fill_value=0)
    full = counts == len(periods)
    gaps = int(len(ids) * len(periods) - len(have))
    dropped = ids[~full.to_numpy()]
    report = BalanceReport(
        policy=policy,
        n_units=int(full.sum()) if policy == "drop" else len(ids),
        n_periods=len(periods),
        dropped_units=tuple(dropped) if policy == "drop" else (),
        dropped_names=tuple(
            (names.get(i, i) if hasattr(names, "get") else i) if names is not None else i for i in dropped
        ) if policy == "drop" else (),
        observations_lost=int(counts[~full].sum()) if policy == "drop" else 0,
        gaps=gaps,
    )
    if gaps == 0 or policy == "ml":
        return frame, report
    if policy == "error":
        per_unit = []
        for i in dropped[:3]:
            seen = set(have.loc[have[id] == i, time])
            miss = [p for p in periods if p not in seen]
            rows = sub[sub[id] == i].set_index(time)
            parts = []
            for p in miss[:4]:
                label = str(p.item() if hasattr(p, "item") else p)
                if p in rows.index:
                    row = rows.loc[[p]].iloc[0]
                    empty = [c for c in columns if pd.isna(row[c]) or (
                        isinstance(row[c], (int, float, np.number)) and not np.isfinite(float(row[c])))]
                    label += f" (empty {', '.join(repr(c) for c in empty)})" if empty else ""
                parts.append(label)
            per_unit.append(f"{_label(i, names)} lacks {', '.join(parts)}{' …' if len(miss) > 4 else ''}")
        raise SchemaError(
            f"unbalanced panel: {len(dropped)} of {len(ids)} units lack data in some of the {len(periods)} periods "
            f"({gaps} unit-periods missing or empty in {', '.join(map(repr, columns))}; e.g. {'; '.join(per_unit)}). "
            f"Use {option} to keep the {int(full.sum())} units observed in every period "
            f"(losing {int(counts[~full].sum())} observations), or complete the data"
        )
    if not full.any():
        raise ModelError(
            f"balance='drop': no unit is observed in all {len(periods)} periods of {time!r}; "
            "restrict the periods or complete the data"
        )
    kept = frame[frame[id].isin(ids[full.to_numpy()])]
    return kept, report
