"""The compensation notice of one township for one run (reportlab: data in, bytes out)."""
from __future__ import annotations

import io

from flask_babel import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from greenfin.pdf import cjk_font


def township_notice_pdf(run, rows, township_name: str, kinds: dict, payee) -> bytes:
    font = cjk_font()
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    width, height = A4
    y = height - 25 * mm
    c.setFont(font, 16)
    c.drawString(20 * mm, y, (_("Eco-compensation notice") + f" — {township_name}"))
    c.setFont(font, 10)
    y -= 10 * mm
    for line in (f"{_('Scheme')}: {run.scheme.code} v{run.scheme.version} · {kinds[run.scheme.kind]}",
                 f"{_('Period')}: {run.period} · {_('Status')}: {run.status}",
                 f"{_('Run')}: {run.id} · {_('Total of the run')}: {run.total:,.2f} CNY"):
        c.drawString(20 * mm, y, (line))
        y -= 6 * mm
    y -= 4 * mm
    for row in rows:
        c.setFont(font, 11)
        c.drawString(20 * mm, y, (f"{_('Line')} {row.line}: {payee(row.payer or 'budget')} → "
                                              f"{payee(row.payee)}: {row.amount:,.2f} CNY"))
        y -= 6 * mm
        c.setFont(font, 8)
        for key, value in sorted(row.basis.items()):
            c.drawString(25 * mm, y, (f"{key}: {value}")[:120])
            y -= 4.5 * mm
        src = row.sources
        cited = f"{_('GEP accounts cited')}: {len(src.get('accounts', []))} · " \
                f"{_('price versions')}: {', '.join(src.get('price_versions', [])) or '-'} · " \
                f"{_('monitoring rows')}: {len(src.get('monitoring', []))}"
        c.drawString(25 * mm, y, (cited))
        y -= 8 * mm
        if y < 30 * mm:
            c.showPage()
            y = height - 25 * mm
    c.setFont(font, 8)
    c.drawString(20 * mm, 15 * mm, (_("Every figure cites the GEP accounts, price versions and monitoring rows that produced it (API: /api/v1/compensation/runs/%(id)s).", id=run.id)))
    c.save()
    return out.getvalue()
