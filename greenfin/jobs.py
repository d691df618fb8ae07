"""Background jobs: queued during a unit of work, dispatched after its commit.

With ``REDIS_URL`` set, jobs go to rq with a retry policy; without it (or when
Redis does not answer) they run inline right after the commit. Either way the
``jobs`` table holds status, progress and result, so any process can show it.

A job function takes a ``JobContext`` and keyword arguments of plain values::

    enqueue("traceability.jobs.render_label_sheet", {"lot_id": 7, "count": 500}, title="Labels", party_id=3,
            subject=("trace.lot_detail", {"lot_id": 7}))

    def render_label_sheet(ctx, lot_id: int, count: int): ...
        ctx.progress(40, "drawing", 200, 500)   # a stage of greenfin.job_model.JOB_STAGES
        ctx.set_result(url=..., data={...})

It must be safe to run twice: its writes and the job's "finished" state are
committed together, so a worker killed half-way leaves nothing behind.

Each job kind runs on a queue (``RQ_QUEUES``: high, default, low): the function may
declare it (``render_label_sheet.queue = "low"``), else it is ``default``. A worker that
dies mid-job is noticed by ``greenfin.worker`` (short heartbeats, a watchdog in every
worker), which re-queues the job and marks it "retrying after a worker stopped".
"""
from __future__ import annotations

import logging
import traceback
import uuid
from typing import Any, Optional

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from greenfin.dates import utcnow
from greenfin.extensions import advisory_lock, db
from greenfin.job_model import Job, stage_message
from greenfin.registry import resolve
from greenfin.uow import commit, on_outcome, rollback

log = logging.getLogger(__name__)
_PENDING = "greenfin_pending_jobs"
_TIMEOUTS = "greenfin_job_timeouts"


def enqueue(func: str, kwargs: Optional[dict[str, Any]] = None, *, title: str, party_id: Optional[int] = None,
            queue: Optional[str] = None, timeout: Optional[int] = None,
            subject: Optional[tuple[str, dict[str, Any]]] = None) -> Job:
    """Record a job and queue it for dispatch after the current commit.

    ``kwargs`` (plain JSON values) are passed to ``func``; ``party_id`` says
    whose job it is, so that the party's producers may watch it. ``queue`` overrides
    the queue the job kind declares (``func.queue``, else ``default``); ``timeout`` bounds an rq
    attempt (default an hour). ``subject`` is the page the job is about, ``(endpoint, url_for
    arguments)``: the jobs list and the job's page link to it.
    """
    kwargs = kwargs or {}
    queue = queue or getattr(resolve(func), "queue", "default")  # resolving fails now on a typo, not in the worker
    if queue not in current_app.config["RQ_QUEUES"]:
        raise ValueError(f"job {func}: no worker listens on queue {queue!r} (RQ_QUEUES)")
    user = g.get("user") if has_request_context() else None
    job = Job(
        id=str(uuid.uuid4()), func=func, title=title, kwargs=kwargs, status="queued", progress=0,
        created_by_id=user.id if user else None, party_id=party_id,
        subject_endpoint=subject[0] if subject else None, subject_args=dict(subject[1]) if subject else None,
    )
    db.session.add(job)
    db.session.info.setdefault(_PENDING, []).append((job.id, queue))
    if timeout:
        db.session.info.setdefault(_TIMEOUTS, {})[job.id] = timeout
    return job


def discard_pending() -> None:
    db.session.info.pop(_PENDING, None)
    db.session.info.pop(_TIMEOUTS, None)


def redis_connection():
    from redis import Redis

    url = current_app.config.get("REDIS_URL")
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10) if url else None


def dispatch_pending() -> None:
    pending = db.session.info.pop(_PENDING, [])
    timeouts = db.session.info.pop(_TIMEOUTS, {})
    for job_id, queue in pending:
        if not _send_to_rq(job_id, queue, timeouts.get(job_id, 3600)):
            run_inline(job_id)


def _send_to_rq(job_id: str, queue: str, timeout: int = 3600) -> bool:
    conn = redis_connection()
    if conn is None:
        return False
    from redis.exceptions import RedisError
    from rq import Callback, Queue, Retry

    try:
        Queue(queue, connection=conn).enqueue_call(
            "greenfin.jobs.run_job", args=(job_id,), job_id=job_id, timeout=timeout,
            retry=Retry(max=current_app.config.get("JOB_RETRIES", 3)), failure_ttl=7 * 86400,
            on_failure=Callback("greenfin.worker.worker_stopped"),
        )
        return True
    except RedisError as exc:  # Redis down: the platform keeps working, jobs run here
        log.warning("redis unavailable, running job %s inline: %s", job_id, exc)
        return False


