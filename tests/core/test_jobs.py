"""Jobs: dispatched after the commit, inline without Redis, by a real rq worker with it."""
import pytest

from greenfin.job_model import Job
from greenfin.core import services
from greenfin.extensions import db
from greenfin.uow import commit, rollback
from greenfin.jobs import enqueue, run_job


def test_job_runs_after_commit_and_records_result(app, create_party, drain_jobs):
    party = create_party(name="旧名")
    job = enqueue("tests.core.sample_jobs.rename_party", {"party_id": party.id, "name": "新名"}, title="rename", party_id=party.id)
    job_id = job.id
    # Nothing runs before the commit.
    assert services.get_party(party.id).name == "旧名"
    commit()
    drain_jobs()
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.status == "finished" and job.progress == 100
    assert job.result == {"name": "新名"} and job.result_url == f"/parties/{party.id}"
    assert services.get_party(party.id).name == "新名"


def test_rolled_back_request_dispatches_nothing(app, create_party):
    party = create_party(name="保持")
    enqueue("tests.core.sample_jobs.rename_party", {"party_id": party.id, "name": "不该"}, title="rename", party_id=party.id)
    rollback()
    commit()
    assert services.get_party(party.id).name == "保持"
    assert db.session.query(Job).count() == 0


def test_failed_job_leaves_no_partial_write(app, create_party, drain_jobs):
    party = create_party(name="原样")
    job_id = enqueue("tests.core.sample_jobs.fail_after_write", {"party_id": party.id}, title="fail", party_id=party.id).id
    commit()
    drain_jobs()
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.status == "failed" and "half-way" in job.error
    assert services.get_party(party.id).name == "原样"


def test_finished_job_is_not_run_twice(app, create_party, drain_jobs):
    party = create_party(name="一次")
    job_id = enqueue("tests.core.sample_jobs.rename_party", {"party_id": party.id, "name": "两次"}, title="rename", party_id=party.id).id
    commit()
    drain_jobs()
    services.update_party(services.get_party(party.id), {"name": "人工修改"})
    commit()
    run_job(job_id)  # a duplicate delivery
    assert services.get_party(party.id).name == "人工修改"


def test_enqueue_rejects_unknown_module():
    with pytest.raises(ModuleNotFoundError):
        enqueue("greenfin.nowhere.job", title="x")


def test_job_status_api_and_page(app, api, create_party, login, client, create_user, drain_jobs):
    officer = api("loan_officer")
    party = create_party()
    job = enqueue("tests.core.sample_jobs.rename_party", {"party_id": party.id, "name": "X"}, title="改名任务", party_id=party.id)
    job.created_by_id = officer.user.id
    commit()
    drain_jobs()
    response = officer.get(f"/api/v1/jobs/{job.id}")
    assert response.status_code == 200 and response.json["status"] == "finished"
    assert api("loan_officer").get(f"/api/v1/jobs/{job.id}").status_code == 404  # another officer's job
    assert api("regulator").get(f"/api/v1/jobs/{job.id}").status_code == 200
    login(officer.user)
    page = client.get(f"/jobs/{job.id}")
    assert page.status_code == 200 and "改名任务" in page.get_data(as_text=True)


def test_redis_down_jobs_run_inline_and_pages_work(app, create_party, client, monkeypatch):
    """Without a reachable Redis a queued job runs in the web process after the commit."""
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    party = create_party(name="红狮前")
    job_id = enqueue("tests.core.sample_jobs.rename_party", {"party_id": party.id, "name": "红狮后"},
                     title="rename").id
    commit()
    db.session.expire_all()
    assert db.session.get(Job, job_id).status == "finished"
    assert services.get_party(party.id).name == "红狮后"
    assert client.get("/").status_code == 200
    assert client.get("/readyz").status_code == 503
