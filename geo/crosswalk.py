"""Matching table rows to boundary units: codes, Chinese names and the crosswalk of prefecture changes.

Codes (6-digit adcode, 9-digit ``156…``, 12-digit statistical codes, full-width
digits) and names (with or without 市/地区/自治州/盟 and ethnic suffixes,
pinyin) are matched to the units; prefecture-level changes since 2000
(``layers/prefecture_crosswalk.csv``) recode renamed units, send merged units
to their successor and report split units with their successors.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

from geo._paths import LAYERS_DIR
from geo.boundaries import id_text, normalise_code
from geo.errors import SchemaError

__all__ = ["name_key", "crosswalk", "unit_label", "clean_id", "Matcher", "check_id_types", "digit_lookup", "unit_of"]

_ETHNIC = (
    "蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 拉祜 水 东乡 纳西 景颇 "
    "柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 "
    "京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺"
).split()
_ETHNIC_RE = re.compile("(?:" + "|".join(sorted(_ETHNIC, key=len, reverse=True)) + ")族?$")
_SUFFIXES = ("特别行政区", "自治州", "地区", "市", "盟", "省")


def name_key(name) -> str:
    """The comparable core of a Chinese unit name: 延边朝鲜族自治州 → 延边, 济南市 → 济南."""
    text = re.sub(r"\s+", "", str(name))
    for suffix in _SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            if suffix == "自治州":
                while True:
                    stripped = _ETHNIC_RE.sub("", text)
                    if stripped == text or not stripped:
                        break
                    text = stripped
            break
    return text


# --------------------------------------------------------------------------- crosswalk


@dataclass(frozen=True)
class _Change:
    old_code: str | None
    old_name: str
    successors: tuple[str, ...]
    kind: str  # "recode" | "merge" | "split"
    year: int
    note: str


def crosswalk() -> pd.DataFrame:
    """The prefecture-level changes since 2000 (``layers/prefecture_crosswalk.csv``)."""
    return pd.read_csv(LAYERS_DIR / "prefecture_crosswalk.csv", dtype=str)


def _changes(units_index) -> list[_Change]:
    out = []
    for _, r in crosswalk().iterrows():
        old = str(r["old_adcode"]) if pd.notna(r["old_adcode"]) else ""
        if not re.fullmatch(r"\d{6}", old):
            continue  # new units and group rows carry no single old code
        succ = tuple(s for s in str(r["successor_adcode_2024"]).split(";") if re.fullmatch(r"\d{6}", s))
        if not succ or not all(s in units_index for s in succ):
            continue
        note = str(r["breaks_panel_join"])
        if len(succ) > 1:
            kind = "split"
        elif "aggregate" in note or (r["change_type"] == "划转"):
            kind = "merge"
        elif old == succ[0]:
            kind = "rename"
        else:
            kind = "recode"
        name = re.sub(r"\s*\(.*\)$", "", str(r["old_name"]))
        out.append(_Change(old, name, succ, kind, int(r["code_table_year"]), note))
    return out


def digit_lookup(index) -> dict:
    """Unit ids made of digits keyed by their integer value ("007" -> 7), where that value is unique."""
    keys: dict[int, list] = {}
    for u in index:
        text = str(u)
        if text.isdigit():
            keys.setdefault(int(text), []).append(u)
    return {k: v[0] for k, v in keys.items() if len(v) == 1}


def unit_of(value, known, digits):
    """The unit id ``value`` stands for: itself, its 6-digit adcode, or the id with the same digits."""
    text = str(value)
    code = normalise_code(text)
    if code is not None and code in known:
        return code
    if text.isdigit():
        return digits.get(int(text), text)
    return text


# --------------------------------------------------------------------------- matching


class Matcher:
    """Maps raw id or name values to unit ids, with crosswalk and candidates."""

    def __init__(self, units, by: str, embedded: bool):
        self.units = units
        self.by = by
        self.embedded = embedded
        self.changes = _changes(units.index) if embedded else []
        self.by_code = {c.old_code: c for c in self.changes}
        self.digits = digit_lookup(units.index) if by == "id" and not embedded else {}
        aliases: dict[str, set] = {}

        def add(alias, code):
            if alias:
                aliases.setdefault(alias, set()).add(code)

        if by == "name":
            for code, row in units.iterrows():
                add(str(row.get("name", code)), code)
                add(name_key(row.get("name", code)), code)
                if "name_en" in units.columns and isinstance(row.get("name_en"), str):
                    add(row["name_en"].lower().replace(" ", "").replace("'", ""), code)
        self.aliases = aliases
        self.by_name: dict[str, _Change] = {}
        for c in self.changes:
            for alias in (c.old_name, name_key(c.old_name)):
                # an old name that is also a current unit's name (伊犁地区 vs 伊犁) stays with the current unit
                if alias and alias not in aliases:
                    self.by_name[alias] = c

    def match(self, value):
        """-> (adcode or None, change or None, reason)."""
        if self.by == "id":
            if self.embedded:
                code = normalise_code(value)
            else:
                code = id_text(value)
                if code not in self.units.index:
                    # 007 vs 7, or a 12-digit code whose unit the boundary file holds under its 6-digit code
                    code = unit_of(code, self.units.index, self.digits)
            if code is None:
                return None, None, "not a 6-, 9- or 12-digit code"
            if code in self.units.index:
                return code, None, ""
            change = self.by_code.get(code)
            if change is not None:
                return self._from_change(change)
            return None, None, "code not in the boundaries"
        key = re.sub(r"\s+", "", str(value))
        for alias in (key, name_key(key), key.lower().replace("'", "")):
            codes = self.aliases.get(alias)
            if codes and len(codes) == 1:
                return next(iter(codes)), None, ""
            if codes:
                return None, None, f"ambiguous name ({', '.join(sorted(codes))})"
        for alias in (key, name_key(key)):
            change = self.by_name.get(alias)
            if change is not None:
                return self._from_change(change)
        return None, None, "name not in the boundaries"

    def _from_change(self, change: _Change):
        if change.kind == "split":
            names = [str(self.units.loc[s, "name"]) if "name" in self.units.columns else s for s in change.successors]
            return None, change, f"dissolved in {change.year} and split among {', '.join(names)}"
        return change.successors[0], change, ""

    def candidates(self, value, n: int = 3) -> list[str]:
        if self.by == "id":
            text = re.sub(r"\D", "", str(value))[:6]
            pool = list(self.units.index)
            near = [c for c in pool if text and c[:4] == text[:4]] or difflib.get_close_matches(text, pool, n=n)
            return near[:n]
        key = name_key(value)
        names = {name_key(n_): c for c, n_ in self.units["name"].items()} if "name" in self.units.columns else {}
        close = difflib.get_close_matches(key, list(names), n=n, cutoff=0.4)
        return [f"{names[k]} {self.units.loc[names[k], 'name']}" for k in close]


def check_id_types(values: pd.Series, by: str, col: str, source, embedded: bool) -> None:
    text = values.dropna().astype(str).str.strip()
    if text.empty:
        raise SchemaError(f"{source}: column {col!r} is empty")
    is_number = text.str.fullmatch(r"\d+(\.0)?")
    if by == "id" and embedded:
        if not is_number.any():
            raise SchemaError(
                f"{source}: column {col!r} holds no codes (e.g. {text.iloc[0]!r}); match names with --name {col}"
            )
        if not is_number.all():
            example = text[~is_number].iloc[0]
            raise SchemaError(
                f"{source}: column {col!r} has ids of mixed types: codes and text such as {example!r}"
            )
    if by == "name" and is_number.any():
        if is_number.all():
            raise SchemaError(f"{source}: column {col!r} holds codes, not names; match with --id {col}")
        example = text[is_number].iloc[0]
        raise SchemaError(f"{source}: column {col!r} has ids of mixed types: names and numbers such as {example!r}")



def clean_id(value):
    """An id as text (see :func:`geo.boundaries.id_text`) with full-width digits and letters made ASCII (１１００００ → 110000)."""
    text = id_text(value)
    if isinstance(text, str):
        text = unicodedata.normalize("NFKC", text).strip()
    return text


def unit_label(units, code) -> str:
    """``330100 杭州市``: a unit named by code and name (the code alone when the units have no name)."""
    if code in units.index and "name" in units.columns:
        name = units.loc[code, "name"]
        if isinstance(name, str) and name and name != code:
            return f"{code} {name}"
    return str(code)
