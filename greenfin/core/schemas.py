"""marshmallow schemas of the core API. They load into dicts; services build models.

The party and parcel schemas make every check that needs no database (known township,
identifier check characters, area and coordinates in range, no blank names), so one 422
names every bad field. The services repeat these checks for callers other than the API
(pages, CLI, imports, seeds) and add those that need the database (unknown holder,
duplicate code or credit code); those come in a second answer, once the fields are well-formed.
"""
from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from greenfin.core import geography
from greenfin.core.audit_labels import action_label, target_label
from greenfin.core.identifiers import InvalidIdentifier, normalise_resident_id, normalise_uscc
from greenfin.core.services import CERT_TYPES, JOB_STATUSES, LAND_COVERS
from greenfin.errors import N_
from greenfin.security import ROLES

KINDS = ("firm", "organisation", "individual")

# The services' own messages, so that an API client sees the same words either way.
known_township = validate.OneOf(sorted(geography.TOWNSHIP_CODES), error=N_("unknown township of Guangfeng district"))


def _between(low, high, message: str, low_inclusive: bool = True):
    """A range check for decimals that travel as strings. (A ``validate.Range`` would be documented
    as a numeric minimum and maximum on a string, which OpenAPI refuses.)"""
    low, high = Decimal(str(low)), Decimal(str(high))

    def check(value: Decimal) -> None:
        if not ((low <= value) if low_inclusive else (low < value)) or not value <= high:
            raise ValidationError(message)

    return check


parcel_area = _between(0, 100000, N_("must be above 0 and at most 100,000 ha"), low_inclusive=False)
in_district_lat = _between(*geography.LAT_RANGE, N_("is outside Guangfeng district"))
in_district_lon = _between(*geography.LON_RANGE, N_("is outside Guangfeng district"))


def not_blank(value: str) -> None:
    if not (value or "").strip():
        raise ValidationError(N_("is required"))


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
    name = fields.Str(required=True, validate=[validate.Length(min=1, max=128), not_blank])
    uscc = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=18),
                      metadata={"description": "统一社会信用代码, firms and organisations"})
    resident_id = fields.Str(load_only=True, load_default=None, allow_none=True, validate=validate.Length(max=18),
                             metadata={"description": "居民身份证号, individuals; stored only hashed and masked"})
    id_masked = fields.Str(dump_only=True, allow_none=True)
    township_code = fields.Str(required=True, validate=known_township)
    village = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=64))
    contact_name = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=64))
    contact_phone = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=32))
    address = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=255))
    sector = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=64))
    created_at = fields.DateTime(dump_only=True)

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def check_identifier(self, data, original, **kwargs):
        """The identifier the kind calls for, with its check character (as create_party checks it).

        Runs beside the field checks, so their errors and these come in one answer; a field that
        already failed (too long, not a string) is not judged again.
        """
        kind, errors = data.get("kind"), {}
        original = original if isinstance(original, dict) else {}
        failed = {key for key in ("uscc", "resident_id") if original.get(key) is not None and key not in data}
        if kind == "individual":
            if data.get("uscc"):
                errors["uscc"] = [N_("individuals have no unified social credit code")]
            if "resident_id" not in failed:
                try:
                    normalise_resident_id(data.get("resident_id") or "")
                except InvalidIdentifier as exc:
                    errors["resident_id"] = [str(exc)]
        elif kind in ("firm", "organisation"):
            if data.get("resident_id"):
                errors["resident_id"] = [N_("only individuals carry a resident ID number")]
            if "uscc" not in failed:
                try:
                    normalise_uscc(data.get("uscc") or "")
                except InvalidIdentifier as exc:
                    errors["uscc"] = [str(exc)]
        if errors:
            raise ValidationError(errors)


class PartyUpdateSchema(Schema):
    name = fields.Str(validate=[validate.Length(min=1, max=128), not_blank])
    township_code = fields.Str(validate=known_township)
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
    code = fields.Str(required=True, validate=[validate.Length(min=1, max=32), not_blank])
    name = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=128))
    holder_id = fields.Int(required=True)
    township_code = fields.Str(required=True, validate=known_township)
    village = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=64))
    area_ha = fields.Decimal(required=True, as_string=True, places=4, validate=parcel_area,
                             metadata={"description": "hectares, above 0 and at most 100,000"})
    land_cover = fields.Str(required=True, validate=validate.OneOf(LAND_COVERS))
    lat = fields.Decimal(required=True, as_string=True, places=6, validate=in_district_lat,
                         metadata={"description": f"WGS84, {geography.LAT_RANGE[0]} to {geography.LAT_RANGE[1]}"})
    lon = fields.Decimal(required=True, as_string=True, places=6, validate=in_district_lon,
                         metadata={"description": f"WGS84, {geography.LON_RANGE[0]} to {geography.LON_RANGE[1]}"})
    cert_type = fields.Str(required=True, validate=validate.OneOf(list(CERT_TYPES)))
    cert_no = fields.Str(required=True, validate=[validate.Length(min=1, max=64), not_blank])
    created_at = fields.DateTime(dump_only=True)


class ParcelUpdateSchema(ParcelSchema):
    """Any subset of a parcel's fields (marshmallow has no ``partial`` Meta option: it is a load argument)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


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
    action_text = fields.Function(lambda e: action_label(e.action),
                                  metadata={"description": "the action in the request's language"})
    target_text = fields.Function(lambda e: target_label(e.entity_type),
                                  metadata={"description": "the target's kind in the request's language"})


class AuditQueryArgsSchema(Schema):
    action = fields.Str(validate=validate.Length(max=64))
    entity_type = fields.Str(validate=validate.Length(max=64))
    entity_id = fields.Str(validate=validate.Length(max=64))
    actor = fields.Str(validate=validate.Length(max=128))
    since = fields.AwareDateTime(default_timezone=None)
    until = fields.AwareDateTime(default_timezone=None)


class JobQueryArgsSchema(Schema):
    kind = fields.Str(validate=validate.Length(max=128), metadata={"description": "a job function"})
    status = fields.Str(validate=validate.OneOf(JOB_STATUSES))
    since = fields.AwareDateTime(default_timezone=None)
    until = fields.AwareDateTime(default_timezone=None)


class JobSchema(Schema):
    id = fields.Str()
    title = fields.Str()
    status = fields.Str(metadata={"description": "queued, started, finished or failed"})
    status_text = fields.Str(metadata={"description": "the status in the request's language; while a job is "
                                       "retried after its worker stopped: \"retrying after a worker stopped\""})
    progress = fields.Int()
    message = fields.Str(allow_none=True)
    result_url = fields.Str(allow_none=True)
    result = fields.Dict(allow_none=True)
    error = fields.Str(allow_none=True)
    attempts = fields.Int()
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    interrupted_at = fields.DateTime(allow_none=True, metadata={"description": "when a worker last stopped during the job"})
    func = fields.Str(metadata={"description": "the kind of job (its function)"})
    stage_text = fields.Str(metadata={"description": "the current stage in the request's language, with its count"})
    subject_url = fields.Str(allow_none=True, metadata={"description": "the page of what the job works on"})
