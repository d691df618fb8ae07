"""Eco-credit ledger and ratings.

- ``credit_rules``: the rule catalogue, versioned (one row per code and version, with effective dates).
- ``credit_accounts``: one per party; its row is the per-account lock and the cached balance.
- ``credit_postings``: insert-only (database triggers refuse UPDATE and DELETE); each account's
  postings form a hash chain; a reversal points at the original (unique: reversing twice fails).
- ``credit_pending_postings``: manual postings waiting for a regulator (mutable workflow rows).
- ``credit_checkpoints``: the ledger-wide chain head, once a day (insert-only as well).
- ``credit_rating_periods`` / ``credit_rating_runs`` / ``credit_ratings``: four-colour ratings and their
  workflow, with ``credit_objections``, ``credit_overrides`` and ``credit_repairs`` around them.
- ``credit_intakes`` / ``credit_intake_errors``: bulk intake files (stored compressed), their progress
  chunk by chunk, and one refusal per refused line.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from greenfin.core.models import Party
from greenfin.core.types import JSONType, UTCDateTime, utcnow
from greenfin.extensions import db

GENESIS_HASH = "0" * 64


class CreditRule(db.Model):
    """One version of a rule; a change adds a version and closes the previous one."""

    __tablename__ = "credit_rules"
    __table_args__ = (
        UniqueConstraint("code", "version"),
        CheckConstraint("display_months between 0 and 60", name="display_months"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(48), index=True)
    version: Mapped[int] = mapped_column(default=1)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[Optional[date]] = mapped_column(Date)  # exclusive; None = open
    category: Mapped[str] = mapped_column(String(32))
    description_zh: Mapped[str] = mapped_column(String(255))
    description_en: Mapped[str] = mapped_column(String(255))
    party_kinds: Mapped[list[str]] = mapped_column(JSONType)
    points: Mapped[int]
    evidence_required: Mapped[Optional[str]] = mapped_column(String(255))
    legal_basis: Mapped[Optional[str]] = mapped_column(String(255))
    display_months: Mapped[int] = mapped_column(default=12)
    veto: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[Optional[str]] = mapped_column(String(128))


class CreditAccount(db.Model):
    """A party's points account. Locked (SELECT ... FOR UPDATE) while a posting is appended."""

    __tablename__ = "credit_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), unique=True)
    balance: Mapped[int] = mapped_column(default=0)
    posting_count: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    party: Mapped[Party] = relationship()


class CreditPosting(db.Model):
    """One change of points. Never updated or deleted."""

    __tablename__ = "credit_postings"
    __table_args__ = (
        UniqueConstraint("account_id", "seq"),
        Index("ix_credit_postings_party_effective", "party_id", "effective_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("credit_accounts.id"))
    seq: Mapped[int]
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    rule_id: Mapped[int] = mapped_column(ForeignKey("credit_rules.id"))
    rule_code: Mapped[str] = mapped_column(String(48), index=True)
    points: Mapped[int]
    effective_date: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)  # stops counting toward the score on this day
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType)
    entered_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    entered_by: Mapped[str] = mapped_column(String(128))
    approved_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(128))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    reverses_id: Mapped[Optional[int]] = mapped_column(ForeignKey("credit_postings.id"), unique=True)
    reason: Mapped[Optional[str]] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    party: Mapped[Party] = relationship()
    rule: Mapped[CreditRule] = relationship()
    reverses: Mapped[Optional["CreditPosting"]] = relationship(remote_side=[id], foreign_keys=[reverses_id])


class CreditPendingPosting(db.Model):
    """A manual posting waiting for a regulator: approved, rejected or expired."""

    __tablename__ = "credit_pending_postings"
    __table_args__ = (
        CheckConstraint("status in ('pending', 'approved', 'rejected', 'expired')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("credit_rules.id"))
    rule_code: Mapped[str] = mapped_column(String(48))
    points: Mapped[int]
    effective_date: Mapped[date] = mapped_column(Date)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType)
    source: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(128))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    reverses_id: Mapped[Optional[int]] = mapped_column(ForeignKey("credit_postings.id"))
    reason: Mapped[Optional[str]] = mapped_column(Text)
    submitted_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    submitted_by: Mapped[str] = mapped_column(String(128))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    decision_note: Mapped[Optional[str]] = mapped_column(Text)
    posting_id: Mapped[Optional[int]] = mapped_column(ForeignKey("credit_postings.id"))

    party: Mapped[Party] = relationship()
    rule: Mapped[CreditRule] = relationship()


