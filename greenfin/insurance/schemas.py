"""marshmallow schemas of the insurance API. They load into dicts; services build models."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from greenfin.insurance.models import CLAIM_STATUSES, COVERS, PAYOUT_MODES, PERILS

MONTH_DAY = validate.Regexp(r"^\d{2}-\d{2}$", error="write the day as MM-DD")
SEASON = validate.Range(min=2000, max=2100)


class WeatherStationSchema(Schema):
    id = fields.Int(dump_only=True)
    code = fields.Str(required=True, validate=validate.Length(1, 32))
    name_zh = fields.Str(required=True, validate=validate.Length(1, 64))
    name_en = fields.Str(required=True, validate=validate.Length(1, 64))
    lat = fields.Decimal(as_string=True, required=True)
    lon = fields.Decimal(as_string=True, required=True)
    elevation_m = fields.Int(allow_none=True, validate=validate.Range(-500, 9000))
    synthetic = fields.Bool(load_default=False, metadata={"description": "a demo series, never real data"})


class WeatherObservationSchema(Schema):
    observed_on = fields.Date()
    tmin = fields.Decimal(as_string=True)
    tmax = fields.Decimal(as_string=True)
    precip_mm = fields.Decimal(as_string=True)
    source = fields.Str()


class WeatherImportSchema(Schema):
    csv = fields.Str(required=True, validate=validate.Length(1, 20_000_000), metadata={
        "description": "CSV text with the header station,date,tmin,tmax,precipitation (°C, mm)"})
    source = fields.Str(load_default="api", validate=validate.Length(1, 64))


class WeatherImportLineSchema(Schema):
    line = fields.Int()
    reason = fields.Str()
    row = fields.Str()


class WeatherGapSchema(Schema):
    station = fields.Str()
    from_ = fields.Str(data_key="from", attribute="from")
    to = fields.Str()


class WeatherImportReportSchema(Schema):
    created = fields.Int()
    duplicates = fields.List(fields.Nested(WeatherImportLineSchema))
    errors = fields.List(fields.Nested(WeatherImportLineSchema))
    gaps = fields.List(fields.Nested(WeatherGapSchema))


class IndexTierSchema(Schema):
    level = fields.Decimal(as_string=True, required=True, metadata={"description": "°C, days or mm"})
    share = fields.Decimal(as_string=True, required=True, metadata={"description": "share of the sum insured, 0-1"})


class PremiumSubsidySchema(Schema):
    central = fields.Decimal(as_string=True, load_default="0")
    provincial = fields.Decimal(as_string=True, load_default="0")
    county = fields.Decimal(as_string=True, load_default="0")
    farmer = fields.Decimal(as_string=True, load_default="1")


class IndexProductSchema(Schema):
    id = fields.Int(dump_only=True)
    code = fields.Str(required=True, validate=validate.Length(1, 32))
    version = fields.Int(dump_only=True)
    name_zh = fields.Str(required=True, validate=validate.Length(1, 128))
    name_en = fields.Str(required=True, validate=validate.Length(1, 128))
    peril = fields.Str(required=True, validate=validate.OneOf(PERILS))
    land_cover = fields.Str(required=True, validate=validate.OneOf(COVERS))
    season_start = fields.Str(required=True, validate=MONTH_DAY)
    season_end = fields.Str(required=True, validate=MONTH_DAY)
    trigger = fields.Decimal(as_string=True, required=True)
    exit = fields.Decimal(as_string=True, required=True)
    payout_mode = fields.Str(required=True, validate=validate.OneOf(PAYOUT_MODES))
    tiers = fields.List(fields.Nested(IndexTierSchema), load_default=list)
    dry_day_mm = fields.Decimal(as_string=True, allow_none=True)
    sum_insured_per_ha = fields.Decimal(as_string=True, required=True)
    premium_rate = fields.Decimal(as_string=True, required=True)
    loading = fields.Decimal(as_string=True, load_default="1.5")
    subsidy = fields.Nested(PremiumSubsidySchema, required=True)
    notes = fields.Str(allow_none=True, validate=validate.Length(max=2000))


class InsurancePolicyCreateSchema(Schema):
    product_id = fields.Int(required=True)
    parcel_id = fields.Int(required=True)
    season = fields.Int(required=True, validate=SEASON)


class InsurancePolicySchema(Schema):
    id = fields.Int()
    number = fields.Str()
    product_id = fields.Int()
    product = fields.Function(lambda p: f"{p.product.code} v{p.product.version}")
    parcel_id = fields.Int()
    holder_id = fields.Int()
    station = fields.Str(attribute="station.code")
    season = fields.Int()
    starts_on = fields.Date()
    ends_on = fields.Date()
    area_ha = fields.Decimal(as_string=True)
    sum_insured = fields.Decimal(as_string=True)
    premium = fields.Decimal(as_string=True)
    premium_central = fields.Decimal(as_string=True)
    premium_provincial = fields.Decimal(as_string=True)
    premium_county = fields.Decimal(as_string=True)
    premium_farmer = fields.Decimal(as_string=True)
    loss_payee_loan_id = fields.Int(allow_none=True)
    status = fields.Str()


class InsurancePolicyQueryArgsSchema(Schema):
    season = fields.Int(validate=SEASON)
    product_id = fields.Int()
    status = fields.Str(validate=validate.OneOf(("active", "cancelled")))


class InsurancePolicyCancelSchema(Schema):
    reason = fields.Str(required=True, validate=validate.Length(1, 500))


class InsuranceEvaluateSchema(Schema):
    as_of = fields.Date(load_default=None, metadata={"description": "evaluate up to this day (default yesterday)"})


class InsuranceClaimSchema(Schema):
    id = fields.Int()
    policy_id = fields.Int()
    policy_number = fields.Str(attribute="policy.number")
    event = fields.Str(attribute="event.code")
    payout_share = fields.Decimal(as_string=True)
    amount = fields.Decimal(as_string=True)
    status = fields.Str()
    note = fields.Str(allow_none=True)
    paid_on = fields.Date(allow_none=True)
    loan_id = fields.Int(allow_none=True)
    to_lender = fields.Decimal(as_string=True)
    to_holder = fields.Decimal(as_string=True)


class InsuranceClaimQueryArgsSchema(Schema):
    status = fields.Str(validate=validate.OneOf(CLAIM_STATUSES))


class InsuranceClaimDecisionSchema(Schema):
    action = fields.Str(required=True, validate=validate.OneOf(("propose", "approve", "reject")))
    note = fields.Str(load_default="", validate=validate.Length(max=1000))


class BacktestQueryArgsSchema(Schema):
    product_id = fields.Int(required=True)
    station_id = fields.Int(required=True)


class IndexBacktestSeasonSchema(Schema):
    season = fields.Int()
    coverage = fields.Float()
    events = fields.Int()
    worst_index = fields.Decimal(as_string=True, allow_none=True)
    share = fields.Decimal(as_string=True)
    loss_per_ha = fields.Decimal(as_string=True)


class IndexBacktestSchema(Schema):
    product = fields.Str()
    station = fields.Str()
    synthetic = fields.Bool()
    seasons = fields.List(fields.Nested(IndexBacktestSeasonSchema))
    skipped = fields.List(fields.Int())
    frequency = fields.Decimal(as_string=True)
    expected_loss_rate = fields.Decimal(as_string=True)
    expected_loss_per_ha = fields.Decimal(as_string=True)
    loading = fields.Decimal(as_string=True)
    premium_rate = fields.Decimal(as_string=True)
    premium_per_ha = fields.Decimal(as_string=True)
    current_premium_rate = fields.Decimal(as_string=True)


class PayoutEventSchema(Schema):
    code = fields.Str()
    station = fields.Str(attribute="station.code")
    product = fields.Function(lambda e: f"{e.product.code} v{e.product.version}")
    peril = fields.Str(attribute="product.peril")
    started_on = fields.Date()
    ended_on = fields.Date()
    index_value = fields.Decimal(as_string=True)
    trigger = fields.Decimal(as_string=True, attribute="product.trigger")
    payout_share = fields.Decimal(as_string=True)
    readings = fields.List(fields.Dict())


class InsuranceFundSchema(Schema):
    premiums = fields.Decimal(as_string=True)
    claims = fields.Decimal(as_string=True)
    balance = fields.Decimal(as_string=True)