def run_inline(job_id: str) -> None:
    run_job(job_id)


class JobContext:
    def __init__(self, job: Job):
        self.job = job
        self.job_id = job.id

    def progress(self, percent: int, stage: Optional[str] = None, done: Optional[int] = None,
                 total: Optional[int] = None) -> None:
        """Publish progress at once, outside the job's own transaction: the percentage and the stage
        (a code of ``greenfin.job_model.JOB_STAGES``), with how many items are done of how many."""
        percent = max(0, min(100, int(percent)))
        message = stage_message(stage, done, total)
        if db.engine.dialect.name == "sqlite":
            # One writer at a time: the value lands with the job's commit.
            self.job.progress, self.job.message = percent, message
            return
        # Elsewhere it is written at once on its own connection; the job's own transaction must
        # never write the row too (it would hold the row lock the next progress write waits for).
        set_committed_value(self.job, "progress", percent)
        set_committed_value(self.job, "message", message)
        with db.engine.begin() as conn:
            conn.execute(update(Job).where(Job.id == self.job_id).values(progress=percent, message=message))

    def set_result(self, url: Optional[str] = None, data: Optional[dict] = None) -> None:
        self.job.result_url, self.job.result = url, data


def run_job(job_id: str) -> None:
    """Run a recorded job once. Safe to call again: a finished job is skipped.

    A fresh app context gives the job its own database session, apart from the
    request that queued it (inline) or the previous job (worker).
    """
    with current_app.app_context():
        g.job_id = job_id  # JSON log lines name the job
        _run_job(job_id)


def _wait_for_other_attempt(job: Job) -> bool:
    """Wait while another attempt of the job runs; False when that attempt finished it.

    rq runs a job in a work horse with a process group of its own: when only the worker is
    killed, the horse goes on and rq re-queues the job as abandoned, so two attempts could
    write at once. A transaction-scoped advisory lock (PostgreSQL) makes the second wait for
    the first's commit or rollback. On SQLite (development, jobs inline) nothing runs twice at once.
    """
    if not advisory_lock(job.id):
        return True
    db.session.refresh(job)
    return job.status != "finished"


def _run_job(job_id: str) -> None:
    job = db.session.get(Job, job_id)
    if job is None:
        raise LookupError(f"job {job_id} not found")
    if job.status == "finished":
        return
    if job.status == "started":  # the previous attempt never ended: its worker stopped
        job.interrupted_at = job.interrupted_at or utcnow()
    job.status, job.started_at, job.attempts = "started", utcnow(), job.attempts + 1
    job.error = None
    commit()
    try:
        if not _wait_for_other_attempt(job):
            rollback()
            return
        ctx = JobContext(job)
        resolve(job.func)(ctx, **job.kwargs)
        job.status, job.progress, job.finished_at = "finished", 100, utcnow()
        commit()
    except Exception as exc:
        rollback()
        job = db.session.get(Job, job_id)
        job.status, job.error, job.finished_at = "failed", f"{exc.__class__.__name__}: {exc}", utcnow()
        log.error("job %s failed\n%s", job_id, traceback.format_exc())
        commit()
        if current_app.config.get("REDIS_URL") and not current_app.testing:
            raise  # let rq apply its retry policy
        if current_app.testing and current_app.config.get("PROPAGATE_JOB_ERRORS", False):
            raise


def mark_worker_stopped(job_id: str, retrying: bool) -> None:
    """A worker stopped in the middle of the job (rq found it abandoned): say so at once.

    With a retry left the job is back in the queue: "queued", progress 0, and its page reads
    "retrying after a worker stopped" until it finishes, rather than the last progress of the
    dead attempt. Without one it failed. A job that finished meanwhile (its work horse outlived
    the worker) is left alone; the row lock waits for that commit.
    """
    from greenfin.core.services import record_audit

    job = db.session.get(Job, job_id, with_for_update=True, populate_existing=True)
    if job is None or job.status != "started":
        db.session.rollback()
        return
    before = {"status": job.status, "progress": job.progress, "attempts": job.attempts}
    job.interrupted_at = utcnow()
    if retrying:
        job.status, job.progress, job.message = "queued", 0, None
    else:
        job.status, job.finished_at = "failed", utcnow()
        job.error = "AbandonedJobError: the worker stopped during the job and no retry is left"
    record_audit("job.worker_stopped", "job", job.id, before=before,
                 after={"status": job.status, "progress": job.progress, "retrying": retrying}, party_id=job.party_id)
    commit()


def init_jobs(app: Flask) -> None:
    on_outcome(app, committed=dispatch_pending, rolled_back=discard_pending)
