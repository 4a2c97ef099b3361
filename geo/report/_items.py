"""What a report section holds besides maps and tables: images with captions, and the marker geo writes
into its own pages (so a report embeds only pages geo wrote)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from geo.viz._elements import GEO_MARKER, is_geo_page, mark_page

__all__ = ["Image", "GEO_MARKER", "mark_page", "is_geo_page"]

@dataclass(frozen=True)
class Image:
    """A figure for a report: PNG (or SVG) bytes and a caption; embedded as a data URI in HTML and as a
    picture in Word."""

    data: bytes
    caption: str = ""
    mime: str = "image/png"
    width_cm: float = 15.0

    def data_uri(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"

    @classmethod
    def from_figure(cls, fig_result, caption: str = "", *, dpi: int = 150, width_cm: float | None = None) -> "Image":
        """From a geo.figures PrintMap or Plot (its PNG at ``dpi``)."""
        width = width_cm if width_cm is not None else min(15.0, fig_result.size_in[0] * 2.54)
        return cls(fig_result.png_bytes(dpi=dpi), caption, "image/png", width)
