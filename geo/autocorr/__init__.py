"""Spatial autocorrelation: global Moran's I, Geary's C, Getis-Ord G, bivariate Moran, LISA, local G.

Every function takes a frame indexed by unit id, a column name and weights
(a :class:`libpysal.graph.Graph`, e.g. from :func:`geo.weights.build`, or a
spec string, then built from the frame's geometry with the default row
standardisation and islands policy).  The statistic uses the graph's units, in
the graph's order; rows of the frame outside the graph (e.g. dropped islands)
are listed in ``excluded``.  Missing values are an error naming the units.

Formulas and conventions (checked against R spdep 1.2 and esda 2.9 in the tests)
-------------------------------------------------------------------------------
- Moran's I ``= n/S0 · z'Wz / z'z``; expectation, variance and z under
  normality and randomisation as in spdep's ``moran.test`` (Cliff and Ord),
  with n = all units, islands included (esda's choice; spdep's default
  ``adjust.n`` drops islands from n).
- Geary's C ``= (n−1) Σ w_ij (y_i−y_j)² / (2 S0 Σ z²)``; variances as spdep's
  ``geary.test``.  ``z = (C − 1)/sd`` (esda's sign: negative z means positive
  autocorrelation; spdep prints the opposite sign).
- Getis-Ord General G as spdep's ``globalG.test`` (Getis and Ord 1992).
- Bivariate Moran ``= n/S0 · zx'W zy / zx'zx`` (reduces to Moran's I when
  x = y; equals esda's ``Moran_BV`` for row-standardised weights), permutation inference.
- Local Moran ``Ii = z_i (Wz)_i / m2`` with ``m2 = Σz²/n`` — spdep's
  ``localmoran``; ``convention="esda"`` gives esda's ``(n−1)/n`` multiple.
  Expectation and variance are spdep's default (conditional, ``mlvar``); z does
  not depend on the convention.
- Local G / G* as spdep's ``localG``, whose z is right for any weights (esda
  2.9's local G z-scores are wrong for row-standardised weights).

Permutation p-values (``p_sim``) follow esda and GeoDa: ``(1 + M)/(1 + R)``
with R permutations and M the number of simulated statistics at least as
extreme as the observed one *in the observed tail* (the smaller of the two
tail counts).  Global statistics permute all values; local ones use
conditional permutation (unit i fixed, its k_i neighbours drawn without
replacement from the other n−1 units; one table of draws is shared by all
units as in esda).  The same ``seed`` gives the same p-values, with or
without numba.

Modules: ``_common`` (weights and values prepared in the graph's order, seeds,
p-values, the global permutation engine) → ``_global`` (Moran, Geary, General G,
bivariate Moran) → ``_by_year`` (a global statistic per year of a panel);
``_local`` (LISA, local G / G*, adjusted p-values).
"""

from geo.autocorr._by_year import STATISTICS, MoranByYear, moran_by_year
from geo.autocorr._common import ADJUSTMENTS, ALTERNATIVES, CONVENTIONS, QUADRANTS
from geo.autocorr._global import Geary, GeneralG, Moran, MoranBV, geary, general_g, moran, moran_bv
from geo.autocorr._local import LocalG, LocalMoran, adjust_pvalues, local_g, local_moran

__all__ = [
    "ALTERNATIVES",
    "Moran",
    "Geary",
    "GeneralG",
    "MoranBV",
    "MoranByYear",
    "LocalMoran",
    "LocalG",
    "moran",
    "geary",
    "general_g",
    "moran_bv",
    "moran_by_year",
    "local_moran",
    "local_g",
    "adjust_pvalues",
    "STATISTICS",
    "ADJUSTMENTS",
    "CONVENTIONS",
    "QUADRANTS",
]
