"""Display labels of the lending enumerations (greenfin/labels.py): statuses, outcomes, repayment
methods, delinquency buckets, uses of proceeds, scorecard features and the values of their bins."""
from __future__ import annotations

import re
from typing import Optional

from flask_babel import lazy_gettext as _l

from greenfin.core import labels as _core_labels  # noqa: F401  (townships, sectors, kinds: feature values)
from greenfin.labels import declare, label_in, labels_of

STATUS = declare("loan_status", {
    "submitted": _l("Submitted"), "scored": _l("Scored"), "approved": _l("Approved"), "referred": _l("Referred"),
    "declined": _l("Declined"), "override_pending": _l("Override pending"), "booked": _l("Booked"),
    "withdrawn": _l("Withdrawn"), "active": _l("Active"), "repaid": _l("Repaid"), "written_off": _l("Written off"),
    "proposed": _l("Proposed"), "pledged": _l("Pledged"), "released": _l("Released"), "enforced": _l("Enforced"),
    "champion": _l("Champion"), "challenger": _l("Challenger"), "retired": _l("Retired"),
    "stable": _l("Stable"), "warn": _l("Warning"), "alert": _l("Alert"), "few": _l("Too few to judge"),
})
OUTCOME = declare("loan_outcome", {"approve": _l("Approve"), "refer": _l("Refer"), "decline": _l("Decline")})
AMORTISATION = declare("amortisation", {
    "annuity": ("等额本息", "Equal instalments (annuity)"),
    "equal_principal": ("等额本金", "Equal principal"),
    "seasonal": ("按收获季节还款", "Seasonal repayments at harvest"),
    "interest_only": ("按月付息、到期还本", "Interest monthly, principal at maturity"),
    "bullet": ("到期一次还本付息", "Bullet"),
})
BUCKET = declare("dpd_bucket", {
    "current": ("正常", "Current"), "1-30": ("逾期 1–30 天", "1–30 days past due"),
    "31-60": ("逾期 31–60 天", "31–60 days past due"), "61-90": ("逾期 61–90 天", "61–90 days past due"),
    "90+": ("逾期 90 天以上", "Over 90 days past due"),
})
# Green Loan Principles use-of-proceeds categories as the catalogue stores them (the stored text is
# the code; products take one of these).
USE_OF_PROCEEDS = declare("use_of_proceeds", {
    "environmentally sustainable management of living natural resources and land use":
        ("生物自然资源和土地利用的环境可持续管理", "Environmentally sustainable management of living natural resources and land use"),
    "sustainable forestry, afforestation and forest conservation":
        ("可持续林业、植树造林和森林保护", "Sustainable forestry, afforestation and forest conservation"),
    "biodiversity conservation and ecosystem services": ("生物多样性保护和生态系统服务", "Biodiversity conservation and ecosystem services"),
    "environmentally sustainable agriculture (green food / organic certified orchards)":
        ("环境可持续农业（绿色食品、有机认证果园）", "Environmentally sustainable agriculture (green food / organic certified orchards)"),
    "climate change mitigation: forest carbon sinks": ("减缓气候变化：森林碳汇", "Climate change mitigation: forest carbon sinks"),
    "renewable energy": ("可再生能源", "Renewable energy"),
    "energy efficiency": ("能效提升", "Energy efficiency"),
    "pollution prevention and control": ("污染防治", "Pollution prevention and control"),
    "clean transportation": ("清洁交通", "Clean transportation"),
    "sustainable water and wastewater management": ("可持续水资源与污水管理", "Sustainable water and wastewater management"),
    "climate change adaptation": ("适应气候变化", "Climate change adaptation"),
    "circular economy": ("循环经济", "Circular economy"),
    "green buildings": ("绿色建筑", "Green buildings"),
})
# The product kinds a scorecard sees (``product`` feature; greenfin/lending/pricing.py PRODUCTS).
PRODUCT_KIND = declare("loan_product_kind", {
    "eco_credit": ("生态信用贷", "Eco-credit loan"), "forest_mortgage": ("林权抵押贷", "Forest-rights mortgage"),
    "gep_pledge": ("GEP质押贷", "GEP pledge loan"), "orchard": ("马家柚果园贷", "Majia pomelo orchard loan"),
    "carbon_pledge": ("林业碳汇收益权质押贷", "Carbon-sink income-right pledge"),
})
FEATURE = declare("score_feature", {
    "eco_colour": ("生态信用等级", "Eco-credit colour"), "collateral_coverage": ("抵质押覆盖率", "Collateral coverage"),
    "debt_to_income": ("负债收入比", "Debt to income"), "loan_to_income": ("贷款收入比", "Loan to income"),
    "years_in_business": ("经营年限", "Years in business"), "guarantor_count": ("担保人数", "Guarantors"),
    "sector": ("所属行业", "Sector"), "township": ("所在乡镇", "Township"), "party_kind": ("主体类型", "Borrower type"),
    "term_months": ("贷款期限（月）", "Term (months)"), "amount": ("贷款金额", "Loan amount"),
    "product": ("贷款产品", "Loan product"), "asset_to_debt": ("资产负债比", "Assets to debts"),
    "annual_income": ("年收入", "Annual income"), "total_debts": ("负债总额", "Total debts"),
    "total_assets": ("资产总额", "Total assets"), "loan_id": ("贷款编号", "Loan number"),
    "applied_month": ("申请月份", "Month applied"),
})
BIN = declare("score_bin", {"missing": ("缺失", "Missing"), "other": ("其他", "Other")})
# Why training left a column out (greenfin/lending/scoring/data.py, scorecard.py; stored as these words).
IGNORED = declare("ignored_reason", {
    "empty": ("全部为空", "Empty"), "constant": ("取值不变", "Constant"),
    "id-like name with unique values": ("编号类列，取值唯一", "id-like name with unique values"),
    "date": ("日期", "Date"), "text with nearly unique values": ("文本且取值几乎唯一", "text with nearly unique values"),
    "running number": ("流水号", "running number"), "too few values": ("取值太少", "too few values"),
    "beyond the strongest features": ("不在最强的特征之列", "beyond the strongest features"),
    "dropped: sign against its WoE (collinear)": ("已剔除：系数符号与 WoE 相反（共线）",
                                                  "dropped: sign against its WoE (collinear)"),
    "protected attribute": ("受保护属性，不参与评分", "Protected attribute, not used for scoring"),
})
PROTECTED_ATTRIBUTE = declare("protected_attribute", {
    "sex": ("性别", "Sex"), "marital_status": ("婚姻状况", "Marital status"), "ethnicity": ("民族", "Ethnicity"),
    "religion": ("宗教信仰", "Religion"),
})
# Which enumeration the values of a categorical feature come from.
FEATURE_VALUES = {"township": "township", "sector": "sector", "party_kind": "party_kind", "eco_colour": "colour",
                  "product": "loan_product_kind"}


