"""Tranche structures as data: defaults and validation, and the field parsers pools share.

Eligibility criteria (defaults, validation, evaluation) are in ``eligibility.py``.

Shares, rates and fees are fractions stored as decimal strings (``"0.25"`` is 25 %);
anything negative or above 100 % is refused with the name of the field.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Optional

from greenfin.numbers import parse_decimal
from greenfin.errors import N_, ValidationFailed
from greenfin.pools import cashflow, waterfall

DEFAULT_STRUCTURE: dict[str, Any] = {
    "tranches": [
        {"name": "A", "kind": "senior", "share": "0.80", "coupon": "0.028"},
        {"name": "B", "kind": "mezzanine", "share": "0.10", "coupon": "0.038"},
        {"name": "C", "kind": "subordinated", "share": "0.08", "coupon": "0"},
    ],
    "servicer_fee": "0.005", "fixed_fees": "0", "principal_mode": "pro_rata", "oc_trigger": "1.05",
    "ic_trigger": "1.10", "reserve_target": "0.01", "cleanup_call": "0.10",
    "cumulative_default_trigger": "0.05", "delinquency_trigger": "0.08",
}


def fraction(value: Any, field: str, errors: dict, *, allow_none: bool = False, hi: Decimal = Decimal("1")) -> Optional[str]:
    if value is None or value == "":
        if allow_none:
            return None
        errors.setdefault(field, []).append(N_("is required"))
        return None
    number = parse_decimal(value, field, errors)
    if number is None:
        return None
    if number < 0 or number > hi:
        errors.setdefault(field, []).append(
            N_("must lie between 0 and 100%") if hi == 1 else N_("must not be negative or too large"))
        return None
    return str(number)


def whole_number(value: Any, field: str, errors: dict, lo: int = 0, hi: int = cashflow.MAX_MONTHS) -> Optional[int]:
    try:
        number = int(value)
        if isinstance(value, float) and not value.is_integer():
            raise ValueError
    except (TypeError, ValueError):
        errors.setdefault(field, []).append(N_("must be a whole number"))
        return None
    if not lo <= number <= hi:
        errors.setdefault(field, []).append(N_("is out of range"))
        return None
    return number


STRUCTURE_FRACTIONS = ("servicer_fee", "reserve_target", "cleanup_call", "cumulative_default_trigger",
                       "delinquency_trigger")


def validate_structure(data: Optional[dict]) -> dict:
    """Tranche shares and coupons, fees and triggers as stored; raises ValidationFailed."""
    data = DEFAULT_STRUCTURE | (data or {})
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    tranches = data.get("tranches") or []
    if not isinstance(tranches, list) or not tranches:
        errors["structure.tranches"] = [N_("at least one tranche is needed")]
        tranches = []
    clean = []
    for i, item in enumerate(tranches):
        prefix = f"structure.tranches.{i}"
        if not isinstance(item, dict):
            errors[prefix] = [N_("must be an object")]
            continue
        name = str(item.get("name") or "").strip()
        if not name or len(name) > 16:
            errors[f"{prefix}.name"] = [N_("is required (at most 16 characters)")]
        kind = item.get("kind")
        if kind not in waterfall.TRANCHE_KINDS:
            errors[f"{prefix}.kind"] = [N_("must be senior, mezzanine or subordinated")]
        share = fraction(item.get("share"), f"{prefix}.share", errors)
        coupon = fraction(item.get("coupon", "0"), f"{prefix}.coupon", errors)
        if share is not None and Decimal(share) == 0:
            errors[f"{prefix}.share"] = [N_("must be above 0")]
        clean.append({"name": name, "kind": kind, "share": share, "coupon": coupon})
    if not errors and clean:
        if sum(Decimal(t["share"]) for t in clean) > 1:
            errors["structure.tranches"] = [N_("the tranche shares add up to more than 100%")]
        kinds = [waterfall.TRANCHE_KINDS.index(t["kind"]) for t in clean]
        if kinds != sorted(kinds):
            errors["structure.tranches"] = [N_("list tranches senior first, subordinated last")]
        if len({t["name"] for t in clean}) != len(clean):
            errors["structure.tranches"] = [N_("tranche names must differ")]
        if sum(1 for t in clean if t["kind"] == "subordinated") > 1:
            errors["structure.tranches"] = [N_("at most one subordinated tranche")]
    out["tranches"] = clean
    for key in STRUCTURE_FRACTIONS:
        out[key] = fraction(data.get(key), f"structure.{key}", errors, allow_none=key.endswith("trigger"))
    out["fixed_fees"] = fraction(data.get("fixed_fees", "0"), "structure.fixed_fees", errors, hi=Decimal("1e12"))
    for key in ("oc_trigger", "ic_trigger"):
        out[key] = fraction(data.get(key), f"structure.{key}", errors, allow_none=True, hi=Decimal("10"))
    if data.get("principal_mode") not in ("sequential", "pro_rata"):
        errors["structure.principal_mode"] = [N_("must be sequential or pro_rata")]
    out["principal_mode"] = data.get("principal_mode")
    if errors:
        raise ValidationFailed(N_("Invalid tranche structure"), errors)
    return out
