"""Business functions of the relational core. They add and flush, never commit."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any, Optional

from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import Select, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from greenfin.core import geography, labels
from greenfin.core.identifiers import (
    InvalidIdentifier,
    hash_resident_id,
    mask_resident_id,
    normalise_resident_id,
    normalise_uscc,
)
from greenfin.core.models import ApiToken, AuditEvent, Parcel, Party, PartyKind, Township, User
from greenfin.core.types import utcnow
from greenfin.numbers import parse_decimal
from greenfin.errors import N_, Conflict, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.security import ROLES

LAND_COVERS = tuple(labels.LAND_COVER)  # labels of each enumeration: greenfin/core/labels.py
CERT_TYPES = tuple(labels.CERT_TYPE)
MIN_PASSWORD = 10  # the message "must be at least 10 characters" states it

# ---------------------------------------------------------------- audit


def hash_token(token: str) -> str:
    """API tokens are stored as their SHA-256 only."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return "gf_" + secrets.token_urlsafe(32)

def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime) or hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def audit_origin(actor: Optional[User] = None) -> tuple[Optional[int], str, Optional[str]]:
    """Who an audit event names and the request it came from: (actor id, actor label, request id).

    For writers that insert the event themselves (a database function such as carbon_move_units).
    """
    if actor is None and has_app_context():
        actor = g.get("user")
    label = actor.username if actor else (g.get("actor_label") if has_app_context() else None) or "system"
    return (actor.id if actor else None), label, (g.get("request_id") if has_request_context() else None)


def record_audit(
    action: str,
    entity_type: str,
    entity_id: Any,
    before: Optional[dict] = None,
    after: Optional[dict] = None,
    party_id: Optional[int] = None,
    actor: Optional[User] = None,
) -> AuditEvent:
    """Write one audit event in the current unit of work."""
    actor_id, label, request_id = audit_origin(actor)
    event = AuditEvent(
        actor_id=actor_id,
        actor_label=label,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        party_id=party_id,
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        request_id=request_id,
    )
    db.session.add(event)
    return event


def snapshot(obj: Any, fields: tuple[str, ...]) -> dict:
    return {f: _jsonable(getattr(obj, f)) for f in fields}


