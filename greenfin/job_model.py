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

# The one catalogue of job stages: a job reports ``ctx.progress(percent, "<stage>", done, total)`` and
# pages show the stage's label (``Job.stage_text``). A stage missing here is shown as "Working"
# (tests/core/test_jobs_list.py checks that every stage a job names is listed).
JOB_STAGES = {
    "reading": _l("Reading the input"),
    "serials": _l("Issuing serial numbers"),
    "drawing": _l("Drawing the label sheet"),
    "storing": _l("Storing the results"),
    "scoring": _l("Scoring"),
    "rating": _l("Rating parties"),
    "writing": _l("Writing the result file"),
    "fitting": _l("Binning and fitting"),
    "registering": _l("Registering the model"),
    "recomputing": _l("Recomputing days past due"),
    "computing": _l("Computing"),
    "posting": _l("Posting to the ledger"),
}
JOB_STAGE_UNKNOWN = _l("Working")


def stage_message(stage: Optional[str], done: Optional[int] = None, total: Optional[int] = None) -> Optional[str]:
    """What ``jobs.message`` holds: the stage code, then the count done (and of how many)."""
    if stage is None:
        return None
    if done is None:
        return stage
    return f"{stage} {int(done)}/{int(total)}" if total is not None else f"{stage} {int(done)}"


def stage_text(message: Optional[str]) -> str:
    """The stage of a ``jobs.message`` as a person reads it: its label, then the count."""
    if not message:
        return ""
    code, _sep, count = message.partition(" ")
    label = JOB_STAGES.get(code)
    if label is None:
        return str(JOB_STAGE_UNKNOWN)
    return f"{label} {count}".strip()


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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    started_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    # When a worker last stopped in the middle of the job (greenfin.worker notices it).
    interrupted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    # What the job is about: the page's endpoint and its arguments (``url_for``), so the jobs list
    # and the job's page link back to the lot, batch or pool without the core knowing the package.
    subject_endpoint: Mapped[Optional[str]] = mapped_column(String(64))
    subject_args: Mapped[Optional[dict[str, Any]]] = mapped_column(JSONType)

    @property
    def status_text(self) -> str:
        """The status as a user reads it, in the request's language."""
        if self.interrupted_at is not None and self.status in ("queued", "started"):
            return str(_l("Retrying after a worker stopped"))
        return str(JOB_STATUS_LABELS[self.status])

    @property
    def stage_text(self) -> str:
        """The current stage as a user reads it (``JOB_STAGES``), with its count."""
        return stage_text(self.message)

    @property
    def subject_url(self) -> Optional[str]:
        """The page of what the job is about, or None (no subject, or its page is not in this app)."""
        if not self.subject_endpoint:
            return None
        from greenfin.pages import url_or_none

        return url_or_none(self.subject_endpoint, **(self.subject_args or {}))
