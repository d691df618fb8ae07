"""Periodic work inside the platform: one schedule table, a scheduler that enqueues each occurrence once.

``SCHEDULE`` names, for each periodic task, the service verb it runs, a cron expression (read in
Asia/Shanghai, the district's time), the rq queue and the job timeout. ``flask schedule run`` (started
by ``make serve``) wakes up every ``--interval`` seconds and, for every entry whose latest occurrence
has not run yet, records a ``schedule_runs`` row unique per (schedule, occurrence) and enqueues the
job ``greenfin.schedule.run_scheduled`` through ``greenfin.jobs.enqueue`` (so each run shows on the
jobs pages). Both commit together; a second scheduler taking the same occurrence waits on a
transaction-scoped advisory lock (PostgreSQL) and then finds the row, or hits the unique constraint:
each occurrence runs exactly once however many schedulers are started.

After downtime only the latest occurrence runs, once; the job's title and result name the missed
occurrences it caught up. Without Redis, ``flask schedule run-due`` does the same once, on demand
(the jobs then run inline, right after the commit).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional

import click
from croniter import croniter
from flask import Flask, current_app, g
from flask_babel import lazy_gettext as _l
from flask.cli import AppGroup
from sqlalchemy import ForeignKey, String, UniqueConstraint, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from greenfin import dates
from greenfin.core.types import UTCDateTime
from greenfin.errors import N_
from greenfin.extensions import advisory_lock, db

log = logging.getLogger(__name__)
MISSED_LISTED = 31  # missed occurrences named in a job's result; the count covers them all


@dataclass(frozen=True)
class Scheduled:
    """One periodic task: ``verb`` (a service function, dotted) called with ``kwargs`` and the
    ``config_kwargs`` read from the configuration, on every occurrence of ``cron``."""

    name: str
    verb: str
    cron: str
    title: str  # English msgid; translated on the jobs pages of the requester's language
    package: str  # the feature package that must be loaded for the task to run
    queue: str = "default"
    timeout: int = 1800
    kwargs: dict = field(default_factory=dict)
    config_kwargs: dict = field(default_factory=dict)


# Times are Asia/Shanghai. Ledger days are UTC days: 08:10 is 00:10 UTC, when yesterday has closed.
SCHEDULE: tuple[Scheduled, ...] = (
    Scheduled("credit-checkpoint", "credit.services.checkpoint_ledger", "10 8 * * *",
              N_("Scheduled: ledger checkpoint"), "credit", queue="high"),
    Scheduled("credit-verify", "credit.services.verify_ledger", "40 8 * * *",
              N_("Scheduled: ledger verification"), "credit", timeout=3600),
    Scheduled("credit-publish-due", "credit.services.publish_due_ratings", "5 * * * *",
              N_("Scheduled: publish due ratings"), "credit"),
    Scheduled("credit-expire-pending", "credit.services.expire_pending", "15 1 * * *",
              N_("Scheduled: expire pending postings"), "credit"),
    Scheduled("trace-lapse-certificates", "traceability.services.lapse_expired_certifications", "20 0 * * *",
              N_("Scheduled: lapse expired certificates"), "traceability"),
    Scheduled("lending-refresh-dpd", "greenfin.lending.services.refresh_delinquency", "30 0 * * *",
              N_("Scheduled: refresh days past due"), "greenfin.lending"),
    # 09:00: after the night's station readings are imported; evaluates up to yesterday.
    Scheduled("insurance-evaluate", "greenfin.insurance.services.evaluate_policies", "0 9 * * *",
              N_("Scheduled: evaluate index insurance policies"), "greenfin.insurance"),
    Scheduled("lending-purge-batches", "greenfin.lending.scoring.modelling.purge_score_batches", "0 3 * * *",
              N_("Scheduled: purge batch-scoring uploads"), "greenfin.lending", queue="low",
              config_kwargs={"older_than_days": "LENDING_BATCH_RETENTION_DAYS"}),
    # Daily, although months change monthly: a missed day costs nothing, a missed month loses scans.
    Scheduled("partitions-ensure", "greenfin.core.partitions.ensure_partitions", "45 2 * * *",
              N_("Scheduled: create monthly partitions ahead"), "greenfin.core", queue="high", timeout=300),
)


class ScheduleRun(db.Model):
    """One occurrence of a scheduled task, enqueued once (insert-only)."""

    __tablename__ = "schedule_runs"
    __table_args__ = (UniqueConstraint("schedule", "occurrence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule: Mapped[str] = mapped_column(String(64))
    occurrence: Mapped[datetime] = mapped_column(UTCDateTime())
    job_id: Mapped[Optional[str]] = mapped_column(ForeignKey("jobs.id"))
    missed: Mapped[int] = mapped_column(default=0)  # earlier occurrences this run caught up
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=dates.utcnow)


def entry(name: str) -> Scheduled:
    for item in SCHEDULE:
        if item.name == name:
            return item
    raise LookupError(f"no scheduled task {name!r}")


def active_schedule(app: Optional[Flask] = None) -> list[Scheduled]:
    """The entries whose package is loaded in this app (``GREENFIN_FEATURES`` may narrow it)."""
    from greenfin.registry import loaded

    return [item for item in SCHEDULE if loaded(item.package, app)]


def latest_occurrence(item: Scheduled, now: datetime) -> datetime:
    """The last occurrence at or before ``now`` (aware, UTC)."""
    local = now.astimezone(dates.BUSINESS_TZ)
    if croniter.match(item.cron, local):
        local = local.replace(second=0, microsecond=0)
    else:
        local = croniter(item.cron, local).get_prev(datetime)
    return local.astimezone(timezone.utc)


def next_occurrence(item: Scheduled, now: datetime) -> datetime:
    return croniter(item.cron, now.astimezone(dates.BUSINESS_TZ)).get_next(datetime).astimezone(now.tzinfo)


def missed_occurrences(item: Scheduled, after: Optional[datetime], latest: datetime) -> tuple[int, list[str]]:
    """How many occurrences fell strictly between ``after`` and ``latest``, and the first of them."""
    if after is None:
        return 0, []
    listed: list[str] = []
    count = 0
    it = croniter(item.cron, after.astimezone(dates.BUSINESS_TZ))
    while True:
        occurrence = it.get_next(datetime)
        if occurrence >= latest:
            return count, listed
        count += 1
        if len(listed) < MISSED_LISTED:
            listed.append(occurrence.astimezone(latest.tzinfo).isoformat())


def _take_turns(name: str) -> None:
    """Serialise schedulers on one task until the transaction ends: a PostgreSQL advisory lock; on
    SQLite a first write takes the database's write lock (a read first would fail as "locked" later)."""
    if not advisory_lock(f"greenfin.schedule:{name}") and db.engine.dialect.name == "sqlite":
        db.session.execute(update(ScheduleRun).where(ScheduleRun.id.is_(None)).values(missed=0))


