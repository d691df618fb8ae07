"""The database itself refuses what the application would refuse, and ``verify`` names the first broken row."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from greenfin.carbon import services
from greenfin.carbon.models import CarbonEntry
from greenfin.extensions import db
from tests.conftest import using_postgres


@pytest.fixture
def pledged(issued_project, create_application):
    project, block, _buffer = issued_project(tonnes="1000")
    application = create_application(kind="carbon_pledge", party=project.owner, amount=200000)
    entry = services.pledge_units({"block_id": block.id, "quantity": 400, "application_id": application.id})
    db.session.commit()
    pledged_block = db.session.scalars(services.block_query(project_id=project.id, state="pledged")).one()
    return project, pledged_block, entry


def _refused(statement: str, **params) -> str:
    with pytest.raises(DBAPIError) as refused:
        with db.session.begin_nested():
            db.session.execute(text(statement), params)
    return str(refused.value.orig)


def test_a_pledged_block_cannot_be_handed_over_behind_the_applications_back(pledged, create_party):
    _project, block, _entry = pledged
    message = _refused("UPDATE carbon_blocks SET account_id = account_id + 1 WHERE id = :id", id=block.id)
    assert "carbon_blocks" in message
    message = _refused("UPDATE carbon_blocks SET state = 'available', application_id = NULL WHERE id = :id", id=block.id)
    assert "carbon_blocks" in message
    assert "never deleted" in _refused("DELETE FROM carbon_blocks WHERE id = :id", id=block.id)


def test_a_ledger_entry_moving_pledged_units_is_refused_by_the_database(pledged):
    project, block, entry = pledged
    for op, state in (("transfer", "available"), ("retire", "retired")):
        message = _refused(
            "INSERT INTO carbon_entries (project_id, seq, op, vintage, serial_start, serial_end, quantity, "
            "source_block_id, from_account_id, to_account_id, to_state, recorded_at, actor, prev_hash, hash) "
            "VALUES (:p, :seq, :op, :v, :s, :e, :q, :b, :a, :a, :state, CURRENT_TIMESTAMP, 'rogue', :prev, :prev)",
            p=project.id, seq=project.entry_count + 1, op=op, v=block.vintage, s=block.serial_start,
            e=block.serial_end, q=block.quantity, b=block.id, a=block.account_id, state=state,
            prev=project.last_hash)
        assert "cannot move" in message


def test_ledger_entries_are_insert_only(pledged):
    _project, _block, entry = pledged
    assert "insert-only" in _refused("UPDATE carbon_entries SET amount = 1 WHERE id = :id", id=entry.id)
    assert "insert-only" in _refused("DELETE FROM carbon_entries WHERE id = :id", id=entry.id)


def test_verify_names_the_first_altered_entry(pledged):
    project, _block, entry = pledged
    assert services.verify_ledger().ok
    first = db.session.scalars(db.select(CarbonEntry).where(CarbonEntry.project_id == project.id)
                               .order_by(CarbonEntry.seq)).first()
    with db.session.begin_nested():
        if using_postgres():
            db.session.execute(text("SET LOCAL session_replication_role = replica"))
            db.session.execute(text("UPDATE carbon_entries SET actor = 'forger' WHERE id = :id"), {"id": first.id})
            db.session.execute(text("SET LOCAL session_replication_role = origin"))
        else:
            db.session.execute(text("DROP TRIGGER carbon_entries_no_update"))
            db.session.execute(text("UPDATE carbon_entries SET actor = 'forger' WHERE id = :id"), {"id": first.id})
    db.session.expire_all()
    report = services.verify_ledger()
    assert not report.ok
    assert report.first_broken_entry_id == first.id
    assert f"entry {first.id}: content does not match its hash" in report.problems[0]
