"""Display labels of the eco-credit enumerations (greenfin/labels.py): colours, rating states,
decisions, rule categories, rule codes (their names) and the keys of a posting's evidence."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from credit.catalogue import CATEGORIES, RULES
from credit.policy import COLOUR_LABELS
from greenfin.labels import current_language, declare, label

COLOUR = declare("colour", {**COLOUR_LABELS, "unrated": _l("not rated")})
STATE = declare("rating_state", {"computed": _l("Computed, waiting for review"),
                                 "returned": _l("Returned for recomputation"), "notice": _l("On public notice"),
                                 "published": _l("Published")})
DECISION = declare("credit_decision", {"open": _l("Open"), "upheld": _l("Upheld"), "dismissed": _l("Dismissed"),
                                       "pending": _l("Pending"), "approved": _l("Approved"), "rejected": _l("Rejected")})
CATEGORY = declare("rule_category", CATEGORIES)
# The rules of the initial catalogue by their names; a rule added later is named by its own row
# (``rule_label`` below).
RULE = declare("credit_rule", {code: (zh, en) for code, _c, _k, _p, _m, _v, zh, en, *_rest in RULES})
EVIDENCE_KEY = declare("evidence_key", {
    "document": ("文书编号", "Document"), "inspector": ("检查人", "Inspector"), "note": ("备注", "Note"),
    "loan": ("贷款编号", "Loan"), "principal": ("本金", "Principal"), "days_past_due": ("逾期天数", "Days past due"),
    "reverses": ("更正的记录", "Corrects posting"), "source": ("来源", "Source"), "product": ("产品", "Product"),
    "parcel": ("地块", "Parcel"), "certification": ("认证", "Certification"), "lot": ("批次", "Lot"),
})


def rule_label(code, rule=None) -> str:
    """A rule's name in the current language: from its row when given, else the catalogue's."""
    if rule is not None:
        return rule.description_zh if current_language() == "zh" else rule.description_en
    return label("credit_rule", code)


def evidence_text(key, value) -> str:
    """One line of a posting's evidence: ``来源: 认证 #3`` for a reference such as ``certification:3``."""
    if not isinstance(value, str):
        value = ", ".join(str(v) for v in value)
    kind, sep, ref = value.partition(":")
    if sep and kind in EVIDENCE_KEY and ref and " " not in ref:
        value = f"{label('evidence_key', kind)} #{ref}"
    return f"{label('evidence_key', key)}: {value}"
