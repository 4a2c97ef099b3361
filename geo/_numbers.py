"""The one "finite float or None" conversion used by every result's ``to_json()`` and by the tables.

NaN and infinity never reach JSON or a table cell: they become ``None`` (null, an empty cell).
"""

from __future__ import annotations

import math

__all__ = ["finite_or_none"]


def finite_or_none(v):
    """``v`` as a finite float, or None (for None, NaN, infinity and values that are not numbers)."""
    if v is None:
        return None
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None