def ignored_label(why: str, language: Optional[str] = None) -> str:
    """Why a column was left out, in words; "weak (IV 0.004)" keeps its figure."""
    from greenfin.labels import current_language, label

    weak = re.fullmatch(r"weak \(IV (-?[0-9.]+)\)", why or "")
    if weak:
        return f"区分力弱（IV {weak.group(1)}）" if (language or current_language()) == "zh" else why
    return label("ignored_reason", why, language)


def feature_label(name: str, language: Optional[str] = None) -> str:
    from greenfin.labels import label

    return label("score_feature", name, language)


def bin_label(bins, index: int, language: str) -> str:
    """A bin of a scorecard feature in words: its members' labels for a categorical bin
    ("吴村镇、丰溪街道、泉波镇、壶峤镇（另 1 个）"), the range for a numeric one."""
    if index < 0:
        return label_in("score_bin", "missing", language)
    if bins.kind != "categorical":
        return bins.labels[index]
    if index == bins.other_bin:
        return label_in("score_bin", "other", language)
    members = [value for value, group in bins.categories.items() if group == index]
    enumeration = FEATURE_VALUES.get(bins.name)
    if enumeration is None:
        return bins.labels[index]
    shown = labels_of(enumeration, members[:4], language, sep="、" if language == "zh" else ", ")
    rest = len(members) - 4
    if rest <= 0:
        return shown
    return f"{shown}（另 {rest} 个）" if language == "zh" else f"{shown} (+{rest} more)"
