"""A job whose worker died: re-queued, shown as "retrying after a worker stopped", run once; queues per job kind.

The killed-process version, with real workers, is tests/multiprocess/test_job_kills.py.
"""
import time
from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st
from rq.exceptions import AbandonedJobError
from sqlalchemy import func, select

from greenfin.core import services
from greenfin.core.models import AuditEvent
from greenfin.job_model import Job
from greenfin.extensions import db
from greenfin.uow import commit
from greenfin.jobs import discard_pending, enqueue, run_job
from greenfin.worker import make_worker, worker_stopped
from tests.conftest import using_redis

RETRYING_ZH = "工作进程停止后正在重试"


def _pending_queues() -> dict[str, str]:
    return {job_id: queue for job_id, queue in db.session.info.get("greenfin_pending_jobs", [])}


def test_enqueue_puts_each_job_kind_on_its_queue(app):
    labels = enqueue("traceability.jobs.render_label_sheet", {"batch_id": 1}, title="labels")
    rename = enqueue("tests.core.sample_jobs.rename_party", {"party_id": 1, "name": "x"}, title="rename")
    urgent = enqueue("tests.core.sample_jobs.rename_party", {"party_id": 1, "name": "y"}, title="rename", queue="high")
    rating = enqueue("credit.jobs.run_rating", {"run_id": 1}, title="rating")
    queues = _pending_queues()
    discard_pending()
    db.session.rollback()
    assert [queues[j.id] for j in (labels, rename, urgent, rating)] == ["low", "default", "high", "default"]


def test_enqueue_refuses_a_queue_no_worker_listens_on(app):
    with pytest.raises(ValueError, match="nowhere"):
        enqueue("tests.core.sample_jobs.rename_party", {"party_id": 1, "name": "x"}, title="rename", queue="nowhere")
    with pytest.raises(AttributeError):
        enqueue("tests.core.sample_jobs.no_such_job", title="typo")


def _killed_at_40(create_party, name="原名") -> tuple[str, int]:
    """A rename job as a worker left it when it died: started, attempt 1, 40 %, nothing committed."""
    party = create_party(name=name)
    job = enqueue("tests.core.sample_jobs.rename_party", {"party_id": party.id, "name": "新名"}, title="改名",
                  party_id=party.id)
    discard_pending()
    job.status, job.attempts, job.progress, job.message = "started", 1, 40, "renaming"
    commit()
    return job.id, party.id


def _abandoned(job_id: str, retries_left: int) -> None:
    """What rq's StartedJobRegistry.cleanup calls for a job whose worker stopped heartbeating."""
    worker_stopped(SimpleNamespace(id=job_id, retries_left=retries_left), None, AbandonedJobError,
                   AbandonedJobError(), None)


def test_worker_stopped_requeues_the_job_as_retrying_and_the_retry_runs_once(app, api, client, login,
                                                                              create_party, drain_jobs):
    job_id, party_id = _killed_at_40(create_party)
    _abandoned(job_id, retries_left=2)

    regulator = api("regulator")
    shown = regulator.get(f"/api/v1/jobs/{job_id}").json
    assert (shown["status"], shown["progress"], shown["message"]) == ("queued", 0, None), "no frozen 40 %"
    assert shown["status_text"] == RETRYING_ZH and shown["interrupted_at"]
    assert regulator.get(f"/api/v1/jobs/{job_id}?lang=en").json["status_text"] == "Retrying after a worker stopped"
    login(regulator.user)
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert RETRYING_ZH in page and 'content="2"' in page and "40%" not in page
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "job.worker_stopped", AuditEvent.entity_id == job_id)) == 1

    run_job(job_id)  # the re-queued delivery
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert (job.status, job.progress, job.attempts) == ("finished", 100, 2)
    assert regulator.get(f"/api/v1/jobs/{job_id}?lang=zh_CN").json["status_text"] == "已完成"
    assert services.get_party(party_id).name == "新名"
    run_job(job_id)  # a late duplicate changes nothing
    assert db.session.get(Job, job_id).attempts == 2


def test_worker_stopped_without_a_retry_left_fails_the_job(app, create_party):
    job_id, _ = _killed_at_40(create_party)
    _abandoned(job_id, retries_left=0)
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.status == "failed" and "worker stopped" in job.error and job.finished_at is not None
    assert job.interrupted_at is not None


