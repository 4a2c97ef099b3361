"""A global statistic for each year of a panel (unbalanced panels: each year on its own units)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo import weights as gw
from geo.autocorr._global import geary, general_g, moran
from geo.errors import GeoError, InputError, ModelError, OptionError, SchemaError, check_choice

_MAIN = {"moran": ("I", "Moran's I"), "geary": ("C", "Geary's C"), "g": ("G", "General G")}
STATISTICS = tuple(_MAIN)


@dataclass(frozen=True, eq=False)
class MoranByYear:
    """A global statistic (Moran's I by default) for each year of a panel, one result per year.

    On an unbalanced panel each year uses the units with a value that year: ``left_out`` holds, per
    year, the units of the weights' universe without one, and ``islands`` what the islands policy did
    to the weights restricted to that year's units.  Nothing is imputed.
    """

    variable: str
    years: tuple
    results: tuple
    statistic: str = "moran"
    left_out: tuple = ()
    islands: tuple = ()

    def __getitem__(self, year):
        return self.results[self.years.index(year)]

    def _keys(self):
        main = _MAIN[self.statistic][0]
        if self.statistic == "moran":
            return ("n", "I", "EI", "VI_norm", "z_norm", "p_norm", "VI_rand", "z_rand", "p_rand", "p_sim", "z_sim")
        if self.statistic == "geary":
            return ("n", main, "EC", "VC_norm", "z_norm", "p_norm", "VC_rand", "z_rand", "p_rand", "p_sim", "z_sim")
        return ("n", main, "EG", "VG", "z_norm", "p_norm", "p_sim", "z_sim")

    def to_frame(self) -> pd.DataFrame:
        keys = self._keys()
        return pd.DataFrame([{k: getattr(r, k) for k in keys} for r in self.results],
                            index=pd.Index(self.years, name="year"))

    def to_json(self) -> dict:
        first = self.results[0]
        keys = self._keys()
        years = []
        for t, (y, r) in enumerate(zip(self.years, self.results)):
            entry = {"year": int(y)} | {k: v for k, v in r.to_json().items() if k in keys}
            entry["units_left_out"] = list(self.left_out[t]) if self.left_out else []
            entry["islands"] = dict(self.islands[t]) if self.islands else {}
            years.append(entry)
        return {
            "statistic": "moran_by_year" if self.statistic == "moran" else f"{self.statistic}_by_year",
            "variable": self.variable,
            "weights": first.weights,
            "transform": first.transform,
            "islands_policy": first.islands_policy,
            "permutations": first.permutations,
            "balanced": not any(self.left_out),
            "years": years,
        }

    def summary(self) -> str:
        first = self.results[0]
        main, title = _MAIN[self.statistic]
        lines = [f"{title} of {self.variable} by year (weights {first.weights}, transform {first.transform!r}, "
                 f"{first.permutations} permutations)",
                 f"  year     n  {main:>9}     z_norm   p_norm    p_sim"]
        for t, (y, r) in enumerate(zip(self.years, self.results)):
            extra = ""
            if self.left_out and self.left_out[t]:
                extra += f"  ({len(self.left_out[t])} units without data left out)"
            isl = self.islands[t] if self.islands else {}
            if isl.get("islands"):
                extra += f"  (islands: {len(isl['islands'])}, policy {isl['policy']})"
            lines.append(f"  {y}  {r.n:4d}  {getattr(r, main):9.5f}  {r.z_norm:9.3f}  {r.p_norm:7.4f}  "
                         f"{r.p_sim:7.4f}{extra}")
        return "\n".join(lines)

    __str__ = summary


def moran_by_year(panel, column, *, weights, year="year", units=None, permutations: int = 999, seed=None,
                  alternative: str = "two-sided", statistic: str = "moran", transform: str = "r",
                  islands: str | None = None, data=None) -> MoranByYear:
    """A global statistic (``statistic``: moran, geary or g) of ``column`` for every year of a long panel.

    ``panel``: a DataFrame indexed by unit id with a ``year`` column, or indexed
    by (id, year).  ``weights``: a Graph (then every year must have a value for
    every unit of the graph), or a spec string with ``units`` (a GeoDataFrame
    indexed by id): then each year uses the units with a value that year,
    the weights are built on them (``transform``, ``islands`` policy applied
    per year and reported), and units without a value are listed, never
    imputed.  Year t uses the seed ``SeedSequence(seed).spawn(...)[t]``.
    """
    check_choice("statistic", statistic, STATISTICS)
    func = {"moran": moran, "geary": geary, "g": general_g}[statistic]
    if isinstance(panel.index, pd.MultiIndex):
        frame = panel.reset_index(level=list(range(1, panel.index.nlevels)))
        if year not in frame.columns:
            raise SchemaError(f"panel has no {year!r} column or index level")
    else:
        frame = panel
        if year not in frame.columns:
            raise SchemaError(f"panel has no {year!r} column; name it with year=")
    if column not in frame.columns:
        raise SchemaError(f"panel has no column {column!r}")
    per_year = not hasattr(weights, "sparse")
    if per_year and units is None:
        raise InputError("a weights spec needs units= (a GeoDataFrame indexed by unit id) to build on")
    years = sorted(pd.unique(frame[year]).tolist())
    if not years:
        raise SchemaError("panel has no rows")
    children = np.random.SeedSequence(seed).spawn(len(years)) if not isinstance(seed, np.random.Generator) else None
    results, left_out, island_info = [], [], []
    universe = [str(i) for i in (units.index if per_year else weights.unique_ids)]
    for t, yr in enumerate(years):
        cross = frame.loc[frame[year] == yr, [column]]
        values = pd.to_numeric(cross[column], errors="coerce")
        cross = cross[values.notna().to_numpy()]
        cross.index = cross.index.astype(str)
        rng = seed if children is None else np.random.default_rng(children[t])
        graph = weights
        if per_year:
            have = [i for i in universe if i in set(cross.index)]
            if len(have) < 4:
                raise SchemaError(f"year {yr}: only {len(have)} units have a value of {column!r}; "
                                  "a statistic needs at least 4")
            kwargs = {"transform": transform} | ({"islands": islands} if islands is not None else {})
            try:
                if gw.is_file_spec(weights):
                    # a weights file: its links among this year's units; no shapes to link islands by
                    graph = gw.read(weights, ids=have, transform=transform, restrict=True)
                    found = gw.info(graph).islands
                    if found and islands != "keep":
                        raise OptionError(
                            f"{len(found)} units have no neighbour among this year's units in {weights} "
                            f"(e.g. {list(found[:5])}); pass islands='keep' (--islands keep)")
                else:
                    graph = gw.build(weights, units.loc[have], data=data, **kwargs)
            except GeoError as exc:
                raise type(exc)(f"year {yr}: {exc}") from None
            meta = gw.info(graph)
            island_info.append({"policy": meta.islands_policy, "islands": list(meta.islands),
                                "linked": [list(x) for x in meta.linked], "dropped": list(meta.dropped)})
            left_out.append(tuple(i for i in universe if i not in set(have)))
        try:
            r = func(cross, column, weights=graph, permutations=permutations, seed=rng, alternative=alternative)
        except (SchemaError, ModelError, InputError) as exc:
            raise type(exc)(f"year {yr}: {exc}") from None
        results.append(r)
    return MoranByYear(variable=str(column), years=tuple(int(y) for y in years), results=tuple(results),
                       statistic=statistic, left_out=tuple(left_out), islands=tuple(island_info))
