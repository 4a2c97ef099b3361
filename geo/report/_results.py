"""Results' JSON -> readable report sections: a title, a few sentences, publication tables and figures.

No raw JSON dumps: each known result (models, radiation, Moran by year, local Moran, scenario, weights,
joins) becomes its own tables (``geo.tables``) and figures (``geo.figures.plots``), numbers rounded, tiny
values as ~0, the estimator named.  Anything else becomes a table of its scalar entries with readable
names and rounded numbers.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd

from geo.figures import plots
from geo.labels import check_lang
from geo.report._items import Image
from geo.tables import compare_table, impacts_table, models_table, radiation_table

__all__ = ["describe", "fmt_value", "readable_title", "tidy_frame"]

_MODEL_TITLES = {
    "sdm": ("Spatial Durbin model", "空间杜宾模型"),
    "sar": ("Spatial lag model", "空间滞后模型"),
    "sem": ("Spatial error model", "空间误差模型"),
    "sdem": ("Spatial Durbin error model", "空间杜宾误差模型"),
    "slx": ("SLX model", "SLX 模型"),
    "ols": ("OLS", "普通最小二乘"),
}


def _zh(lang: str, en: str, zh: str) -> str:
    return zh if lang == "zh" else en


def fmt_value(v, key: str = "") -> str:
    """A value for a report cell: integers with separators, p-values as <0.001, other floats to 4
    significant digits, numerical noise (|x| < 1e-12) as ~0, missing as empty."""
    if v is None or isinstance(v, bool):
        return "" if v is None else ("yes" if v else "no")
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if not math.isfinite(v):
            return ""
        if key.lower().startswith("p") and (key.lower() in ("p", "p_sim", "p_norm", "p_rand", "p_value", "pvalue")):
            return "<0.001" if v < 0.001 else f"{v:.3f}"
        if v == 0:
            return "0"
        if abs(v) < 1e-12:
            return "~0"
        if v == int(v) and abs(v) < 1e15:
            return f"{int(v):,}"
        if abs(v) >= 1e5 or abs(v) < 1e-3:
            return f"{v:.3g}"
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(fmt_value(x) for x in v[:12]) + (" …" if len(v) > 12 else "")
    return str(v)


def readable_title(stem: str) -> str:
    """A file stem as a heading: "03_moran_by_year" -> "Moran by year"."""
    s = stem
    head, _, rest = s.partition("_")
    if head.isdigit() and rest:
        s = rest
    s = s.replace("_", " ").replace("-", " ").strip()
    return s[:1].upper() + s[1:] if s else stem


def tidy_frame(records, *, columns=None, max_rows: int = 50) -> pd.DataFrame:
    """Records as a frame of formatted text (rounded numbers, readable column names)."""
    frame = pd.DataFrame(records)
    if columns:
        frame = frame[[c for c in columns if c in frame.columns]]
    frame = frame.head(max_rows)
    out = pd.DataFrame({readable_title(str(c)): [fmt_value(v, str(c)) for v in frame[c]] for c in frame.columns})
    return out


def _facts(pairs) -> pd.DataFrame:
    rows = [(k, fmt_value(v, k)) for k, v in pairs if v is not None and v != [] and v != {}]
    return pd.DataFrame(rows, columns=["item", "value"])


def _models(obj, lang):
    model = str(obj.get("model", ""))
    en, zh = _MODEL_TITLES.get(model, (model.upper(), model.upper()))
    panel = int(obj.get("t") or 1) > 1
    title = _zh(lang, f"{en}{' (panel)' if panel else ''}: {obj.get('y', '')}", f"{zh}{'（面板）' if panel else ''}：{obj.get('y', '')}")
    items = []
    method = "; ".join(str(x) for x in (obj.get("covariance"), obj.get("logdet_description"), obj.get("aic_convention")) if x)
    if method:
        items.append(_zh(lang, "Estimation: ", "估计：") + method)
    items.append(models_table([obj], lang=lang, title=_zh(lang, "Coefficients", "系数")))
    if obj.get("impacts"):
        items.append(impacts_table(obj, lang=lang))
        items.append(Image.from_figure(plots.impacts_plot(obj, lang=lang),
                                       _zh(lang, "Impacts with intervals", "效应及其区间")))
    tests = obj.get("tests") or {}
    if tests:
        rows = [{"test": k.replace("_", " "), "statistic": v.get("statistic"), "df": v.get("df"), "p": v.get("p")}
                for k, v in tests.items() if isinstance(v, dict)]
        items.append(tidy_frame(rows))
    return title, items


def _radiation(obj, lang):
    title = _zh(lang, f"Radiation of the zones: {obj.get('y', '')}", f"开发区辐射效应：{obj.get('y', '')}")
    items = []
    for key, label in (("estimator", _zh(lang, "Estimator", "估计方法")), ("target", _zh(lang, "Zones", "开发区")),
                       ("distance_method", _zh(lang, "Distances", "距离"))):
        if obj.get(key):
            items.append(f"{label}: {obj[key]}")
    items.append(radiation_table([obj], lang=lang, title=_zh(lang, "Effect by distance band", "分距离带效应")))
    items.append(Image.from_figure(plots.decay_plot(obj, lang=lang), _zh(lang, "Distance decay of the effect", "效应的距离衰减")))
    es = obj.get("event_study")
    if isinstance(es, dict) and es.get("coefficients"):
        items.append(Image.from_figure(plots.event_study_plot(obj, lang=lang),
                                       _zh(lang, "Event study by ring", "分距离环的事件研究")))
        if es.get("pretrend_tests"):
            items.append(tidy_frame(es["pretrend_tests"]))
    sd = obj.get("spatial_did")
    if isinstance(sd, dict) and {"direct", "indirect", "total"} <= set(sd):
        items.append(impacts_table(obj, lang=lang, title=_zh(lang, "Spatial DID: direct and spillover effects",
                                                               "空间 DID：直接与溢出效应")))
    elif isinstance(sd, dict) and isinstance(sd.get("direct"), dict) and isinstance(sd.get("indirect"), dict):
        # the ring spatial DID (the default --spatial-model rings): direct = hosts, indirect = each ring's units
        rows = [{"effect": _zh(lang, "direct (host units)", "直接效应（所在城市）"), **sd["direct"]}]
        rows += [{"effect": _zh(lang, f"indirect ({ring})", f"间接效应（{ring}）"), **v}
                 for ring, v in sd["indirect"].items() if isinstance(v, dict)]
        items.append(_zh(lang, f"Spatial DID (ring SDM, W {sd.get('weights', '')}, rho {fmt_value(sd.get('rho'), 'rho')}): "
                               "mean change of y in host units and in each ring's units.",
                         f"空间 DID（环带空间杜宾模型，权重 {sd.get('weights', '')}，rho {fmt_value(sd.get('rho'), 'rho')}）："
                         "所在城市与各距离环城市 y 的平均变化。"))
        items.append(tidy_frame(rows, columns=["effect", "estimate", "se", "p", "lower", "upper"]))
        if isinstance(sd.get("impacts_lesage_pace"), dict) and sd["impacts_lesage_pace"]:
            items.append(impacts_table({"impacts": sd["impacts_lesage_pace"]}, lang=lang,
                                       title=_zh(lang, "Spatial DID: LeSage-Pace impacts per term",
                                                 "空间 DID：各项的 LeSage-Pace 效应分解")))
    if obj.get("band_means"):
        items.append(tidy_frame(obj["band_means"]))
    for w in obj.get("warnings") or []:
        items.append(str(w))
    return title, items


def _moran_years(obj, lang):
    title = _zh(lang, f"Moran's I by year: {obj.get('variable', '')}", f"逐年 Moran's I：{obj.get('variable', '')}")
    text = _zh(lang, f"Weights {obj.get('weights')} (transform {obj.get('transform')}), {obj.get('permutations')} permutations.",
               f"权重 {obj.get('weights')}（变换 {obj.get('transform')}），{obj.get('permutations')} 次置换。")
    return title, [text, tidy_frame(obj["years"], columns=["year", "n", "I", "EI", "z_norm", "p_norm", "p_sim"])]


def _lisa(obj, lang):
    title = _zh(lang, f"Local Moran (LISA): {obj.get('variable', '')}", f"局部 Moran（LISA）：{obj.get('variable', '')}")
    counts = obj.get("counts") or {}
    text = _zh(lang, f"{obj.get('permutations')} permutations, adjustment {obj.get('adjust')}, alpha {obj.get('alpha')}, "
               f"weights {obj.get('weights')}.", f"{obj.get('permutations')} 次置换，校正 {obj.get('adjust')}，"
               f"显著性水平 {obj.get('alpha')}，权重 {obj.get('weights')}。")
    return title, [text, pd.DataFrame({"cluster": list(counts), "units": [fmt_value(v) for v in counts.values()]})]


def _scenario(obj, lang):
    title = _zh(lang, f"Scenario: {obj.get('scenario', '')}", f"情景：{obj.get('scenario', '')}")
    units = pd.DataFrame(obj.get("units") or [])
    items = [str(obj.get("method", ""))]
    if not units.empty and "effect" in units.columns:
        top = units.reindex(units["effect"].abs().sort_values(ascending=False).index).head(10)
        items.append(tidy_frame(top.to_dict("records"),
                                columns=["name", "id", "distance_km", "band_after", "effect", "lower", "upper"]))
    return title, items


def _compare(obj, lang):
    """geo compare: the table of fits (log-likelihood, AIC, BIC, posterior probability, rho, lambda), the LR
    tests between nested forms, and the impacts side by side."""
    title = _zh(lang, f"Models and weights compared: {obj.get('y', '')}", f"模型与空间权重比较：{obj.get('y', '')}")
    fits = obj["fits"]
    n_w = len({str(f.get("weights")) for f in fits})
    n_m = len({str(f.get("model")) for f in fits})
    items = [_zh(lang, f"{len(fits)} fits: {n_m} model forms under {n_w} weights matrices, ranked by Bayesian posterior "
                       "model probability (equal prior probabilities) and AIC/BIC; LR tests only between nested forms "
                       "under the same weights.",
                 f"共 {len(fits)} 个拟合：{n_m} 种模型形式 × {n_w} 个空间权重矩阵，按贝叶斯后验模型概率（等先验）与 AIC/BIC 比较；"
                 "LR 检验仅用于同一权重下的嵌套模型。")]
    table = compare_table(obj, lang=lang)
    # the LR tests get their own table below, not notes under this one
    items.append(dataclasses.replace(table, notes=tuple(n for n in table.notes if not n.startswith("LR "))))
    if obj.get("lr_tests"):
        items.append(tidy_frame([{k: r.get(k) for k in ("weights", "full", "restricted", "restriction", "statistic",
                                                         "df", "p")} for r in obj["lr_tests"]]))
    rows = []
    for f in fits:
        for var, kinds in (f.get("impacts") or {}).items():
            if isinstance(kinds, dict):
                rows.append({"weights": f.get("weights"), "model": str(f.get("model", "")).upper(), "variable": var,
                             **{k: (kinds.get(k) or {}).get("estimate") for k in ("direct", "indirect", "total")}})
    if rows:
        items.append(_zh(lang, "Impacts side by side", "效应并列比较"))
        items.append(tidy_frame(rows, max_rows=200))
    return title, items


def _weights(obj, lang):
    title = _zh(lang, f"Spatial weights: {obj.get('spec', '')}", f"空间权重：{obj.get('spec', '')}")
    keys = ("n", "links", "mean_neighbors", "min_neighbors", "max_neighbors", "components", "islands_policy",
            "transform", "pct_nonzero")
    return title, [_facts((readable_title(k), obj.get(k)) for k in keys)]


def _generic(obj, lang, stem):
    scalars = [(readable_title(str(k)), v) for k, v in obj.items() if not isinstance(v, (dict, list))]
    items = [_facts(scalars)] if scalars else []
    for k, v in obj.items():
        if isinstance(v, list) and v and all(isinstance(r, dict) for r in v):
            flat = [{kk: vv for kk, vv in r.items() if not isinstance(vv, (dict, list))} for r in v]
            items.append(f"{readable_title(str(k))} ({len(v)})")
            items.append(tidy_frame(flat, max_rows=20))
        elif isinstance(v, list) and v:
            items.append(f"{readable_title(str(k))}: {fmt_value(v)}")
    return readable_title(stem), items


def describe(obj, *, stem: str = "result", lang: str = "en"):
    """(title, items) for a result's JSON: tables, figures and short texts, never the raw JSON."""
    check_lang(lang)
    if not isinstance(obj, dict):
        return readable_title(stem), [fmt_value(obj)]
    if "coefficients" in obj and "model" in obj:
        return _models(obj, lang)
    if isinstance(obj.get("bands"), list) and obj["bands"] and isinstance(obj["bands"][0], dict):
        return _radiation(obj, lang)
    if obj.get("statistic") == "moran_by_year" and isinstance(obj.get("years"), list):
        return _moran_years(obj, lang)
    if obj.get("statistic") == "local_moran":
        return _lisa(obj, lang)
    if "scenario" in obj and isinstance(obj.get("units"), list):
        return _scenario(obj, lang)
    if isinstance(obj.get("fits"), list) and obj["fits"] and all(isinstance(f, dict) for f in obj["fits"]):
        return _compare(obj, lang)
    if "links" in obj and "mean_neighbors" in obj:
        return _weights(obj, lang)
    return _generic(obj, lang, stem)
