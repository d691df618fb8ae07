"""The GEP report of a township or the district: data in, PDF bytes out (reportlab)."""
from __future__ import annotations

import io
from decimal import Decimal
from typing import Optional

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from greenfin.gep.labels import CATEGORY_NAMES, SERVICE_NAMES
from greenfin.pdf import cjk_font

GREEN = colors.HexColor("#2f7d4f")
CATEGORY_COLOURS = {"provisioning": colors.HexColor("#d9a441"), "regulating": GREEN,
                    "cultural": colors.HexColor("#4f7fb8")}


def _wan(value: Decimal) -> str:
    """Yuan as 万元 with thousands separators."""
    return f"{(Decimal(value) / 10000):,.1f}"


def _pct(value: Optional[Decimal]) -> str:
    return "—" if value is None else f"{value:.2f}%"


def _pie(shares: dict[str, Decimal], font: str) -> Drawing:
    drawing = Drawing(170 * mm, 62 * mm)
    pie = Pie()
    pie.x, pie.y, pie.width, pie.height = 10 * mm, 6 * mm, 50 * mm, 50 * mm
    codes = [c for c in ("provisioning", "regulating", "cultural") if shares.get(c, 0) > 0]
    pie.data = [float(shares[c]) for c in codes] or [1]
    pie.labels = None
    for i, code in enumerate(codes):
        pie.slices[i].fillColor = CATEGORY_COLOURS[code]
        pie.slices[i].strokeColor = colors.white
    drawing.add(pie)
    for i, code in enumerate(("provisioning", "regulating", "cultural")):
        y = 46 * mm - i * 10 * mm
        drawing.add(String(72 * mm, y, f"■ {CATEGORY_NAMES[code][0]} {CATEGORY_NAMES[code][1]}: {_pct(shares.get(code))}",
                           fontName=font, fontSize=10, fillColor=CATEGORY_COLOURS[code]))
    return drawing


def _service_bars(rows: list[dict], font: str) -> Drawing:
    rows = rows[:14]
    height = max(40, 9 * len(rows) + 12) * mm / 1.6
    drawing = Drawing(170 * mm, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 40 * mm, 6
    chart.width, chart.height = 120 * mm, height - 14
    chart.data = [[float(r["value"]) / 10000 for r in reversed(rows)]]
    chart.categoryAxis.categoryNames = [SERVICE_NAMES[r["code"]][0] for r in reversed(rows)]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = GREEN
    chart.bars[0].strokeColor = None
    drawing.add(chart)
    drawing.add(String(40 * mm, height - 6, "万元 / 10,000 CNY", fontName=font, fontSize=7))
    return drawing


def _area_columns(rows: list[dict], font: str) -> Drawing:
    rows = rows[:24]
    drawing = Drawing(170 * mm, 70 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 14 * mm, 18 * mm, 150 * mm, 46 * mm
    chart.data = [[float(r["total"]) / 1e8 for r in rows]]
    chart.categoryAxis.categoryNames = [r["name_zh"][:6] for r in rows]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 6
    chart.categoryAxis.labels.angle = 45
    chart.categoryAxis.labels.boxAnchor = "ne"
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = GREEN
    chart.bars[0].strokeColor = None
    drawing.add(chart)
    drawing.add(String(14 * mm, 66 * mm, "亿元 / 100 million CNY", fontName=font, fontSize=7))
    return drawing


def render_report(*, title: str, year: int, summary: dict, previous: Optional[dict], services: list[dict],
                  areas: list[dict], area_label: str, versions: list[str]) -> bytes:
    """A GEP report: headline figures, category shares (pie), services (bars), areas (columns and table)."""
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
    story += [table, Paragraph("构成 Composition", styles["h2"]), _pie(summary["shares"], font)]
    story += [Paragraph("分项服务价值 Value by service", styles["h2"]), _service_bars(services, font)]
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
        story += [Paragraph(f"{area_label}", styles["h2"]), _area_columns(areas, font)]
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
