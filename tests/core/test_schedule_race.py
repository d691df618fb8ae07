"""Two schedulers started at once, with real commits: each occurrence is enqueued exactly once.

On PostgreSQL (with ``GREENFIN_TEST_REDIS=1`` the jobs go to rq on Redis, and the queues must hold one
entry per occurrence); elsewhere on a SQLite file of its own, where the jobs are recorded but not run.
"""
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from greenfin.job_model import Job
from greenfin.extensions import db
from greenfin.schedule import SCHEDULE, ScheduleRun, enqueue_due
from tests.conftest import PG_DB, REDIS_URL, migrated_app, reset_postgres, using_postgres, using_redis

pytestmark = [pytest.mark.no_db_isolation]

SCHEDULERS = 2
START = datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc)
# Ticks of both schedulers: the same instants, some occurrences apart, a 3-day stop at the end.
TICKS = [START, START + timedelta(minutes=1), START + timedelta(hours=1), START + timedelta(days=1),
         START + timedelta(days=4)]


def _rq_entries(conn) -> list[str]:
    from rq import Queue

    return [job_id for name in ("high", "default", "low") for job_id in Queue(name, connection=conn).job_ids]


def _empty_queues(conn) -> None:
    from rq import Queue

    for name in ("high", "default", "low"):
        Queue(name, connection=conn).empty()


def test_two_schedulers_enqueue_each_occurrence_once(tmp_path, monkeypatch):
    if using_postgres():
        url = reset_postgres(f"{PG_DB}_schedule")
    else:
        url = f"sqlite:///{tmp_path / 'schedule.sqlite'}"
        # SQLite: the schedulers' race only; inline jobs of two processes would contend for the one writer
        monkeypatch.setattr("greenfin.jobs.run_inline", lambda job_id: None)
    overrides = {"REDIS_URL": REDIS_URL} if using_redis() else {}
    apps = [migrated_app(url, instance=tmp_path / "instance", **overrides) for _ in range(SCHEDULERS)]
    conn = None
    if using_redis():
        from greenfin.jobs import redis_connection

        with apps[0].app_context():
            conn = redis_connection()
        _empty_queues(conn)
    errors: list[BaseException] = []
    made: list[list] = [[] for _ in range(SCHEDULERS)]
    barrier = threading.Barrier(SCHEDULERS)

    def scheduler(n: int) -> None:
        try:
            with apps[n].app_context():
                for tick in TICKS:
                    barrier.wait()
                    made[n].extend((run.schedule, run.occurrence, run.missed) for run in enqueue_due(tick))
                    db.session.remove()
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=scheduler, args=(n,)) for n in range(SCHEDULERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert not errors, errors[:2]
        everything = made[0] + made[1]
        assert len(everything) == len(set(everything))  # no occurrence enqueued by both
        with apps[0].app_context():
            rows = db.session.execute(select(ScheduleRun.schedule, ScheduleRun.occurrence, ScheduleRun.missed)).all()
            assert sorted(map(tuple, rows)) == sorted(everything)
            per_task = {item.name: [r for r in rows if r.schedule == item.name] for item in SCHEDULE}
            # daily checkpoint: day 0, day 1, then one run after the 3-day stop that caught up two
            assert [r.missed for r in sorted(per_task["credit-checkpoint"], key=lambda r: r.occurrence)] == [0, 0, 2]
            # hourly at :05: 09:05, 10:05, tomorrow 09:05 (22 caught up), one run after the stop
            assert [r.missed for r in sorted(per_task["credit-publish-due"], key=lambda r: r.occurrence)] \
                == [0, 0, 22, 71]
            jobs = db.session.scalar(select(func.count(Job.id)).where(Job.func == "greenfin.schedule.run_scheduled"))
            assert jobs == len(rows)
            if conn is not None:
                queued = _rq_entries(conn)
                assert len(queued) == len(set(queued)) == len(rows)
            db.session.remove()
    finally:
        if conn is not None:
            _empty_queues(conn)
        for app in apps:
            with app.app_context():
                db.engine.dispose()
