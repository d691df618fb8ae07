"""Display labels of compensation's enumerations and of the basis an allocation row records."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from greenfin.labels import declare, label

KIND_LABELS = declare("compensation_kind", {
    "budget_split": _l("Budget split by GEP"), "water_bet": _l("Water-quality bet"),
    "per_hectare": _l("Payment per hectare"), "eco_jobs": _l("Eco-jobs")})
STATUS_LABELS = declare("compensation_status", {"draft": _l("Draft"), "approved": _l("Approved")})
DIRECTION_LABELS = declare("compensation_direction", {
    "downstream_pays": _l("Downstream pays upstream"), "upstream_pays": _l("Upstream pays downstream")})
declare("eco_job_role", {"ranger": ("护林员", "Forest ranger"), "river_patrol": ("巡河员", "River patroller")})
declare("water_indicator", {"codmn": ("高锰酸盐指数", "Permanganate index"), "nh3n": ("氨氮", "Ammonia nitrogen"),
                            "tp": ("总磷", "Total phosphorus")})

# What each key of an allocation row's basis means, and the enumeration its values (or the keys of
# its mapping) belong to. ``score`` (an exact fraction) is shown through ``score_decimal``.
_BASIS = {
    "regulating": (_l("Regulating services GEP (CNY)"), None),
    "quantity_effect": (_l("Quantity effect (constant prices)"), None),
    "score_decimal": (_l("Budget score"), None),
    "role": (_l("Job"), "eco_job_role"),
    "months": (_l("Months"), None),
    "monthly_pay": (_l("Monthly pay (CNY)"), None),
    "credit_rule": (_l("Eco-credit rule"), "credit_rule"),
    "area_ha": (_l("Area (ha)"), "land_cover"),
    "rates": (_l("Rate per hectare (CNY)"), "land_cover"),
    "index": (_l("Water-quality index P"), None),
    "threshold": (_l("Threshold"), None),
    "k0": (_l("Coefficient k0"), None),
    "direction": (_l("Direction"), "compensation_direction"),
    "means": (_l("Mean concentrations (mg/L)"), "water_indicator"),
}


def basis_lines(basis: dict) -> list[str]:
    """The basis of an allocation row as translated lines (``面积（公顷）: 林地 466.4033``)."""
    lines = []
    for key, value in basis.items():
        if key not in _BASIS:
            continue
        name, enumeration = _BASIS[key]
        if isinstance(value, dict):
            text = ", ".join(f"{label(enumeration, k) if enumeration else k} {_number(v)}" for k, v in value.items())
        elif enumeration:
            text = label(enumeration, value)
        else:
            text = _number(value)
        lines.append(f"{name}: {text}")
    return lines


def _number(value) -> str:
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    return f"{number:,}"
