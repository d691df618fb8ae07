"""marshmallow schemas of the pools API. They load into dicts; services build models."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from greenfin.pools.models import DESIGNATIONS
from greenfin.pools.projections import DEFAULT_ASSUMPTIONS


class PoolSchema(Schema):
    id = fields.Int(dump_only=True)
    code = fields.Str(required=True, validate=validate.Length(min=1, max=32))
    name = fields.Str(required=True, validate=validate.Length(min=1, max=128))
    originator_id = fields.Int(required=True, metadata={"description": "the originating bank (a party)"})
    green_designation = fields.Str(load_default="green", validate=validate.OneOf(DESIGNATIONS))
    description = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    criteria = fields.Dict(load_default=None, allow_none=True, metadata={
        "description": "performing, zero_dpd, green_tagged (booleans); min_remaining_term, max_remaining_term "
                       "(months); max_obligor_share, max_township_share (fractions); min_colour"})
    structure = fields.Dict(load_default=None, allow_none=True, metadata={
        "description": "tranches [{name, kind, share, coupon}], servicer_fee, fixed_fees, principal_mode, "
                       "oc_trigger, ic_trigger, reserve_target, cleanup_call, cumulative_default_trigger, "
                       "delinquency_trigger"})
    created_at = fields.DateTime(dump_only=True)


class PoolUpdateSchema(Schema):
    name = fields.Str(validate=validate.Length(min=1, max=128))
    green_designation = fields.Str(validate=validate.OneOf(DESIGNATIONS))
    description = fields.Str(allow_none=True, validate=validate.Length(max=4000))
    criteria = fields.Dict()
    structure = fields.Dict()


class PoolQueryArgsSchema(Schema):
    q = fields.Str(validate=validate.Length(max=64))


class AddLoansSchema(Schema):
    loan_ids = fields.List(fields.Int(strict=True), required=True, validate=validate.Length(min=1, max=5000))
    reason = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    added_on = fields.Date(load_default=None, allow_none=True)


class RemoveLoanSchema(Schema):
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=2000))
    removed_on = fields.Date(load_default=None, allow_none=True)


class SubstituteSchema(Schema):
    out_loan_id = fields.Int(required=True, strict=True)
    in_loan_id = fields.Int(required=True, strict=True)
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=2000))
    on = fields.Date(load_default=None, allow_none=True)


class MembershipSchema(Schema):
    id = fields.Int()
    pool_id = fields.Int()
    loan_id = fields.Int()
    loan_number = fields.Str(allow_none=True)
    added_on = fields.Date()
    reason = fields.Str(allow_none=True)
    removed_on = fields.Date(allow_none=True)
    removal_reason = fields.Str(allow_none=True)
    substituted_by_id = fields.Int(allow_none=True)


class CandidateSchema(Schema):
    loan_id = fields.Int()
    loan_number = fields.Str()
    party_id = fields.Int()
    balance = fields.Decimal(as_string=True)
    rate = fields.Decimal(as_string=True)
    remaining_term = fields.Int()
    days_past_due = fields.Int()
    colour = fields.Str(allow_none=True)
    eligible = fields.Bool()
    reasons = fields.List(fields.Str())


class CutCreateSchema(Schema):
    as_of = fields.Date(load_default=None, allow_none=True)
    corrects_id = fields.Int(load_default=None, allow_none=True)
    note = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    publish = fields.Bool(load_default=False)


class CutSchema(Schema):
    id = fields.Int()
    pool_id = fields.Int()
    seq = fields.Int()
    as_of = fields.Date()
    status = fields.Str()
    corrects_id = fields.Int(allow_none=True)
    note = fields.Str(allow_none=True)
    loan_count = fields.Int()
    total_balance = fields.Decimal(as_string=True)
    statistics = fields.Dict()
    created_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)


class CutLineSchema(Schema):
    loan_id = fields.Int()
    loan_number = fields.Str()
    party_id = fields.Int()
    product_code = fields.Str()
    township_code = fields.Str(allow_none=True)
    amortisation = fields.Str()
    balance = fields.Decimal(as_string=True)
    rate = fields.Decimal(as_string=True)
    remaining_term = fields.Int()
    days_past_due = fields.Int()
    status = fields.Str()
    collateral_value = fields.Decimal(as_string=True, allow_none=True)
    ltv = fields.Decimal(as_string=True, allow_none=True)
    colour = fields.Str(allow_none=True)
    collateral_gep = fields.Decimal(as_string=True, allow_none=True)
    green_category = fields.Str(allow_none=True)
    eligible = fields.Bool()


class CutDetailSchema(CutSchema):
    lines = fields.List(fields.Nested(CutLineSchema))


class ProjectionArgsSchema(Schema):
    cpr = fields.Float(load_default=DEFAULT_ASSUMPTIONS["cpr"], metadata={"description": "annual conditional prepayment rate, 0-1"})
    cdr = fields.Float(load_default=DEFAULT_ASSUMPTIONS["cdr"], metadata={"description": "annual conditional default rate, 0-1"})
    severity = fields.Float(load_default=DEFAULT_ASSUMPTIONS["severity"], metadata={"description": "loss severity, 0-1"})
    recovery_lag = fields.Int(load_default=DEFAULT_ASSUMPTIONS["recovery_lag"], metadata={"description": "months from default to recovery"})
    months = fields.Int(load_default=None, allow_none=True)
    cut_id = fields.Int(load_default=None, allow_none=True)


class ReportCreateSchema(Schema):
    month = fields.Str(required=True, metadata={"description": "YYYY-MM, a month that has ended"})


class ReportSchema(Schema):
    id = fields.Int()
    pool_id = fields.Int()
    month = fields.Str()
    baseline_cut_id = fields.Int()
    figures = fields.Dict()
    generated_at = fields.DateTime()
