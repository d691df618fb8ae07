"""Township assessment (考核): an indicator tree, department values with evidence, yearly scores with
rank and change, alerts when quantity-effect GEP falls, and the exit audit of an official's tenure.

GEP indicators are computed from the accounts (through the gep contract and ``gep_change``, so a
new price table never moves them); the others are entered by their source department.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Optional

from sqlalchemy import delete, select

from greenfin.compensation.models import (
    DIRECTIONS,
    INDICATOR_RULES,
    AssessmentAlert,
    AssessmentIndicator,
    AssessmentScore,
    AssessmentValue,
)
from greenfin.compensation.services.change import gep_change
from greenfin.core import services as core
from greenfin.errors import N_, Conflict, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.numbers import parse_decimal
from greenfin.registry import require
from greenfin.security import current_actor

CENT = Decimal("0.01")
ALERT_QUANTITY_FALL = "quantity_fall"


def _check_year(year, field: str = "year") -> int:
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationFailed.field(field, N_("must be a year between 1990 and 2100")) from None
    if not 1990 <= year <= 2100:
        raise ValidationFailed.field(field, N_("must be a year between 1990 and 2100"))
    return year


def create_indicator(data: dict) -> AssessmentIndicator:
    """An indicator of the tree: code, parent_code, name_zh, name_en, weight (points), direction,
    rule, floor (0 points), target (full points), unit, department."""
    errors: dict[str, list[str]] = {}
    code = (data.get("code") or "").strip()
    if not code or len(code) > 32:
        errors.setdefault("code", []).append(N_("must be 1 to 32 characters"))
    elif db.session.scalar(select(AssessmentIndicator.id).where(AssessmentIndicator.code == code)):
        errors.setdefault("code", []).append(N_("is taken"))
    for name in ("name_zh", "name_en", "department", "unit"):
        if not (data.get(name) or "").strip():
            errors.setdefault(name, []).append(N_("is required"))
    if data.get("direction") not in DIRECTIONS:
        errors.setdefault("direction", []).append(N_("must be higher or lower"))
    if data.get("rule") not in INDICATOR_RULES:
        errors.setdefault("rule", []).append(N_("must be gep_quantity_growth, gep_regulating_per_ha or entered"))
    weight = parse_decimal(data.get("weight"), "weight", errors)
    floor = parse_decimal(data.get("floor"), "floor", errors)
    target = parse_decimal(data.get("target"), "target", errors)
    if weight is not None and weight < 0:
        errors.setdefault("weight", []).append(N_("must not be negative"))
    if floor is not None and target is not None and data.get("direction") in DIRECTIONS:
        if (target > floor) != (data["direction"] == "higher") or target == floor:
            errors.setdefault("target", []).append(N_("must be above the floor when higher is better, below it when lower is"))
    parent = data.get("parent_code")
    if parent and not db.session.scalar(select(AssessmentIndicator.id).where(AssessmentIndicator.code == parent)):
        errors.setdefault("parent_code", []).append(N_("unknown indicator"))
    if errors:
        raise ValidationFailed("The indicator is not valid", errors)
    indicator = AssessmentIndicator(code=code, parent_code=parent or None, name_zh=data["name_zh"].strip()[:128],
                                    name_en=data["name_en"].strip()[:128], weight=weight, direction=data["direction"],
                                    rule=data["rule"], floor=floor, target=target, unit=data["unit"].strip()[:32],
                                    department=data["department"].strip()[:128])
    db.session.add(indicator)
    db.session.flush()
    core.record_audit("assessment.indicator.create", "assessment_indicator", indicator.id,
                      after={"code": code, "weight": weight, "rule": indicator.rule})
    return indicator


def indicator_tree() -> list[AssessmentIndicator]:
    return list(db.session.scalars(select(AssessmentIndicator).order_by(AssessmentIndicator.code)))


def get_indicator(code: str) -> AssessmentIndicator:
    indicator = db.session.scalar(select(AssessmentIndicator).where(AssessmentIndicator.code == code))
    if indicator is None:
        raise NotFound(f"indicator {code} not found")
    return indicator


def enter_value(indicator_code: str, township: str, year, value, evidence: str) -> AssessmentValue:
    """A department's value for an entered indicator, with its evidence (a document reference)."""
    indicator = get_indicator(indicator_code)
    year = _check_year(year)
    errors: dict[str, list[str]] = {}
    if indicator.rule != "entered":
        errors.setdefault("indicator", []).append(N_("is computed from the GEP accounts, not entered"))
    number = parse_decimal(value, "value", errors)
    if not (evidence or "").strip():
        errors.setdefault("evidence", []).append(N_("is required"))
    if township not in {t.code for t in core.list_townships()}:
        errors.setdefault("township_code", []).append(N_("unknown township of Guangfeng district"))
    if errors:
        raise ValidationFailed("The value is not valid", errors)
    row = db.session.scalar(select(AssessmentValue).where(AssessmentValue.indicator_id == indicator.id,
                                                          AssessmentValue.township_code == township,
                                                          AssessmentValue.year == year))
    before = {"value": row.value, "evidence": row.evidence} if row else None
    actor = current_actor()
    if row is None:
        row = AssessmentValue(indicator_id=indicator.id, township_code=township, year=year, value=number,
                              evidence=evidence.strip(), entered_by_id=actor.id if actor else None)
        db.session.add(row)
    else:
        row.value, row.evidence = number, evidence.strip()
        row.entered_by_id = actor.id if actor else None
    db.session.flush()
    core.record_audit("assessment.value.enter", "assessment_value", row.id, before=before,
                      after={"indicator": indicator.code, "township": township, "year": year, "value": number,
                             "evidence": row.evidence})
    return row


