"""PostgreSQL: 8 threads post 1,000 postings each to overlapping accounts, with real commits.

Runs in a database of its own (the postings cannot be deleted afterwards: the
ledger is insert-only). Every thread also retries some of another thread's keys:
none may be lost, none duplicated, every posting has exactly one audit event
carrying its hash, and every chain must verify.
"""
import threading

import pytest
from sqlalchemy import func, select

from credit import services
from credit.models import CreditAccount, CreditPosting
from greenfin.core import services as core
from greenfin.core.models import AuditEvent
from greenfin.extensions import db
from greenfin.uow import commit, rollback
from tests.conftest import PG_DB, make_uscc, migrated_app, reset_postgres, using_postgres

pytestmark = [pytest.mark.no_db_isolation, pytest.mark.slow,
              pytest.mark.skipif(not using_postgres(), reason="needs PostgreSQL row locks and real concurrency")]

THREADS, EACH, ACCOUNTS = 8, 1000, 5


def test_concurrent_postings_are_neither_lost_nor_duplicated():
    app = migrated_app(reset_postgres(f"{PG_DB}_concurrency"))
    with app.app_context():
        core.ensure_townships()
        party_ids = [core.create_party({"kind": "firm", "name": f"并发{i}", "uscc": make_uscc(),
                                        "township_code": "danan"}).id for i in range(ACCOUNTS)]
        commit()
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def writer(thread: int) -> None:
        try:
            with app.app_context():
                start.wait()
                for n in range(EACH):
                    party_id = party_ids[(thread + n) % ACCOUNTS]
                    services.submit_posting(party_id, "FIRM_DISCLOSURE", idempotency_key=f"t{thread}-{n}",
                                            review=False)
                    commit()
                    if n % 50 == 0 and n:  # a retry of a key another thread posted (or is posting now)
                        other = (thread + 1) % THREADS
                        try:
                            services.submit_posting(party_ids[(other + n - 50) % ACCOUNTS], "FIRM_DISCLOSURE",
                                                    idempotency_key=f"t{other}-{n - 50}", review=False)
                            commit()
                        except Exception:
                            rollback()  # a unique-key race with the first writer: its posting stands
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    with app.app_context():
        total = db.session.scalar(select(func.count(CreditPosting.id)))
        keys = db.session.scalar(select(func.count(func.distinct(CreditPosting.idempotency_key))))
        assert total == keys == THREADS * EACH
        for account in db.session.scalars(select(CreditAccount)):
            assert account.posting_count == db.session.scalar(select(func.count(CreditPosting.id)).where(
                CreditPosting.account_id == account.id))
            assert account.balance == 3 * account.posting_count == services.replayed_balance(account.party_id)
        audited = sorted(tuple(row) for row in db.session.execute(
            select(AuditEvent.entity_id, AuditEvent.after["hash"].as_string())
            .where(AuditEvent.action == "credit.posting.create")))
        assert audited == sorted((str(i), h) for i, h in db.session.execute(select(CreditPosting.id, CreditPosting.hash)))
        report = services.verify_ledger()
        assert report.ok, report.problems[:3]
        assert report.postings == THREADS * EACH
        db.session.remove()
        db.engine.dispose()
