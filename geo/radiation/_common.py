"""Small shared pieces of the radiation package: JSON numbers and critical values."""

from __future__ import annotations


from geo._numbers import finite_or_none

__all__ = ["num", "critical_value", "p_t", "p_norm", "p_f", "p_chi2"]

# scipy.special rather than scipy.stats: the same distribution functions without ~1 s of import.


num = finite_or_none  # geo._numbers: the one "finite float or None"


def critical_value(level: float, dof: int | None = None) -> float:
    """Two-sided critical value: Student's t with ``dof`` degrees of freedom (normal when None)."""
    from scipy.special import ndtri, stdtrit

    q = 0.5 + level / 2
    return float(ndtri(q) if dof is None or dof <= 0 else stdtrit(dof, q))


def p_t(stat, dof):
    """Two-sided p-value of a t statistic with ``dof`` degrees of freedom (NaN stays NaN)."""
    import numpy as np
    from scipy.special import stdtr

    return 2 * stdtr(dof, -np.abs(stat))


def p_norm(stat):
    import numpy as np
    from scipy.special import ndtr

    return 2 * ndtr(-np.abs(stat))


def p_f(stat, dfn, dfd):
    from scipy.special import fdtrc

    return fdtrc(dfn, dfd, stat)


def p_chi2(stat, df):
    from scipy.special import chdtrc

    return chdtrc(df, stat)
