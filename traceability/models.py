"""Origin and certification tracing: brands, products, lots, certificates, EPCIS events, labels, scans."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Index, Numeric, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from greenfin.core.models import Parcel, Party
from greenfin.core.types import JSONType, UTCDateTime, utcnow
from greenfin.extensions import db

CERT_KINDS = ("green_food", "organic", "gi", "test_report")
CERT_SCOPES = ("product", "producer", "parcel")
LOT_UNITS = ("KGM", "TNE", "H87", "XBX")
EVENT_KINDS = ("harvest", "inspection", "grading", "packing", "shipping", "receiving", "retail", "transformation",
               "recall", "imported")
VERDICTS = ("genuine", "genuine_repeat", "suspicious", "not_genuine", "blocked")

lot_parcels = Table(
    "trace_lot_parcels",
    db.Model.metadata,
    Column("lot_id", ForeignKey("trace_lots.id", ondelete="CASCADE"), primary_key=True),
    Column("parcel_id", ForeignKey("parcels.id"), primary_key=True, index=True),
)


class Brand(db.Model):
    """A regional brand, e.g. 马家柚 with its geographical-indication registration."""

    __tablename__ = "trace_brands"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    name_en: Mapped[Optional[str]] = mapped_column(String(128))
    gi_registration: Mapped[Optional[str]] = mapped_column(String(64))  # e.g. AGI certificate number
    gi_authority: Mapped[Optional[str]] = mapped_column(String(128))
    gi_region: Mapped[Optional[str]] = mapped_column(Text)  # the protected production area
    description: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BrandAuthorisation(db.Model):
    """A producer allowed to use a brand on its labels for a period. A lapsed authorisation is
    renewed by a new one for a later period (periods of one producer and brand do not overlap);
    a revoked one stays on record with its reason."""

    __tablename__ = "trace_brand_authorisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("trace_brands.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[Optional[date]] = mapped_column(Date)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    revoke_reason: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    brand: Mapped[Brand] = relationship()
    party: Mapped[Party] = relationship()

    def active_on(self, day: date) -> bool:
        return self.revoked_at is None and self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


class Product(db.Model):
    __tablename__ = "trace_products"

    id: Mapped[int] = mapped_column(primary_key=True)
    gtin: Mapped[str] = mapped_column(String(14), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[Optional[str]] = mapped_column(String(128))
    brand_id: Mapped[Optional[int]] = mapped_column(ForeignKey("trace_brands.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    net_content: Mapped[Optional[str]] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    brand: Mapped[Optional[Brand]] = relationship(lazy="joined")
    owner: Mapped[Party] = relationship()


class Lot(db.Model):
    """A traceability lot (GS1 AI 10) of one product from one producer."""

    __tablename__ = "trace_lots"
    __table_args__ = (
        UniqueConstraint("product_id", "code"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("trace_products.id"), index=True)
    producer_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    harvest_date: Mapped[Optional[date]] = mapped_column(Date)
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    unit: Mapped[str] = mapped_column(String(3))
    recalled_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    recall_reason: Mapped[Optional[str]] = mapped_column(Text)
    recalled_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    product: Mapped[Product] = relationship(lazy="joined")
    producer: Mapped[Party] = relationship()
    parcels: Mapped[list[Parcel]] = relationship(secondary=lot_parcels, order_by=Parcel.id)


class LotInput(db.Model):
    """A lot made from other lots (transformation): backward and forward tracing."""

    __tablename__ = "trace_lot_inputs"

    lot_id: Mapped[int] = mapped_column(ForeignKey("trace_lots.id"), primary_key=True)
    input_lot_id: Mapped[int] = mapped_column(ForeignKey("trace_lots.id"), primary_key=True, index=True)
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3))

    input_lot: Mapped[Lot] = relationship(foreign_keys=[input_lot_id])
    lot: Mapped[Lot] = relationship(foreign_keys=[lot_id])


class Certification(db.Model):
    """绿色食品 / 有机 / 地理标志 certificates and third-party test reports."""

    __tablename__ = "trace_certifications"
    __table_args__ = (
        CheckConstraint("kind in ('green_food', 'organic', 'gi', 'test_report')", name="kind"),
        CheckConstraint("scope in ('product', 'producer', 'parcel')", name="scope"),
        CheckConstraint("valid_until >= valid_from", name="validity"),
        UniqueConstraint("kind", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str] = mapped_column(String(128))
    scope: Mapped[str] = mapped_column(String(16))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)  # the holder
    product_id: Mapped[Optional[int]] = mapped_column(ForeignKey("trace_products.id"), index=True)
    parcel_id: Mapped[Optional[int]] = mapped_column(ForeignKey("parcels.id"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    document_url: Mapped[Optional[str]] = mapped_column(String(255))
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    revoke_reason: Mapped[Optional[str]] = mapped_column(Text)
    lapsed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())  # when the lapse was posted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    party: Mapped[Party] = relationship()
    product: Mapped[Optional[Product]] = relationship()
    parcel: Mapped[Optional[Parcel]] = relationship()

    def status_on(self, day: date) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if day > self.valid_until:
            return "expired"
        if day < self.valid_from:
            return "not_yet_valid"
        return "valid"


class EpcisEvent(db.Model):
    """One EPCIS 2.0 event: the JSON-LD as exchanged plus indexed columns.

    ``event_hash`` is the CBV 2.0 event-hash ID (ni:///sha-256;...?ver=CBV2.0) and
    makes capture idempotent.
    """

    __tablename__ = "trace_epcis_events"
    # The hash is computed over the event time, so (hash, time) is as unique as the hash; a table
    # partitioned by event_time (PostgreSQL, migration trace_0009_events) needs the time in the key.
    __table_args__ = (UniqueConstraint("event_hash", "event_time"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_hash: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    event_time: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    biz_step: Mapped[Optional[str]] = mapped_column(String(128))
    disposition: Mapped[Optional[str]] = mapped_column(String(128))
    party_id: Mapped[Optional[int]] = mapped_column(ForeignKey("parties.id"), index=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    source: Mapped[str] = mapped_column(String(16), default="local")
    ship_from_id: Mapped[Optional[int]] = mapped_column(ForeignKey("parties.id"))
    ship_to_id: Mapped[Optional[int]] = mapped_column(ForeignKey("parties.id"))
    reference_document: Mapped[Optional[str]] = mapped_column(String(255))
    quantity: Mapped[Optional[Decimal]] = mapped_column(Numeric(18, 3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    ship_from: Mapped[Optional[Party]] = relationship(foreign_keys=[ship_from_id])
    ship_to: Mapped[Optional[Party]] = relationship(foreign_keys=[ship_to_id])


class EventLot(db.Model):
    """Which lots an event touches, and how (subject, input, output).

    ``event_id`` carries no foreign key: events are partitioned by event time on PostgreSQL, and a
    foreign key would have to name it too. Events and their lots are written together by
    ``store_event`` and never deleted (migration trace_0009_events).
    """

    __tablename__ = "trace_event_lots"

    event_id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("trace_lots.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(8), default="subject")

    event: Mapped[EpcisEvent] = relationship(primaryjoin="foreign(EventLot.event_id) == EpcisEvent.id")
    lot: Mapped[Lot] = relationship()


class LabelBatch(db.Model):
    __tablename__ = "trace_label_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("trace_lots.id"), index=True)
    count: Mapped[int]
    layout: Mapped[str] = mapped_column(String(32))
    job_id: Mapped[Optional[str]] = mapped_column(String(36))
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lot: Mapped[Lot] = relationship()


class Label(db.Model):
    """One serialised item: its GS1 AI 21 serial and the signature printed in its QR code."""

    __tablename__ = "trace_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(20), unique=True)
    signature: Mapped[str] = mapped_column(String(32))
    lot_id: Mapped[int] = mapped_column(ForeignKey("trace_lots.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("trace_label_batches.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lot: Mapped[Lot] = relationship()


class Scan(db.Model):
    """A consumer's scan of a label. Insert-only.

    ``label_id`` and ``lot_id`` are indexed but carry no foreign key: every scan is written by the
    scan path right after finding its label in the same transaction, and labels and lots are never
    deleted. A foreign key would make each insert lock the label's and the lot's rows (FOR KEY
    SHARE), so every scan of a lot would queue on one row (migration trace_0003).

    On PostgreSQL the table is partitioned by month of ``scanned_at`` (migration trace_0009); its
    primary key there is (id, scanned_at), as a partitioned table's must be, and ids still come from
    one sequence, so ``id`` alone identifies a scan. SQLite keeps a plain table.
    """

    __tablename__ = "trace_scans"
    __table_args__ = (Index("ix_trace_scans_label_time", "label_id", "scanned_at"),
                      Index("ix_trace_scans_lot_time", "lot_id", "scanned_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    label_id: Mapped[Optional[int]] = mapped_column()
    lot_id: Mapped[Optional[int]] = mapped_column()
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    verdict: Mapped[str] = mapped_column(String(16))
    reason: Mapped[Optional[str]] = mapped_column(String(32))
    region: Mapped[Optional[str]] = mapped_column(String(64))
    lat: Mapped[Optional[Decimal]] = mapped_column(Numeric(9, 6))
    lon: Mapped[Optional[Decimal]] = mapped_column(Numeric(9, 6))
    ip_prefix: Mapped[Optional[str]] = mapped_column(String(48))
    user_agent: Mapped[Optional[str]] = mapped_column(String(128))
    path: Mapped[Optional[str]] = mapped_column(String(160))


class EpcisCapture(db.Model):
    """An EPCIS document too large to store in its request (``TRACE_CAPTURE_INLINE_MAX`` events):
    kept here until its job has checked and stored it, all or nothing, and then as the record of
    what was sent."""

    __tablename__ = "trace_epcis_captures"
    __table_args__ = (CheckConstraint("status IN ('queued', 'stored', 'refused')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[Optional[int]] = mapped_column(ForeignKey("parties.id"), index=True)  # the capturing producer
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    events: Mapped[int]
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    result: Mapped[Optional[dict[str, Any]]] = mapped_column(JSONType)
    job_id: Mapped[Optional[str]] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NetworkBlock(db.Model):
    """A client network (the /24 or /48 scans keep) a regulator barred from the scan route for a
    period, after serial guessing was flagged: its scans are answered "paused" and not checked
    (``scan_rules.network_blocked``). Lifting early sets ``lifted_at``; the row stays as the record."""

    __tablename__ = "trace_network_blocks"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    network: Mapped[str] = mapped_column(String(48), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    note: Mapped[str] = mapped_column(Text)
    flag_event_id: Mapped[Optional[int]] = mapped_column()  # the audit event of the flag that led to it
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lifted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    lifted_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    lift_note: Mapped[Optional[str]] = mapped_column(Text)
