"""A payout event as a public PDF notice (reportlab, bilingual labels): station, readings, trigger,
policies paid and the total. Data in, bytes out; no personal data."""
from __future__ import annotations

import io

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from greenfin.pdf import cjk_font

GREEN = colors.HexColor("#1f7a4d")
PERILS = {"frost": "霜冻 Frost (tmin °C)", "drought": "干旱 Drought (dry days)", "excess_rain": "强降雨 Excess rain (mm)"}


def event_pdf(event, summary: dict) -> bytes:
    """``event`` a PayoutEvent, ``summary`` from ``services.event_summary``."""
    font = cjk_font()
    h1 = ParagraphStyle("h1", fontName=font, fontSize=15, leading=20, textColor=GREEN)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13)

    def table(rows, widths, header=False):
        t = Table(rows, colWidths=widths)
        style = [("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                 ("GRID", (0, 0), (-1, -1), 0.3, colors.lightgrey), ("ALIGN", (1, 0), (-1, -1), "RIGHT")]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8f3ec")))
        t.setStyle(TableStyle(style))
        return t

    product, station = event.product, event.station
    story = [
        Paragraph(f"指数保险赔付事件 Index-insurance payout event {event.code}", h1),
        Paragraph("合成演示数据 SYNTHETIC demo series — not observed weather" if station.synthetic else "", body),
        Spacer(1, 3 * mm),
        table([
            ["风险 Peril", PERILS.get(product.peril, product.peril)],
            ["产品 Product", f"{product.name_zh} / {product.name_en} v{product.version}"],
            ["气象站 Station", f"{station.name_zh} {station.code} ({station.lat}, {station.lon})"],
            ["日期 Dates", f"{event.started_on} – {event.ended_on}"],
            ["起赔点 Trigger", str(product.trigger)],
            ["达到的指数 Index reached", str(event.index_value)],
            ["赔付比例 Payout share", f"{event.payout_share * 100:.0f}%"],
            ["赔付保单数 Policies paid", str(summary["paid_policies"])],
            ["赔付总额 Total paid (CNY)", f"{summary['paid_total']:,.2f}"],
            ["其中付给贷款银行 of which to lenders", f"{summary['to_lenders']:,.2f}"],
        ], (62 * mm, 108 * mm)),
        Spacer(1, 4 * mm),
        table([["日期 Date", "最低 tmin °C", "最高 tmax °C", "降水 mm"]] +
              [[r["date"], r["tmin"], r["tmax"], r["precip_mm"]] for r in event.readings],
              (45 * mm, 40 * mm, 40 * mm, 40 * mm), header=True),
    ]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title=f"Payout event {event.code}", leftMargin=18 * mm,
                      rightMargin=18 * mm, topMargin=16 * mm, bottomMargin=16 * mm).build(story)
    return out.getvalue()
