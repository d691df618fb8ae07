"""Faults: the database going away under load (Redis going away: tests/core/test_jobs.py)."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, select, text

from greenfin.core.models import Party
from greenfin.extensions import db
from greenfin.stack import http, kill_rq_worker
from tests.conftest import PG_BASE, make_uscc

pytestmark = [pytest.mark.multiprocess, pytest.mark.no_db_isolation]


def _admin_engine():
    return create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")


def test_database_restart_gives_clean_503_and_loses_nothing(stack):
    """Connections are cut and refused for a while (what a restart looks like to the app)."""
    token = stack["tokens"]["loan_officer"]
    name = stack["database_url"].rsplit("/", 1)[1]
    created, statuses, stop = [], [], threading.Event()

    def load():
        while not stop.is_set():
            code = make_uscc()
            status, _body, headers = http("POST", stack["url"] + "/api/v1/parties", token,
                                          {"kind": "firm", "name": f"故障{code[-5:]}", "uscc": code,
                                           "township_code": "yangkou"}, timeout=20)
            statuses.append(status)
            if status == 201:
                created.append(code)
            if status == 503:
                assert headers.get("Retry-After")
            time.sleep(0.02)

    workers = [threading.Thread(target=load) for _ in range(4)]
    for w in workers:
        w.start()
    time.sleep(1.0)
    admin = _admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
        time.sleep(2.0)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
    time.sleep(2.5)
    stop.set()
    for w in workers:
        w.join()

    assert 503 in statuses, "requests during the outage answer 503"
    assert not [s for s in statuses if s >= 500 and s != 503], statuses
    assert statuses[-1] == 201, "requests succeed once the database is back"
    with stack["app"].app_context():
        db.engine.dispose()  # this process's pool was cut too
        stored = set(db.session.scalars(select(Party.uscc).where(Party.uscc.in_(created))))
        db.session.remove()
    assert stored == set(created), "every request answered 201 was committed"


def test_killed_worker_leaves_nothing_and_the_retry_completes_once(stack):
    """SIGKILL the rq worker (and its work horse) half-way through a job; rq's abandoned-job
    handling re-queues it and the other worker completes it exactly once."""

    from redis import Redis
    from rq import Worker
    from rq.registry import StartedJobRegistry

    from greenfin.core import services
    from greenfin.core.models import Party
    from greenfin.job_model import Job
    from greenfin.uow import commit
    from greenfin.jobs import enqueue

    app, conn = stack["app"], Redis.from_url(stack["redis_url"])
    with app.app_context():
        party = services.create_party({"kind": "firm", "name": "杀进程前", "uscc": make_uscc(),
                                       "township_code": "wucun"})
        commit()
        job_id = enqueue("tests.core.sample_jobs.slow_rename", {"party_id": party.id, "name": "杀进程后",
                                                                 "seconds": 6}, title="slow").id
        commit()  # dispatched to the stack's Redis: a stack worker takes it
        party_id = party.id
        db.session.remove()

    deadline = time.time() + 30
    victim = None
    while time.time() < deadline and victim is None:
        for worker in Worker.all(connection=conn):
            if worker.get_current_job_id() == job_id:
                victim = worker
        time.sleep(0.1)
    assert victim is not None, "a worker picked the job up"
    time.sleep(1.5)  # half-way: the party row is renamed inside the job's open transaction
    proc = next(p for p in stack["url"].rq_workers if p.pid == victim.pid)
    kill_rq_worker(proc)  # the worker and its work horse (a process group of its own)

    with app.app_context():
        assert db.session.get(Party, party_id).name == "杀进程前", "nothing of the killed attempt is visible"
        # The workers' watchdog re-queues abandoned jobs within a minute; run rq's cleanup now instead.
        StartedJobRegistry("default", connection=conn).cleanup(timestamp=time.time() + 3600)
        db.session.remove()

    deadline = time.time() + 60
    with app.app_context():
        while time.time() < deadline:
            db.session.expire_all()
            job = db.session.get(Job, job_id)
            if job.status == "finished":
                break
            time.sleep(0.3)
        assert job.status == "finished" and job.attempts == 2
        assert db.session.get(Party, party_id).name == "杀进程后"
        db.session.remove()
