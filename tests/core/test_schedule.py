"""Scheduled jobs (greenfin/schedule.py): each occurrence enqueued once, missed runs caught up once."""
from datetime import datetime, timedelta, timezone

import pytest
from croniter import croniter
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from greenfin.core.models import AuditEvent
from greenfin.job_model import Job
from greenfin.dates import BUSINESS_TZ
from greenfin.schedule import (
    SCHEDULE, ScheduleRun, Scheduled, enqueue_due, entry, latest_occurrence, missed_occurrences,
)

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc)  # 10:00 in Guangfeng: every daily task is due


def _runs(db_session, name):
    return list(db_session.scalars(select(ScheduleRun).where(ScheduleRun.schedule == name)
                                   .order_by(ScheduleRun.occurrence)))


def test_schedule_names_importable_verbs_and_valid_cron(app):
    from greenfin.registry import resolve

    assert len({item.name for item in SCHEDULE}) == len(SCHEDULE)
    for item in SCHEDULE:
        assert croniter.is_valid(item.cron), item.name
        assert callable(resolve(item.verb)), item.verb
        assert item.queue in app.config["RQ_QUEUES"]
        assert all(key in app.config for key in item.config_kwargs.values())


def test_enqueue_due_runs_each_task_once_per_occurrence(db_session, drain_jobs):
    made = enqueue_due(NOW)
    assert sorted(run.schedule for run in made) == sorted(item.name for item in SCHEDULE)
    assert enqueue_due(NOW) == []  # the same occurrences: nothing more
    assert enqueue_due(NOW + timedelta(minutes=4)) == []  # still before any next occurrence (10:05)
    drain_jobs()
    checkpoint = _runs(db_session, "credit-checkpoint")
    assert [run.occurrence for run in checkpoint] == [datetime(2026, 12, 7, 0, 10, tzinfo=timezone.utc)]
    job = db_session.get(Job, checkpoint[0].job_id)
    db_session.refresh(job)
    assert job.status == "finished", job.error
    assert job.result["schedule"] == "credit-checkpoint" and job.result["missed"] == 0
    assert "count" in job.result
    verify = db_session.get(Job, _runs(db_session, "credit-verify")[0].job_id)
    db_session.refresh(verify)
    assert verify.result["ok"] is True
    assert db_session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "schedule.run")) \
        == len(SCHEDULE)


def test_enqueue_due_after_three_day_stop_runs_daily_job_once_and_says_what_it_caught_up(db_session, drain_jobs):
    enqueue_due(NOW - timedelta(days=3))
    made = {run.schedule: run for run in enqueue_due(NOW)}
    drain_jobs()
    runs = _runs(db_session, "credit-checkpoint")
    assert len(runs) == 2  # the run before the stop and one run after it, not three
    caught = made["credit-checkpoint"]
    assert caught.missed == 2
    job = db_session.get(Job, caught.job_id)
    db_session.refresh(job)
    assert "caught up 2 missed runs" in job.title
    assert job.status == "finished", job.error
    assert job.result["missed_occurrences"] == ["2026-12-05T00:10:00+00:00", "2026-12-06T00:10:00+00:00"]
    assert "caught up 2 missed run(s) since 2026-12-05T00:10:00+00:00" in job.message
    assert made["credit-publish-due"].missed == 3 * 24 - 1  # hourly: 72 occurrences, one run


def test_enqueue_due_skips_tasks_of_packages_not_loaded(app, db_session, monkeypatch):
    monkeypatch.setitem(app.extensions, "greenfin_features",
                        tuple(f for f in app.extensions["greenfin_features"] if f != "greenfin.lending"))
    names = {run.schedule for run in enqueue_due(NOW)}
    assert "lending-refresh-dpd" not in names and "credit-checkpoint" in names


def test_run_due_command_reports_and_exits_zero(runner, db_session):
    result = runner.invoke(args=["schedule", "run-due"])
    assert result.exit_code == 0, result.output
    assert f"{len(SCHEDULE)} scheduled job(s) enqueued" in result.output
    again = runner.invoke(args=["schedule", "run-due"])
    assert "0 scheduled job(s) enqueued" in again.output


def test_list_command_shows_every_task(runner):
    result = runner.invoke(args=["schedule", "list"])
    assert result.exit_code == 0
    for item in SCHEDULE:
        assert item.name in result.output


def test_entry_refuses_unknown_task():
    with pytest.raises(LookupError):
        entry("nope")


@settings(max_examples=30, deadline=None)
@given(start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
       stop_hours=st.integers(min_value=0, max_value=48),
       cron=st.sampled_from(["10 8 * * *", "5 * * * *", "0 3 * * 1", "*/15 * * * *"]))
def test_missed_occurrences_count_every_matching_minute_between_two_runs(start, stop_hours, cron):
    item = Scheduled("t", "x.y", cron, "t", "greenfin.core")
    first = latest_occurrence(item, start.replace(tzinfo=timezone.utc))
    latest = latest_occurrence(item, first + timedelta(hours=stop_hours))
    count, listed = missed_occurrences(item, first, latest)
    minutes = int((latest - first).total_seconds() // 60)
    expected = sum(croniter.match(cron, (first + timedelta(minutes=m)).astimezone(BUSINESS_TZ))
                   for m in range(1, minutes))  # brute force, minute by minute, in Guangfeng's time
    assert count == expected
    assert len(listed) == min(count, 31)
    assert latest_occurrence(item, latest) == latest  # an occurrence is its own latest
