"""Small shared pieces of the radiation package: JSON numbers and critical values."""

from __future__ import annotations

import math

__all__ = ["num", "critical_value"]


def num(v):
    """A finite float, or None (NaN/inf never reach JSON)."""
    if v is None:
        return None
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def critical_value(level: float, dof: int | None = None) -> float:
    """Two-sided critical value: Student's t with ``dof`` degrees of freedom (normal when None)."""
    from scipy.stats import norm, t

    q = 0.5 + level / 2
    return float(norm.ppf(q) if dof is None or dof <= 0 else t.ppf(q, dof))
