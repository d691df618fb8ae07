"""greenfin/uow.py: a view's error answer rolls its work back, unless the view keeps that status."""
import pytest
from sqlalchemy import func, select

from greenfin.core.models import AuditEvent
from greenfin.core.services import record_audit
from greenfin.extensions import db
from greenfin.uow import keep_work_on, unit_of_work


def audited(action: str) -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))


def answering(status: int, action: str):
    def view():
        record_audit(action, "test", 1)
        return "", status

    return view


@pytest.mark.parametrize("status, kept, stays", [
    (200, (), True),      # a success commits
    (404, (), False),     # an error answer rolls back
    (404, (404,), True),  # ... unless the view keeps its 404 answers
    (400, (404,), False),  # ... and only those
])
def test_unit_of_work_keeps_work_of_kept_statuses_only(app, status, kept, stays):
    action = f"test.uow.{status}.{'-'.join(map(str, kept)) or 'none'}"
    view = answering(status, action)
    if kept:
        view = keep_work_on(*kept)(view)
    with app.test_request_context("/anything"):
        assert unit_of_work(view)().status_code == status
    db.session.rollback()  # whatever was not committed is gone
    assert audited(action) == (1 if stays else 0)