def points(indicator: AssessmentIndicator, value: Optional[Decimal]) -> Decimal:
    """weight × the value's position between floor (0) and target (full), clamped to [0, 1]."""
    if value is None:
        return Decimal("0.00")
    share = (Decimal(value) - indicator.floor) / (indicator.target - indicator.floor)
    share = min(Decimal(1), max(Decimal(0), share))
    return (indicator.weight * share).quantize(CENT, ROUND_HALF_UP)


def gep_indicator_values(year: int) -> tuple[dict[str, dict[str, Decimal]], dict]:
    """{rule: {township: value}} for the GEP indicators of ``year``, and the change report's sources."""
    gep = require("greenfin.gep")
    report = gep_change(year - 1, year)
    growth = {}
    for t, c in report.by_township().items():
        growth[t] = (c.quantity / c.before * 100).quantize(Decimal("0.0001"), ROUND_HALF_UP) if c.before else Decimal(0)
    regulating, area = defaultdict(Decimal), defaultdict(Decimal)
    for a in gep.year_accounts(year, with_services=False):
        regulating[a.township_code] += a.regulating
        area[a.township_code] += a.area_ha
    per_ha = {t: (regulating[t] / area[t]).quantize(Decimal("0.0001"), ROUND_HALF_UP) for t in area if area[t]}
    return ({"gep_quantity_growth": growth, "gep_regulating_per_ha": per_ha},
            {"report": report, "base_prices": report.base_prices, "prices": report.prices})


