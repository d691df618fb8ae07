"""Shared reportlab helpers: an embedded CJK font so PDFs print the same anywhere."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

CJK_FONT_FILES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)
FONT_NAME = "GreenFinCJK"


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """Register and return the name of a font that draws Chinese.

    WenQuanYi Micro Hei (Debian's fonts-wqy-microhei) is embedded as a subset;
    without it, reportlab's built-in STSong-Light is used (not embedded).
    """
    for path in CJK_FONT_FILES:
        if path.exists():
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=0))
            return FONT_NAME
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"