def audit_query(
    *,
    action: Optional[str] = None,
    entity_type: Optional[str] = None,
    entity_id: Optional[str] = None,
    actor: Optional[str] = None,
    since: Optional[datetime] = None,
    until: Optional[datetime] = None,
    only: Optional[tuple[str, ...]] = None,
    leave_out: Optional[tuple[str, ...]] = None,
) -> Select:
    """Audit events, newest first. ``action`` is an action or its prefix (``credit.``); ``only`` and
    ``leave_out`` are exact actions (the audit page folds sign-ins into a view of their own)."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc())
    if action:
        stmt = stmt.where(AuditEvent.action.like(f"{action}%"))
    if only:
        stmt = stmt.where(AuditEvent.action.in_(only))
    if leave_out:
        stmt = stmt.where(AuditEvent.action.not_in(leave_out))
    if entity_type:
        stmt = stmt.where(AuditEvent.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    if actor:
        stmt = stmt.where(AuditEvent.actor_label == actor)
    if since:
        stmt = stmt.where(AuditEvent.occurred_at >= since)
    if until:
        stmt = stmt.where(AuditEvent.occurred_at < until)
    return stmt


# ---------------------------------------------------------------- jobs

JOB_STATUSES = ("queued", "started", "finished", "failed")


def job_query(*, user: Optional[User] = None, kind: Optional[str] = None, status: Optional[str] = None,
              since: Optional[datetime] = None, until: Optional[datetime] = None) -> Select:
    """Background jobs, newest first. Admins and regulators see all; anyone else the jobs they
    started and their party's (the rule of a job's own page). ``kind`` is the job function."""
    from sqlalchemy import or_

    from greenfin.job_model import Job

    stmt = select(Job).order_by(Job.created_at.desc(), Job.id)
    if user is not None and user.role not in ("admin", "regulator"):
        mine = Job.created_by_id == user.id
        stmt = stmt.where(or_(mine, Job.party_id == user.party_id) if user.party_id else mine)
    if kind:
        stmt = stmt.where(Job.func == kind)
    if status:
        stmt = stmt.where(Job.status == status)
    if since:
        stmt = stmt.where(Job.created_at >= since)
    if until:
        stmt = stmt.where(Job.created_at < until)
    return stmt


def job_kinds() -> dict[str, str]:
    """The kinds of job (their functions) with their names: a job function's ``label``, read
    through the registry (the core imports no feature), else its function name."""
    from greenfin.job_model import Job
    from greenfin.registry import resolve

    kinds = {}
    for func in db.session.scalars(select(Job.func).distinct()):
        try:
            label = getattr(resolve(func), "label", None)
        except (ImportError, AttributeError, ValueError):
            label = None
        kinds[func] = str(label) if label else func.rpartition(".")[2].replace("_", " ")
    return dict(sorted(kinds.items(), key=lambda kv: kv[1]))


# ---------------------------------------------------------------- townships


def ensure_townships() -> int:
    """Insert missing township reference rows; returns how many were added."""
    existing = set(db.session.scalars(select(Township.code)))
    added = 0
    for code, zh, en, kind, lat, lon in geography.TOWNSHIPS:
        if code not in existing:
            db.session.add(Township(code=code, name_zh=zh, name_en=en, kind=kind,
                                    lat=Decimal(str(lat)), lon=Decimal(str(lon))))
            added += 1
    db.session.flush()
    return added


def list_townships() -> list[Township]:
    return list(db.session.scalars(select(Township).order_by(Township.kind.desc(), Township.code)))


def _check_township(code: Optional[str], errors: dict) -> None:
    if not code or db.session.get(Township, code) is None:
        errors.setdefault("township_code", []).append(N_("unknown township of Guangfeng district"))


# ---------------------------------------------------------------- parties

PARTY_FIELDS = ("kind", "name", "uscc", "id_masked", "township_code", "village",
                "contact_name", "contact_phone", "address", "sector")


def get_party(party_id: int) -> Party:
    party = db.session.get(Party, party_id)
    if party is None:
        raise NotFound(f"party {party_id} not found")
    return party


def find_party_by_resident_id(number: str) -> Optional[Party]:
    digest = hash_resident_id(normalise_resident_id(number), current_app.config["PII_HASH_KEY"])
    return db.session.scalar(select(Party).where(Party.id_hash == digest))


def find_party(ref: str) -> Optional[Party]:
    """A party by id, unified social credit code or resident ID number (a credit code wins over a
    resident number of the same spelling); None when nothing matches."""
    ref = (ref or "").strip()
    if ref.isdigit() and len(ref) < 12:
        return db.session.get(Party, int(ref))
    if len(ref) == 18:
        party = db.session.scalar(select(Party).where(Party.uscc == ref.upper()))
        if party is not None:
            return party
        try:
            return find_party_by_resident_id(ref)
        except InvalidIdentifier:
            return None
    return None


def create_party(data: dict) -> Party:
    """Create a party after validating its identifier and township.

    ``data`` carries ``uscc`` for firms and organisations and ``resident_id``
    for individuals; the plain resident ID is hashed and masked here and
    dropped.
    """
    errors: dict[str, list[str]] = {}
    kind = data.get("kind")
    if kind not in {k.value for k in PartyKind}:
        errors["kind"] = [N_("must be firm, organisation or individual")]
    if not (data.get("name") or "").strip():
        errors["name"] = [N_("is required")]
    _check_township(data.get("township_code"), errors)
    party = Party(
        kind=kind,
        name=(data.get("name") or "").strip(),
        township_code=data.get("township_code"),
        village=data.get("village"),
        contact_name=data.get("contact_name"),
        contact_phone=data.get("contact_phone"),
        address=data.get("address"),
        sector=data.get("sector"),
    )
    if kind == PartyKind.individual.value:
        if data.get("uscc"):
            errors["uscc"] = [N_("individuals have no unified social credit code")]
        try:
            number = normalise_resident_id(data.get("resident_id") or "")
            party.id_hash = hash_resident_id(number, current_app.config["PII_HASH_KEY"])
            party.id_masked = mask_resident_id(number)
            if db.session.scalar(select(Party.id).where(Party.id_hash == party.id_hash)):
                errors["resident_id"] = [N_("a party with this ID number already exists")]
        except InvalidIdentifier as exc:
            errors["resident_id"] = [str(exc)]
    elif kind in (PartyKind.firm.value, PartyKind.organisation.value):
        if data.get("resident_id"):
            errors["resident_id"] = [N_("only individuals carry a resident ID number")]
        try:
            party.uscc = normalise_uscc(data.get("uscc") or "")
            if db.session.scalar(select(Party.id).where(Party.uscc == party.uscc)):
                errors["uscc"] = [N_("a party with this credit code already exists")]
        except InvalidIdentifier as exc:
            errors["uscc"] = [str(exc)]
    if errors:
        raise ValidationFailed("Invalid party", errors)
    db.session.add(party)
    db.session.flush()
    record_audit("party.create", "party", party.id, after=snapshot(party, PARTY_FIELDS), party_id=party.id)
    return party


def update_party(party: Party, data: dict) -> Party:
    """Change contact and location fields; kind and identifiers are fixed at creation."""
    errors: dict[str, list[str]] = {}
    for fixed in ("kind", "uscc", "resident_id"):
        if fixed in data:
            errors[fixed] = [N_("cannot be changed; register a new party instead")]
    if "township_code" in data:
        _check_township(data["township_code"], errors)
    if "name" in data and not (data["name"] or "").strip():
        errors["name"] = [N_("is required")]
    if errors:
        raise ValidationFailed("Invalid party", errors)
    before = snapshot(party, PARTY_FIELDS)
    for key in ("name", "township_code", "village", "contact_name", "contact_phone", "address", "sector"):
        if key in data:
            setattr(party, key, data[key].strip() if key == "name" else data[key])
    db.session.flush()
    record_audit("party.update", "party", party.id, before=before, after=snapshot(party, PARTY_FIELDS), party_id=party.id)
    return party


def party_query(*, q: Optional[str] = None, kind: Optional[str] = None, township: Optional[str] = None,
                party_id: Optional[int] = None) -> Select:
    stmt = select(Party).order_by(Party.id)
    if q:
        stmt = stmt.where((Party.name.contains(q)) | (Party.uscc == q.upper()))
    if kind:
        stmt = stmt.where(Party.kind == kind)
    if township:
        stmt = stmt.where(Party.township_code == township)
    if party_id is not None:
        stmt = stmt.where(Party.id == party_id)
    return stmt


# ---------------------------------------------------------------- parcels

PARCEL_FIELDS = ("code", "name", "holder_id", "township_code", "village", "area_ha", "land_cover",
                 "lat", "lon", "cert_type", "cert_no")


def validate_parcel(data: dict, *, existing: Optional[Parcel] = None) -> dict:
    """Check a parcel's fields; return normalised values or raise ValidationFailed."""
    errors: dict[str, list[str]] = {}
    out = dict(data)
    code = (data.get("code") or "").strip()
    if not code:
        errors["code"] = [N_("is required")]
    elif existing is None or existing.code != code or existing.holder_id != data.get("holder_id"):
        # Unique per holder: whether another holder uses the code is none of this caller's business.
        if db.session.scalar(select(Parcel.id).where(Parcel.code == code, Parcel.holder_id == data.get("holder_id"))):
            errors["code"] = [N_("this holder already has a parcel with this code")]
    out["code"] = code
    if db.session.get(Party, data.get("holder_id") or 0) is None:
        errors["holder_id"] = [N_("unknown rights holder")]
    _check_township(data.get("township_code"), errors)
    area = parse_decimal(data.get("area_ha"), "area_ha", errors)
    if area is not None and not (Decimal("0") < area <= Decimal("100000")):
        errors.setdefault("area_ha", []).append(N_("must be above 0 and at most 100,000 ha"))
    out["area_ha"] = area
    if data.get("land_cover") not in LAND_COVERS:
        errors["land_cover"] = [N_("unknown land cover class")]
    lat = parse_decimal(data.get("lat"), "lat", errors)
    lon = parse_decimal(data.get("lon"), "lon", errors)
    if lat is not None and not (geography.LAT_RANGE[0] <= lat <= geography.LAT_RANGE[1]):
        errors.setdefault("lat", []).append(N_("is outside Guangfeng district"))
    if lon is not None and not (geography.LON_RANGE[0] <= lon <= geography.LON_RANGE[1]):
        errors.setdefault("lon", []).append(N_("is outside Guangfeng district"))
    out["lat"], out["lon"] = lat, lon
    if data.get("cert_type") not in CERT_TYPES:
        errors["cert_type"] = [N_("unknown rights certificate type")]
    if not (data.get("cert_no") or "").strip():
        errors["cert_no"] = [N_("is required")]
    if errors:
        raise ValidationFailed("Invalid parcel", errors)
    return out


