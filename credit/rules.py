"""The versioned rule catalogue: look-up by effective date, new rules and new versions (audited)."""
from __future__ import annotations

from datetime import date
from typing import Optional

from sqlalchemy import Select, or_, select

from credit.catalogue import CATEGORIES, rule_rows
from credit.common import KINDS, _actor, _actor_label, today
from credit.models import CreditRule
from greenfin.core.services import record_audit, snapshot
from greenfin.errors import N_, NotFound, ValidationFailed
from greenfin.extensions import db

RULE_FIELDS = ("code", "version", "effective_from", "effective_to", "category", "description_zh", "description_en",
               "party_kinds", "points", "evidence_required", "legal_basis", "display_months", "veto")



def ensure_rule_catalogue() -> int:
    """Insert version 1 of catalogue rules missing from the database; returns how many."""
    existing = set(db.session.scalars(select(CreditRule.code)))
    added = 0
    for row in rule_rows():
        if row["code"] not in existing:
            db.session.add(CreditRule(**row))
            added += 1
    db.session.flush()
    return added


def rule_query(*, on: Optional[date] = None, category: Optional[str] = None, history: bool = False) -> Select:
    """Rules in force on ``on`` (default today), or every version with ``history``."""
    stmt = select(CreditRule).order_by(CreditRule.category, CreditRule.code, CreditRule.version)
    if not history:
        day = on or today()
        stmt = stmt.where(CreditRule.effective_from <= day,
                          or_(CreditRule.effective_to.is_(None), CreditRule.effective_to > day))
    if category:
        stmt = stmt.where(CreditRule.category == category)
    return stmt


def get_rule(code: str, on: Optional[date] = None) -> CreditRule:
    """The version of rule ``code`` in force on ``on``."""
    day = on or today()
    rule = db.session.scalar(
        select(CreditRule).where(CreditRule.code == (code or "").strip().upper(), CreditRule.effective_from <= day,
                                 or_(CreditRule.effective_to.is_(None), CreditRule.effective_to > day))
        .order_by(CreditRule.version.desc()).limit(1))
    if rule is None:
        known = db.session.scalar(select(CreditRule.id).where(CreditRule.code == (code or "").strip().upper()).limit(1))
        if known:
            raise ValidationFailed.field("rule_code", f"rule {code} is not in force on {day.isoformat()}")
        raise NotFound(f"rule {code} not found")
    return rule


def rule_versions(code: str) -> list[CreditRule]:
    return list(db.session.scalars(select(CreditRule).where(CreditRule.code == code).order_by(CreditRule.version)))


def _validate_rule(data: dict, errors: dict) -> None:
    if data.get("category") not in CATEGORIES:
        errors["category"] = ["must be one of " + ", ".join(CATEGORIES)]
    kinds = data.get("party_kinds") or []
    if not kinds or any(k not in KINDS for k in kinds):
        errors["party_kinds"] = ["choose one or more of firm, organisation, individual"]
    points = data.get("points")
    if not isinstance(points, int) or isinstance(points, bool) or points == 0 or abs(points) > 100:
        errors["points"] = ["must be a whole number between -100 and 100, not 0"]
    months = data.get("display_months")
    if not isinstance(months, int) or not (3 <= months <= 36):
        errors["display_months"] = [N_("must be between %(lo)s and %(hi)s months (credit-repair rules)", lo=3, hi=36)]
    for name in ("description_zh", "description_en"):
        if not (data.get(name) or "").strip():
            errors[name] = ["is required"]
    if data.get("veto") and (points or 0) >= 0:
        errors["veto"] = ["only negative rules can veto"]


def create_rule(data: dict) -> CreditRule:
    """Add a new rule code (version 1)."""
    errors: dict[str, list[str]] = {}
    code = (data.get("code") or "").strip().upper()
    if not code or not code.replace("_", "").isalnum() or len(code) > 48:
        errors["code"] = ["use capital letters, digits and underscores (at most 48)"]
    elif db.session.scalar(select(CreditRule.id).where(CreditRule.code == code).limit(1)):
        errors["code"] = [f"rule {code} exists; add a version instead"]
    _validate_rule(data, errors)
    if errors:
        raise ValidationFailed("Invalid rule", errors)
    rule = CreditRule(code=code, version=1, effective_from=data.get("effective_from") or today(),
                      created_by=_actor_label(_actor()),
                      **{k: data.get(k) for k in RULE_FIELDS if k not in ("code", "version", "effective_from",
                                                                            "effective_to")})
    rule.veto = bool(data.get("veto"))
    db.session.add(rule)
    db.session.flush()
    record_audit("credit.rule.create", "credit_rule", rule.id, after=snapshot(rule, RULE_FIELDS))
    return rule


def revise_rule(code: str, data: dict) -> CreditRule:
    """A new version of ``code`` from ``effective_from`` on; the version before it closes that day.

    Postings keep pointing at the version in force on their effective date.
    """
    versions = rule_versions(code)
    if not versions:
        raise NotFound(f"rule {code} not found")
    latest = versions[-1]
    merged = snapshot(latest, RULE_FIELDS) | {k: v for k, v in data.items() if k in RULE_FIELDS}
    merged["points"] = data.get("points", latest.points)
    merged["display_months"] = data.get("display_months", latest.display_months)
    merged["party_kinds"] = data.get("party_kinds", latest.party_kinds)
    merged["veto"] = bool(data.get("veto", latest.veto))
    errors: dict[str, list[str]] = {}
    starts = data.get("effective_from") or today()
    if starts <= latest.effective_from:
        errors["effective_from"] = [f"must be after {latest.effective_from.isoformat()} (the current version's start)"]
    _validate_rule(merged, errors)
    if errors:
        raise ValidationFailed("Invalid rule", errors)
    before = snapshot(latest, RULE_FIELDS)
    latest.effective_to = starts
    rule = CreditRule(code=latest.code, version=latest.version + 1, effective_from=starts, effective_to=None,
                      created_by=_actor_label(_actor()),
                      **{k: merged[k] for k in RULE_FIELDS if k not in ("code", "version", "effective_from",
                                                                         "effective_to")})
    db.session.add(rule)
    db.session.flush()
    record_audit("credit.rule.revise", "credit_rule", rule.id, before=before, after=snapshot(rule, RULE_FIELDS))
    return rule


def rule_applies(rule: CreditRule, kind: str) -> bool:
    return kind in (rule.party_kinds or [])
