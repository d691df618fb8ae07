"""The relational core shared by every capability: parties, users, parcels, audit, jobs."""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any, Optional

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, UniqueConstraint, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from greenfin.core.types import JSONType, UTCDateTime, utcnow
from greenfin.extensions import db
from greenfin.security import ROLES


class PartyKind(str, enum.Enum):
    firm = "firm"
    organisation = "organisation"
    individual = "individual"


class Township(db.Model):
    __tablename__ = "townships"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    lat: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    lon: Mapped[Decimal] = mapped_column(Numeric(9, 6))


class Party(db.Model):
    """A firm, an organisation (cooperative, village committee, bank) or an individual."""

    __tablename__ = "parties"
    __table_args__ = (
        CheckConstraint("kind in ('firm', 'organisation', 'individual')", name="kind"),
        CheckConstraint(
            "(kind = 'individual' and id_hash is not null and uscc is null)"
            " or (kind <> 'individual' and uscc is not null and id_hash is null)",
            name="identifier",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128), index=True)
    # 统一社会信用代码 (GB 32100-2015), firms and organisations only.
    uscc: Mapped[Optional[str]] = mapped_column(String(18), unique=True)
    # 居民身份证号 (GB 11643-1999): a keyed hash for look-up and a masked form; never plain.
    id_hash: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    id_masked: Mapped[Optional[str]] = mapped_column(String(18))
    township_code: Mapped[str] = mapped_column(ForeignKey("townships.code"), index=True)
    village: Mapped[Optional[str]] = mapped_column(String(64))
    contact_name: Mapped[Optional[str]] = mapped_column(String(64))
    contact_phone: Mapped[Optional[str]] = mapped_column(String(32))
    address: Mapped[Optional[str]] = mapped_column(String(255))
    sector: Mapped[Optional[str]] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    township: Mapped[Township] = relationship(lazy="joined")
    parcels: Mapped[list["Parcel"]] = relationship(back_populates="holder")

    @property
    def identifier_display(self) -> str:
        return self.uscc if self.kind != PartyKind.individual.value else (self.id_masked or "")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role in (" + ", ".join(f"'{role}'" for role in ROLES) + ")", name="role"),
        CheckConstraint("role <> 'producer' or party_id is not null", name="producer_party"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    party_id: Mapped[Optional[int]] = mapped_column(ForeignKey("parties.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # Rotated at logout and password change: every older session cookie stops working.
    session_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    party: Mapped[Optional[Party]] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login: id plus the session generation
        return f"{self.id}:{self.session_token}"


class ApiToken(db.Model):
    """A bearer token for the REST API. Only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    last_used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Parcel(db.Model):
    """A land parcel with its rights certificate: orchard, forest, farmland, water..."""

    __tablename__ = "parcels"
    __table_args__ = (
        CheckConstraint("area_ha > 0", name="area_positive"),
        Index("ix_parcels_township_village", "township_code", "village"),
        # A code is unique per rights holder: a global rule would tell one holder another's codes.
        UniqueConstraint("holder_id", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[Optional[str]] = mapped_column(String(128))
    holder_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    township_code: Mapped[str] = mapped_column(ForeignKey("townships.code"))
    village: Mapped[Optional[str]] = mapped_column(String(64))
    area_ha: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    land_cover: Mapped[str] = mapped_column(String(16))
    lat: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    lon: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    cert_type: Mapped[str] = mapped_column(String(32))
    cert_no: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    holder: Mapped[Party] = relationship(back_populates="parcels")
    township: Mapped[Township] = relationship(lazy="joined")


class AuditEvent(db.Model):
    """Who changed what, when, from which request. Insert-only."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    party_id: Mapped[Optional[int]] = mapped_column(index=True)
    before: Mapped[Optional[dict[str, Any]]] = mapped_column(JSONType)
    after: Mapped[Optional[dict[str, Any]]] = mapped_column(JSONType)
    request_id: Mapped[Optional[str]] = mapped_column(String(64))