def create_parcel(data: dict) -> Parcel:
    values = validate_parcel(data)
    parcel = Parcel(**{k: values.get(k) for k in PARCEL_FIELDS})
    db.session.add(parcel)
    db.session.flush()
    record_audit("parcel.create", "parcel", parcel.id, after=snapshot(parcel, PARCEL_FIELDS), party_id=parcel.holder_id)
    return parcel


def update_parcel(parcel: Parcel, data: dict) -> Parcel:
    merged = snapshot(parcel, PARCEL_FIELDS) | {k: v for k, v in data.items() if k in PARCEL_FIELDS}
    values = validate_parcel(merged, existing=parcel)
    before = snapshot(parcel, PARCEL_FIELDS)
    for key in PARCEL_FIELDS:
        setattr(parcel, key, values[key])
    db.session.flush()
    record_audit("parcel.update", "parcel", parcel.id, before=before, after=snapshot(parcel, PARCEL_FIELDS),
                 party_id=parcel.holder_id)
    return parcel


def get_parcel(parcel_id: int) -> Parcel:
    parcel = db.session.get(Parcel, parcel_id)
    if parcel is None:
        raise NotFound(f"parcel {parcel_id} not found")
    return parcel


def parcel_query(*, holder_id: Optional[int] = None, township: Optional[str] = None,
                 land_cover: Optional[str] = None, q: Optional[str] = None) -> Select:
    stmt = select(Parcel).order_by(Parcel.id)
    if holder_id is not None:
        stmt = stmt.where(Parcel.holder_id == holder_id)
    if township:
        stmt = stmt.where(Parcel.township_code == township)
    if land_cover:
        stmt = stmt.where(Parcel.land_cover == land_cover)
    if q:
        stmt = stmt.where(Parcel.code.contains(q) | Parcel.name.contains(q))
    return stmt