def _last_run(name: str) -> Optional[datetime]:
    return db.session.scalar(select(func.max(ScheduleRun.occurrence)).where(ScheduleRun.schedule == name))


def enqueue_due(now: Optional[datetime] = None) -> list[ScheduleRun]:
    """Enqueue every due occurrence not enqueued yet, one unit of work per task; returns the runs made."""
    from greenfin.core.services import record_audit
    from greenfin.uow import commit, rollback
    from greenfin.i18n import requester_gettext as _
    from greenfin.jobs import enqueue

    now = now or dates.utcnow()
    made = []
    for item in active_schedule():
        latest = latest_occurrence(item, now)
        try:
            _take_turns(item.name)
            last = _last_run(item.name)
            if last is not None and last >= latest:
                rollback()
                continue
            missed, listed = missed_occurrences(item, last, latest)
            title = _(item.title)
            if missed:
                title = _("%(title)s (caught up %(count)d missed runs)", title=title, count=missed)
            job = enqueue("greenfin.schedule.run_scheduled",
                          {"schedule": item.name, "occurrence": latest.isoformat(), "missed": missed,
                           "missed_occurrences": listed},
                          title=title, queue=item.queue, timeout=item.timeout)
            run = ScheduleRun(schedule=item.name, occurrence=latest, job_id=job.id, missed=missed)
            db.session.add(run)
            db.session.flush()
            record_audit("schedule.run", "schedule_run", run.id,
                         after={"schedule": item.name, "occurrence": latest, "job_id": job.id, "missed": missed})
            commit()
            made.append(run)
        except IntegrityError:  # another scheduler enqueued this occurrence first (SQLite, or no lock)
            rollback()
    return made


