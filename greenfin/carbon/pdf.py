"""The retirement certificate (reportlab): serial range, tonnes, beneficiary and purpose, and a QR
code that opens the public page verifying the serials (no account, no personal data)."""
from __future__ import annotations

from flask import current_app, has_request_context, url_for
from reportlab.lib import colors
from reportlab.lib.units import mm

from greenfin.carbon.ledger import entry_serial
from greenfin.carbon.labels import METHOD_NAMES
from greenfin.pdf import certificate_pdf

GREEN = "#1b7f4b"


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

    def tonnes(pdf, font, width, height):
        pdf.setFillColor(colors.HexColor(GREEN))
        pdf.setFont(font, 30)
        pdf.drawCentredString(width / 2, height - 78 * mm, f"{entry.quantity:,} tCO₂e")

    project = entry.project
    return certificate_pdf(
        title=f"Carbon retirement certificate {certificate_number(entry)}", heading="广丰区林业碳票注销证明",
        subheading="Guangfeng Forest Carbon-Sink Retirement Certificate", accent=GREEN, heading_size=22, badge=tonnes,
        rows=[("证明编号 Certificate", certificate_number(entry)),
              ("注销序列号 Serials", entry_serial(entry)),
              ("项目 Project", f"{project.code} {project.name}"[:40]),
              ("方法学 Method", METHOD_NAMES[project.method][0]),
              ("年份 Vintage", str(entry.vintage)),
              ("受益方 Beneficiary", (entry.beneficiary or "")[:40]),
              ("用途 Purpose", (entry.purpose or "")[:40]),
              ("注销日期 Retired on", entry.recorded_at.strftime("%Y-%m-%d")),
              ("账本哈希 Ledger hash", entry.hash[:32])],
        url=certificate_url(entry), verify_caption="扫码核验 Scan to verify: ",
        footer="广丰区林业碳汇登记簿 · 已注销的碳票不可再转让、质押或注销")
