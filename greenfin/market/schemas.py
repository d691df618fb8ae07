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


# ---------------------------------------------------------------- trading

_KINDS = ("green_food", "organic", "gi")  # greenfin.market.policy.CLAIMABLE_KINDS
_money = {"as_string": True, "places": 2}
_qty = {"as_string": True}


class BuyerCreateSchema(Schema):
    party_id = fields.Int(required=True)
    kind = fields.Str(required=True, metadata={"description": "canteen, processor or retailer"})
    public = fields.Bool(load_default=False, metadata={"description": "a public canteen (school, hospital, office)"})
    quota_share = fields.Decimal(allow_none=True, load_default=None,
                                 metadata={"description": "percent of farm-produce purchases to buy as eco-products; "
                                                          "a public buyer's default is 30 (Jiangxi)"})


class BuyerSchema(Schema):
    id = fields.Int()
    party_id = fields.Int()
    kind = fields.Str()
    public = fields.Bool()
    quota_share = fields.Decimal(as_string=True, allow_none=True)
    created_at = fields.DateTime()


class OfferCreateSchema(Schema):
    lot_id = fields.Int(required=True)
    quantity = fields.Decimal(required=True, metadata={"description": "in the lot's unit"})
    unit_price = fields.Decimal(required=True, metadata={"description": "yuan per unit"})
    delivery_from = fields.Date(required=True)
    delivery_until = fields.Date(required=True)
    certification_kinds = fields.List(fields.Str(validate=validate.OneOf(_KINDS)), allow_none=True, load_default=None,
                                      metadata={"description": "the kinds the offer claims (each valid on the lot "
                                                               "today); default every kind the lot has a "
                                                               "certificate of"})


class OfferQueryArgsSchema(Schema):
    status = fields.Str(validate=validate.OneOf(("open", "withdrawn")))
    product_id = fields.Int()
    lot_id = fields.Int()


class OfferSchema(Schema):
    id = fields.Int()
    lot_id = fields.Int()
    product_id = fields.Int()
    producer_id = fields.Int()
    quantity = fields.Decimal(**_qty)
    available = fields.Decimal(**_qty, metadata={"description": "what orders have not taken"})
    unit = fields.Str()
    unit_price = fields.Decimal(**_money)
    delivery_from = fields.Date()
    delivery_until = fields.Date()
    certification_kinds = fields.List(fields.Str())
    status = fields.Str()
    withdrawn_at = fields.DateTime(allow_none=True)
    withdraw_reason = fields.Str(allow_none=True)
    created_at = fields.DateTime()


class ReasonSchema(Schema):
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=500))


class DemandCreateSchema(Schema):
    buyer_id = fields.Int(metadata={"description": "staff only: the buyer's party (a buyer posts its own)"})
    product_id = fields.Int(required=True)
    quantity = fields.Decimal(required=True)
    unit = fields.Str(load_default="KGM")
    delivery_from = fields.Date(required=True)
    delivery_until = fields.Date(required=True)
    required_certifications = fields.List(fields.Str(validate=validate.OneOf(_KINDS)), load_default=list)
    max_price = fields.Decimal(allow_none=True, load_default=None, metadata={"description": "yuan per unit at most"})


class DemandQueryArgsSchema(Schema):
    status = fields.Str(validate=validate.OneOf(("open", "closed")))


class DemandSchema(Schema):
    id = fields.Int()
    buyer_id = fields.Int()
    product_id = fields.Int()
    quantity = fields.Decimal(**_qty)
    unit = fields.Str()
    delivery_from = fields.Date()
    delivery_until = fields.Date()
    required_certifications = fields.List(fields.Str())
    max_price = fields.Decimal(**_money, allow_none=True)
    status = fields.Str()
    created_at = fields.DateTime()


class MatchScoresSchema(Schema):
    certification = fields.Decimal(as_string=True)
    distance = fields.Decimal(as_string=True)
    price = fields.Decimal(as_string=True)
    colour = fields.Decimal(as_string=True)
    total = fields.Decimal(as_string=True)


