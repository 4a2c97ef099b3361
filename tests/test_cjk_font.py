"""The CJK font that comes with ``pip install geo`` (issue 13): WenQuanYi Micro Hei from the dependency
paperang-p2-fonts-cjk is the file we checked, matplotlib uses it for Chinese labels with no missing glyph,
a print map's PDF embeds it as TrueType (Type 42, not CFF), CFF fonts are never picked, and Chromium is
pointed at it for PNG screenshots."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import warnings
import zlib

import numpy as np
import pytest

from geo import _cjkfont
from geo.figures._style import _truetype_outlines, cjk_font, figure_context

LABELS = "南海诸岛 无数据 高-高 低-低 合肥 乌鲁木齐 呼和浩特 黑龙江 澳门 台湾 图例 千米 人均GDP（元）"


def test_packaged_font_is_the_checked_file():
    path = _cjkfont.packaged_font()
    assert path is not None, "paperang-p2-fonts-cjk (a dependency of geo) is not installed"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == _cjkfont.SHA256
    from fontTools.ttLib import TTFont

    with TTFont(str(path), fontNumber=0, lazy=True) as font:
        name = font["name"]
        assert name.getDebugName(1) == _cjkfont.FAMILY == "WenQuanYi Micro Hei"
        assert "Apache License, Version 2.0" in name.getDebugName(13)
        assert "glyf" in font
        cmap = font.getBestCmap()
    assert all(ord(c) in cmap for c in LABELS if not c.isspace())


def test_matplotlib_draws_chinese_with_the_packaged_font_and_no_missing_glyph():
    import matplotlib

    matplotlib.use("agg")
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    assert cjk_font() == "WenQuanYi Micro Hei"
    with figure_context() as family:
        assert family == "WenQuanYi Micro Hei"
        fig = Figure(figsize=(4, 1))
        text = fig.text(0.05, 0.5, LABELS)
        used = font_manager.fontManager._find_fonts_by_props(text.get_fontproperties())
        assert used[0] == str(_cjkfont.packaged_font())
        with warnings.catch_warnings():
            # matplotlib warns "Glyph N (\\N{…}) missing from font(s) …" for every box it draws (tofu)
            warnings.simplefilter("error")
            fig.canvas.draw()
            fig.savefig(__import__("io").BytesIO(), format="png")


def _streams(data: bytes):
    for m in re.finditer(rb"stream\r?\n", data):
        end = data.find(b"endstream", m.end())
        try:
            yield zlib.decompress(data[m.end():end])
        except zlib.error:
            continue


def test_print_map_pdf_embeds_the_cjk_font_as_truetype(china, tmp_path):
    import pandas as pd

    from geo import figures

    values = pd.Series(range(len(china)), index=china.index, dtype=float)
    pm = figures.choropleth_print(china, values, size="12x9cm", lang="zh", title="人均GDP")
    assert pm.font == "WenQuanYi Micro Hei"
    data = pm.save(tmp_path / "m.pdf").read_bytes()
    fonts = set(re.findall(rb"/BaseFont /([A-Z]{6}\+[A-Za-z0-9-]+)", data))
    assert any(f.endswith(b"+WenQuanYiMicroHei") for f in fonts), fonts
    assert b"/Subtype /Type3" not in data
    # every embedded font program is TrueType (sfnt version 0x00010000), none is CFF ("OTTO")
    programs = [s for s in _streams(data) if s[:4] in (b"\x00\x01\x00\x00", b"OTTO", b"true")]
    assert programs and all(p[:4] == b"\x00\x01\x00\x00" for p in programs)


def _tiny_font(path, *, truetype: bool):
    from fontTools.fontBuilder import FontBuilder

    fb = FontBuilder(1000, isTTF=truetype)
    fb.setupGlyphOrder([".notdef"])
    fb.setupCharacterMap({})
    if truetype:
        from fontTools.pens.ttGlyphPen import TTGlyphPen

        pen = TTGlyphPen(None)
        pen.moveTo((0, 0)), pen.lineTo((0, 500)), pen.lineTo((500, 0)), pen.closePath()
        fb.setupGlyf({".notdef": pen.glyph()})
    else:
        from fontTools.pens.t2CharStringPen import T2CharStringPen

        pen = T2CharStringPen(500, None)
        pen.moveTo((0, 0)), pen.lineTo((0, 500)), pen.lineTo((500, 0)), pen.closePath()
        fb.setupCFF("Tiny", {"FullName": "Tiny"}, {".notdef": pen.getCharString()}, {})
    fb.setupHorizontalMetrics({".notdef": (500, 0)})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "Tiny", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    fb.save(str(path))
    return str(path)


def test_cff_fonts_are_never_chosen_for_type42(tmp_path):
    assert _truetype_outlines(_tiny_font(tmp_path / "t.ttf", truetype=True))
    # CFF outlines, whatever the suffix (Noto Sans CJK ships its CFF collections as .ttc)
    assert not _truetype_outlines(_tiny_font(tmp_path / "c.ttc", truetype=False))
    (tmp_path / "junk.ttf").write_bytes(b"not a font")
    assert not _truetype_outlines(str(tmp_path / "junk.ttf"))


def test_chromium_gets_a_fontconfig_with_the_packaged_font(tmp_path):
    conf = _cjkfont.fontconfig_file(tmp_path)
    assert conf is not None
    text = conf.read_text(encoding="utf-8")
    assert f"<dir>{_cjkfont.packaged_font().parent}</dir>" in text
    if shutil.which("fc-list") is None:
        pytest.skip("fontconfig's fc-list is not installed")
    out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=60,
                         env={"FONTCONFIG_FILE": str(conf), "PATH": "/usr/bin:/bin"})
    assert str(_cjkfont.packaged_font()) in out.stdout


def test_screenshot_hands_chromium_the_packaged_font(tmp_path, monkeypatch):
    from geo.viz import png

    seen = {}

    def fake_run(args, **kwargs):
        conf = kwargs["env"]["FONTCONFIG_FILE"]
        seen["conf"] = open(conf, encoding="utf-8").read()
        shot = next(a for a in args if a.startswith("--screenshot=")).split("=", 1)[1]
        open(shot, "wb").write(b"\x89PNG fake")
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(png.subprocess, "run", fake_run)
    png.screenshot("<p>南海诸岛</p>", tmp_path / "s.png", chromium=sys.executable)
    assert f"<dir>{_cjkfont.packaged_font().parent}</dir>" in seen["conf"]
    assert "/etc/fonts/fonts.conf" in seen["conf"]  # the system's fonts stay available


@pytest.mark.slow
def test_chromium_draws_chinese_with_only_the_packaged_font(tmp_path):
    """On a machine whose only font is DejaVu, Chinese is tofu; with the packaged font's folder it is drawn."""
    from geo.viz.png import find_chromium

    try:
        exe = find_chromium(None)
    except Exception:  # noqa: BLE001
        pytest.skip("Chromium is not installed")
    dejavu = "/usr/share/fonts/truetype/dejavu"
    page = tmp_path / "p.html"
    page.write_text('<html><body style="font-size:40px;margin:0">南海诸岛 无数据</body></html>', encoding="utf-8")
    shots = {}
    for name, dirs in {"dejavu": [dejavu], "packaged": [dejavu, str(_cjkfont.packaged_font().parent)]}.items():
        conf = tmp_path / f"{name}.conf"
        conf.write_text('<?xml version="1.0"?><fontconfig>' + "".join(f"<dir>{d}</dir>" for d in dirs)
                        + f"<cachedir>{tmp_path / name}</cachedir></fontconfig>", encoding="utf-8")
        shot = tmp_path / f"{name}.png"
        subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=400,60",
                        f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120,
                       env={"FONTCONFIG_FILE": str(conf), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
        from PIL import Image

        with Image.open(shot) as im:
            shots[name] = np.asarray(im.convert("L"), dtype=float)
    # tofu boxes are thin outlines; the real glyphs put several times more ink on the page
    ink = {k: float((255 - v).sum()) for k, v in shots.items()}
    assert ink["packaged"] > 1.5 * ink["dejavu"], ink


def test_without_the_packaged_font_only_a_truetype_system_font_is_used(monkeypatch):
    from matplotlib import font_manager

    from geo.figures._style import CJK_FAMILIES

    monkeypatch.setattr(_cjkfont, "packaged_font", lambda: None)
    cjk_font.cache_clear()
    try:
        family = cjk_font()
        if family is None:
            pytest.skip("no system CJK font on this machine")
        assert family in CJK_FAMILIES
        files = [e.fname for e in font_manager.fontManager.ttflist if e.name == family]
        assert any(_truetype_outlines(f) for f in files)
    finally:
        cjk_font.cache_clear()
