"""PostgreSQL: the function ``carbon_move_units`` (migration carbon_0004) and the Python path agree.

The same operations run twice from the same starting point, once through ``ledger.move``'s Python
path and once through the function, with the clock and the id sequences reset in between: the
ledger rows (hashes included), the blocks, the project's chain head, the audit events, what the
service verbs return and the errors they raise must be identical.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from greenfin.carbon import ledger, services
from greenfin.carbon.models import CarbonBlock, CarbonEntry, CarbonProject
from greenfin.core.models import AuditEvent
from greenfin.errors import Conflict, NotFound, ValidationFailed
from greenfin.extensions import db
from tests.conftest import using_postgres

pytestmark = pytest.mark.skipif(not using_postgres(), reason="the function exists on PostgreSQL only")

SEQUENCES = ("carbon_entries_id_seq", "carbon_blocks_id_seq", "carbon_accounts_id_seq", "audit_events_id_seq")
CLOCK = datetime(2026, 12, 7, 6, 30, 15, 123456, tzinfo=timezone.utc)


def _columns(model, row) -> tuple:
    return tuple(getattr(row, c.key) for c in model.__table__.columns)


def _state(project_id: int, audit_from: int) -> dict:
    """Everything the operations may have written, as plain values."""
    db.session.flush()
    entries = db.session.execute(select(*CarbonEntry.__table__.columns).where(CarbonEntry.project_id == project_id)
                                 .order_by(CarbonEntry.seq)).all()
    blocks = db.session.execute(select(*CarbonBlock.__table__.columns).where(CarbonBlock.project_id == project_id)
                                .order_by(CarbonBlock.id)).all()
    head = db.session.execute(select(CarbonProject.entry_count, CarbonProject.last_hash)
                              .where(CarbonProject.id == project_id)).one()
    audit = db.session.execute(select(AuditEvent.actor_id, AuditEvent.actor_label, AuditEvent.action,
                                      AuditEvent.entity_type, AuditEvent.entity_id, AuditEvent.party_id,
                                      AuditEvent.before, AuditEvent.after, AuditEvent.request_id)
                               .where(AuditEvent.id > audit_from, AuditEvent.action.like("carbon.units.%"))
                               .order_by(AuditEvent.id)).all()
    return {"entries": [tuple(r) for r in entries], "blocks": [tuple(r) for r in blocks], "head": tuple(head),
            "audit": [tuple(r) for r in audit]}


def _outcome(call) -> tuple:
    """What a service verb returned (the entry and the block it produced, as the session sees them) or raised."""
    try:
        entry = call()
    except (Conflict, NotFound, ValidationFailed) as refused:
        return ("refused", type(refused).__name__, getattr(refused, "code", None), str(refused),
                getattr(refused, "errors", None))
    result = getattr(entry, "result_block", None)
    return ("ok", _columns(CarbonEntry, entry), entry.project.code, ledger.entry_serial(entry),
            None if result is None else (_columns(CarbonBlock, result), result.account.party_id,
                                         ledger.block_serial(result)))


def _run_twice(monkeypatch, project_id: int, script) -> tuple:
    """Run ``script`` through the Python path, roll back, reset the sequences, run it through the function."""
    monkeypatch.setattr(ledger, "utcnow", lambda: CLOCK)
    start = {name: db.session.scalar(text(f"SELECT last_value FROM {name}")) for name in SEQUENCES}
    audit_from = db.session.scalar(select(db.func.coalesce(db.func.max(AuditEvent.id), 0)))
    runs = []
    for path in ("python", "function"):
        monkeypatch.setattr(ledger, "IN_DATABASE", () if path == "python" else ("transfer", "retire"))
        for name, value in start.items():
            db.session.execute(text(f"SELECT setval('{name}', {value})"))
        nested = db.session.begin_nested()
        outcomes = script()
        runs.append((outcomes, _state(project_id, audit_from)))
        nested.rollback()
        db.session.expire_all()
    return runs[0], runs[1]


def test_function_and_python_path_write_the_same_ledger(monkeypatch, issued_project, create_party):
    project, block, buffer_block = issued_project(tonnes="1000")
    project_id, block_id, buffer_id, owner_id = project.id, block.id, buffer_block.id, project.owner_id
    buyers = [create_party(name=f"买方{i}\"引号\\n").id for i in range(3)]
    db.session.commit()
    calls = {"function": 0}
    real = ledger._move_in_database

    def counted(*args, **kwargs):
        calls["function"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(ledger, "_move_in_database", counted)

    def script() -> list:
        out = []
        t = services.transfer_units
        out.append(_outcome(lambda: t({"block_id": block_id, "quantity": 300, "to_party_id": buyers[0],
                                       "unit_price": "15.555", "note": "第一笔 \"转让\"\n\t", "from_party_id": owner_id})))
        split = out[-1][4][0][0]  # the new block's id
        out.append(_outcome(lambda: t({"block_id": split, "quantity": 300, "to_party_id": buyers[1],
                                       "unit_price": "0"})))
        out.append(_outcome(lambda: t({"block_id": split, "quantity": 1, "to_party_id": buyers[2],
                                       "unit_price": "9.99", "from_party_id": buyers[0]})))  # moved away
        out.append(_outcome(lambda: t({"block_id": block_id, "quantity": 601, "to_party_id": buyers[1],
                                       "unit_price": "1"})))  # more than the block holds
        out.append(_outcome(lambda: t({"block_id": buffer_id, "quantity": 1, "to_party_id": buyers[1],
                                       "unit_price": "1"})))  # buffer units
        out.append(_outcome(lambda: t({"block_id": block_id, "quantity": 1, "to_party_id": buyers[2],
                                       "unit_price": "12"}, idempotency_key="k-fn-1")))
        out.append(_outcome(lambda: t({"block_id": block_id, "quantity": 1, "to_party_id": buyers[2],
                                       "unit_price": "12"}, idempotency_key="k-fn-1")))  # replay
        out.append(_outcome(lambda: t({"block_id": block_id, "quantity": 2, "to_party_id": buyers[2],
                                       "unit_price": "12"}, idempotency_key="k-fn-1")))  # same key, other content
        out.append(_outcome(lambda: services.retire_units({
            "block_id": split, "quantity": 100, "beneficiary": "广丰区2025年马拉松", "purpose": "赛事碳中和",
            "from_party_id": buyers[1]})))
        out.append(_outcome(lambda: services.retire_units({
            "block_id": split, "quantity": 200, "beneficiary": "某企业", "purpose": "抵消排放",
            "beneficiary_party_id": buyers[1]})))  # the rest: a whole-block retirement
        out.append(_outcome(lambda: t({"block_id": split, "quantity": 1, "to_party_id": buyers[0],
                                       "unit_price": "1"})))  # retired units never move
        out.append(_outcome(lambda: t({"block_id": block_id, "quantity": 599, "to_party_id": buyers[0],
                                       "unit_price": "3.5"})))  # the whole rest of the owner's block
        return out

    python, function = _run_twice(monkeypatch, project_id, script)
    assert calls["function"] > 0
    assert [o[0] for o in python[0]] == ["ok", "ok", "refused", "refused", "refused", "ok", "ok", "refused", "ok",
                                         "ok", "refused", "ok"]
    for theirs, ours in zip(python[0], function[0]):
        assert ours == theirs
    for name in python[1]:
        assert function[1][name] == python[1][name], name
    assert len(python[1]["entries"]) == 2 + 6 and len(python[1]["audit"]) == 6


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(moves=st.lists(st.tuples(st.integers(0, 3), st.integers(1, 700), st.integers(0, 2), st.booleans(),
                                st.booleans()), min_size=1, max_size=12))
def test_any_sequence_of_moves_gives_the_same_rows_either_way(monkeypatch_session, moves):
    """Random transfers and retirements (of any block, any quantity, believed holder or not) agree."""
    monkeypatch, project_id, block_ids, buyers = monkeypatch_session

    def script() -> list:
        live = list(block_ids)
        out = []
        for pick, quantity, buyer, retire, name_holder in moves:
            block_id = live[pick % len(live)]
            holder = buyers[(buyer + 1) % 3] if name_holder else None
            if retire:
                call = lambda: services.retire_units({"block_id": block_id, "quantity": quantity, "beneficiary": "b",
                                                      "purpose": "p", "from_party_id": holder})  # noqa: E731
            else:
                call = lambda: services.transfer_units({"block_id": block_id, "quantity": quantity,  # noqa: E731
                                                        "to_party_id": buyers[buyer], "unit_price": "7.25",
                                                        "from_party_id": holder})
            out.append(_outcome(call))
            if out[-1][0] == "ok" and out[-1][4][0][0] not in live:
                live.append(out[-1][4][0][0])
        return out

    python, function = _run_twice(monkeypatch, project_id, script)
    assert function == python


@pytest.fixture
def monkeypatch_session(issued_project, create_party):
    """One registry for every Hypothesis example (each example's writes are rolled back)."""
    project, block, buffer_block = issued_project(tonnes="1000")
    buyers = [create_party(name=f"随机买方{i}").id for i in range(3)]
    first = services.transfer_units({"block_id": block.id, "quantity": 400, "to_party_id": buyers[0],
                                     "unit_price": "10"})
    ids = (project.id, [block.id, first.result_block.id, buffer_block.id], buyers)
    db.session.commit()
    with pytest.MonkeyPatch.context() as patch:
        yield (patch, *ids)