# ---------------------------------------------------------------- users

USER_FIELDS = ("username", "display_name", "role", "party_id", "active")


def _check_password(password: Optional[str], errors: dict) -> None:
    if not password or len(password) < MIN_PASSWORD:
        errors["password"] = [N_("must be at least 10 characters")]


def create_user(data: dict) -> User:
    errors: dict[str, list[str]] = {}
    username = (data.get("username") or "").strip()
    if not username:
        errors["username"] = [N_("is required")]
    elif db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        errors["username"] = [N_("is taken")]
    role = data.get("role")
    if role not in ROLES:
        errors["role"] = [N_("unknown role")]
    party_id = data.get("party_id")
    if role == "producer" and (party_id is None or db.session.get(Party, party_id) is None):
        errors["party_id"] = [N_("producers must be linked to an existing party")]
    elif role == "buyer" and (party_id is None or db.session.get(Party, party_id) is None):
        errors["party_id"] = [N_("buyers must be linked to an existing party")]
    elif party_id is not None and db.session.get(Party, party_id) is None:
        errors["party_id"] = [N_("unknown party")]
    _check_password(data.get("password"), errors)
    if errors:
        raise ValidationFailed("Invalid user", errors)
    user = User(
        username=username,
        display_name=(data.get("display_name") or username).strip(),
        password_hash=generate_password_hash(data["password"]),
        role=role,
        party_id=party_id,
        active=data.get("active", True),
        session_token=secrets.token_hex(16),
    )
    db.session.add(user)
    db.session.flush()
    record_audit("user.create", "user", user.id, after=snapshot(user, USER_FIELDS), party_id=party_id)
    return user


