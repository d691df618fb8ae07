"""marshmallow schemas of the core API. They load into dicts; services build models."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from greenfin.core.services import CERT_TYPES, LAND_COVERS

KINDS = ("firm", "organisation", "individual")
ROLES = ("admin", "loan_officer", "producer", "regulator")


class TownshipSchema(Schema):
    code = fields.Str()
    name_zh = fields.Str()
    name_en = fields.Str()
    kind = fields.Str()
    lat = fields.Decimal(as_string=True)
    lon = fields.Decimal(as_string=True)


class PartySchema(Schema):
    id = fields.Int(dump_only=True)
    kind = fields.Str(required=True, validate=validate.OneOf(KINDS))
    name = fields.Str(required=True, validate=validate.Length(min=1, max=128))
    uscc = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=18),
                      metadata={"description": "统一社会信用代码, firms and organisations"})
    resident_id = fields.Str(load_only=True, load_default=None, allow_none=True, validate=validate.Length(max=18),
                             metadata={"description": "居民身份证号, individuals; stored only hashed and masked"})
    id_masked = fields.Str(dump_only=True, allow_none=True)
    township_code = fields.Str(required=True, validate=validate.Length(max=32))
    village = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=64))
    contact_name = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=64))
    contact_phone = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=32))
    address = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=255))
    sector = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=64))
    created_at = fields.DateTime(dump_only=True)


class PartyUpdateSchema(Schema):
    name = fields.Str(validate=validate.Length(min=1, max=128))
    township_code = fields.Str(validate=validate.Length(max=32))
    village = fields.Str(allow_none=True, validate=validate.Length(max=64))
    contact_name = fields.Str(allow_none=True, validate=validate.Length(max=64))
    contact_phone = fields.Str(allow_none=True, validate=validate.Length(max=32))
    address = fields.Str(allow_none=True, validate=validate.Length(max=255))
    sector = fields.Str(allow_none=True, validate=validate.Length(max=64))


class PartyQueryArgsSchema(Schema):
    q = fields.Str(validate=validate.Length(max=64))
    kind = fields.Str(validate=validate.OneOf(KINDS))
    township = fields.Str(validate=validate.Length(max=32))


class PartyExportSchema(Schema):
    exported_at = fields.Str()
    party = fields.Dict()
    parcels = fields.List(fields.Dict())
    users = fields.List(fields.Dict())
    audit_events = fields.List(fields.Dict())

    class Meta:
        unknown = "include"  # each package adds its own section


class ParcelSchema(Schema):
    id = fields.Int(dump_only=True)
    code = fields.Str(required=True, validate=validate.Length(min=1, max=32))
    name = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=128))
    holder_id = fields.Int(required=True)
    township_code = fields.Str(required=True, validate=validate.Length(max=32))
    village = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=64))
    area_ha = fields.Decimal(required=True, as_string=True, places=4)
    land_cover = fields.Str(required=True, validate=validate.OneOf(LAND_COVERS))
    lat = fields.Decimal(required=True, as_string=True, places=6)
    lon = fields.Decimal(required=True, as_string=True, places=6)
    cert_type = fields.Str(required=True, validate=validate.OneOf(list(CERT_TYPES)))
    cert_no = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    created_at = fields.DateTime(dump_only=True)


class ParcelUpdateSchema(ParcelSchema):
    class Meta:
        partial = True


class ParcelQueryArgsSchema(Schema):
    holder_id = fields.Int()
    township = fields.Str(validate=validate.Length(max=32))
    land_cover = fields.Str(validate=validate.OneOf(LAND_COVERS))
    q = fields.Str(validate=validate.Length(max=64))


class UserSchema(Schema):
    id = fields.Int(dump_only=True)
    username = fields.Str(required=True, validate=validate.Length(min=3, max=64))
    display_name = fields.Str(validate=validate.Length(max=128))
    role = fields.Str(required=True, validate=validate.OneOf(ROLES))
    party_id = fields.Int(allow_none=True, load_default=None)
    active = fields.Bool(load_default=True)
    password = fields.Str(required=True, load_only=True, validate=validate.Length(max=256))
    created_at = fields.DateTime(dump_only=True)
    last_login_at = fields.DateTime(dump_only=True, allow_none=True)


class UserUpdateSchema(Schema):
    display_name = fields.Str(validate=validate.Length(max=128))
    role = fields.Str(validate=validate.OneOf(ROLES))
    party_id = fields.Int(allow_none=True)
    active = fields.Bool()
    password = fields.Str(load_only=True, validate=validate.Length(max=256))


class TokenCreateSchema(Schema):
    user_id = fields.Int(required=True)
    name = fields.Str(required=True, validate=validate.Length(min=1, max=64))


class TokenSchema(Schema):
    id = fields.Int(dump_only=True)
    user_id = fields.Int(dump_only=True)
    name = fields.Str(dump_only=True)
    prefix = fields.Str(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    revoked_at = fields.DateTime(dump_only=True, allow_none=True)
    token = fields.Str(dump_only=True, allow_none=True, metadata={"description": "shown once, at issue"})


class AuditEventSchema(Schema):
    id = fields.Int()
    occurred_at = fields.DateTime()
    actor_label = fields.Str()
    action = fields.Str()
    entity_type = fields.Str()
    entity_id = fields.Str()
    party_id = fields.Int(allow_none=True)
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    request_id = fields.Str(allow_none=True)


class AuditQueryArgsSchema(Schema):
    action = fields.Str(validate=validate.Length(max=64))
    entity_type = fields.Str(validate=validate.Length(max=64))
    entity_id = fields.Str(validate=validate.Length(max=64))
    actor = fields.Str(validate=validate.Length(max=128))
    since = fields.AwareDateTime(default_timezone=None)
    until = fields.AwareDateTime(default_timezone=None)


class JobSchema(Schema):
    id = fields.Str()
    title = fields.Str()
    status = fields.Str()
    progress = fields.Int()
    message = fields.Str(allow_none=True)
    result_url = fields.Str(allow_none=True)
    result = fields.Dict(allow_none=True)
    error = fields.Str(allow_none=True)
    attempts = fields.Int()
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