def _summary(value: Any) -> dict:
    """A service verb's answer as JSON for the job's result."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"ok": value}
    if isinstance(value, int):
        return {"count": value}
    if isinstance(value, (list, tuple)):
        return {"count": len(value)}
    if hasattr(value, "ok"):  # credit's VerifyReport
        return {"ok": bool(value.ok), "problems": len(getattr(value, "problems", []) or []),
                "first_broken_posting_id": getattr(value, "first_broken_posting_id", None)}
    return {"value": str(value)}


def run_scheduled(ctx, schedule: str, occurrence: str, missed: int = 0,
                  missed_occurrences: Optional[list] = None) -> None:
    """The job of one occurrence: call the task's service verb and say what it did and caught up."""
    from greenfin.registry import resolve

    item = entry(schedule)
    g.actor_label = "scheduler"
    kwargs = dict(item.kwargs)
    kwargs.update({arg: current_app.config[key] for arg, key in item.config_kwargs.items()})
    outcome = _summary(resolve(item.verb)(**kwargs))
    message = f"{schedule} {occurrence}"
    if missed:
        message += f": caught up {missed} missed run(s) since {(missed_occurrences or ['?'])[0]}"
    ctx.job.message = message  # lands with the job's "finished" commit
    ctx.set_result(data={"schedule": schedule, "occurrence": occurrence, "missed": missed,
                         "missed_occurrences": missed_occurrences or [], **outcome})


run_scheduled.label = _l("Scheduled task")


schedule_cli = AppGroup("schedule", help="Scheduled jobs (the platform's own cron).")


@schedule_cli.command("list")
def list_command():
    """Every scheduled task: cron (Asia/Shanghai), queue, last and next occurrence."""
    now = dates.utcnow()
    for item in active_schedule():
        last = _last_run(item.name)
        click.echo(f"{item.name:26s} {item.cron:14s} {item.queue:8s} last {last.isoformat() if last else '-':25s} "
                   f"next {next_occurrence(item, now).isoformat()}")


def _report(runs: list[ScheduleRun]) -> None:
    for run in runs:
        caught = f" (caught up {run.missed} missed)" if run.missed else ""
        click.echo(f"enqueued {run.schedule} {run.occurrence.isoformat()} job {run.job_id}{caught}")


@schedule_cli.command("run-due")
def run_due_command():
    """Enqueue (without Redis: run) every due occurrence once, then exit."""
    runs = enqueue_due()
    _report(runs)
    click.echo(f"{len(runs)} scheduled job(s) enqueued")


@schedule_cli.command("run")
@click.option("--interval", default=30, show_default=True, type=click.IntRange(1, 3600),
              help="Seconds between looks at the schedule.")
@click.option("--iterations", default=0, type=click.IntRange(0), help="Stop after this many looks (0: never).")
def run_command(interval, iterations):
    """The scheduler process: enqueue due occurrences every INTERVAL seconds (several may run at once)."""
    done = 0
    while True:
        try:
            _report(enqueue_due())
        except Exception:  # a database or Redis outage: log it and try again next time
            db.session.rollback()
            log.exception("scheduler pass failed")
        finally:
            db.session.remove()
        done += 1
        if iterations and done >= iterations:
            return
        time.sleep(interval)


def init_schedule(app: Flask) -> None:
    app.cli.add_command(schedule_cli)