def update_user(user: User, data: dict) -> User:
    errors: dict[str, list[str]] = {}
    if "role" in data and data["role"] not in ROLES:
        errors["role"] = [N_("unknown role")]
    role = data.get("role", user.role)
    party_id = data.get("party_id", user.party_id)
    if party_id is not None and db.session.get(Party, party_id) is None:
        errors["party_id"] = [N_("unknown party")]
    if role == "producer" and party_id is None:
        errors["party_id"] = [N_("producers must be linked to an existing party")]
    if role == "buyer" and party_id is None:
        errors["party_id"] = [N_("buyers must be linked to an existing party")]
    if "password" in data:
        _check_password(data["password"], errors)
    if errors:
        raise ValidationFailed("Invalid user", errors)
    before = snapshot(user, USER_FIELDS)
    for key in ("display_name", "role", "party_id", "active"):
        if key in data:
            setattr(user, key, data[key])
    if "password" in data or data.get("active") is False:
        user.password_hash = generate_password_hash(data["password"]) if "password" in data else user.password_hash
        user.session_token = secrets.token_hex(16)  # sign out everywhere
    db.session.flush()
    record_audit("user.update", "user", user.id, before=before, after=snapshot(user, USER_FIELDS), party_id=user.party_id)
    return user


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def authenticate(username: str, password: str) -> Optional[User]:
    user = db.session.scalar(select(User).where(func.lower(User.username) == (username or "").strip().lower()))
    if user is None:
        # Spend the same time as a real check so that timing does not reveal names.
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    user.last_login_at = utcnow()
    record_audit("user.login", "user", user.id, actor=user, party_id=user.party_id)
    return user


_DUMMY_HASH = generate_password_hash("greenfin-timing-equaliser")


def load_session_user(session_id: str) -> Optional[User]:
    try:
        user_id, token = session_id.split(":", 1)
        user = db.session.get(User, int(user_id))
    except (ValueError, TypeError):
        return None
    if user is None or not user.active or not secrets.compare_digest(user.session_token, token):
        return None
    return user


def end_sessions(user: User) -> None:
    """Logout: rotate the session generation so every copy of the cookie dies."""
    user.session_token = secrets.token_hex(16)
    record_audit("user.logout", "user", user.id, actor=user, party_id=user.party_id)


# ---------------------------------------------------------------- API tokens


def issue_token(user: User, name: str) -> tuple[ApiToken, str]:
    if not (name or "").strip():
        raise ValidationFailed.field("name", N_("is required"))
    plain = new_token()
    token = ApiToken(user_id=user.id, name=name.strip(), prefix=plain[:10], token_hash=hash_token(plain),
                     created_by_id=g.user.id if g.get("user") else None)
    db.session.add(token)
    db.session.flush()
    record_audit("api_token.issue", "api_token", token.id, after={"user_id": user.id, "name": token.name,
                                                                   "prefix": token.prefix})
    return token, plain


def revoke_token(token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"token {token_id} not found")
    if token.revoked_at is not None:
        raise Conflict("token already revoked")
    token.revoked_at = utcnow()
    record_audit("api_token.revoke", "api_token", token.id, after={"revoked_at": token.revoked_at})
    return token


def user_for_token(plain: str) -> Optional[User]:
    if not plain:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plain)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    return token.user


# ---------------------------------------------------------------- personal data export (PIPL art. 45)


def export_party_data(party_id: int) -> dict:
    """Everything the platform holds about a party, for the party itself.

    The core's records plus each package's part (registered with
    ``greenfin.data_exporter``). Resident ID numbers appear masked only: the
    platform never had them in plain text after registration.
    """
    party = get_party(party_id)
    data = {
        "exported_at": utcnow().isoformat(),
        "party": snapshot(party, ("id",) + PARTY_FIELDS + ("created_at",)),
        "parcels": [snapshot(p, ("id",) + PARCEL_FIELDS) for p in db.session.scalars(parcel_query(holder_id=party_id))],
        "users": [snapshot(u, ("id", "username", "display_name", "role", "active", "created_at", "last_login_at"))
                  for u in db.session.scalars(select(User).where(User.party_id == party_id))],
        "audit_events": [snapshot(e, ("occurred_at", "action", "entity_type", "entity_id", "actor_label"))
                         for e in db.session.scalars(select(AuditEvent).where(AuditEvent.party_id == party_id)
                                                     .order_by(AuditEvent.id))],
    }
    for name, exporter in sorted(current_app.extensions.get("greenfin_exporters", {}).items()):
        data[name] = _jsonable(exporter(party_id))
    record_audit("party.export", "party", party_id, party_id=party_id)
    return data
