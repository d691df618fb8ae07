"""The retirement certificate (reportlab): serial range, tonnes, beneficiary and purpose, and a QR
code that opens the public page verifying the serials (no account, no personal data)."""
from __future__ import annotations

import io

from flask import current_app, has_request_context, url_for
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from greenfin.carbon.ledger import entry_serial
from greenfin.carbon.labels import METHOD_NAMES
from greenfin.pdf import cjk_font, qr_png

GREEN = colors.HexColor("#1b7f4b")


def certificate_url(entry) -> str:
    """The public page that verifies the retirement (also from the CLI, outside a request)."""
    if has_request_context():
        path = url_for("carbon.public_retirement", entry_id=entry.id)
    else:
        with current_app.test_request_context():
            path = url_for("carbon.public_retirement", entry_id=entry.id)
    return current_app.config["PUBLIC_BASE_URL"] + path


def certificate_number(entry) -> str:
    return f"GF-RT-{entry.id:08d}"


def retirement_certificate_pdf(entry) -> bytes:
    """One A4 page for a retirement entry."""
    font = cjk_font()
    url = certificate_url(entry)
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=1)
    pdf.setTitle(f"Carbon retirement certificate {certificate_number(entry)}")
    width, height = A4
    pdf.setStrokeColor(GREEN)
    pdf.setLineWidth(3)
    pdf.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)
    pdf.setFont(font, 22)
    pdf.drawCentredString(width / 2, height - 45 * mm, "广丰区林业碳票注销证明")
    pdf.setFont(font, 12)
    pdf.drawCentredString(width / 2, height - 53 * mm, "Guangfeng Forest Carbon-Sink Retirement Certificate")
    pdf.setFillColor(GREEN)
    pdf.setFont(font, 30)
    pdf.drawCentredString(width / 2, height - 78 * mm, f"{entry.quantity:,} tCO₂e")
    pdf.setFillColor(colors.black)
    project = entry.project
    rows = [
        ("证明编号 Certificate", certificate_number(entry)),
        ("注销序列号 Serials", entry_serial(entry)),
        ("项目 Project", f"{project.code} {project.name}"[:40]),
        ("方法学 Method", METHOD_NAMES[project.method][0]),
        ("年份 Vintage", str(entry.vintage)),
        ("受益方 Beneficiary", (entry.beneficiary or "")[:40]),
        ("用途 Purpose", (entry.purpose or "")[:40]),
        ("注销日期 Retired on", entry.recorded_at.strftime("%Y-%m-%d")),
        ("账本哈希 Ledger hash", entry.hash[:32]),
    ]
    y = height - 100 * mm
    for label, value in rows:
        pdf.setFont(font, 10)
        pdf.drawString(28 * mm, y, label)
        pdf.setFont(font, 12)
        pdf.drawString(82 * mm, y, value)
        y -= 10 * mm
    pdf.drawImage(ImageReader(io.BytesIO(qr_png(url))), width / 2 - 22 * mm, 40 * mm, 44 * mm, 44 * mm)
    pdf.setFont(font, 9)
    pdf.drawCentredString(width / 2, 34 * mm, "扫码核验 Scan to verify: " + url)
    pdf.drawCentredString(width / 2, 27 * mm, "广丰区林业碳汇登记簿 · 已注销的碳票不可再转让、质押或注销")
    pdf.showPage()
    pdf.save()
    return out.getvalue()
