"""Fonts, figure size and saving for print maps and plots (matplotlib).

Text stays text: SVG is written with ``svg.fonttype = "none"`` (``<text>`` elements, selectable, using
the reader's installed fonts of the named family) and PDF with ``pdf.fonttype = 42`` (the TrueType font
embedded, subset, so the text can be selected and searched).

A CJK font comes with geo: the dependency ``paperang-p2-fonts-cjk`` carries WenQuanYi Micro Hei (Apache
2.0, TrueType outlines, byte-identical to Debian's ``fonts-wqy-microhei``; see :mod:`geo._cjkfont`), which
:func:`cjk_font` registers with matplotlib's font manager and uses first, so a map looks the same on every
machine.  Without it, a system font of :data:`CJK_FAMILIES` with TrueType (``glyf``) outlines is used:
CFF-outline fonts (``.otf``, and the ``.ttc`` collections of Noto Sans CJK / Source Han Sans) cannot be
embedded as Type 42 (matplotlib would write the CFF data where a PDF reader expects TrueType).  When
neither is found, geo draws with DejaVu Sans and says so in the result's notes: Chinese characters would
then show as empty boxes.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from pathlib import Path

from geo._cjkfont import FAMILY, packaged_font
from geo._io import atomic_write, check_output_path
from geo.errors import OptionError

__all__ = [
    "CJK_FAMILIES", "FORMATS", "FigureOutput", "cjk_font", "figure_context", "parse_size", "save_figure", "figure_bytes",
    "has_cjk",
]

#: CJK families tried in order (simplified-Chinese glyph forms first)
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
    "Sarasa Gothic SC",
    "Droid Sans Fallback",
)
FORMATS = ("png", "svg", "pdf")
_CJK_RE = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def has_cjk(text) -> bool:
    return bool(_CJK_RE.search(str(text)))


@functools.lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The CJK family used for figures: geo's packaged WenQuanYi Micro Hei (registered with matplotlib here),
    else the first system family of :data:`CJK_FAMILIES` with TrueType outlines, or None."""
    from matplotlib import font_manager

    packaged = packaged_font()
    if packaged is not None:
        try:
            font_manager.fontManager.addfont(str(packaged))
            return FAMILY
        except (OSError, RuntimeError, ValueError):  # an unreadable file: fall back to the system's fonts
            pass
    available = {}
    for entry in font_manager.fontManager.ttflist:
        if entry.name in CJK_FAMILIES and entry.name not in available and _truetype_outlines(entry.fname):
            available[entry.name] = entry.fname
    for family in CJK_FAMILIES:
        if family in available:
            return family
    return None


def _truetype_outlines(path: str) -> bool:
    """True when the font file (first face of a collection) has TrueType ``glyf`` outlines, not CFF."""
    from fontTools.ttLib import TTFont

    try:
        with TTFont(path, fontNumber=0, lazy=True) as font:
            return "glyf" in font
    except Exception:  # noqa: BLE001 - fontTools raises many kinds on a damaged file; such a font is just skipped
        return False


@contextlib.contextmanager
def figure_context(*, base_size: float = 8.0):
    """rcParams for publication figures: selectable text, embedded TrueType, CJK font first."""
    import matplotlib

    family = cjk_font()
    params = {
        "svg.fonttype": "none",
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "svg.hashsalt": "geo",  # stable ids: same input, same SVG bytes
        "font.family": "sans-serif",
        "font.sans-serif": ([family] if family else []) + ["DejaVu Sans"],
        "axes.unicode_minus": False,  # the CJK fonts lack U+2212
        "font.size": base_size,
        "hatch.linewidth": 0.5,
        "path.simplify": True,
    }
    # WenQuanYi Zen Hei has only a "medium" (500) weight: matplotlib logs a line per lookup; not news to a user
    logger = logging.getLogger("matplotlib.font_manager")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with matplotlib.rc_context(params):
            yield family
    finally:
        logger.setLevel(level)


_SIZE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*[x×*,]\s*([0-9]*\.?[0-9]+)\s*(cm|mm|in)?\s*$", re.I)


def parse_size(size) -> tuple[float, float]:
    """``"16x12cm"``, ``"160x120mm"``, ``"6.5x5in"`` (or a (w, h) tuple in inches) -> inches."""
    if isinstance(size, (tuple, list)) and len(size) == 2:
        w, h = float(size[0]), float(size[1])
    else:
        m = _SIZE_RE.match(str(size))
        if not m:
            raise OptionError(f"size={size!r} must be WIDTHxHEIGHT with a unit, e.g. 16x12cm, 160x120mm or 6.5x5in")
        w, h = float(m.group(1)), float(m.group(2))
        if not m.group(3):
            raise OptionError(f"size={size!r}: add the unit, e.g. {m.group(1)}x{m.group(2)}cm or {m.group(1)}x{m.group(2)}in")
        unit = m.group(3).lower()
        factor = {"cm": 1 / 2.54, "mm": 1 / 25.4, "in": 1.0}[unit]
        w, h = w * factor, h * factor
    if not (0.5 <= w <= 100 and 0.5 <= h <= 100):
        raise OptionError(f"size={size!r}: width and height must be between 0.5 and 100 inches (1.3-254 cm)")
    return w, h


def save_figure(fig, path, *, fmt: str | None = None, dpi: int = 300) -> Path:
    """Write ``fig`` atomically as PNG, SVG or PDF (format from ``fmt`` or the file suffix).

    Dates and software versions are left out of SVG/PDF metadata, so the same input gives the same bytes.
    """
    out = check_output_path(path)
    fmt = (fmt or out.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise OptionError(f"format {fmt!r} (from {out.name}) is not one of {', '.join(FORMATS)}")
    if not isinstance(dpi, int) or not 50 <= dpi <= 2400:
        raise OptionError(f"dpi={dpi!r} must be a whole number between 50 and 2400")
    metadata = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None},
                "pdf": {"CreationDate": None, "Creator": None, "Producer": None}}[fmt]

    def write(tmp: Path):
        with open(tmp, "wb") as fh:
            fig.savefig(fh, format=fmt, dpi=dpi, metadata=metadata)

    return atomic_write(out, write)


def figure_bytes(fig, *, fmt: str = "png", dpi: int = 150) -> bytes:
    """The figure as PNG (or SVG) bytes, for embedding in a report (no metadata, same bytes each run)."""
    import io

    buf = io.BytesIO()
    meta = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    with figure_context():
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=meta)
    return buf.getvalue()


class FigureOutput:
    """Saving shared by print maps and plots (results holding a matplotlib ``figure``)."""

    figure: object

    def png_bytes(self, *, dpi: int = 150) -> bytes:
        """The figure as PNG bytes (for reports)."""
        return figure_bytes(self.figure, dpi=dpi)

    def save(self, path, *, format: str | None = None, dpi: int = 300) -> Path:  # noqa: A002 - matplotlib's word
        """Write PNG, SVG or PDF (format from ``format`` or the file suffix), atomically."""
        with figure_context():
            return save_figure(self.figure, path, fmt=format, dpi=dpi)
