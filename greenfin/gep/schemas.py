"""marshmallow schemas of the GEP API. They load into dicts; services build models."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

LEVELS = ("district", "township", "village")
YEAR = validate.Range(min=1990, max=2100)


class ParcelGepSchema(Schema):
    value = fields.Decimal(as_string=True, metadata={"description": "GEP of the latest account, CNY"})
    account_id = fields.Int()
    year = fields.Int()
    price_version = fields.Str()


class GepNamedShareSchema(Schema):
    code = fields.Str()
    name_zh = fields.Str()
    name_en = fields.Str()
    value = fields.Decimal(as_string=True)
    share = fields.Decimal(as_string=True, metadata={"description": "percent of the total"})


class GepScanSummarySchema(Schema):
    year = fields.Int()
    total_value = fields.Decimal(as_string=True)
    value_per_ha = fields.Decimal(as_string=True)
    area_ha = fields.Decimal(as_string=True)
    price_version = fields.Str()
    account_id = fields.Int()
    categories = fields.List(fields.Nested(GepNamedShareSchema))
    top_services = fields.List(fields.Nested(GepNamedShareSchema))


class GepServiceValueSchema(Schema):
    service = fields.Str()
    category = fields.Str()
    quantity = fields.Decimal(as_string=True)
    unit = fields.Str()
    value = fields.Decimal(as_string=True)


class GepAccountSchema(Schema):
    id = fields.Int()
    parcel_id = fields.Int()
    year = fields.Int()
    price_version = fields.Str(attribute="version.code")
    township_code = fields.Str()
    village = fields.Str(allow_none=True)
    area_ha = fields.Decimal(as_string=True)
    land_cover = fields.Str()
    provisioning = fields.Decimal(as_string=True)
    regulating = fields.Decimal(as_string=True)
    cultural = fields.Decimal(as_string=True)
    total = fields.Decimal(as_string=True)
    job_id = fields.Str(allow_none=True)
    created_at = fields.DateTime()


class GepAccountDetailSchema(GepAccountSchema):
    inputs = fields.Dict(metadata={"description": "the parcel inputs used (defaults filled in), method and version"})
    reproducible = fields.Method("_reproducible", metadata={
        "description": "true when the stored inputs and price version give exactly the stored values"})
    services = fields.List(fields.Nested(GepServiceValueSchema))

    def _reproducible(self, account) -> bool:
        from greenfin.gep.services import verify_account

        return verify_account(account)


class GepAccountQueryArgsSchema(Schema):
    year = fields.Int(validate=YEAR)


class GepComputeSchema(Schema):
    year = fields.Int(required=True, validate=YEAR)
    prices = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=32),
                        metadata={"description": "price version code; default the newest for the year"})


class GepRunSchema(GepComputeSchema):
    township = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=64))


class GepTotalsQueryArgsSchema(Schema):
    year = fields.Int(required=True, validate=YEAR)
    level = fields.Str(load_default="township", validate=validate.OneOf(LEVELS))
    township = fields.Str(validate=validate.Length(max=32))


class GepTotalsRowSchema(Schema):
    key = fields.Str()
    name_zh = fields.Str()
    name_en = fields.Str()
    parcels = fields.Int()
    area_ha = fields.Decimal(as_string=True)
    provisioning = fields.Decimal(as_string=True)
    regulating = fields.Decimal(as_string=True)
    cultural = fields.Decimal(as_string=True)
    total = fields.Decimal(as_string=True)
    per_km2 = fields.Decimal(as_string=True)
    shares = fields.Dict(keys=fields.Str(), values=fields.Decimal(as_string=True))
    previous = fields.Decimal(as_string=True, allow_none=True)
    change = fields.Decimal(as_string=True, allow_none=True)
    change_pct = fields.Decimal(as_string=True, allow_none=True)


class GepServiceTotalSchema(Schema):
    code = fields.Str()
    category = fields.Str()
    name_zh = fields.Str()
    name_en = fields.Str()
    unit = fields.Str()
    quantity = fields.Decimal(as_string=True)
    value = fields.Decimal(as_string=True)
    share = fields.Decimal(as_string=True)


class GepParameterSchema(Schema):
    key = fields.Str()
    kind = fields.Str()
    value = fields.Decimal(as_string=True)
    unit = fields.Str()
    source = fields.Str()
    year = fields.Int()


class GepVersionSchema(Schema):
    code = fields.Str()
    title = fields.Str()
    year = fields.Int()
    based_on = fields.Str(attribute="based_on.code", allow_none=True)
    notes = fields.Str(allow_none=True)
    created_at = fields.DateTime()
    locked_at = fields.DateTime(allow_none=True)


class GepVersionDetailSchema(GepVersionSchema):
    parameters = fields.List(fields.Nested(GepParameterSchema))


class GepParameterChangeSchema(Schema):
    value = fields.Decimal(allow_nan=False)
    unit = fields.Str(validate=validate.Length(min=1, max=64))
    source = fields.Str(validate=validate.Length(min=1, max=255))
    year = fields.Int(validate=YEAR)


class GepVersionCopySchema(Schema):
    source = fields.Str(required=True, metadata={"description": "code of the version to copy"})
    code = fields.Str(required=True, validate=validate.Length(min=1, max=32))
    title = fields.Str(validate=validate.Length(min=1, max=255))
    year = fields.Int(validate=YEAR)
    notes = fields.Str(allow_none=True)
    changes = fields.Dict(keys=fields.Str(), values=fields.Nested(GepParameterChangeSchema), load_default=dict)


class GepAttributesSchema(Schema):
    """Measured inputs; numbers travel as decimal strings both ways (exact, as declared in the OpenAPI)."""

    k_factor = fields.Decimal(as_string=True, allow_none=True, allow_nan=False)
    ls_factor = fields.Decimal(as_string=True, allow_none=True, allow_nan=False)
    npp = fields.Decimal(as_string=True, allow_none=True, allow_nan=False)
    yield_t_ha = fields.Decimal(as_string=True, allow_none=True, allow_nan=False)
    slope_deg = fields.Decimal(as_string=True, allow_none=True, allow_nan=False)
    area_m2_ellipsoid = fields.Decimal(as_string=True, dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
