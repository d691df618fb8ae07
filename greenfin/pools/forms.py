"""WTForms of the pool pages. Shapes only; services do the business checks.

Defaults come from where the rules live: ``eligibility.DEFAULT_CRITERIA`` and
``validation.DEFAULT_STRUCTURE``.
"""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, DecimalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from credit.policy import COLOUR_LABELS, COLOURS
from greenfin.pools.eligibility import DEFAULT_CRITERIA as CRITERIA
from greenfin.pools.validation import DEFAULT_STRUCTURE as STRUCTURE

TRANCHES = {t["kind"]: t for t in STRUCTURE["tranches"]}

DESIGNATION_CHOICES = [("green", _l("Green (绿色资产支持证券)")), ("transition", _l("Transition")), ("none", _l("None"))]
COLOUR_CHOICES = [("", _l("No minimum"))] + [(c, COLOUR_LABELS[c]) for c in COLOURS]
MODE_CHOICES = [("pro_rata", _l("Pro rata until a trigger, then sequential")), ("sequential", _l("Sequential"))]


def _pct(label, default=None):
    return DecimalField(label, places=4, validators=[Optional()],
                        default=Decimal(str(default)) if default is not None else None)


class PoolForm(FlaskForm):
    code = StringField(_l("Pool code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=128)])
    originator_id = SelectField(_l("Originator"), coerce=int)
    green_designation = SelectField(_l("Green designation"), choices=DESIGNATION_CHOICES)
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])
    # eligibility criteria
    performing = BooleanField(_l("Performing loans only"), default=CRITERIA["performing"])
    zero_dpd = BooleanField(_l("Zero days past due"), default=CRITERIA["zero_dpd"])
    green_tagged = BooleanField(_l("Green-tagged use of proceeds"), default=CRITERIA["green_tagged"])
    min_remaining_term = IntegerField(_l("Minimum remaining term (months)"), default=CRITERIA["min_remaining_term"], validators=[Optional()])
    max_remaining_term = IntegerField(_l("Maximum remaining term (months)"), default=CRITERIA["max_remaining_term"], validators=[Optional()])
    max_obligor_share = _pct(_l("Maximum single-obligor share (0-1)"), default=CRITERIA["max_obligor_share"])
    max_township_share = _pct(_l("Maximum township share (0-1)"), default=CRITERIA["max_township_share"])
    min_colour = SelectField(_l("Minimum eco-credit colour"), choices=COLOUR_CHOICES,
                             default=CRITERIA["min_colour"] or "")
    # structure
    senior_share = _pct(_l("Senior tranche share (0-1)"), default=TRANCHES["senior"]["share"])
    senior_coupon = _pct(_l("Senior coupon (0-1)"), default=TRANCHES["senior"]["coupon"])
    mezzanine_share = _pct(_l("Mezzanine tranche share (0-1)"), default=TRANCHES["mezzanine"]["share"])
    mezzanine_coupon = _pct(_l("Mezzanine coupon (0-1)"), default=TRANCHES["mezzanine"]["coupon"])
    subordinated_share = _pct(_l("Subordinated tranche share (0-1)"), default=TRANCHES["subordinated"]["share"])
    servicer_fee = _pct(_l("Servicer fee (annual, 0-1)"), default=STRUCTURE["servicer_fee"])
    principal_mode = SelectField(_l("Principal payments"), choices=MODE_CHOICES, default=STRUCTURE["principal_mode"])
    oc_trigger = _pct(_l("OC trigger (collateral / senior and mezzanine)"), default=STRUCTURE["oc_trigger"])
    ic_trigger = _pct(_l("IC trigger (net interest / senior and mezzanine interest)"), default=STRUCTURE["ic_trigger"])
    reserve_target = _pct(_l("Reserve target (share of senior and mezzanine)"), default=STRUCTURE["reserve_target"])
    cleanup_call = _pct(_l("Clean-up call (share of the original pool)"), default=STRUCTURE["cleanup_call"])
    cumulative_default_trigger = _pct(_l("Cumulative default trigger (0-1)"), default=STRUCTURE["cumulative_default_trigger"])
    delinquency_trigger = _pct(_l("60+ days delinquency trigger (0-1)"), default=STRUCTURE["delinquency_trigger"])

    CRITERIA_FIELDS = ("performing", "zero_dpd", "green_tagged", "min_remaining_term", "max_remaining_term",
                "max_obligor_share", "max_township_share", "min_colour")

    def criteria(self) -> dict:
        out = {k: getattr(self, k).data for k in self.CRITERIA_FIELDS}
        for k in ("max_obligor_share", "max_township_share"):
            out[k] = str(out[k]) if out[k] is not None else None
        out["min_colour"] = out["min_colour"] or None
        return out

    def structure(self) -> dict:
        def s(v):
            return str(v) if v is not None else None

        tranches = [{"name": "A", "kind": "senior", "share": s(self.senior_share.data), "coupon": s(self.senior_coupon.data) or "0"}]
        if self.mezzanine_share.data:
            tranches.append({"name": "B", "kind": "mezzanine", "share": s(self.mezzanine_share.data),
                             "coupon": s(self.mezzanine_coupon.data) or "0"})
        if self.subordinated_share.data:
            tranches.append({"name": "C", "kind": "subordinated", "share": s(self.subordinated_share.data), "coupon": "0"})
        return {"tranches": tranches, "servicer_fee": s(self.servicer_fee.data) or "0", "fixed_fees": "0",
                "principal_mode": self.principal_mode.data, "oc_trigger": s(self.oc_trigger.data),
                "ic_trigger": s(self.ic_trigger.data), "reserve_target": s(self.reserve_target.data) or "0",
                "cleanup_call": s(self.cleanup_call.data) or "0",
                "cumulative_default_trigger": s(self.cumulative_default_trigger.data),
                "delinquency_trigger": s(self.delinquency_trigger.data)}

    def load(self, pool) -> None:
        """Fill the form from a pool (shares and rates are stored as decimal strings)."""
        def dec(value):
            return Decimal(str(value)) if value not in (None, "") else None

        for k in self.CRITERIA_FIELDS:
            value = pool.criteria.get(k)
            if k == "min_colour":
                value = value or ""
            elif k in ("max_obligor_share", "max_township_share"):
                value = dec(value)
            getattr(self, k).data = value
        st = pool.structure
        by_kind = {t["kind"]: t for t in st["tranches"]}
        self.senior_share.data = dec(by_kind.get("senior", {}).get("share"))
        self.senior_coupon.data = dec(by_kind.get("senior", {}).get("coupon"))
        self.mezzanine_share.data = dec(by_kind.get("mezzanine", {}).get("share"))
        self.mezzanine_coupon.data = dec(by_kind.get("mezzanine", {}).get("coupon"))
        self.subordinated_share.data = dec(by_kind.get("subordinated", {}).get("share"))
        self.principal_mode.data = st.get("principal_mode")
        for k in ("servicer_fee", "oc_trigger", "ic_trigger", "reserve_target", "cleanup_call",
                  "cumulative_default_trigger", "delinquency_trigger"):
            getattr(self, k).data = dec(st.get(k))


