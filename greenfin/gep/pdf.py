"""The GEP report of a township or the district: data in, PDF bytes out (reportlab)."""
from __future__ import annotations

import io
from decimal import Decimal
from typing import Optional

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from greenfin.gep.charts import area_chart, service_chart, share_chart
from greenfin.gep.labels import CATEGORY_NAMES, SERVICE_NAMES
from greenfin.pdf import cjk_font

GREEN = colors.HexColor("#2f7d4f")


def _wan(value: Decimal) -> str:
    """Yuan as 万元 with thousands separators."""
    return f"{(Decimal(value) / 10000):,.1f}"


def _pct(value: Optional[Decimal]) -> str:
    return "—" if value is None else f"{value:.2f}%"


def _chart(chart):
    """A chart of the pages (greenfin/gep/charts.py) drawn into the PDF; a line when it is empty."""
    image = chart.pdf(170 * mm)
    return image if image is not None else Spacer(1, 2 * mm)


def _service_name(code: str) -> str:
    return f"{SERVICE_NAMES[code][0]} {SERVICE_NAMES[code][1]}"


def _category_name(code: str) -> str:
    return f"{CATEGORY_NAMES[code][0]} {CATEGORY_NAMES[code][1]}"


def render_report(*, title: str, year: int, summary: dict, previous: Optional[dict], services: list[dict],
                  areas: list[dict], area_label: str, versions: list[str]) -> bytes:
    """A GEP report: headline figures, category shares, services and areas (the pages' charts), tables."""
    font = cjk_font()
    styles = {
        "h1": ParagraphStyle("h1", fontName=font, fontSize=16, leading=21, spaceAfter=4 * mm, textColor=GREEN),
        "h2": ParagraphStyle("h2", fontName=font, fontSize=12, leading=16, spaceBefore=4 * mm, spaceAfter=2 * mm),
        "p": ParagraphStyle("p", fontName=font, fontSize=9, leading=13),
        "small": ParagraphStyle("small", fontName=font, fontSize=7.5, leading=10, textColor=colors.grey),
    }
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=f"GEP {year} {title}", author="GreenFin")
    change = None
    if previous and previous["total"]:
        change = (summary["total"] - previous["total"]) / previous["total"] * 100
    story = [
        Paragraph(f"{title} {year}年生态产品总值(GEP)核算报告", styles["h1"]),
        Paragraph(f"Gross Ecosystem Product (GEP) account {year} — {title}", styles["p"]),
        Spacer(1, 4 * mm),
    ]
    facts = [
        ["GEP 总值 Total", f"{_wan(summary['total'])} 万元"],
        ["核算面积 Area", f"{summary['area_ha']:,.2f} ha ({summary['parcels']} 地块 parcels)"],
        ["单位面积 GEP per km²", f"{_wan(summary['per_km2'])} 万元/km²"],
        ["上年 Previous year", f"{_wan(previous['total'])} 万元" if previous else "—"],
        ["同比 Change", _pct(change.quantize(Decimal('0.01')) if change is not None else None)],
        ["价格版本 Price versions", ", ".join(versions) or "—"],
    ]
    table = Table(facts, colWidths=[55 * mm, 110 * mm])
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 9),
                               ("TEXTCOLOR", (0, 0), (0, -1), colors.grey),
                               ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey)]))
    story += [table, Paragraph("构成 Composition (%)", styles["h2"]), _chart(share_chart(summary["shares"], _category_name))]
    story += [Paragraph("分项服务价值 Value by service (万元 / 10,000 CNY)", styles["h2"]),
              _chart(service_chart(services, _service_name))]
    rows = [["服务 Service", "实物量 Quantity", "价值(万元)", "占比 Share"]]
    for r in services:
        rows.append([f"{SERVICE_NAMES[r['code']][0]} {SERVICE_NAMES[r['code']][1]}",
                     f"{r['quantity']:,.1f} {r['unit']}", _wan(r["value"]), _pct(r["share"])])
    t = Table(rows, colWidths=[70 * mm, 45 * mm, 28 * mm, 22 * mm], repeatRows=1)
    t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8),
                           ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8f1ec")),
                           ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                           ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey)]))
    story.append(t)
    if areas:
        story += [Paragraph(f"{area_label} (万元 / 10,000 CNY)", styles["h2"]),
                  _chart(area_chart(areas, lambda r: r["name_zh"]))]
        rows = [["名称 Name", "地块", "面积 ha", "GEP(万元)", "万元/km²", "物质/调节/文化 %"]]
        for r in areas:
            s = r["shares"]
            rows.append([r["name_zh"], str(r["parcels"]), f"{r['area_ha']:,.1f}", _wan(r["total"]), _wan(r["per_km2"]),
                         f"{s['provisioning']:.1f}/{s['regulating']:.1f}/{s['cultural']:.1f}"])
        t = Table(rows, colWidths=[38 * mm, 14 * mm, 24 * mm, 28 * mm, 24 * mm, 37 * mm], repeatRows=1)
        t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8f1ec")),
                               ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                               ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey)]))
        story.append(t)
    story += [Spacer(1, 6 * mm), Paragraph(
        "方法: 《生态产品总值核算规范(试行)》(2022) 与 DB36/T 1402-2021; 参数与价格见各版本参数表及 docs/gep.md。"
        " Method: national GEP accounting specification (2022) and DB36/T 1402-2021; parameters and prices as"
        " listed in the versioned tables and docs/gep.md.", styles["small"])]
    doc.build(story)
    return buf.getvalue()
