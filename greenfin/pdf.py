"""Shared reportlab helpers: an embedded CJK font so PDFs print the same anywhere."""
from __future__ import annotations

import io
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


def unprintable(text: str) -> str:
    """The distinct characters of ``text`` that the CJK font has no glyph for (they would print as
    boxes), in order of appearance. None of the installed TrueType fonts that reportlab can embed
    covers CJK Extension B and the rest of the supplementary planes (Noto CJK's outlines are CFF,
    which reportlab cannot embed), so such names are refused where they would be printed.
    With the non-embedded fallback font, every supplementary-plane character counts."""
    font = pdfmetrics.getFont(cjk_font())
    covered = getattr(getattr(font, "face", None), "charToGlyph", None)
    missing: dict[str, None] = {}
    for char in text:
        if char.isprintable() and (ord(char) not in covered if covered is not None else ord(char) > 0xFFFF):
            missing[char] = None
    return "".join(missing)


def qr_png(url: str) -> bytes:
    """A QR code (level M, fixed mask: a chosen mask costs ~20 ms) of ``url`` as PNG, for certificates."""
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=2, mask_pattern=3)
    code.add_data(url)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out, format="PNG")
    return out.getvalue()