def test_worker_stopped_leaves_a_finished_job_alone(app, create_party):
    """A work horse that outlived its worker finished the job before rq noticed the worker's death."""
    job_id, _ = _killed_at_40(create_party)
    job = db.session.get(Job, job_id)
    job.status, job.progress = "finished", 100
    commit()
    _abandoned(job_id, retries_left=2)
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert (job.status, job.progress, job.interrupted_at) == ("finished", 100, None)


def test_ordinary_failures_are_left_to_the_attempt(app, create_party):
    job_id, _ = _killed_at_40(create_party)
    worker_stopped(SimpleNamespace(id=job_id, retries_left=2), None, RuntimeError, RuntimeError("x"), None)
    db.session.expire_all()
    assert db.session.get(Job, job_id).status == "started"


def test_attempt_after_one_that_never_ended_is_marked_interrupted(app, create_party):
    """Whoever re-queued it (rq's own maintenance, an operator), the next attempt knows a worker stopped."""
    job_id, party_id = _killed_at_40(create_party)
    run_job(job_id)
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.status == "finished" and job.attempts == 2 and job.interrupted_at is not None
    assert services.get_party(party_id).name == "新名"


@settings(max_examples=30, deadline=None)
@given(beat=st.integers(min_value=1, max_value=60), working=st.floats(min_value=0, max_value=3000))
def test_dead_worker_is_noticed_within_seven_heartbeats(app, beat, working):
    """The job's registry entry outlives the last heartbeat by 3 beats; maintenance runs every 2 beats,
    and an idle worker wakes from its queues as often: a dead worker's job is re-queued within 7 beats."""
    from redis import Redis
    from rq import Queue

    app.config["JOB_HEARTBEAT_SECONDS"] = beat
    try:
        worker = make_worker(["default"], Redis())  # no command is sent
    finally:
        app.config["JOB_HEARTBEAT_SECONDS"] = 5
    rq_job = Queue("default", connection=Redis()).create_job("greenfin.jobs.run_job", args=("x",), timeout=3600)
    ttl = worker.get_heartbeat_ttl(rq_job, working_time=working)
    assert worker.job_monitoring_interval == beat and ttl == 3 * beat
    assert worker.maintenance_interval == worker.dequeue_timeout == 2 * beat
    assert ttl + 2 * worker.maintenance_interval == 7 * beat  # 35 s with the default 5 s beat


@pytest.mark.skipif(not using_redis(), reason="needs Redis (GREENFIN_TEST_REDIS=1)")
def test_worker_maintenance_requeues_a_job_whose_worker_died(app, create_party, drain_jobs, monkeypatch):
    """Real rq: a worker takes the job and dies (it never heartbeats again); another worker's
    maintenance finds the expired entry, re-queues the job with one retry fewer and marks it."""
    from rq import Queue
    from rq.job import Job as RqJob

    from greenfin.jobs import redis_connection

    monkeypatch.setitem(app.config, "JOB_HEARTBEAT_SECONDS", 1)
    party = create_party(name="死前")
    job_id = enqueue("tests.core.sample_jobs.rename_party", {"party_id": party.id, "name": "活后"},
                     title="rename", party_id=party.id).id
    commit()  # sent to rq
    conn = redis_connection()
    dying = make_worker(["default"], conn)
    rq_job, queue = dying.dequeue_job_and_maintain_ttl(timeout=1)
    assert rq_job.id == job_id
    dying.prepare_execution(rq_job)
    dying.prepare_job_execution(rq_job, remove_from_intermediate_queue=True)
    job = db.session.get(Job, job_id)
    job.status, job.attempts, job.progress = "started", 1, 40  # what its work horse showed, then it died
    commit()

    time.sleep(3.5)  # the entry expires 3 beats after the last heartbeat
    make_worker(["default"], conn).clean_registries()
    assert Queue("default", connection=conn).job_ids == [job_id]
    assert RqJob.fetch(job_id, connection=conn).retries_left == app.config["JOB_RETRIES"] - 1
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert (job.status, job.progress) == ("queued", 0) and job.interrupted_at is not None

    drain_jobs()
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert (job.status, job.attempts) == ("finished", 2)
    assert services.get_party(party.id).name == "活后"
