"""The compensation notice of one township for one run (reportlab: data in, bytes out)."""
from __future__ import annotations

import io

from flask_babel import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from greenfin.compensation.labels import basis_lines
from greenfin.labels import label
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
                 f"{_('Period')}: {run.period} · {_('Status')}: {label('compensation_status', run.status)}",
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
        for line in basis_lines(row.basis):
            c.drawString(25 * mm, y, line[:120])
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


def exit_audit_pdf(audit: dict, township_name: str) -> bytes:
    """The GEP part of an official's exit audit (离任审计) for one township and tenure."""
    font = cjk_font()
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    width, height = A4
    y = height - 25 * mm
    c.setFont(font, 15)
    c.drawString(20 * mm, y, _("Exit audit: GEP of the tenure") + f" — {township_name}")
    y -= 10 * mm
    c.setFont(font, 10)
    lines = [
        f"{_('Official')}: {audit['official']} · {_('Tenure')}: {audit['start_year']}–{audit['end_year']}",
        f"{_('Constant prices')}: {audit['base_prices']} · {_('Prices at the end')}: {', '.join(audit['prices'])}",
        f"{_('GEP at the start')}: {audit['gep_start']:,.2f} CNY",
        f"{_('GEP at the end, constant prices')}: {audit['gep_end_constant_prices']:,.2f} CNY",
        f"{_('Quantity effect (constant prices)')}: {audit['quantity_effect']:,.2f} CNY",
        f"{_('Price effect')}: {audit['price_effect']:,.2f} CNY",
        f"{_('GEP at the end, current prices')}: {audit['gep_end_current_prices']:,.2f} CNY",
    ]
    for line in lines:
        c.drawString(20 * mm, y, line)
        y -= 6 * mm
    y -= 4 * mm
    c.setFont(font, 11)
    c.drawString(20 * mm, y, _("Assessment scores"))
    y -= 6 * mm
    c.setFont(font, 9)
    for s in audit["scores"] or [{"year": "-", "score": "-", "rank": "-", "change": None}]:
        c.drawString(25 * mm, y, f"{s['year']}: {s['score']} · {_('Rank')} {s['rank']}"
                     + (f" · {_('Change')} {s['change']}" if s["change"] is not None else ""))
        y -= 5 * mm
    y -= 4 * mm
    c.setFont(font, 11)
    c.drawString(20 * mm, y, _("Alerts"))
    y -= 6 * mm
    c.setFont(font, 9)
    if not audit["alerts"]:
        c.drawString(25 * mm, y, _("No alert in the tenure."))
        y -= 5 * mm
    for a in audit["alerts"]:
        c.drawString(25 * mm, y, f"{a['year']}: {_('Alert: ecological quantity fell')} {a['figure']:,.2f} CNY")
        y -= 5 * mm
    y -= 4 * mm
    c.setFont(font, 11)
    c.drawString(20 * mm, y, _("By service"))
    y -= 6 * mm
    c.setFont(font, 8)
    for code, v in audit["services"].items():
        if y < 20 * mm:
            c.showPage()
            c.setFont(font, 8)
            y = height - 20 * mm
        c.drawString(25 * mm, y, f"{label('gep_service', code)}: {_('Quantity effect (constant prices)')} {v['quantity']:,.2f} · "
                                 f"{_('Price effect')} {v['price']:,.2f}")
        y -= 4.5 * mm
    c.save()
    return out.getvalue()
