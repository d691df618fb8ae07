"""The decision letter: terms of an approval, or the specific reasons for a decline."""
from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas

from greenfin import dates
from greenfin.labels import label_pair
from greenfin.pdf import cjk_font




def decision_letter(app, decision, summary, schedule_preview) -> bytes:
    """Bilingual letter (Chinese first). ``schedule_preview``: (seq, due date, principal, interest,
    total) of the first instalments: the booked schedule, or the offer's from today."""
    font = cjk_font()
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    c.setTitle(f"{app.number} decision")
    width, height = A4
    y = height - 25 * mm

    def line(text: str, size: float = 10.5, gap: float = 6.5, indent: float = 0):
        nonlocal y
        for part in simpleSplit(text, font, size, width - 40 * mm - indent) or [""]:
            if y < 25 * mm:
                c.showPage()
                y = height - 25 * mm
            c.setFont(font, size)
            c.drawString(20 * mm + indent, y, part)
            y -= gap * mm

    line("上饶农村商业银行广丰支行 · 贷款审批通知书", 15, 8)
    line("Loan decision letter", 11, 9)
    line(f"申请编号 Application: {app.number}    日期 Date: {dates.today().isoformat()}")
    line(f"申请人 Applicant: {app.party.name}")
    line(f"产品 Product: {app.product.name_zh} / {app.product.name_en}")
    line(f"申请金额 Amount applied for: {app.amount:,.2f} 元    期限 Term: {app.term_months} 个月 months", gap=9)
    if decision.outcome == "approve":
        line("审批结果：同意贷款   Decision: APPROVED", 13, 8)
        line(f"核准金额 Approved amount: {decision.approved_amount:,.2f} 元")
        line(f"年利率 Annual rate: {decision.rate * 100:.2f}%  = 基准 base {decision.base_rate * 100:.2f}%"
             f" + 风险溢价 risk premium {decision.risk_premium * 100:.2f}%"
             f" − 绿色优惠 green discount {decision.green_discount * 100:.2f}%")
        zh, en = label_pair("amortisation", app.product.amortisation)
        line(f"还款方式 Repayment: {zh} / {en}")
        zh, en = label_pair("use_of_proceeds", app.product.green_category)
        line(f"绿色贷款用途 Green use of proceeds (Green Loan Principles): {zh}")
        line(f"    {en}")
        if summary["count"]:
            line(f"抵质押物 Collateral: {summary['count']} 宗地块 parcels, 评估值 appraised {summary['appraised']:,.2f} 元,"
                 f" GEP {summary['gep']:,.2f} 元")
        line("利息按月计收：月利率 = 年利率 / 12。Interest accrues monthly at the annual rate / 12.", gap=8)
        line("还款计划（前几期） First instalments:", 11, 7)
        for seq, due, principal, interest, total in schedule_preview:
            line(f"{seq:>3}  {due.isoformat()}  本金 principal {principal:>12,.2f}  利息 interest"
                 f" {interest:>10,.2f}  合计 total {total:>12,.2f}", 9.5, 5.5, 4 * mm)
    else:
        line("审批结果：不予贷款   Decision: DECLINED", 13, 8)
        line("具体原因 Specific reasons:", 11, 7)
        for i, reason in enumerate(decision.reasons[:6], start=1):
            line(f"{i}. {reason.get('zh', '')}", 10.5, 5.5, 4 * mm)
            line(f"   {reason.get('en', '')}", 9.5, 6.5, 4 * mm)
        line("如对本决定有异议，可在30日内向本行书面申请复核。", gap=5.5)
        line("You may ask in writing for a review of this decision within 30 days.")
    y -= 6 * mm
    line("信贷员 Loan officer: ____________    复核 Reviewer: ____________")
    c.showPage()
    c.save()
    return buffer.getvalue()
