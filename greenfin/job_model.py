"""The ``jobs`` table: a background job's state, progress and result, whichever process runs it.

Infrastructure, not a feature model: ``greenfin.jobs`` needs it to import, and it needs nothing of
a feature package (its foreign keys name the core tables by name only).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from greenfin.core.types import JSONType, UTCDateTime
from greenfin.dates import utcnow
from greenfin.extensions import db

JOB_STATUS_LABELS = {"queued": _l("Queued"), "started": _l("Running"), "finished": _l("Finished"),
                     "failed": _l("Failed")}


class Job(db.Model):
    """A background job: its state and progress live here, whichever process runs it."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    func: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(255))
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    progress: Mapped[int] = mapped_column(default=0)
    message: Mapped[Optional[str]] = mapped_column(Text)
    result_url: Mapped[Optional[str]] = mapped_column(String(255))
    result: Mapped[Optional[dict[str, Any]]] = mapped_column(JSONType)
    error: Mapped[Optional[str]] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    party_id: Mapped[Optional[int]] = mapped_column(ForeignKey("parties.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    # When a worker last stopped in the middle of the job (greenfin.worker notices it).
    interrupted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    @property
    def status_text(self) -> str:
        """The status as a user reads it, in the request's language."""
        if self.interrupted_at is not None and self.status in ("queued", "started"):
            return str(_l("Retrying after a worker stopped"))
        return str(JOB_STATUS_LABELS[self.status])
