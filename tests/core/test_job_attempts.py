"""PostgreSQL: two attempts of one job at once, as when a killed rq worker's work horse goes on
while rq re-queues the job it abandoned. The second waits for the first and does not run again."""
import threading
import time

import pytest
from sqlalchemy import func, select

from greenfin.core import services
from greenfin.core.models import AuditEvent
from greenfin.job_model import Job
from greenfin.extensions import db
from greenfin.uow import commit
from greenfin.jobs import discard_pending, enqueue, run_job
from tests.conftest import PG_DB, make_uscc, migrated_app, reset_postgres, using_postgres

pytestmark = [pytest.mark.no_db_isolation,
              pytest.mark.skipif(not using_postgres(), reason="needs PostgreSQL and real concurrency")]


def test_second_attempt_waits_for_the_running_one_and_does_not_run_again():
    app = migrated_app(reset_postgres(f"{PG_DB}_job_attempts"))
    with app.app_context():
        services.ensure_townships()
        party = services.create_party({"kind": "firm", "name": "两次投递", "uscc": make_uscc(),
                                       "township_code": "danan"})
        job_id = enqueue("tests.core.sample_jobs.audit_slowly", {"party_id": party.id, "seconds": 2},
                         title="slow").id
        discard_pending()  # recorded only: the two attempts below are the deliveries
        commit()
        db.session.remove()

    def attempt():
        with app.app_context():
            run_job(job_id)

    first = threading.Thread(target=attempt)
    first.start()
    with app.app_context():
        deadline = time.time() + 30
        while db.session.scalar(select(Job.progress).where(Job.id == job_id)) < 50:  # half-way, not committed
            assert time.time() < deadline
            time.sleep(0.05)
            db.session.rollback()
        db.session.remove()
    second = threading.Thread(target=attempt)
    second.start()
    first.join()
    second.join()

    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status == "finished" and job.attempts == 2
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "test.job.write")) == 1
        db.session.remove()
        db.engine.dispose()
