"""PNG export: a screenshot of a map page taken by headless Chromium (Debian's ``chromium`` package).

Without tiles the browser runs with the network switched off (a dead proxy and a resolver that
resolves nothing), so the PNG shows exactly what the offline page shows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from geo._cjkfont import fontconfig_file
from geo._io import atomic_write, check_output_path
from geo.errors import InputError

__all__ = ["find_chromium", "chromium_args", "screenshot", "without_chrome"]

_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

#: flags that keep a headless run quiet and self-contained
BASE_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--mute-audio",
)
#: flags that switch the network off
OFFLINE_FLAGS = ("--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND")
#: interactive chrome hidden in a screenshot (zoom buttons, layer switcher, attribution mark)
_CHROME = (".leaflet-control-zoom", ".leaflet-control-layers", ".leaflet-control-attribution")


def without_chrome(page_html: str, *, keep_attribution: bool = False) -> str:
    """The page with the interactive controls hidden (legend, title, scale bar and inset stay).

    With tiles the attribution stays: the tile provider's terms require it on every picture."""
    hidden = [c for c in _CHROME if not (keep_attribution and c.endswith("attribution"))]
    css = f"<style>{','.join(hidden)}{{display:none !important}}</style>"
    head = page_html.find("</head>")
    if head < 0:
        return css + page_html
    return page_html[:head] + css + page_html[head:]


def find_chromium(chromium: str | None = None) -> str:
    """Path of the Chromium executable (``chromium`` argument, or the first one on PATH)."""
    if chromium:
        path = shutil.which(chromium)
        if path is None:
            raise InputError(f"chromium={chromium!r}: no such program")
        return path
    for name in _BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    raise InputError("PNG export needs headless Chromium: install it (Debian/Ubuntu: apt install chromium)")


def chromium_args(exe: str, profile_dir: str, *, network: bool = False) -> list[str]:
    args = [exe, *BASE_FLAGS, f"--user-data-dir={profile_dir}"]
    if not network:
        args += list(OFFLINE_FLAGS)
    return args


def screenshot(
    page_html: str,
    path,
    *,
    width: int = 1200,
    height: int = 800,
    network: bool = False,
    chromium: str | None = None,
    timeout: float = 60,
    wait_ms: int = 2000,
) -> Path:
    """Render ``page_html`` at ``width`` x ``height`` and write a PNG to ``path`` (atomically).

    Zoom buttons, the layer switcher and the attribution mark are hidden in the picture."""
    out = check_output_path(path)
    exe = find_chromium(chromium)
    with tempfile.TemporaryDirectory(prefix="geo-png-") as tmp:
        page = Path(tmp) / "map.html"
        page.write_text(without_chrome(page_html, keep_attribution=network), encoding="utf-8")
        shot = Path(tmp) / "shot.png"
        profile = Path(tmp) / "profile"
        args = chromium_args(exe, str(profile), network=network) + [
            f"--window-size={int(width)},{int(height)}",
            f"--virtual-time-budget={int(wait_ms)}",
            f"--screenshot={shot}",
            page.as_uri(),
        ]
        env = None
        conf = fontconfig_file(tmp)  # geo's packaged CJK font, for machines without a system one
        if conf is not None:
            env = {**os.environ, "FONTCONFIG_FILE": str(conf)}
        try:
            proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            raise InputError(f"{out}: Chromium did not finish the screenshot within {timeout:g} s") from None
        if not shot.exists() or shot.stat().st_size == 0:
            tail = (proc.stderr or "").strip().splitlines()[-3:]
            raise InputError(f"{out}: Chromium wrote no screenshot (exit {proc.returncode}): {' | '.join(tail)}")
        data = shot.read_bytes()
    return atomic_write(out, lambda tmp_path: tmp_path.write_bytes(data))
