"""Parties, parcels and users through the services: validation, PII handling, audit."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from greenfin.core import services
from greenfin.core.models import AuditEvent, Parcel, Party
from greenfin.errors import ValidationFailed
from greenfin.extensions import db
from tests.conftest import make_resident_id, make_uscc


def test_create_party_stores_only_hash_and_mask(app):
    number = make_resident_id()
    party = services.create_party({"kind": "individual", "name": "周建华", "resident_id": number,
                                   "township_code": "danan"})
    row = db.session.execute(select(Party.__table__).where(Party.id == party.id)).mappings().one()
    assert number not in str(dict(row))
    assert row["id_masked"] == number[:3] + "*" * 11 + number[-4:]
    assert services.find_party_by_resident_id(number).id == party.id


def test_create_party_rejects_duplicate_resident_id(create_party):
    number = make_resident_id()
    create_party(kind="individual", resident_id=number)
    with pytest.raises(ValidationFailed) as err:
        create_party(kind="individual", resident_id=number)
    assert "already exists" in err.value.errors["resident_id"][0]


def test_create_party_names_every_bad_field():
    with pytest.raises(ValidationFailed) as err:
        services.create_party({"kind": "firm", "name": "", "uscc": "91361103ABCDEFGHJ0", "township_code": "atlantis"})
    assert set(err.value.errors) == {"name", "uscc", "township_code"}
    assert db.session.scalar(select(func.count(Party.id))) == 0


def test_firm_may_not_carry_resident_id():
    with pytest.raises(ValidationFailed) as err:
        services.create_party({"kind": "firm", "name": "A", "uscc": make_uscc(), "resident_id": make_resident_id(),
                               "township_code": "danan"})
    assert "resident_id" in err.value.errors


def test_create_party_writes_audit_event(create_party):
    party = create_party()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "party",
                                                       AuditEvent.entity_id == str(party.id)))
    assert event.action == "party.create" and event.after["name"] == party.name


def test_update_party_refuses_identifier_change(create_party):
    party = create_party()
    with pytest.raises(ValidationFailed) as err:
        services.update_party(party, {"uscc": make_uscc()})
    assert "uscc" in err.value.errors


def test_update_party_audits_before_and_after(create_party):
    party = create_party(village="古村村")
    services.update_party(party, {"village": "马家村"})
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "party.update"))
    assert event.before["village"] == "古村村" and event.after["village"] == "马家村"


def test_parcel_validation_names_fields(create_party):
    holder = create_party()
    with pytest.raises(ValidationFailed) as err:
        services.create_parcel({"code": "", "holder_id": holder.id, "township_code": "danan", "area_ha": "-1",
                                "land_cover": "moon", "lat": "40.0", "lon": "118.2", "cert_type": "x", "cert_no": ""})
    assert {"code", "area_ha", "land_cover", "lat", "cert_type", "cert_no"} <= set(err.value.errors)
    assert db.session.scalar(select(func.count(Parcel.id))) == 0


def test_parcel_code_is_unique_per_holder(create_parcel):
    first = create_parcel(code="GF-DUP-1")
    with pytest.raises(ValidationFailed, match="already has a parcel with this code"):
        create_parcel(code="GF-DUP-1", holder_id=first.holder_id)
    assert create_parcel(code="GF-DUP-1").holder_id != first.holder_id  # another holder may use it


def test_parcel_area_is_decimal(create_parcel):
    parcel = create_parcel(area_ha=Decimal("12.3456"))
    db.session.expire_all()
    assert db.session.get(Parcel, parcel.id).area_ha == Decimal("12.3456")


def test_producer_user_needs_party():
    with pytest.raises(ValidationFailed) as err:
        services.create_user({"username": "p1", "role": "producer", "password": "long-enough-pw"})
    assert "party_id" in err.value.errors


def test_short_password_refused():
    with pytest.raises(ValidationFailed) as err:
        services.create_user({"username": "a1", "role": "admin", "password": "short"})
    assert "password" in err.value.errors


def test_authenticate_checks_password_and_active(create_user):
    user = create_user("regulator")
    assert services.authenticate(user.username, "correct-horse-battery") == user
    assert services.authenticate(user.username, "wrong-password") is None
    services.update_user(user, {"active": False})
    assert services.authenticate(user.username, "correct-horse-battery") is None


def test_password_hash_is_modern(create_user):
    assert create_user().password_hash.startswith(("scrypt:", "pbkdf2:sha256"))
