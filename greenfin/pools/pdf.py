"""The monthly servicer report as PDF (reportlab), bilingual labels, with charts."""
from __future__ import annotations

import io
from typing import Sequence

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from greenfin.pdf import cjk_font

GREEN = colors.HexColor("#1f7a4d")
BUCKET_COLOURS = [colors.HexColor(c) for c in ("#2e9e62", "#c99a06", "#e67e22", "#c0392b", "#7b241c")]
PIE_COLOURS = [colors.HexColor(c) for c in ("#1f7a4d", "#2563eb", "#c99a06", "#8e44ad", "#16a085", "#c0392b", "#7f8c8d")]


def _money(v) -> str:
    return "—" if v is None else f"{float(v):,.2f}"


def _pct(v, digits: int = 2) -> str:
    return "—" if v is None else f"{float(v) * 100:.{digits}f}%"


def _bar_chart(labels: Sequence[str], values: Sequence[float], title: str, font: str, width=170 * mm, height=62 * mm,
               bar_colours: Sequence = ()) -> Drawing:
    d = Drawing(width, height)
    d.add(String(0, height - 10, title, fontName=font, fontSize=9))
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 22, width - 60, height - 45
    chart.data = [list(values) or [0]]
    chart.categoryAxis.categoryNames = list(labels) or [""]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = GREEN
    for i, colour in enumerate(bar_colours):
        chart.bars[(0, i)].fillColor = colour
    d.add(chart)
    return d


def _pie(labels: Sequence[str], values: Sequence[float], title: str, font: str) -> Drawing:
    d = Drawing(170 * mm, 60 * mm)
    d.add(String(0, 60 * mm - 10, title, fontName=font, fontSize=9))
    pie = Pie()
    pie.x, pie.y, pie.width, pie.height = 20, 10, 130, 130
    pie.data = list(values) or [1]
    pie.labels = None
    for i in range(len(pie.data)):
        pie.slices[i].fillColor = PIE_COLOURS[i % len(PIE_COLOURS)]
    d.add(pie)
    for i, label in enumerate(labels):
        y = 60 * mm - 28 - i * 12
        d.add(String(175, y, f"■ {label[:60]}", fontName=font, fontSize=7, fillColor=PIE_COLOURS[i % len(PIE_COLOURS)]))
    return d


