"""Styles and legends shared by the map kinds (classes -> Leaflet styles, legend markup)."""

from __future__ import annotations

from geo.labels import t
from geo.viz._classify import NO_DATA_COLOR
from geo.viz._elements import NO_DATA_FILL, legend_html

__all__ = ["class_styles", "classes_legend", "heading_for", "nodata_row"]

_LINE = {"color": "#ffffff", "weight": 0.6, "opacity": 1.0}


def nodata_row(n: int, lang: str = "en") -> tuple:
    """The legend row of the units drawn hatched grey because they have no value, with their count."""
    return ("nodata", NO_DATA_COLOR, f"{t('no data', lang)}  ({n})", {"nodata": n})


def class_styles(colors) -> list[dict]:
    """Leaflet path styles per class, then the "no data" style (hatched grey) last."""
    styles = [{"fillColor": c, "fillOpacity": 0.85, **_LINE} for c in colors]
    styles.append({"fillColor": NO_DATA_FILL, "fillOpacity": 1.0, **_LINE})
    return styles


def classes_legend(classes, heading: str, *, extra_notes=(), lang: str = "en") -> tuple[str, dict]:
    """Legend markup (with data-upper attributes = mapclassify's bins) and its JSON description."""
    rows = []
    for i, (label, color) in enumerate(zip(classes.labels, classes.colors)):
        count = int((classes.codes == i).sum())
        if classes.scheme in ("diverging", "diverging_log") and i == len(classes.labels) // 2 and count == 0:
            continue  # the class of exact zeros is listed only when it has units
        rows.append(("box", color, f"{label}  ({count})", {"upper": repr(classes.bins[i]), "count": count}))
    if classes.n_missing:
        rows.append(nodata_row(classes.n_missing, lang))
    sep = "：" if lang == "zh" else ": "
    notes = [f"{t('Classes', lang)}{sep}{classes.describe(lang)}" if classes.k else t("No values to classify", lang), *extra_notes]
    info = {
        "heading": heading,
        "scheme": classes.description if classes.k else None,
        "bins": list(classes.bins),
        "minimum": classes.minimum if classes.k else None,
        "labels": list(classes.labels),
        "colors": list(classes.colors),
        "n_missing": classes.n_missing,
    }
    return legend_html(heading, rows, notes=notes), info


def heading_for(label: str, units_label: str | None) -> str:
    return f"{label} ({units_label})" if units_label else label