ERROR_FIELDS = {  # service error keys -> form fields
    "structure.tranches": "senior_share",
}


def pool_error_field(key: str) -> str:
    if key.startswith("criteria."):
        return key.split(".", 1)[1]
    if key.startswith("structure.tranches."):
        index = key.split(".")[2]
        part = key.split(".")[-1]
        kind = {"0": "senior", "1": "mezzanine", "2": "subordinated"}.get(index, "senior")
        return f"{kind}_{'coupon' if part == 'coupon' else 'share'}"
    if key.startswith("structure."):
        return ERROR_FIELDS.get(key, key.split(".", 1)[1])
    return key


class AddLoansForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=2000)])
    added_on = DateField(_l("Pool addition date"), validators=[Optional()])


class RemoveLoanForm(FlaskForm):
    reason = StringField(_l("Reason for removal"), validators=[DataRequired(), Length(max=2000)])


class SubstituteForm(FlaskForm):
    out_loan_id = SelectField(_l("Loan to take out"), coerce=int)
    in_loan_id = SelectField(_l("Eligible loan to put in"), coerce=int)
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class CutForm(FlaskForm):
    as_of = DateField(_l("Cut-off date"), validators=[Optional()])
    note = StringField(_l("Note (required for a correction)"), validators=[Optional(), Length(max=2000)])
    corrects_id = SelectField(_l("Corrects the published cut"), coerce=int)
    publish = BooleanField(_l("Publish at once"))


class ReportForm(FlaskForm):
    month = StringField(_l("Month (YYYY-MM)"), validators=[DataRequired(), Length(max=7)])
