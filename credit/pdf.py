"""The certificate of a published eco-credit rating (reportlab), with a QR code back to its public page."""
from __future__ import annotations

import io

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from credit.policy import COLOUR_NAMES_ZH, COLOUR_RGB
from greenfin import dates
from greenfin.labels import label
from greenfin.pdf import cjk_font, qr_png


def render_certificate(rating, *, name: str, identifier: str, url: str) -> bytes:
    """One A4 page: party, level, period, dates, certificate code and a QR code to ``url``."""
    font = cjk_font()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=1)
    pdf.setTitle(f"Eco-credit certificate {rating.certificate_code}")
    width, height = A4
    colour = colors.HexColor(COLOUR_RGB[rating.colour])
    pdf.setStrokeColor(colour)
    pdf.setLineWidth(3)
    pdf.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)
    pdf.setFont(font, 24)
    pdf.drawCentredString(width / 2, height - 45 * mm, "广丰区生态环境信用评价证书")
    pdf.setFont(font, 12)
    pdf.drawCentredString(width / 2, height - 53 * mm, "Guangfeng District Eco-credit Rating Certificate")
    pdf.setFillColor(colour)
    pdf.roundRect(width / 2 - 45 * mm, height - 95 * mm, 90 * mm, 28 * mm, 6 * mm, stroke=0, fill=1)
    pdf.setFillColor(colors.white)
    pdf.setFont(font, 26)
    pdf.drawCentredString(width / 2, height - 80 * mm, COLOUR_NAMES_ZH[rating.colour])
    pdf.setFont(font, 12)
    pdf.drawCentredString(width / 2, height - 89 * mm, _("Level: %(colour)s", colour=label("colour", rating.colour)))
    pdf.setFillColor(colors.black)
    rows = [
        ("主体名称 Name", name),
        ("统一社会信用代码 / 证件号 Identifier", identifier),
        ("评价周期 Period", rating.period.code),
        ("评价得分 Points", str(rating.points)),
        ("发布日期 Published", dates.local_date(rating.published_at)),
        ("证书编号 Certificate", rating.certificate_code),
    ]
    y = height - 115 * mm
    for caption, value in rows:
        pdf.setFont(font, 11)
        pdf.drawString(30 * mm, y, caption)
        pdf.setFont(font, 13)
        pdf.drawString(95 * mm, y, value)
        y -= 11 * mm
    pdf.drawImage(ImageReader(io.BytesIO(qr_png(url))), width / 2 - 22 * mm, 40 * mm, 44 * mm, 44 * mm)
    pdf.setFont(font, 9)
    pdf.drawCentredString(width / 2, 34 * mm, "扫码核验 Scan to confirm: " + url)
    pdf.drawCentredString(width / 2, 27 * mm, "广丰区生态环境局 · 依据《企业环境信用评价办法（试行）》评价并公示")
    pdf.showPage()
    pdf.save()
    return out.getvalue()
