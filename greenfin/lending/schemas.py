"""marshmallow schemas of the lending API. They load into dicts; services build models."""
from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from greenfin.lending.models import AMORTISATIONS, APPLICATION_STATUSES, LOAN_STATUSES

Money = lambda **kw: fields.Decimal(as_string=True, places=2, **kw)  # noqa: E731
RateField = lambda **kw: fields.Decimal(as_string=True, places=6, **kw)  # noqa: E731


class ProductSchema(Schema):
    id = fields.Int(dump_only=True)
    code = fields.Str(dump_only=True)
    kind = fields.Str(dump_only=True)
    name_zh = fields.Str(validate=validate.Length(min=1, max=64))
    name_en = fields.Str(validate=validate.Length(min=1, max=64))
    secured = fields.Bool(dump_only=True)
    min_amount = Money()
    max_amount = Money()
    min_term_months = fields.Int()
    max_term_months = fields.Int()
    base_rate = RateField()
    min_rate = RateField()
    max_rate = RateField()
    amortisation = fields.Str(validate=validate.OneOf(AMORTISATIONS))
    max_ltv = fields.Decimal(as_string=True, places=4, allow_none=True)
    gep_share = fields.Decimal(as_string=True, places=4, allow_none=True)
    limits_by_colour = fields.Dict(allow_none=True)
    harvest_months = fields.List(fields.Int(validate=validate.Range(1, 12)), allow_none=True)
    collateral_covers = fields.List(fields.Str(), allow_none=True)
    arrangement_fee = Money()
    green_category = fields.Str(validate=validate.Length(min=1, max=128))
    environmental_benefit = fields.Str()
    active = fields.Bool()


class ProductUpdateSchema(ProductSchema):
    class Meta:
        partial = True


class GuarantorSchema(Schema):
    name = fields.Str(required=True, validate=validate.Length(min=1, max=128))
    party_id = fields.Int(load_default=None, allow_none=True)
    relation = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=64))


class DocumentSchema(Schema):
    kind = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    reference = fields.Str(required=True, validate=validate.Length(min=1, max=255))


class CollateralSchema(Schema):
    id = fields.Int(dump_only=True)
    parcel_id = fields.Int(required=True)
    cert_no = fields.Str(dump_only=True)
    appraised_value = Money(required=True)
    appraiser = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=128))
    haircut = fields.Decimal(as_string=True, places=4, load_default=None, allow_none=True)
    gep_value = Money(dump_only=True, allow_none=True)
    gep_year = fields.Int(dump_only=True, allow_none=True)
    lendable_value = Money(dump_only=True)
    status = fields.Str(dump_only=True)


class ScoreSchema(Schema):
    id = fields.Int()
    role = fields.Str()
    model_version = fields.Function(lambda s: s.model.version)
    score = fields.Int()
    pd = fields.Decimal(as_string=True)
    band = fields.Str()
    reasons = fields.List(fields.Dict())
    scored_at = fields.DateTime()


class DecisionSchema(Schema):
    id = fields.Int()
    kind = fields.Str()
    outcome = fields.Str()
    system_outcome = fields.Str()
    policy_hits = fields.List(fields.Dict())
    reasons = fields.List(fields.Dict())
    approved_amount = Money(allow_none=True)
    base_rate = RateField(allow_none=True)
    risk_premium = RateField(allow_none=True)
    green_discount = RateField(allow_none=True)
    rate = RateField(allow_none=True)
    note = fields.Str(allow_none=True)
    override_status = fields.Str(allow_none=True)
    decided_by_id = fields.Int(allow_none=True)
    approved_by_id = fields.Int(allow_none=True)
    created_at = fields.DateTime()


