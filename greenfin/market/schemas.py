"""marshmallow schemas of the market API."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class CatalogueQueryArgsSchema(Schema):
    township = fields.Str(metadata={"description": "township code of the origin parcel, e.g. danan"})
    product = fields.Int(metadata={"description": "product id"})
    certification = fields.Str(metadata={"description": "a certificate kind valid today: green_food, organic, gi, "
                                                        "test_report"})
    q = fields.Str(validate=validate.Length(max=64), metadata={"description": "in product, lot, GTIN or parcel code"})


class CertificateSchema(Schema):
    kind = fields.Str()
    number = fields.Str()
    issuer = fields.Str()
    valid_from = fields.Date()
    valid_until = fields.Date()
    status = fields.Str(metadata={"description": "valid, expired, revoked, not_yet_valid, not_applicable (recalled)"})


class BrandSchema(Schema):
    name = fields.Str()
    name_en = fields.Str(allow_none=True)
    gi_registration = fields.Str(allow_none=True)
    gi_authority = fields.Str(allow_none=True)
    status = fields.Str(metadata={"description": "the producer's GI authorisation today: active, lapsed, revoked, "
                                                 "none"})
    valid_until = fields.Date(allow_none=True)


class CatalogueEntrySchema(Schema):
    lot = fields.Str()
    gtin = fields.Str()
    product_id = fields.Int()
    product = fields.Str()
    product_en = fields.Str(allow_none=True)
    quantity = fields.Decimal(as_string=True)
    unit = fields.Str()
    grade = fields.Str(allow_none=True)
    harvest_date = fields.Date(allow_none=True)
    recalled = fields.Bool()
    parcel = fields.Str()
    parcel_name = fields.Str(allow_none=True)
    township = fields.Str()
    village = fields.Str(allow_none=True)
    area_ha = fields.Decimal(as_string=True)
    gep_year = fields.Int(allow_none=True)
    gep_value = fields.Decimal(as_string=True, allow_none=True, metadata={"description": "yuan, latest account"})
    rights_holder = fields.Str(allow_none=True, metadata={"description": "firm or organisation; null for a household"})
    rights_holder_kind = fields.Str()
    producer_colour = fields.Str(allow_none=True)
    brand = fields.Nested(BrandSchema, allow_none=True)
    certifications = fields.List(fields.Nested(CertificateSchema))
    information = fields.Str(metadata={"description": "the lot's public page (the GS1 resolver's gs1:pip target)"})


class MissingParcelSchema(Schema):
    parcel_id = fields.Int()
    code = fields.Str()
    township = fields.Str()
    village = fields.Str(allow_none=True)
    area_ha = fields.Decimal(as_string=True)


class CoverageSchema(Schema):
    accounted = fields.Int(metadata={"description": "parcels with a GEP account"})
    covered = fields.Int(metadata={"description": "of those, parcels with catalogue entries"})
    share = fields.Decimal(as_string=True, allow_none=True, metadata={"description": "percent covered"})
    uncounted = fields.Int(metadata={"description": "parcels with entries but no GEP account"})
    missing = fields.List(fields.Nested(MissingParcelSchema))