def servicer_report_pdf(pool, report, history: Sequence) -> bytes:
    """``history``: the pool's reports up to this one, oldest first (for the pool-factor chart)."""
    font = cjk_font()
    f = report.figures
    title = ParagraphStyle("title", fontName=font, fontSize=15, leading=20, textColor=GREEN)
    h2 = ParagraphStyle("h2", fontName=font, fontSize=11, leading=15, spaceBefore=8, textColor=GREEN)
    body = ParagraphStyle("body", fontName=font, fontSize=8.5, leading=12)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=f"{pool.code} {report.month}", author="GreenFin")

    def table(rows, widths=(70 * mm, 100 * mm)):
        t = Table(rows, colWidths=widths)
        t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                               ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#d0d5dd")),
                               ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f5f3")),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        return t

    c = f["collections"]
    story = [
        Paragraph(f"{pool.name} · 资产服务机构报告 Servicer report · {report.month}", title),
        Paragraph(f"{pool.code} · 发起机构 Originator: {pool.originator.name} · "
                  f"基准资产池 Baseline cut #{f['baseline_cut']['seq']} ({f['baseline_cut']['as_of']}) · "
                  f"报告期 Period {f['period_start']} – {f['period_end']}", body),
        Paragraph("资产池概况 Pool performance", h2),
        table([
            ["期初余额 Opening balance (CNY)", _money(f["opening_balance"])],
            ["期末余额 Closing balance (CNY)", _money(f["closing_balance"])],
            ["资产池因子 Pool factor", f"{f['pool_factor']:.4f}" if f.get("pool_factor") is not None else "—"],
            ["贷款笔数 Loans (start → end)", f"{f['loan_count_start']} → {f['loan_count_end']}"],
            ["加权平均利率 WA rate", _pct(f.get("wa_rate"), 3)],
            ["利息回收 Interest collected", _money(c["interest"])],
            ["正常本金 Scheduled principal", _money(c["scheduled_principal"])],
            ["提前还款 Prepayments", _money(c["prepayment"])],
            ["费用 Fees", _money(c["fees"])],
            ["回收款合计 Total collections", _money(c["total"])],
            ["违约回收 Recoveries", _money(f["recoveries"])],
            *([["其中指数保险赔付 of which index-insurance payouts", _money(f["insurance_recoveries"])]]
              if f.get("insurance_recoveries") else []),
            ["新增违约 New defaults", f"{f['defaults']['count']} · {_money(f['defaults']['balance'])}"],
            ["核销 Write-offs", _money(f["write_offs"])],
            ["累计违约率 Cumulative default ratio", _pct(f["cumulative_default_ratio"])],
            ["年化提前还款率 CPR (month, annualised)", _pct(f["cpr"])],
            ["年化违约率 CDR (month, annualised)", _pct(f["cdr"])],
        ]),
        Spacer(1, 4 * mm),
        _bar_chart(["利息 Interest", "正常本金 Scheduled", "提前还款 Prepaid", "违约回收 Recoveries"],
                   [c["interest"], c["scheduled_principal"], c["prepayment"], f["recoveries"]],
                   "本月回收款 Collections this month (CNY)", font),
        Paragraph("逾期分布 Delinquency at month end", h2),
        table([["账龄 Days past due", "笔数 Loans · 余额 Balance · 占比 Share"]]
              + [[b["bucket"], f"{b['count']} · {_money(b['balance'])} · {_pct(b['share'])}"] for b in f["delinquency"]]),
        _bar_chart([b["bucket"] for b in f["delinquency"]], [b["balance"] for b in f["delinquency"]],
                   "逾期余额 Balance by days past due (CNY)", font, bar_colours=BUCKET_COLOURS),
        Paragraph("触发事件 Triggers", h2),
        table([["指标 Test", "数值 Value · 阈值 Threshold · 状态 Status"]]
              + [[{"cumulative_default": "累计违约率 Cumulative default ratio",
                   "delinquency_60": "60天以上逾期占比 60+ days delinquent"}.get(t["code"], t["code"]),
                  f"{_pct(t['value'])} · {_pct(t['threshold'])} · "
                  f"{'已触发 BREACHED' if t['breached'] else '未触发 not breached'}"] for t in f["triggers"]]),
    ]
    if history:
        story.append(_bar_chart([h.month for h in history], [h.figures.get("pool_factor") or 0 for h in history],
                                "资产池因子走势 Pool factor by month", font))
    g = f["green"]
    story += [
        Paragraph("绿色信息披露 Green reporting", h2),
        table([
            ["绿色贷款余额 Green-tagged balance", _money(g["green_balance"])],
            ["绿色贷款占比 Green share of balance", _pct(g.get("green_share"))],
            ["抵质押物GEP合计 Total GEP of collateral (CNY/yr)", _money(g["collateral_gep"])],
        ]),
        table([["募集资金用途 Use of proceeds", "笔数 Loans · 余额 Balance · 占比 Share"]]
              + [[Paragraph(cat["category"] or "—", body), f"{cat['count']} · {_money(cat['balance'])} · {_pct(cat['share'])}"]
                 for cat in g["categories"]]),
    ]
    if g["categories"]:
        story.append(_pie([cat["category"] or "—" for cat in g["categories"]], [cat["balance"] for cat in g["categories"]],
                          "募集资金用途分布 Use-of-proceeds categories by balance", font))
    story.append(Paragraph(f"生成时间 Generated {report.generated_at:%Y-%m-%d %H:%M} UTC · GreenFin", body))
    doc.build(story)
    return buf.getvalue()
