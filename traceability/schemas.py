"""marshmallow schemas of the traceability API. They load into dicts; services build models."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from traceability.models import CERT_KINDS, CERT_SCOPES, LOT_UNITS
from traceability.pdf import LAYOUTS
from traceability.services import REVIEW_FIRST_DAY, REVIEW_LAST_DAY


class TraceBrandSchema(Schema):
    id = fields.Int(dump_only=True)
    name = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    name_en = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=128))
    gi_registration = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=64))
    gi_authority = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=128))
    gi_region = fields.Str(load_default=None, allow_none=True)
    description = fields.Str(load_default=None, allow_none=True)


class TraceAuthorisationSchema(Schema):
    id = fields.Int(dump_only=True)
    brand_id = fields.Int(dump_only=True)
    party_id = fields.Int(required=True)
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(load_default=None, allow_none=True)
    revoked_at = fields.DateTime(dump_only=True, allow_none=True)
    revoke_reason = fields.Str(dump_only=True, allow_none=True)


class TraceProductSchema(Schema):
    id = fields.Int(dump_only=True)
    gtin = fields.Str(required=True, validate=validate.Length(min=8, max=14),
                      metadata={"description": "GTIN-8/12/13/14; stored as GTIN-14 (check digit verified)"})
    name = fields.Str(required=True, validate=validate.Length(min=1, max=128))
    name_en = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=128))
    brand_id = fields.Int(load_default=None, allow_none=True)
    owner_id = fields.Int(required=True)
    net_content = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=32))


class TraceLotSchema(Schema):
    id = fields.Int(dump_only=True)
    code = fields.Str(required=True, validate=validate.Length(min=1, max=20),
                      metadata={"description": "GS1 AI 10 lot code (AI 82 character set)"})
    product_id = fields.Int(required=True)
    producer_id = fields.Int(required=True)
    harvest_date = fields.Date(load_default=None, allow_none=True)
    quantity = fields.Decimal(required=True, as_string=True)
    unit = fields.Str(load_default="KGM", validate=validate.OneOf(LOT_UNITS))
    parcel_ids = fields.List(fields.Int(), load_default=list)
    recalled_at = fields.DateTime(dump_only=True, allow_none=True)
    recall_reason = fields.Str(dump_only=True, allow_none=True)
    gtin = fields.Function(lambda lot: lot.product.gtin, dump_only=True)

    class Meta:
        ordered = True


class TraceLotDumpSchema(TraceLotSchema):
    parcel_ids = fields.Function(lambda lot: [p.id for p in lot.parcels], dump_only=True)


class TraceLotQueryArgsSchema(Schema):
    q = fields.Str(validate=validate.Length(max=20))
    recalled = fields.Bool()


class TraceRecallSchema(Schema):
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=2000))


class TraceEventCreateSchema(Schema):
    kind = fields.Str(required=True, validate=validate.OneOf(
        ["harvest", "inspection", "grading", "packing", "shipping", "receiving", "retail"]))
    event_time = fields.AwareDateTime(load_default=None, allow_none=True, metadata={
        "description": "when the step happened (default now): not in the future (5 minutes of clock skew), "
                       "not before the lot's harvest date or harvest, in CBV step order (422 naming it; "
                       "docs/traceability.md, 'What an event must satisfy')"})
    quantity = fields.Decimal(load_default=None, allow_none=True, allow_nan=False,
                              metadata={"description": "above zero (checked by the service: 422 naming it)"})
    ship_to_id = fields.Int(load_default=None, allow_none=True)
    reference = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=200))
    result = fields.Str(load_default="conformant", validate=validate.OneOf(["conformant", "non_conformant"]))
    grade = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=32))
    per_carton = fields.Int(load_default=6, validate=validate.Range(min=1, max=1000))


class TraceTransformSchema(Schema):
    output_lot_id = fields.Int(required=True)
    inputs = fields.List(fields.Dict(keys=fields.Str(), values=fields.Raw()), required=True,
                         metadata={"description": '[{"lot_id": 1, "quantity": "120.5"}]'})
    event_time = fields.AwareDateTime(load_default=None, allow_none=True)
    reference = fields.Str(load_default=None, allow_none=True)


class TraceEventSchema(Schema):
    id = fields.Int()
    event_hash = fields.Str()
    event_type = fields.Str()
    kind = fields.Str()
    event_time = fields.DateTime()
    biz_step = fields.Str(allow_none=True)
    disposition = fields.Str(allow_none=True)
    source = fields.Str()
    document = fields.Dict()


class TraceShipmentSchema(Schema):
    id = fields.Int()
    event_hash = fields.Str()
    kind = fields.Str()
    event_time = fields.DateTime()
    ship_from_id = fields.Int(allow_none=True)
    ship_to_id = fields.Int(allow_none=True)
    reference_document = fields.Str(allow_none=True)


class TraceCertificationSchema(Schema):
    id = fields.Int(dump_only=True)
    kind = fields.Str(required=True, validate=validate.OneOf(CERT_KINDS))
    number = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    issuer = fields.Str(required=True, validate=validate.Length(min=1, max=128))
    scope = fields.Str(required=True, validate=validate.OneOf(CERT_SCOPES))
    party_id = fields.Int(required=True)
    product_id = fields.Int(load_default=None, allow_none=True)
    parcel_id = fields.Int(load_default=None, allow_none=True)
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True)
    document_url = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=255))
    revoked_at = fields.DateTime(dump_only=True, allow_none=True)
    revoke_reason = fields.Str(dump_only=True, allow_none=True)
    status = fields.Method("get_status", dump_only=True)

    def get_status(self, cert):
        from traceability.services import today

        return cert.status_on(today())


class TraceRevokeSchema(Schema):
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=500))


class TraceLabelBatchCreateSchema(Schema):
    count = fields.Int(required=True, validate=validate.Range(
        min=1, max=100_000, error="must be a whole number from 1 to 100,000"))
    layout = fields.Str(load_default="a4-3x8", validate=validate.OneOf(list(LAYOUTS)))


class TraceLabelBatchSchema(Schema):
    id = fields.Int()
    lot_id = fields.Int()
    count = fields.Int()
    layout = fields.Str()
    job_id = fields.Str(allow_none=True)
    created_at = fields.DateTime()
    pdf_url = fields.Function(lambda b: f"/trace/batches/{b.id}/sheet.pdf")
    csv_url = fields.Function(lambda b: f"/trace/batches/{b.id}/labels.csv")


class TraceCaptureSchema(Schema):
    """What a capture answers: 201 with created/skipped, or 202 with the job that stores it."""

    created = fields.Int(metadata={"description": "201: events stored"})
    skipped = fields.Int(metadata={"description": "201: events already stored (same event hash)"})
    capture_id = fields.Int(metadata={"description": "202: the kept document"})
    job_id = fields.Str(metadata={"description": "202: follow /api/v1/jobs/<job_id>; its result is created/skipped, "
                                                 "or message and errors when the document is refused"})
    events = fields.Int(metadata={"description": "202: events in the document"})


class TraceScanStatsSchema(Schema):
    daily = fields.List(fields.Tuple((fields.Str(), fields.Int())))
    regions = fields.List(fields.Tuple((fields.Str(), fields.Int())))
    verdicts = fields.Dict(keys=fields.Str(), values=fields.Int())
    total = fields.Int()
    labels = fields.Int()
    labels_scanned = fields.Int()


class TraceResultSchema(Schema):
    lot = fields.Nested(TraceLotDumpSchema)
    backward = fields.List(fields.Nested(TraceLotDumpSchema))
    forward = fields.List(fields.Nested(TraceLotDumpSchema))
    parcels = fields.Function(lambda t: [{"id": p.id, "code": p.code, "township_code": p.township_code,
                                          "village": p.village, "lat": str(p.lat), "lon": str(p.lon)}
                                         for p in t["parcels"]])
    shipments = fields.List(fields.Nested(TraceShipmentSchema))


class TraceEnumerationFlagQueryArgsSchema(Schema):
    since = fields.Date(validate=validate.Range(min=REVIEW_FIRST_DAY, max=REVIEW_LAST_DAY),
                        metadata={"description": "first day, China time (UTC+8), included"})
    until = fields.Date(validate=validate.Range(min=REVIEW_FIRST_DAY, max=REVIEW_LAST_DAY),
                        metadata={"description": "last day, China time (UTC+8), included"})

    @validates_schema
    def check_range(self, data, **kwargs):
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            raise ValidationError("must not be before since", "until")


class TraceEnumerationFlagSchema(Schema):
    """One flag of serial guessing on the public scan route."""

    id = fields.Int(metadata={"description": "the audit event"})
    occurred_at = fields.DateTime()
    client = fields.Str(metadata={"description": "the client network (/24 or /48) as recorded; flags raised before it was kept alone show the address"})
    network = fields.Str(allow_none=True, metadata={"description": "its /24 (IPv4) or /48 (IPv6), as scans keep it"})
    gtin = fields.Str(allow_none=True, metadata={"description": "GTIN of the code probed, as sent"})
    lot = fields.Str(allow_none=True, metadata={"description": "lot code of the code probed, as sent"})
    lot_id = fields.Int(allow_none=True, metadata={"description": "our lot, when GTIN and lot code name one"})
    product = fields.Str(allow_none=True)
    product_en = fields.Str(allow_none=True)
    brand = fields.Str(allow_none=True)
    brand_id = fields.Int(allow_none=True)
    unrecognised_codes = fields.Int(metadata={
        "description": "codes not recognised from the client's network in the window (at least the threshold)"})
    window_start = fields.DateTime()
    window_end = fields.DateTime()
    last_path = fields.Str(allow_none=True, metadata={"description": "the path scanned when the flag was raised"})
    acknowledged = fields.Dict(allow_none=True, metadata={"description": "who acknowledged the flag, when, with what note"})
    blocked_until = fields.DateTime(allow_none=True, metadata={"description": "the network is barred from scanning until then"})

    class Meta:
        ordered = True


class TraceFlagAcknowledgeSchema(Schema):
    note = fields.Str(required=True, validate=validate.Length(min=1, max=2000))


class TraceNetworkBlockCreateSchema(Schema):
    network = fields.Str(validate=validate.Length(max=64), metadata={
        "description": "an address or network (kept as its /24 or /48); or give flag_id", "example": "203.0.113.0/24"})
    flag_id = fields.Int(metadata={"description": "the serial-guessing flag (audit event) whose network to block"})
    days = fields.Int(required=True, metadata={"description": "1, 7, 30 or 90"})
    note = fields.Str(required=True, validate=validate.Length(min=1, max=2000))

    @validates_schema
    def network_or_flag(self, data, **kwargs):
        if not data.get("network") and data.get("flag_id") is None:
            raise ValidationError("give a network or a flag_id", "network")


class TraceNetworkBlockLiftSchema(Schema):
    note = fields.Str(required=True, validate=validate.Length(min=1, max=2000))


class TraceNetworkBlockSchema(Schema):
    id = fields.Int()
    network = fields.Str()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    note = fields.Str()
    flag_event_id = fields.Int(allow_none=True)
    lifted_at = fields.DateTime(allow_none=True)
    lift_note = fields.Str(allow_none=True)
