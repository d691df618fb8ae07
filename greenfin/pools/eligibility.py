"""Pool eligibility, in one place: the default criteria, their validation, the evaluation of a
loan record against them and the reasons a loan fails, with their messages.

A record is the dict ``services.loans.loan_record`` builds from lending's ``LoanFacts``. The
pool form (``forms.py``) reads its defaults from ``DEFAULT_CRITERIA``.
"""
from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, Iterable, Optional

from credit.policy import COLOURS, rank
from greenfin.errors import N_, ValidationFailed
from greenfin.pools.validation import fraction, whole_number

DEFAULT_CRITERIA: dict[str, Any] = {
    "performing": True, "zero_dpd": True, "green_tagged": True, "min_remaining_term": 3, "max_remaining_term": 360,
    "max_obligor_share": "0.25", "max_township_share": "0.60", "min_colour": None,
}

# Why a loan fails the criteria: a code, an English message (translated on pages) and its values.
REASONS = {
    "not_performing": N_("not performing (status %(status)s)"),
    "defaulted": N_("defaulted on %(date)s"),
    "no_balance": N_("no outstanding balance"),
    "not_disbursed": N_("not yet disbursed on %(date)s"),
    "dpd": N_("%(dpd)s days past due"),
    "not_green": N_("use of proceeds is not green-tagged"),
    "term_short": N_("remaining term of %(term)s months is below %(limit)s"),
    "term_long": N_("remaining term of %(term)s months is above %(limit)s"),
    "unrated": N_("no published eco-credit rating (minimum %(limit)s)"),
    "colour": N_("eco-credit colour %(colour)s is below the minimum %(limit)s"),
    "obligor_share": N_("the obligor would hold %(share)s of the pool, above %(limit)s"),
    "township_share": N_("the township would hold %(share)s of the pool, above %(limit)s"),
}


def validate_criteria(data: Optional[dict]) -> dict:
    """Eligibility criteria as stored (shares as decimal strings); raises ValidationFailed."""
    data = DEFAULT_CRITERIA | (data or {})
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    unknown = set(data) - set(DEFAULT_CRITERIA)
    for key in sorted(unknown):
        errors[f"criteria.{key}"] = [N_("unknown criterion")]
    for key in ("performing", "zero_dpd", "green_tagged"):
        if not isinstance(data[key], bool):
            errors[f"criteria.{key}"] = [N_("must be true or false")]
        out[key] = bool(data[key])
    out["min_remaining_term"] = whole_number(data["min_remaining_term"], "criteria.min_remaining_term", errors, 0)
    out["max_remaining_term"] = whole_number(data["max_remaining_term"], "criteria.max_remaining_term", errors, 1)
    if (out["min_remaining_term"] is not None and out["max_remaining_term"] is not None
            and out["min_remaining_term"] > out["max_remaining_term"]):
        errors["criteria.max_remaining_term"] = [N_("must not be below the minimum remaining term")]
    out["max_obligor_share"] = fraction(data["max_obligor_share"], "criteria.max_obligor_share", errors, allow_none=True)
    out["max_township_share"] = fraction(data["max_township_share"], "criteria.max_township_share", errors,
                                          allow_none=True)
    for key in ("max_obligor_share", "max_township_share"):
        if out[key] is not None and Decimal(out[key]) == 0:
            errors[f"criteria.{key}"] = [N_("must be above 0")]
    colour = data["min_colour"] or None
    if colour is not None and colour not in COLOURS:
        errors["criteria.min_colour"] = [N_("must be green, blue, yellow or red")]
    out["min_colour"] = colour
    if errors:
        raise ValidationFailed(N_("Invalid eligibility criteria"), errors)
    return out


def reason(code: str, **params) -> dict:
    return {"code": code, "params": {k: str(v) for k, v in params.items()}}


def reason_text(item: dict, translate=None) -> str:
    message = REASONS.get(item.get("code"), item.get("code", ""))
    if translate is not None:
        message = translate(message)
    try:
        return message % item.get("params", {})
    except (KeyError, TypeError, ValueError):
        return message


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def loan_reasons(criteria: dict, record: dict) -> list[dict]:
    """The loan-level criteria a record fails (concentration is checked on the pool)."""
    out = []
    if record["status"] == "not_disbursed":
        return [reason("not_disbursed", date=record.get("as_of") or "")]
    if record["balance"] <= 0:
        out.append(reason("no_balance"))
    if criteria.get("performing"):
        if record["status"] in ("repaid", "written_off"):
            out.append(reason("not_performing", status=record["status"]))
        elif record["status"] == "defaulted":
            out.append(reason("defaulted", date=record.get("defaulted_on") or ""))
    if criteria.get("zero_dpd") and record["days_past_due"] > 0:
        out.append(reason("dpd", dpd=record["days_past_due"]))
    if criteria.get("green_tagged") and not record.get("green_category"):
        out.append(reason("not_green"))
    term = record["remaining_term"]
    if criteria.get("min_remaining_term") is not None and term < criteria["min_remaining_term"]:
        out.append(reason("term_short", term=term, limit=criteria["min_remaining_term"]))
    if criteria.get("max_remaining_term") is not None and term > criteria["max_remaining_term"]:
        out.append(reason("term_long", term=term, limit=criteria["max_remaining_term"]))
    minimum = criteria.get("min_colour")
    if minimum:
        if record.get("colour") is None:
            out.append(reason("unrated", limit=minimum))
        elif rank(record["colour"]) > rank(minimum):
            out.append(reason("colour", colour=record["colour"], limit=minimum))
    return out


def concentration_reasons(criteria: dict, pool_records: list[dict], candidates: Iterable[dict]) -> dict[int, list[dict]]:
    """Obligor and township limits on the pool that results (``pool_records`` includes the candidates).

    A limit of s applies once the pool holds at least ceil(1 / s) loans: below that
    count no pool, however balanced, could meet it.
    """
    out: dict[int, list[dict]] = {}
    total = sum((r["balance"] for r in pool_records), Decimal("0"))
    if total <= 0:
        return out
    for key, field, code in (("max_obligor_share", "party_id", "obligor_share"),
                             ("max_township_share", "township_code", "township_share")):
        limit = criteria.get(key)
        if limit is None:
            continue
        limit = Decimal(str(limit))
        if len(pool_records) < math.ceil(1 / limit):
            continue
        sums: dict[Any, Decimal] = {}
        for r in pool_records:
            sums[r[field]] = sums.get(r[field], Decimal("0")) + r["balance"]
        for cand in candidates:
            share = sums.get(cand[field], Decimal("0")) / total
            if share > limit:
                out.setdefault(cand["loan_id"], []).append(
                    reason(code, share=_pct(float(share)), limit=_pct(float(limit))))
    return out
