"""The CJK font geo ships (through a PyPI dependency) for print maps, figures and PNG screenshots.

geo depends on the PyPI package ``paperang-p2-fonts-cjk`` (0.1.0) only for the font file it carries:
``paperang_p2_fonts_cjk/fonts/wqy-microhei.ttc``, WenQuanYi Micro Hei 0.2.0-beta (文泉驿微米黑, Simplified
Chinese glyph forms, TrueType ``glyf`` outlines, so matplotlib embeds it in PDF as Type 42 and text stays
selectable).  That file is byte-identical to Debian's ``fonts-wqy-microhei`` 0.2.0-beta-3.1
(SHA-256 :data:`SHA256`).  The font's licence is its own (Apache License 2.0, stated in its name table;
Debian lists it as Apache-2.0 or GPL-3 with the font exception); the wrapper package's MIT licence covers
only its two lines of Python.  geo never imports the wrapper: it finds the file with
``importlib.util.find_spec`` and checks it (size and name) before use, so a missing or different file simply
means "no packaged font" and geo falls back to a system font, as before.

Nothing is downloaded at run time: the font arrives with ``pip install``.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

__all__ = ["FAMILY", "SHA256", "packaged_font", "fontconfig_file"]

#: family name matplotlib and fontconfig read from the packaged file (first face of the collection)
FAMILY = "WenQuanYi Micro Hei"
#: SHA-256 of wqy-microhei.ttc in paperang-p2-fonts-cjk 0.1.0 and in Debian's fonts-wqy-microhei 0.2.0-beta-3.1
SHA256 = "2420e8078af796b19a3f6ef13de527a1a91c1e7171eea115926c614ced1009b3"
_PACKAGE = "paperang_p2_fonts_cjk"
_SIZE = 5177387


@functools.lru_cache(maxsize=1)
def packaged_font() -> Path | None:
    """Path of the packaged WenQuanYi Micro Hei (``.ttc``), or None when the dependency is not installed.

    The size is checked (cheap, every process); the hash is checked by the test-suite, not at run time."""
    try:
        spec = importlib.util.find_spec(_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for base in spec.submodule_search_locations:
        path = Path(base) / "fonts" / "wqy-microhei.ttc"
        try:
            if path.is_file() and path.stat().st_size == _SIZE:
                return path
        except OSError:
            continue
    return None


def fontconfig_file(directory) -> Path | None:
    """Write a fontconfig file into ``directory`` that adds the packaged font's folder to the system's fonts.

    Headless Chromium finds fonts through fontconfig; pointing ``FONTCONFIG_FILE`` at this file lets a PNG
    screenshot show Chinese on a machine without a system CJK font.  None when no font is packaged."""
    from xml.sax.saxutils import escape

    font = packaged_font()
    if font is None:
        return None
    directory = Path(directory)
    conf = directory / "fonts.conf"
    cache = directory / "fontconfig-cache"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <dir>{escape(str(font.parent))}</dir>\n"
        f"  <cachedir>{escape(str(cache))}</cachedir>\n"
        "</fontconfig>\n",
        encoding="utf-8",
    )
    return conf
