"""Shared reportlab helpers: an embedded CJK font so PDFs print the same anywhere, and the one
layout of a certificate with a QR code back to the public page that confirms it."""
from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional, Sequence

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

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


def certificate_pdf(*, title: str, heading: str, subheading: str, accent: str, rows: Sequence[tuple[str, str]],
                    url: str, verify_caption: str, footer: str, heading_size: int = 24,
                    badge: Optional[Callable[[canvas.Canvas, str, float, float], None]] = None) -> bytes:
    """One A4 page: a frame in ``accent``, the bilingual heading, ``badge`` (drawn by the caller at the
    top centre: the rating's colour, the retired tonnes), caption/value ``rows``, and a QR code of
    ``url`` (the public page that confirms the certificate) above the footer."""
    font = cjk_font()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=1)
    pdf.setTitle(title)
    width, height = A4
    pdf.setStrokeColor(colors.HexColor(accent))
    pdf.setLineWidth(3)
    pdf.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)
    pdf.setFont(font, heading_size)
    pdf.drawCentredString(width / 2, height - 45 * mm, heading)
    pdf.setFont(font, 12)
    pdf.drawCentredString(width / 2, height - 53 * mm, subheading)
    if badge is not None:
        badge(pdf, font, width, height)
    pdf.setFillColor(colors.black)
    step = 11 * mm if len(rows) <= 6 else 10 * mm
    y = height - (115 if len(rows) <= 6 else 100) * mm
    for caption, value in rows:
        pdf.setFont(font, 10)
        pdf.drawString(28 * mm, y, caption)
        pdf.setFont(font, 12)
        pdf.drawString(95 * mm, y, value)
        y -= step
    pdf.drawImage(ImageReader(io.BytesIO(qr_png(url))), width / 2 - 22 * mm, 40 * mm, 44 * mm, 44 * mm)
    pdf.setFont(font, 9)
    pdf.drawCentredString(width / 2, 34 * mm, verify_caption + url)
    pdf.drawCentredString(width / 2, 27 * mm, footer)
    pdf.showPage()
    pdf.save()
    return out.getvalue()
