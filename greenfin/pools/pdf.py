"""The monthly servicer report as PDF (reportlab), bilingual labels, with charts."""
from __future__ import annotations

import io
from decimal import Decimal
from typing import Sequence

from flask_babel import force_locale, gettext

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from greenfin import dates
from greenfin.charts import format_money
from greenfin.labels import label_in, label_pair
from greenfin.pdf import cjk_font
from greenfin.pools.report_charts import report_charts

GREEN = colors.HexColor("#1f7a4d")
_money = format_money


def _pct(v, digits: int = 2) -> str:
    return "—" if v is None else format_money(Decimal(str(v)) * 100, digits) + "%"


def _bilingual(message: str) -> str:
    """``利息 Interest``: the Chinese translation, then the English message."""
    with force_locale("zh_CN"):
        zh = gettext(message)
    return zh if zh == message else f"{zh} {message}"


def _chart(chart, title: str, style) -> list:
    """The page's chart definition drawn into the PDF, under its title; nothing when it is empty."""
    image = chart.pdf(170 * mm)
    return [KeepTogether([Paragraph(title, style), image])] if image is not None else []


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
    charts = report_charts(f, history, label=_bilingual,
                           code_label=lambda enumeration, code: " ".join(label_pair(enumeration, code)))
    chart_title = ParagraphStyle("chart", fontName=font, fontSize=9, leading=13, spaceBefore=6)
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
        *_chart(charts["collections"], "本月回收款 Collections this month (CNY)", chart_title),
        Paragraph("逾期分布 Delinquency at month end", h2),
        table([["账龄 Days past due", "笔数 Loans · 余额 Balance · 占比 Share"]]
              + [[" ".join(label_pair("dpd_bucket", b["bucket"])), f"{b['count']} · {_money(b['balance'])} · {_pct(b['share'])}"] for b in f["delinquency"]]),
        *_chart(charts["delinquency"], "逾期余额占比 Share of balance by days past due (%)", chart_title),
        Paragraph("触发事件 Triggers", h2),
        table([["指标 Test", "数值 Value · 阈值 Threshold · 状态 Status"]]
              + [[{"cumulative_default": "累计违约率 Cumulative default ratio",
                   "delinquency_60": "60天以上逾期占比 60+ days delinquent"}.get(t["code"], t["code"]),
                  f"{_pct(t['value'])} · {_pct(t['threshold'])} · "
                  f"{'已触发 BREACHED' if t['breached'] else '未触发 not breached'}"] for t in f["triggers"]]),
    ]
    story += _chart(charts["pool_factor"], "资产池因子走势 Pool factor by month (%)", chart_title)
    g = f["green"]
    story += [
        Paragraph("绿色信息披露 Green reporting", h2),
        table([
            ["绿色贷款余额 Green-tagged balance", _money(g["green_balance"])],
            ["绿色贷款占比 Green share of balance", _pct(g.get("green_share"))],
            ["抵质押物GEP合计 Total GEP of collateral (CNY/yr)", _money(g["collateral_gep"])],
        ]),
        table([["募集资金用途 Use of proceeds", "笔数 Loans · 余额 Balance · 占比 Share"]]
              + [[Paragraph("<br/>".join(label_pair("use_of_proceeds", cat["category"])) if cat["category"] else "—", body), f"{cat['count']} · {_money(cat['balance'])} · {_pct(cat['share'])}"]
                 for cat in g["categories"]]),
    ]
    story += _chart(charts["proceeds"], "募集资金用途分布 Use of proceeds, share of balance (%)", chart_title)
    story.append(Paragraph(f"生成时间 Generated {dates.local_datetime(report.generated_at)} · GreenFin", body))
    doc.build(story)
    return buf.getvalue()