def score_year(year) -> list[AssessmentScore]:
    """Score every township with GEP accounts in ``year`` (re-scoring replaces the year's scores) and
    raise an alert for each township whose quantity-effect GEP fell."""
    year = _check_year(year)
    indicators = indicator_tree()
    if not indicators:
        raise ValidationFailed.field("indicators", N_("define the indicator tree first"))
    gep_values, sources = gep_indicator_values(year)
    report = sources["report"]
    entered = defaultdict(dict)
    for row in db.session.scalars(select(AssessmentValue).where(AssessmentValue.year == year)):
        entered[row.indicator_id][row.township_code] = row
    townships = sorted(set(gep_values["gep_regulating_per_ha"]) | set(gep_values["gep_quantity_growth"]))
    previous = dict(db.session.execute(select(AssessmentScore.township_code, AssessmentScore.score)
                                       .where(AssessmentScore.year == year - 1)).all())
    db.session.execute(delete(AssessmentScore).where(AssessmentScore.year == year))
    totals, details = {}, {}
    for t in townships:
        lines = []
        for ind in indicators:
            if ind.rule == "entered":
                row = entered[ind.id].get(t)
                value = row.value if row else None
                source = {"value_id": row.id, "evidence": row.evidence} if row else {"missing": True}
            else:
                value = gep_values[ind.rule].get(t)
                source = {"base_prices": report.base_prices, "prices": report.prices, "base_year": year - 1}
            lines.append({"code": ind.code, "value": None if value is None else str(value),
                          "points": str(points(ind, value)), "weight": str(ind.weight), "source": source})
        totals[t] = sum((Decimal(x["points"]) for x in lines), Decimal("0.00"))
        details[t] = {"indicators": lines}
    ranked = sorted(townships, key=lambda t: (-totals[t], t))
    scores = []
    for rank, t in enumerate(ranked, start=1):
        change = totals[t] - previous[t] if t in previous else None
        score = AssessmentScore(year=year, township_code=t, score=totals[t], rank=rank, change=change, details=details[t])
        db.session.add(score)
        scores.append(score)
    existing = set(db.session.scalars(select(AssessmentAlert.township_code).where(
        AssessmentAlert.year == year, AssessmentAlert.kind == ALERT_QUANTITY_FALL)))
    for t, c in report.by_township().items():
        if c.quantity < 0 and t not in existing:
            alert = AssessmentAlert(year=year, township_code=t, kind=ALERT_QUANTITY_FALL, figure=c.quantity,
                                    details={"base_year": year - 1, "base_prices": report.base_prices,
                                             "before": str(c.before), "quantity_effect": str(c.quantity),
                                             "price_effect": str(c.price)})
            db.session.add(alert)
            db.session.flush()
            core.record_audit("assessment.alert", "assessment_alert", alert.id,
                              after={"year": year, "township": t, "quantity_effect": c.quantity})
    db.session.flush()
    core.record_audit("assessment.score", "assessment_year", str(year),
                      after={"townships": len(scores), "top": ranked[0] if ranked else None})
    return scores


def scores(year: int) -> list[AssessmentScore]:
    return list(db.session.scalars(select(AssessmentScore).where(AssessmentScore.year == year)
                                   .order_by(AssessmentScore.rank)))


def alerts(year: Optional[int] = None, township: Optional[str] = None) -> list[AssessmentAlert]:
    stmt = select(AssessmentAlert).order_by(AssessmentAlert.year.desc(), AssessmentAlert.township_code)
    if year:
        stmt = stmt.where(AssessmentAlert.year == year)
    if township:
        stmt = stmt.where(AssessmentAlert.township_code == township)
    return list(db.session.scalars(stmt))


def exit_audit(township: str, start_year, end_year, official: str) -> dict:
    """The figures of an official's exit audit (离任审计) for a township and tenure: GEP at the start and
    at the end at the start's constant prices, the price effect apart, yearly scores and alerts."""
    start_year, end_year = _check_year(start_year, "start_year"), _check_year(end_year, "end_year")
    if start_year >= end_year:
        raise ValidationFailed.field("end_year", N_("must be after the start year"))
    if not (official or "").strip():
        raise ValidationFailed.field("official", N_("is required"))
    if township not in {t.code for t in core.list_townships()}:
        raise ValidationFailed.field("township_code", N_("unknown township of Guangfeng district"))
    report = gep_change(start_year, end_year, township=township)
    c = report.total
    if c.before == 0 and c.after == 0:
        raise Conflict("The township has no GEP accounts in the tenure's years", code="no_accounts")
    yearly = list(db.session.scalars(select(AssessmentScore).where(
        AssessmentScore.township_code == township, AssessmentScore.year.between(start_year, end_year))
        .order_by(AssessmentScore.year)))
    return {"township": township, "official": official.strip(), "start_year": start_year, "end_year": end_year,
            "base_prices": report.base_prices, "prices": report.prices,
            "gep_start": c.before, "gep_end_constant_prices": c.before + c.quantity, "gep_end_current_prices": c.after,
            "quantity_effect": c.quantity, "price_effect": c.price,
            "services": {k: v.as_dict() for k, v in report.by_service().items()},
            "scores": [{"year": s.year, "score": s.score, "rank": s.rank, "change": s.change} for s in yearly],
            "alerts": [{"year": a.year, "kind": a.kind, "figure": a.figure}
                       for a in alerts(township=township) if start_year <= a.year <= end_year],
            "parcels": len(report.parcels)}
