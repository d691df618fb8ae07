"""The initial rule catalogue (version 1 of every rule), kept as data.

Firms follow the four areas of the national enterprise environmental credit evaluation
method (《企业环境信用评价办法（试行）》, 环发〔2013〕150号): pollution prevention,
ecological protection, environmental management and social supervision, with its
一票否决 (veto) items. Individuals and village organisations follow village-style
green-behaviour lists (垃圾分类、植树、巡河、绿色认证种植) and violations.
Display periods follow the national credit-repair rules (轻微 3 months, 一般 6-12 months,
严重 up to 3 years).
"""
from __future__ import annotations

from datetime import date

CATALOGUE_START = date(2024, 1, 1)

FIRM = ("firm",)
ORG_IND = ("organisation", "individual")
ALL = ("firm", "organisation", "individual")
METHOD_2013 = "环发〔2013〕150号《企业环境信用评价办法（试行）》"

# Categories and their labels (zh, en).
CATEGORIES = {
    "pollution_prevention": ("污染防治", "Pollution prevention"),
    "ecological_protection": ("生态保护", "Ecological protection"),
    "environmental_management": ("环境管理", "Environmental management"),
    "social_supervision": ("社会监督", "Social supervision"),
    "green_behaviour": ("绿色行为", "Green behaviour"),
    "violation": ("环境违法行为", "Violation"),
    "event": ("平台事件", "Platform event"),
}