class MatchSchema(Schema):
    offer_id = fields.Int()
    lot_id = fields.Int()
    lot = fields.Str()
    product = fields.Str()
    producer_id = fields.Int()
    rights_holder = fields.Str(allow_none=True)
    available = fields.Decimal(**_qty)
    unit = fields.Str()
    unit_price = fields.Decimal(**_money)
    delivery_from = fields.Date()
    delivery_until = fields.Date()
    certifications = fields.List(fields.Str(), metadata={"description": "kinds valid on the lot today"})
    distance_km = fields.Decimal(as_string=True, allow_none=True,
                                 metadata={"description": "buyer's township to the lot's orchard"})
    colour = fields.Str(allow_none=True, metadata={"description": "the producer's published credit colour"})
    scores = fields.Nested(MatchScoresSchema)


class OrderCreateSchema(Schema):
    offer_id = fields.Int(required=True)
    quantity = fields.Decimal(required=True)
    demand_id = fields.Int(allow_none=True, load_default=None)
    buyer_id = fields.Int(metadata={"description": "staff only: the buyer's party (a buyer orders for itself)"})


class OrderQueryArgsSchema(Schema):
    status = fields.Str(validate=validate.OneOf(("placed", "confirmed", "shipped", "received", "cancelled")))
    lot_id = fields.Int()


class ReceiveSchema(Schema):
    serials = fields.List(fields.Str(validate=validate.Length(min=1, max=300)), required=True,
                          validate=validate.Length(min=1, max=1000),
                          metadata={"description": "the scanned labels of the delivered cases: serials or the "
                                                   "labels' Digital Link URIs"})


class OrderSchema(Schema):
    id = fields.Int()
    offer_id = fields.Int()
    lot_id = fields.Int()
    buyer_id = fields.Int()
    producer_id = fields.Int()
    demand_id = fields.Int(allow_none=True)
    quantity = fields.Decimal(**_qty)
    unit = fields.Str()
    unit_price = fields.Decimal(**_money)
    amount = fields.Decimal(**_money)
    status = fields.Str()
    placed_at = fields.DateTime()
    confirmed_at = fields.DateTime(allow_none=True)
    shipped_at = fields.DateTime(allow_none=True)
    received_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    cancel_reason = fields.Str(allow_none=True)
    shipping_event = fields.Str(allow_none=True, metadata={"description": "EPCIS event ID (CBV 2.0 hash)"})
    receiving_event = fields.Str(allow_none=True)
    received_serials = fields.List(fields.Str(), allow_none=True)


class LotPositionSchema(Schema):
    quantity = fields.Decimal(**_qty)
    on_offer = fields.Decimal(**_qty)
    reserved = fields.Decimal(**_qty)
    delivered = fields.Decimal(**_qty)
    left = fields.Decimal(**_qty)


class PurchaseTotalCreateSchema(Schema):
    buyer_id = fields.Int(metadata={"description": "staff only: the buyer's party (a buyer records its own)"})
    month = fields.Str(required=True, metadata={"description": "YYYY-MM"})
    amount = fields.Decimal(required=True, metadata={"description": "yuan of farm produce bought that month, "
                                                                     "all sources"})


class PurchaseTotalSchema(Schema):
    buyer_id = fields.Int()
    month = fields.Str()
    amount = fields.Decimal(as_string=True, places=2)
    recorded_at = fields.DateTime()


class ProcurementQueryArgsSchema(Schema):
    month_from = fields.Str(metadata={"description": "YYYY-MM"})
    month_to = fields.Str(metadata={"description": "YYYY-MM"})


class ProcurementRowSchema(Schema):
    month = fields.Str()
    buyer_id = fields.Int()
    buyer = fields.Str()
    quota_share = fields.Decimal(as_string=True, allow_none=True)
    eco_amount = fields.Decimal(as_string=True, places=2, metadata={"description": "received through the market"})
    orders = fields.Int()
    total_amount = fields.Decimal(as_string=True, places=2, allow_none=True)
    share = fields.Decimal(as_string=True, allow_none=True, metadata={"description": "percent of total_amount"})
    meets_quota = fields.Bool(allow_none=True)