class CreditCheckpoint(db.Model):
    """The ledger-wide chain head at the end of a day (UTC). Insert-only.

    ``signature`` is an HMAC-SHA256 of the day, heads and count under
    ``LEDGER_SIGNING_KEY``, a key kept outside the database (NULL on checkpoints
    made before migration credit_0005).
    """

    __tablename__ = "credit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    prev_head: Mapped[str] = mapped_column(String(64))
    head: Mapped[str] = mapped_column(String(64))
    posting_count: Mapped[int]
    signature: Mapped[Optional[str]] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RatingPeriod(db.Model):
    __tablename__ = "credit_rating_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # e.g. 2026-Q3
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RatingRun(db.Model):
    __tablename__ = "credit_rating_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("credit_rating_periods.id"), index=True)
    job_id: Mapped[Optional[str]] = mapped_column(ForeignKey("jobs.id"))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    rated: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    period: Mapped[RatingPeriod] = relationship()


class Rating(db.Model):
    """A party's level for a period: computed -> notice (公示) -> published."""

    __tablename__ = "credit_ratings"
    __table_args__ = (
        UniqueConstraint("period_id", "party_id"),
        CheckConstraint("state in ('computed', 'returned', 'notice', 'published')", name="state"),
        CheckConstraint("colour in ('green', 'blue', 'yellow', 'red')", name="colour"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("credit_rating_periods.id"), index=True)
    run_id: Mapped[Optional[int]] = mapped_column(ForeignKey("credit_rating_runs.id"))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    points: Mapped[int]
    computed_colour: Mapped[str] = mapped_column(String(8))
    colour: Mapped[str] = mapped_column(String(8))
    veto_rule_code: Mapped[Optional[str]] = mapped_column(String(48))
    state: Mapped[str] = mapped_column(String(16), default="computed", index=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reviewed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    notice_starts_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    notice_ends_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    published_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    hidden: Mapped[bool] = mapped_column(default=False)  # repaired: kept, not shown publicly
    certificate_code: Mapped[str] = mapped_column(String(32), unique=True)

    period: Mapped[RatingPeriod] = relationship(lazy="joined")
    party: Mapped[Party] = relationship(lazy="joined")


class RatingObjection(db.Model):
    """异议: filed by the party during the public notice, answered by a regulator by the deadline."""

    __tablename__ = "credit_objections"
    __table_args__ = (CheckConstraint("status in ('open', 'upheld', 'dismissed')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("credit_ratings.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    filed_by: Mapped[str] = mapped_column(String(128))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    answer: Mapped[Optional[str]] = mapped_column(Text)
    answered_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    rating: Mapped[Rating] = relationship()


class RatingOverride(db.Model):
    """A regulator's change of a level; takes effect when a second regulator approves it."""

    __tablename__ = "credit_overrides"
    __table_args__ = (CheckConstraint("status in ('pending', 'approved', 'rejected')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("credit_ratings.id"), index=True)
    from_colour: Mapped[str] = mapped_column(String(8))
    to_colour: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    rating: Mapped[Rating] = relationship()


class CreditRepair(db.Model):
    """信用修复: the party applies, a regulator reviews; an approved repair hides the rating publicly."""

    __tablename__ = "credit_repairs"
    __table_args__ = (CheckConstraint("status in ('pending', 'approved', 'rejected')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("credit_ratings.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    statement: Mapped[str] = mapped_column(Text)
    filed_by: Mapped[str] = mapped_column(String(128))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    reviewed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    note: Mapped[Optional[str]] = mapped_column(Text)

    rating: Mapped[Rating] = relationship()


class CreditIntake(db.Model):
    """A bulk intake file (CSV or JSON Lines) and how far its job got.

    ``content`` is the file as uploaded, gzip-compressed, emptied when the intake finishes (it may hold
    plain resident ID numbers: PIPL). ``chunks_done`` and the counts move
    forward in the same transaction as each chunk's postings, so a retried job resumes at the
    first chunk not committed and never posts a row twice.
    """

    __tablename__ = "credit_intakes"
    __table_args__ = (CheckConstraint("format in ('csv', 'jsonl')", name="format"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[Optional[str]] = mapped_column(ForeignKey("jobs.id"))
    filename: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(8))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int]
    rows_total: Mapped[int] = mapped_column(default=0)
    chunk_size: Mapped[int] = mapped_column(default=5000)
    chunks_done: Mapped[int] = mapped_column(default=0)
    rows_done: Mapped[int] = mapped_column(default=0)
    posted: Mapped[int] = mapped_column(default=0)
    pending: Mapped[int] = mapped_column(default=0)
    duplicate: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    source: Mapped[str] = mapped_column(String(32), default="csv")
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())


class CreditIntakeError(db.Model):
    """Why one line of an intake was refused (once per line: unique on intake and line)."""

    __tablename__ = "credit_intake_errors"
    __table_args__ = (UniqueConstraint("intake_id", "line"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("credit_intakes.id"))
    line: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