# code, category, party kinds, points, display months, veto, zh, en, evidence, legal basis
RULES: list[tuple] = [
    # --- firms: pollution prevention
    ("FIRM_EMISSIONS_COMPLIANT", "pollution_prevention", FIRM, 8, 12, False,
     "大气及水污染物稳定达标排放（季度监督性监测）", "Air and water emissions within standards (quarterly supervisory monitoring)",
     "监督性监测报告", METHOD_2013 + " 污染防治类指标"),
    ("FIRM_SOLID_WASTE_COMPLIANT", "pollution_prevention", FIRM, 4, 12, False,
     "一般工业固体废物规范贮存、利用和处置", "General industrial solid waste stored, reused and disposed of properly",
     "现场检查记录", METHOD_2013 + " 污染防治类指标"),
    ("FIRM_HAZWASTE_STANDARD", "pollution_prevention", FIRM, 6, 12, False,
     "危险废物规范化管理考核达标", "Hazardous waste management assessment passed",
     "危险废物规范化管理考核表", "《固体废物污染环境防治法》第七十七条"),
    ("FIRM_EMISSION_EXCEEDED", "pollution_prevention", FIRM, -20, 12, False,
     "污染物超标或超总量排放", "Emissions above the standard or the total-load quota",
     "监测报告、行政处罚决定书", "《大气污染防治法》第九十九条；《水污染防治法》第八十三条"),
    ("FIRM_HAZWASTE_ILLEGAL", "pollution_prevention", FIRM, -30, 36, False,
     "非法转移、倾倒、处置危险废物", "Illegal transfer, dumping or disposal of hazardous waste",
     "行政处罚决定书", "《固体废物污染环境防治法》第一百一十二条"),
    # --- firms: ecological protection
    ("FIRM_ECO_MEASURES", "ecological_protection", FIRM, 5, 12, False,
     "建设项目选址和施工落实生态保护措施", "Ecological safeguards applied in siting and construction",
     "验收意见", METHOD_2013 + " 生态保护类指标"),
    ("FIRM_ECO_DAMAGE", "ecological_protection", FIRM, -25, 36, False,
     "破坏生态（非法占用林地、河道非法采砂等）", "Ecological damage (illegal forest land use, illegal river sand mining...)",
     "行政处罚决定书", "《森林法》第七十三条；《河道管理条例》第四十四条"),
    # --- firms: environmental management
    ("FIRM_PERMIT_COMPLIANT", "environmental_management", FIRM, 5, 12, False,
     "持证排污、按证排污，按时提交执行报告", "Discharges under a valid permit, compliance reports on time",
     "排污许可执行报告", "《排污许可管理条例》第二十二条"),
    ("FIRM_NO_PERMIT", "environmental_management", FIRM, -30, 36, False,
     "无证排污或未按排污许可证排污", "Discharging without a permit or outside its terms",
     "行政处罚决定书", "《排污许可管理条例》第三十三条"),
    ("FIRM_SELF_MONITORING", "environmental_management", FIRM, 3, 12, False,
     "按规定开展自行监测并公开数据", "Self-monitoring carried out and published",
     "自行监测方案及数据", METHOD_2013 + " 环境管理类指标"),
    ("FIRM_EIA_VIOLATION", "environmental_management", FIRM, -20, 12, False,
     "未依法环评擅自开工建设（未批先建）", "Construction started without an approved environmental impact assessment",
     "行政处罚决定书", "《环境影响评价法》第三十一条"),
    ("FIRM_RISK_PLAN", "environmental_management", FIRM, 3, 12, False,
     "突发环境事件应急预案备案并开展演练", "Environmental emergency plan filed and exercised",
     "预案备案表、演练记录", "《突发环境事件应急管理办法》第十三条"),
    # --- firms: social supervision
    ("FIRM_DISCLOSURE", "social_supervision", FIRM, 3, 12, False,
     "依法公开环境信息", "Environmental information disclosed as required",
     "信息公开网页截图", "《企业环境信息依法披露管理办法》"),
    ("FIRM_COMPLAINT_UPHELD", "social_supervision", FIRM, -5, 6, False,
     "群众环境投诉经查属实", "A public environmental complaint found true",
     "信访件办理结果", METHOD_2013 + " 社会监督类指标"),
    ("FIRM_MEDIA_EXPOSURE", "social_supervision", FIRM, -10, 12, False,
     "媒体曝光环境问题经查属实", "An environmental problem exposed by the media and found true",
     "调查处理报告", METHOD_2013 + " 社会监督类指标"),
    # --- firms: veto items (一票否决)
    ("FIRM_VETO_MAJOR_INCIDENT", "pollution_prevention", FIRM, -60, 36, True,
     "发生较大及以上突发环境事件（一票否决）", "A major environmental incident or worse (veto)",
     "事件调查报告", METHOD_2013 + " 第十三条"),
    ("FIRM_VETO_DATA_FRAUD", "environmental_management", FIRM, -60, 36, True,
     "篡改、伪造自动监测数据（一票否决）", "Tampering with or forging automatic monitoring data (veto)",
     "行政处罚决定书", "《环境保护法》第六十三条"),
    # --- individuals and village organisations: green behaviour
    ("GREEN_WASTE_SORTING", "green_behaviour", ORG_IND, 2, 12, False,
     "生活垃圾分类投放（月度检查合格）", "Household waste sorted (monthly check passed)",
     "村垃圾分类检查记录", "广丰区农村生活垃圾分类工作方案"),
    ("GREEN_TREE_PLANTING", "green_behaviour", ORG_IND, 3, 12, False,
     "参加义务植树、补植复绿", "Voluntary tree planting or replanting",
     "村委会证明、照片", "《森林法》第十条"),
    ("GREEN_RIVER_PATROL", "green_behaviour", ORG_IND, 3, 12, False,
     "参与河湖巡护（民间河长）", "River and lake patrols (volunteer river chief)",
     "巡河记录", "江西省河长制工作规定"),
    ("GREEN_CERTIFIED_FARMING", "green_behaviour", ALL, 12, 12, False,
     "绿色食品、有机产品认证种植", "Farming under green-food or organic certification",
     "认证证书", "《绿色食品标志管理办法》"),
    ("GREEN_PACKAGING_RECYCLING", "green_behaviour", ORG_IND, 2, 12, False,
     "农药包装废弃物回收", "Pesticide packaging returned for recycling",
     "回收站登记", "《农药包装废弃物回收处理管理办法》"),
    ("GREEN_STRAW_REUSE", "green_behaviour", ORG_IND, 2, 12, False,
     "秸秆还田或综合利用", "Straw returned to the field or reused",
     "乡镇农技站记录", "《江西省农作物秸秆综合利用实施方案》"),
    # --- individuals and village organisations: violations
    ("VIOL_ILLEGAL_DISCHARGE", "violation", ORG_IND, -10, 12, False,
     "偷排生活污水、畜禽养殖废水", "Illegal discharge of sewage or livestock wastewater",
     "现场检查记录、照片", "《畜禽规模养殖污染防治条例》第三十八条"),
    ("VIOL_PESTICIDE_MISUSE", "violation", ORG_IND, -15, 12, False,
     "使用禁限用农药或超量施用化肥", "Banned pesticides or excess fertiliser used",
     "抽检报告", "《农药管理条例》第六十条"),
    ("VIOL_STRAW_BURNING", "violation", ORG_IND, -10, 6, False,
     "露天焚烧秸秆", "Open burning of straw",
     "现场照片、巡查记录", "《大气污染防治法》第一百一十九条"),
    ("VIOL_ILLEGAL_LOGGING", "violation", ORG_IND, -20, 36, False,
     "滥伐、盗伐林木", "Illegal logging",
     "林业行政处罚决定书", "《森林法》第七十六条"),
    ("VIOL_ILLEGAL_DUMPING", "violation", ORG_IND, -5, 3, False,
     "乱倒垃圾、建筑垃圾", "Dumping household or construction waste",
     "巡查记录", "村规民约"),
    # --- platform events, posted by other capabilities
    ("TRACE_CERT_GRANTED", "event", ALL, 10, 12, False,
     "获得绿色食品/有机/地理标志认证", "Green-food, organic or geographical-indication certificate granted",
     "证书编号", "GreenFin 溯源"),
    ("TRACE_CERT_LAPSED", "event", ALL, -10, 12, False,
     "认证证书过期或被撤销", "Certificate lapsed or revoked",
     "证书编号", "GreenFin 溯源"),
    ("LOAN_REPAID_ON_TIME", "event", ALL, 5, 12, False,
     "绿色贷款按期足额还款", "Green loan repaid on time",
     "贷款编号", "GreenFin 绿色信贷"),
    ("LOAN_DEFAULTED", "event", ALL, -20, 36, False,
     "绿色贷款违约", "Green loan defaulted",
     "贷款编号", "GreenFin 绿色信贷"),
    ("PENALTY_NOTICE", "event", ALL, -15, 12, False,
     "环境行政处罚决定", "Environmental administrative penalty notice",
     "行政处罚决定书文号", "《环境行政处罚办法》"),
]


def rule_rows() -> list[dict]:
    """The catalogue as rows for ``credit_rules`` (version 1)."""
    rows = []
    for code, category, kinds, points, months, veto, zh, en, evidence, legal in RULES:
        rows.append({
            "code": code, "version": 1, "effective_from": CATALOGUE_START, "effective_to": None,
            "category": category, "party_kinds": list(kinds), "points": points, "display_months": months,
            "veto": veto, "description_zh": zh, "description_en": en, "evidence_required": evidence,
            "legal_basis": legal, "created_by": "catalogue",
        })
    return rows
