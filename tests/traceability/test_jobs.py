"""Jobs of traceability: safe to run again after a worker was killed half-way."""
from sqlalchemy import func, select

from greenfin.job_model import Job
from greenfin.extensions import db
from greenfin.uow import commit
from greenfin.jobs import enqueue
from traceability import services
from traceability.jobs import sheet_path
from traceability.models import Label


def test_render_label_sheet_removes_a_killed_attempts_partial_file(create_lot, drain_jobs):
    lot = create_lot()
    batch = services.create_label_batch(lot, 30, "a4-3x8")
    job_id = batch.job_id = enqueue("traceability.jobs.render_label_sheet", {"batch_id": batch.id},
                                    title="labels", party_id=lot.producer_id).id
    path = sheet_path(batch.id)
    # What a worker SIGKILLed while drawing leaves behind: its half-written file, named by its pid.
    path.with_suffix(".4242.tmp").write_bytes(b"%PDF-1.4\n%")
    commit()
    drain_jobs()  # the retry
    db.session.expire_all()
    assert db.session.get(Job, job_id).status == "finished"
    assert db.session.scalar(select(func.count(Label.id)).where(Label.batch_id == batch.id)) == 30
    assert sorted(p.name for p in path.parent.glob(f"batch-{batch.id}.*")) == [path.name]
    assert path.read_bytes().startswith(b"%PDF")
