"""Every web map kind with a quarter of the units without data: no crash, hatched "no data" units counted
in the legend; ``lang="zh"`` writes the program's labels in Chinese (issue 11 maps, issue 13 --lang)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

import geo.viz as gv
from geo.autocorr import local_moran

MISSING_SHARE = 0.25


def _with_gaps(units, seed=3):
    rng = np.random.default_rng(seed)
    v = pd.Series(rng.normal(size=len(units)), index=units.index, name="y")
    gone = rng.choice(len(units), int(round(MISSING_SHARE * len(units))), replace=False)
    v.iloc[gone] = np.nan
    return v


def _legend_nodata(page: str) -> int:
    """The count on the legend's "no data" row (the legend markup sits in the page as a JSON string)."""
    found = re.findall(r'data-nodata=\\"(\d+)\\"', page)
    assert len(found) == 1, found
    return int(found[0])


def _codes(page: str) -> list[int]:
    """The class codes the unit layer draws (-1 = the hatched no-data style)."""
    m = re.search(r"geoViz\.units\(L\.featureGroup\(\), \w+,\s*\w+_tips, (\[[-0-9,]*\])", page)
    assert m, "no unit layer in the page"
    return json.loads(m.group(1))


@pytest.fixture(scope="module")
def gaps(china):
    return _with_gaps(china)


def test_choropleth_nodata(china, gaps):
    page = gv.choropleth(china, gaps).to_html()
    n = int(gaps.isna().sum())
    assert n == 84
    assert _legend_nodata(page) == n
    assert _codes(page).count(-1) == n
    assert "url(#geo-hatch)" in page


def test_lisa_with_units_without_data_does_not_crash(china, gaps):
    frame = china.assign(y=gaps)
    lisa = local_moran(frame.dropna(subset=["y"]), "y", weights="queen", permutations=99, seed=1)
    result = gv.lisa_map(china, lisa)
    page = result.to_html()
    n = int(gaps.isna().sum())
    assert result.legend["n_missing"] == n == _legend_nodata(page)
    assert sum(result.legend["counts"].values()) == len(china) - n
    assert _codes(page).count(-1) == n


def test_lisa_labels_none_not_nan(china, gaps):
    from geo.viz.lisa import lisa_clusters

    frame = pd.DataFrame({"Ii": gaps, "p_sim": gaps.abs() / 10, "quadrant": np.where(gaps > 0, 1, 3)})
    frame.loc[gaps.isna(), "quadrant"] = np.nan
    labels, _ = lisa_clusters(frame)
    missing = labels[gaps.isna()]
    assert all(v is None for v in missing)


def test_spillover_nodata(china, gaps):
    page = gv.spillover_map(china, gaps, zones=[china.index[5]]).to_html()
    assert _legend_nodata(page) == int(gaps.isna().sum())


def test_radiation_nodata_numeric_and_bands(china, gaps):
    page = gv.radiation_map(china, values=gaps).to_html()
    assert _legend_nodata(page) == int(gaps.isna().sum())
    bands = pd.Series(np.where(gaps > 0, "0-100 km", "outside"), index=china.index).where(gaps.notna())
    bands.iloc[0] = "host"
    page = gv.radiation_map(china, values=bands).to_html()
    assert _legend_nodata(page) == int(bands.isna().sum())


def test_years_nodata(china, gaps):
    table = pd.concat(
        [pd.DataFrame({"adcode": china.index, "year": y, "y": _with_gaps(china, seed=y).to_numpy()}) for y in (2020, 2021)]
    )
    page = gv.choropleth_years(china, table, "y").to_html()
    assert _legend_nodata(page) == int(table["y"].isna().sum())


ENGLISH_UI = ("no data", "High-High", "Low-Low", "Not significant", "Classes", "cluster", "Significant", "outside",
              "distance ring", "zone host unit", "quantiles")


def test_lang_zh_has_no_english_ui_words(china, gaps):
    frame = china.assign(y=gaps)
    lisa = local_moran(frame.dropna(subset=["y"]), "y", weights="queen", permutations=99, seed=1)
    pages = {
        "lisa": gv.lisa_map(china, lisa, lang="zh").to_html(),
        "choropleth": gv.choropleth(china, gaps, lang="zh").to_html(),
        "spillover": gv.spillover_map(china, gaps, zones=[china.index[5]], lang="zh").to_html(),
    }
    for kind, page in pages.items():
        # only the legend and tooltip strings geo writes (JSON in the page), not Leaflet's own code
        strings = re.findall(r'"((?:[^"\\]|\\.)*)"', page.split("geoViz.decode", 1)[1])
        texts = " ".join(re.sub(r"<[^>]*>", " ", json.loads(f'"{s}"')) for s in strings)
        for word in ENGLISH_UI:
            assert word not in texts, (kind, word)
        assert "无数据" in texts
    assert "高-高" in pages["lisa"] and "不显著" in pages["lisa"]


def test_png_hides_ui_chrome():
    from geo.viz.png import without_chrome

    page = without_chrome("<html><head></head><body></body></html>")
    assert ".leaflet-control-zoom" in page and ".leaflet-control-attribution" in page
    kept = without_chrome("<html><head></head><body></body></html>", keep_attribution=True)
    assert ".leaflet-control-attribution" not in kept


def test_bivariate_classes_square_and_nodata(china, gaps):
    import mapclassify

    rng = np.random.default_rng(8)
    other = pd.Series(rng.normal(size=len(china)), index=china.index, name="z")
    result = gv.bivariate_map(china, gaps, other)
    page = result.to_html()
    both = gaps.notna()
    cx = mapclassify.Quantiles(gaps[both].to_numpy(), k=3).yb
    cy = mapclassify.Quantiles(other[both].to_numpy(), k=3).yb
    expected = np.full(len(china), -1)
    expected[both.to_numpy()] = 3 * cy + cx
    assert _codes(page) == expected.tolist()
    assert result.legend["counts"] == np.bincount(3 * cy + cx, minlength=9).tolist()
    assert result.legend["n_missing"] == _legend_nodata(page) == int((~both).sum())
    cells = re.findall(r'data-cell=\\"(\d)\\" data-count=\\"(\d+)\\"', page)
    assert sorted((int(c), int(n)) for c, n in cells) == list(enumerate(result.legend["counts"]))


def test_whole_territory_context_and_inset(china, gaps):
    page = gv.choropleth(china, gaps).to_html()
    assert 'data-context=\\"35\\"' in page  # Taiwan, Hong Kong, Macao, 32 province-governed county-level units
    assert page.count('"geo-context"') == 1 and "geo-inset" in page and "South China Sea Islands" in page
    m = re.search(r'class=\\"geo-inset-dash\\" d=\\"([^\\]*)\\"', page)
    assert m and m.group(1).count("M") == 10  # the ten dashes of the South China Sea line
    zh = gv.choropleth(china, gaps, lang="zh").to_html()
    assert "南海诸岛" in zh and "不在分析范围" in zh


def test_user_boundaries_get_no_china_context(columbus):
    col = columbus.set_crs("EPSG:4326", allow_override=True)
    page = gv.choropleth(col, pd.Series(1.0, index=col.index)).to_html()
    assert "geo-inset leaflet-control" not in page and "data-context" not in page and "geo-inset-dash" not in page
