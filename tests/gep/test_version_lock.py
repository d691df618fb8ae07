"""On PostgreSQL an edit of a version waits for a computation that holds the version row, then finds it locked."""
import secrets

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import OperationalError

from greenfin.core.models import AuditEvent
from greenfin.core.types import utcnow
from greenfin.errors import Conflict
from greenfin.extensions import db
from greenfin.gep import reference, services
from greenfin.gep.models import GepParameter, GepVersion
from tests.conftest import delete_audit_events, using_postgres

pytestmark = [pytest.mark.no_db_isolation,
              pytest.mark.skipif(not using_postgres(), reason="row locks: PostgreSQL only (SQLite has one writer)")]


def test_edit_waits_for_computation_then_sees_lock(app):
    code = f"LOCK-{secrets.token_hex(3)}"
    rows = [{"key": k, "value": v, "unit": u, "source": s, "year": y, "kind": kind}
            for k, v, u, s, y, kind in reference.reference_rows(2025)]
    version = services.create_version({"code": code, "title": "lock test", "year": 2025}, rows)
    db.session.commit()
    version_id = version.id
    try:
        # A computation in another transaction holds the version row (as compute_accounts does).
        with db.engine.connect() as other:
            tx = other.begin()
            other.execute(select(GepVersion.id).where(GepVersion.id == version_id).with_for_update())
            other.execute(update(GepVersion).where(GepVersion.id == version_id).values(locked_at=utcnow()))
            db.session.execute(text("SET LOCAL lock_timeout = '300ms'"))
            with pytest.raises(OperationalError):
                services.update_parameter(db.session.get(GepVersion, version_id), "price_carbon", {"value": 1})
            db.session.rollback()
            tx.commit()
        # Once the computation committed, the edit is refused: the version is in use.
        with pytest.raises(Conflict):
            services.update_parameter(db.session.get(GepVersion, version_id), "price_carbon", {"value": 1})
        db.session.rollback()
        assert db.session.scalar(select(GepParameter.value).where(
            GepParameter.version_id == version_id, GepParameter.key == "price_carbon")) == 72
    finally:
        db.session.rollback()
        db.session.execute(delete(GepParameter).where(GepParameter.version_id == version_id))
        db.session.execute(delete(GepVersion).where(GepVersion.id == version_id))
        delete_audit_events(db.session, AuditEvent.entity_id.like(f"{code}%"))
        db.session.commit()


@pytest.mark.timeout(120, method="thread")  # a regression deadlocks in libpq: end the run, do not hang
def test_district_job_reports_progress_without_locking_itself(app, create_parcel, drain_jobs):
    """A real job on PostgreSQL: its progress writes (own connection) must not wait on its own transaction."""
    from greenfin.core.models import Parcel, Party
    from greenfin.job_model import Job
    from greenfin.uow import commit
    from greenfin.gep.models import GepAccount, GepServiceValue
    from greenfin.jobs import enqueue

    code = f"JOB-{secrets.token_hex(3)}"
    rows = [{"key": k, "value": v, "unit": u, "source": s, "year": y, "kind": kind}
            for k, v, u, s, y, kind in reference.reference_rows(2025)]
    version_id = services.create_version({"code": code, "title": "job test", "year": 2025}, rows).id
    db.session.commit()
    parcel = create_parcel(code=code)
    parcel_id, party_id = parcel.id, parcel.holder_id
    job_id = None
    try:
        job_id = enqueue("greenfin.gep.jobs.compute_district", {"year": 2031, "version_code": code,
                                                                "township": "danan"}, title="test").id
        commit()
        drain_jobs()
        db.session.expire_all()
        job = db.session.get(Job, job_id)
        assert job.status == "finished", job.error
        assert job.result["created"] >= 1
    finally:
        db.session.rollback()
        account_ids = select(GepAccount.id).where(GepAccount.version_id == version_id)
        db.session.execute(delete(GepServiceValue).where(GepServiceValue.account_id.in_(account_ids)))
        db.session.execute(delete(GepAccount).where(GepAccount.version_id == version_id))
        db.session.execute(delete(GepParameter).where(GepParameter.version_id == version_id))
        db.session.execute(delete(GepVersion).where(GepVersion.id == version_id))
        if job_id:
            db.session.execute(delete(Job).where(Job.id == job_id))
        db.session.execute(delete(Parcel).where(Parcel.id == parcel_id))
        db.session.execute(delete(Party).where(Party.id == party_id))
        delete_audit_events(db.session, (
            AuditEvent.entity_id.like(f"{code}%") | AuditEvent.entity_id.like(f"2031:{code}%")
            | ((AuditEvent.entity_type == "parcel") & (AuditEvent.entity_id == str(parcel_id)))
            | ((AuditEvent.entity_type == "party") & (AuditEvent.entity_id == str(party_id)))))
        db.session.commit()
