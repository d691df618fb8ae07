"""marshmallow schemas of the carbon registry API. They load into dicts; services build models."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from greenfin.carbon.ledger import block_serial
from greenfin.carbon.models import METHODS, OPS, STATES

Number = fields.Raw  # exact decimals as strings or numbers; services read them with greenfin.numbers


class CarbonDocumentSchema(Schema):
    title = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    ref = fields.Str(load_default="", validate=validate.Length(max=255))


class CarbonProjectCreateSchema(Schema):
    code = fields.Str(required=True, validate=validate.Length(min=2, max=12),
                      metadata={"description": "2-12 capital letters or digits; appears in every serial"})
    name = fields.Str(required=True, validate=validate.Length(min=1, max=128))
    method = fields.Str(required=True, validate=validate.OneOf(METHODS))
    owner_id = fields.Int(required=True, strict=True, metadata={"description": "village collective, forest farm or firm"})
    parcel_ids = fields.List(fields.Int(strict=True), required=True, validate=validate.Length(min=1, max=200))
    crediting_start = fields.Date(required=True)
    crediting_end = fields.Date(required=True)
    buffer_share = Number(load_default=None, allow_none=True, metadata={"description": "e.g. \"0.10\" (default setting)"})
    description = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    documents = fields.List(fields.Nested(CarbonDocumentSchema), load_default=list)


class CarbonProjectSchema(Schema):
    id = fields.Int()
    code = fields.Str()
    name = fields.Str()
    method = fields.Str()
    owner_id = fields.Int()
    parcel_ids = fields.Function(lambda p: [link.parcel_id for link in p.parcels])
    crediting_start = fields.Date()
    crediting_end = fields.Date()
    buffer_share = fields.Decimal(as_string=True)
    description = fields.Str(allow_none=True)
    documents = fields.List(fields.Dict())
    entry_count = fields.Int()
    last_hash = fields.Str()
    created_at = fields.DateTime()


class CarbonProjectQueryArgsSchema(Schema):
    q = fields.Str(validate=validate.Length(max=64))


class CarbonReportCreateSchema(Schema):
    vintage = fields.Int(required=True, strict=True)
    verified_tonnes = Number(required=True, metadata={"description": "tCO₂e verified for the vintage"})
    verifier = fields.Str(required=True, validate=validate.Length(min=1, max=128))
    document = fields.Str(required=True, validate=validate.Length(min=1, max=255),
                          metadata={"description": "the verification report's reference"})


class CarbonReportSchema(Schema):
    id = fields.Int()
    project_id = fields.Int()
    vintage = fields.Int()
    estimated_tonnes = fields.Decimal(as_string=True, allow_none=True)
    estimate_source = fields.Str(allow_none=True)
    verified_tonnes = fields.Decimal(as_string=True)
    verifier = fields.Str()
    document = fields.Str()
    status = fields.Str()
    submitted_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    decision_note = fields.Str(allow_none=True)
    issued_units = fields.Int(allow_none=True)
    buffer_units = fields.Int(allow_none=True)


class CarbonDecisionSchema(Schema):
    approve = fields.Bool(required=True)
    note = fields.Str(load_default="", validate=validate.Length(max=2000))


class CarbonBlockSchema(Schema):
    id = fields.Int()
    project_id = fields.Int()
    serials = fields.Function(lambda b: block_serial(b))
    vintage = fields.Int()
    serial_start = fields.Int()
    serial_end = fields.Int()
    quantity = fields.Int()
    account_id = fields.Int()
    state = fields.Str(validate=validate.OneOf(STATES))
    application_id = fields.Int(allow_none=True)


class CarbonBlockQueryArgsSchema(Schema):
    project_id = fields.Int()
    account_id = fields.Int()
    state = fields.Str(validate=validate.OneOf(STATES))


class CarbonEntrySchema(Schema):
    id = fields.Int()
    project_id = fields.Int()
    seq = fields.Int()
    op = fields.Str(validate=validate.OneOf(OPS))
    vintage = fields.Int()
    serial_start = fields.Int()
    serial_end = fields.Int()
    quantity = fields.Int()
    from_account_id = fields.Int(allow_none=True)
    to_account_id = fields.Int()
    to_state = fields.Str()
    unit_price = fields.Decimal(as_string=True, allow_none=True)
    amount = fields.Decimal(as_string=True, allow_none=True)
    counterparty = fields.Str(allow_none=True)
    application_id = fields.Int(allow_none=True)
    loan_id = fields.Int(allow_none=True)
    reference_price = fields.Decimal(as_string=True, allow_none=True)
    price_source = fields.Str(allow_none=True)
    price_date = fields.Date(allow_none=True)
    haircut = fields.Decimal(as_string=True, allow_none=True)
    beneficiary = fields.Str(allow_none=True)
    purpose = fields.Str(allow_none=True)
    recorded_at = fields.DateTime()
    prev_hash = fields.Str()
    hash = fields.Str()


class CarbonEntryQueryArgsSchema(Schema):
    project_id = fields.Int()
    account_id = fields.Int()
    op = fields.Str(validate=validate.OneOf(OPS))


class CarbonTransferSchema(Schema):
    block_id = fields.Int(required=True, strict=True)
    quantity = fields.Int(required=True, strict=True, metadata={"description": "tonnes; a part splits the block"})
    to_party_id = fields.Int(required=True, strict=True)
    unit_price = Number(required=True, metadata={"description": "CNY a tonne"})
    from_party_id = fields.Int(load_default=None, allow_none=True, strict=True,
                               metadata={"description": "the seller as the caller knows it: refused (409) if it moved"})
    note = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=255))


class CarbonPledgeSchema(Schema):
    block_id = fields.Int(required=True, strict=True)
    quantity = fields.Int(required=True, strict=True)
    application_id = fields.Int(load_default=None, allow_none=True, strict=True)
    loan_id = fields.Int(load_default=None, allow_none=True, strict=True)
    reference_price = Number(load_default=None, allow_none=True, metadata={"description": "CNY a tonne (default: the setting)"})
    price_source = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=255))
    price_date = fields.Date(load_default=None, allow_none=True)
    haircut = Number(load_default=None, allow_none=True)


class CarbonSettleSchema(Schema):
    note = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=255))


class CarbonRetireSchema(Schema):
    block_id = fields.Int(required=True, strict=True)
    quantity = fields.Int(required=True, strict=True)
    beneficiary = fields.Str(required=True, validate=validate.Length(min=1, max=128))
    purpose = fields.Str(required=True, validate=validate.Length(min=1, max=255))
    beneficiary_party_id = fields.Int(load_default=None, allow_none=True, strict=True)
    from_party_id = fields.Int(load_default=None, allow_none=True, strict=True)
    note = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=255))


class CarbonTotalsSchema(Schema):
    project_id = fields.Int()
    project_code = fields.Str()
    vintage = fields.Int()
    issued = fields.Int()
    available = fields.Int()
    pledged = fields.Int()
    retired = fields.Int()
    buffer = fields.Int()


class CarbonVerifySchema(Schema):
    ok = fields.Bool()
    entries = fields.Int()
    projects = fields.Int()
    blocks = fields.Int()
    first_broken_entry_id = fields.Int(allow_none=True)
    problems = fields.List(fields.Str())
