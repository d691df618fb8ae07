"""marshmallow schemas of the compensation API. They load into dicts; services build models."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from greenfin.compensation.models import KINDS


class CompensationSchemeSchema(Schema):
    id = fields.Int(dump_only=True)
    code = fields.Str(required=True, validate=validate.Length(min=1, max=32))
    version = fields.Int(dump_only=True)
    kind = fields.Str(required=True, validate=validate.OneOf(KINDS))
    title = fields.Str(required=True, validate=validate.Length(min=1, max=255))
    rules = fields.Dict(required=True, metadata={"description": "the rules of the kind (docs/compensation.md)"})
    notes = fields.Str(allow_none=True, validate=validate.Length(max=2000))
    based_on_id = fields.Int(dump_only=True)
    locked = fields.Bool(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class CompensationSchemeVersionSchema(Schema):
    title = fields.Str(validate=validate.Length(min=1, max=255))
    rules = fields.Dict()
    notes = fields.Str(allow_none=True, validate=validate.Length(max=2000))


class CompensationSchemeQueryArgsSchema(Schema):
    kind = fields.Str(validate=validate.OneOf(KINDS))


class CompensationRunStartSchema(Schema):
    scheme_id = fields.Int(required=True)
    period = fields.Str(required=True, validate=validate.Regexp(r"^\d{4}$"),
                        metadata={"description": "the year (YYYY)"})


class CompensationRunQueryArgsSchema(Schema):
    scheme_id = fields.Int()


class CompensationAllocationSchema(Schema):
    line = fields.Int()
    township_code = fields.Str(allow_none=True)
    payer = fields.Str(allow_none=True)
    payee = fields.Str()
    payee_party_id = fields.Int(allow_none=True)
    amount = fields.Decimal(as_string=True)
    basis = fields.Dict()
    sources = fields.Dict(metadata={"description": "GEP account ids, price versions, monitoring row ids"})


class CompensationRunSchema(Schema):
    id = fields.Int()
    scheme_id = fields.Int()
    scheme = fields.Function(lambda run: run.scheme.label)
    kind = fields.Function(lambda run: run.scheme.kind)
    period = fields.Str()
    status = fields.Str()
    total = fields.Decimal(as_string=True)
    figures = fields.Dict()
    job_id = fields.Str(allow_none=True)
    computed_at = fields.DateTime(allow_none=True)
    created_by_id = fields.Int(allow_none=True)
    approved_by_id = fields.Int(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)


class CompensationRunDetailSchema(CompensationRunSchema):
    allocations = fields.List(fields.Nested(CompensationAllocationSchema))


class CompensationChangeQueryArgsSchema(Schema):
    base_year = fields.Int(required=True, validate=validate.Range(min=1990, max=2100))
    year = fields.Int(required=True, validate=validate.Range(min=1990, max=2100))
    township = fields.Str(validate=validate.Length(max=32))
    base_prices = fields.Str(validate=validate.Length(max=32))


class CompensationChangeRowSchema(Schema):
    key = fields.Str()
    before = fields.Decimal(as_string=True)
    after = fields.Decimal(as_string=True)
    total = fields.Decimal(as_string=True)
    quantity = fields.Decimal(as_string=True, metadata={"description": "Σ(q₁−q₀)·p₀"})
    price = fields.Decimal(as_string=True, metadata={"description": "Σq₁·(p₁−p₀)"})


class CompensationChangeSchema(Schema):
    base_year = fields.Int()
    year = fields.Int()
    base_prices = fields.Str()
    prices = fields.List(fields.Str())
    total = fields.Nested(CompensationChangeRowSchema)
    townships = fields.List(fields.Nested(CompensationChangeRowSchema))
    services = fields.List(fields.Nested(CompensationChangeRowSchema))


class CompensationMonitoringImportSchema(Schema):
    csv = fields.Str(required=True, validate=validate.Length(min=1, max=5_000_000),
                     metadata={"description": "CSV text: station,date,indicator,value"})


class AssessmentIndicatorSchema(Schema):
    id = fields.Int(dump_only=True)
    code = fields.Str(required=True, validate=validate.Length(min=1, max=32))
    parent_code = fields.Str(allow_none=True, validate=validate.Length(max=32))
    name_zh = fields.Str(required=True, validate=validate.Length(min=1, max=128))
    name_en = fields.Str(required=True, validate=validate.Length(min=1, max=128))
    weight = fields.Decimal(required=True, as_string=True, metadata={"description": "points"})
    direction = fields.Str(required=True, validate=validate.OneOf(("higher", "lower")))
    rule = fields.Str(required=True, validate=validate.OneOf(("gep_quantity_growth", "gep_regulating_per_ha", "entered")))
    floor = fields.Decimal(required=True, as_string=True)
    target = fields.Decimal(required=True, as_string=True)
    unit = fields.Str(required=True, validate=validate.Length(min=1, max=32))
    department = fields.Str(required=True, validate=validate.Length(min=1, max=128))


class AssessmentValueSchema(Schema):
    id = fields.Int(dump_only=True)
    indicator_code = fields.Str(required=True, load_only=True, validate=validate.Length(min=1, max=32))
    township_code = fields.Str(required=True, validate=validate.Length(min=1, max=32))
    year = fields.Int(required=True, validate=validate.Range(min=1990, max=2100))
    value = fields.Decimal(required=True, as_string=True)
    evidence = fields.Str(required=True, validate=validate.Length(min=1, max=2000))


class AssessmentScoreSchema(Schema):
    year = fields.Int()
    township_code = fields.Str()
    score = fields.Decimal(as_string=True)
    rank = fields.Int()
    change = fields.Decimal(as_string=True, allow_none=True)
    details = fields.Dict()


class AssessmentAlertSchema(Schema):
    year = fields.Int()
    township_code = fields.Str()
    kind = fields.Str()
    figure = fields.Decimal(as_string=True)
    details = fields.Dict()
    created_at = fields.DateTime()


class AssessmentYearArgsSchema(Schema):
    year = fields.Int(validate=validate.Range(min=1990, max=2100))


class AssessmentExitAuditArgsSchema(Schema):
    township = fields.Str(required=True, validate=validate.Length(min=1, max=32))
    start_year = fields.Int(required=True, validate=validate.Range(min=1990, max=2100))
    end_year = fields.Int(required=True, validate=validate.Range(min=1990, max=2100))
    official = fields.Str(required=True, validate=validate.Length(min=1, max=64))


class DamageIncidentSchema(Schema):
    id = fields.Int(dump_only=True)
    reference = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    party_id = fields.Int(allow_none=True, metadata={"description": "the responsible party: a penalty notice posts eco-credit points"})
    occurred_on = fields.Date(required=True)
    parcel_ids = fields.List(fields.Int(), required=True, load_only=True)
    area_ha = fields.Decimal(required=True, as_string=True)
    restoration_years = fields.Decimal(required=True, as_string=True)
    services = fields.List(fields.Str(), required=True)
    value = fields.Decimal(as_string=True, dump_only=True, metadata={"description": "lost GEP, CNY"})
    basis = fields.Dict(dump_only=True)
    posting_id = fields.Int(dump_only=True, allow_none=True)