class ApplicationSchema(Schema):
    id = fields.Int(dump_only=True)
    number = fields.Str(dump_only=True)
    party_id = fields.Int(required=True)
    product_id = fields.Int(required=True)
    amount = Money(required=True)
    term_months = fields.Int(required=True)
    purpose = fields.Str(required=True, validate=validate.Length(min=1, max=2000))
    annual_income = Money(required=True)
    total_assets = Money(required=True)
    total_debts = Money(required=True)
    years_in_business = fields.Int(load_default=0, validate=validate.Range(0, 200))
    guarantors = fields.List(fields.Nested(GuarantorSchema), load_default=list)
    documents = fields.List(fields.Nested(DocumentSchema), load_default=list)
    applied_on = fields.Date(load_default=None)
    confirm_duplicate = fields.Bool(load_only=True, load_default=False, metadata={
        "description": "file although the applicant has a pending application for the product "
                       "(otherwise 422 duplicate_pending, naming them in `pending`)"})
    status = fields.Str(dump_only=True)
    eco_colour = fields.Str(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class ApplicationDetailSchema(ApplicationSchema):
    collateral = fields.List(fields.Nested(CollateralSchema), dump_only=True)
    collateral_summary = fields.Dict(dump_only=True)
    score = fields.Nested(ScoreSchema, dump_only=True, allow_none=True)
    decision = fields.Nested(DecisionSchema, dump_only=True, allow_none=True)
    loan_id = fields.Int(dump_only=True, allow_none=True)


class ApplicationQueryArgsSchema(Schema):
    status = fields.Str(validate=validate.OneOf(APPLICATION_STATUSES))
    party_id = fields.Int()
    product_id = fields.Int()


class OfficerDecisionSchema(Schema):
    outcome = fields.Str(required=True, validate=validate.OneOf(("approve", "decline")))
    note = fields.Str(required=True, validate=validate.Length(min=1, max=2000))
    amount = Money(load_default=None, allow_none=True)


class OverrideReviewSchema(Schema):
    approve = fields.Bool(required=True)
    note = fields.Str(load_default="", validate=validate.Length(max=2000))


class WithdrawSchema(Schema):
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=2000))


class BookSchema(Schema):
    disbursed_on = fields.Date(load_default=None)


class InstalmentSchema(Schema):
    seq = fields.Int()
    due_date = fields.Date()
    opening_balance = Money()
    principal_due = Money()
    interest_due = Money()
    fee_due = Money()
    total_due = Money()
    closing_balance = Money()
    principal_paid = Money()
    interest_paid = Money()
    fee_paid = Money()
    paid_on = fields.Date(allow_none=True)


class RepaymentSchema(Schema):
    id = fields.Int(dump_only=True)
    amount = Money(required=True)
    received_on = fields.Date(required=True)
    reference = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=64))
    fee_part = Money(dump_only=True)
    interest_part = Money(dump_only=True)
    principal_part = Money(dump_only=True)
    allocation = fields.List(fields.Dict(), dump_only=True)


class LoanSchema(Schema):
    id = fields.Int()
    number = fields.Str()
    application_id = fields.Int()
    party_id = fields.Int()
    product_id = fields.Int()
    principal = Money()
    annual_rate = RateField()
    term_months = fields.Int()
    amortisation = fields.Str()
    disbursed_on = fields.Date()
    maturity_date = fields.Date()
    status = fields.Str()
    outstanding_principal = Money()
    days_past_due = fields.Int()
    max_days_past_due = fields.Int()
    bucket = fields.Str()
    green_category = fields.Str()
    eco_colour = fields.Str(allow_none=True)
    score = fields.Int(allow_none=True)
    collateral_value = Money()
    collateral_gep = Money()
    defaulted_on = fields.Date(allow_none=True)
    written_off_amount = Money(allow_none=True)


class LoanDetailSchema(LoanSchema):
    instalments = fields.List(fields.Nested(InstalmentSchema))
    repayments = fields.List(fields.Nested(RepaymentSchema))


class LoanQueryArgsSchema(Schema):
    status = fields.Str(validate=validate.OneOf(LOAN_STATUSES))
    bucket = fields.Str(validate=validate.OneOf(("current", "1-30", "31-60", "61-90", "90+")))
    party_id = fields.Int()


class WriteOffSchema(Schema):
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=2000))
    on = fields.Date(load_default=None)


class ModelSchema(Schema):
    id = fields.Int()
    version = fields.Str()
    name = fields.Str()
    role = fields.Str()
    features = fields.List(fields.Str())
    target = fields.Str()
    training_data_hash = fields.Str()
    artefact_sha256 = fields.Str()
    metrics = fields.Dict()
    scaling = fields.Dict()
    created_at = fields.DateTime()


class ScoreBatchUploadSchema(Schema):
    """One multipart/form-data body: the applicants CSV and, optionally, the model version."""

    file = Upload(required=True, metadata={"description": "applicants CSV (UTF-8 or GB18030) with the model's "
                                                          "feature columns"})
    version = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=32),
                         metadata={"description": "model version, e.g. v3 (default: the champion)"})


class ScoreBatchSchema(Schema):
    id = fields.Int()
    filename = fields.Str()
    rows = fields.Int()
    rejected_rows = fields.Int(metadata={"description": "rows the intake checks reject (not scored; see problems.csv)"})
    scored_rows = fields.Int(allow_none=True)
    input_sha256 = fields.Str()
    version = fields.Str(attribute="model.version")
    job_id = fields.Str(allow_none=True)
    status = fields.Str(metadata={"description": "the job's status: queued, started, finished or failed"})
    created_at = fields.DateTime()
    purged_at = fields.DateTime(allow_none=True, metadata={"description": "when the upload was deleted (retention)"})
