"""The certificate of a published eco-credit rating, with a QR code back to its public page."""
from __future__ import annotations

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.units import mm

from credit.policy import COLOUR_NAMES_ZH, COLOUR_RGB
from greenfin import dates
from greenfin.labels import label
from greenfin.pdf import certificate_pdf


def render_certificate(rating, *, name: str, identifier: str, url: str) -> bytes:
    """One A4 page: party, level, period, dates, certificate code and a QR code to ``url``."""

    def level(pdf, font, width, height):
        pdf.setFillColor(colors.HexColor(COLOUR_RGB[rating.colour]))
        pdf.roundRect(width / 2 - 45 * mm, height - 95 * mm, 90 * mm, 28 * mm, 6 * mm, stroke=0, fill=1)
        pdf.setFillColor(colors.white)
        pdf.setFont(font, 26)
        pdf.drawCentredString(width / 2, height - 80 * mm, COLOUR_NAMES_ZH[rating.colour])
        pdf.setFont(font, 12)
        pdf.drawCentredString(width / 2, height - 89 * mm, _("Level: %(colour)s", colour=label("colour", rating.colour)))

    return certificate_pdf(
        title=f"Eco-credit certificate {rating.certificate_code}", heading="广丰区生态环境信用评价证书",
        subheading="Guangfeng District Eco-credit Rating Certificate", accent=COLOUR_RGB[rating.colour], badge=level,
        rows=[("主体名称 Name", name),
              ("统一社会信用代码 / 证件号 Identifier", identifier),
              ("评价周期 Period", rating.period.code),
              ("评价得分 Points", str(rating.points)),
              ("发布日期 Published", dates.local_date(rating.published_at)),
              ("证书编号 Certificate", rating.certificate_code)],
        url=url, verify_caption="扫码核验 Scan to confirm: ",
        footer="广丰区生态环境局 · 依据《企业环境信用评价办法（试行）》评价并公示")
