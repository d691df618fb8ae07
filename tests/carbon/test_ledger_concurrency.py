"""PostgreSQL: 8 threads transfer the same block at once, with real commits: exactly one succeeds.

The others wait on the project's chain lock, then find the block moved and are refused (409
``moved``); nothing is lost or duplicated and the ledger verifies. Real commits, so the test has a
database of its own (the shared test database stays as every other test expects it).
"""
import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from greenfin.carbon import ledger, services
from greenfin.carbon.models import CarbonBlock, CarbonEntry
from greenfin.core import services as core
from greenfin.errors import Conflict
from greenfin.extensions import db
from greenfin.uow import commit, rollback
from tests.conftest import PG_DB, make_uscc, migrated_app, reset_postgres, using_postgres

pytestmark = [pytest.mark.no_db_isolation,
              pytest.mark.skipif(not using_postgres(), reason="needs PostgreSQL row locks and real concurrency")]

THREADS = 8


def test_concurrent_transfers_of_one_block_let_exactly_one_through():
    app = migrated_app(reset_postgres(f"{PG_DB}_carbon_race"))
    with app.app_context():
        core.ensure_townships()
        tag = make_uscc()[-6:]
        parties = [core.create_party({"kind": "firm", "name": f"并发买方{tag}{i}", "uscc": make_uscc(),
                                      "township_code": "danan"}) for i in range(THREADS + 1)]
        parcel = core.create_parcel({"code": f"C-{tag}", "holder_id": parties[0].id, "township_code": "danan",
                                     "area_ha": Decimal("50"), "land_cover": "forest", "lat": Decimal("28.4"),
                                     "lon": Decimal("118.2"), "cert_type": "forest_rights", "cert_no": "林权并发"})
        project = services.create_project({
            "code": f"CC{tag}", "name": "并发项目", "method": "VM0047", "owner_id": parties[0].id,
            "crediting_start": date(2020, 1, 1), "crediting_end": date(2030, 12, 31), "parcel_ids": [parcel.id]})
        report = services.submit_report(project, {"vintage": 2024, "verified_tonnes": "500", "verifier": "v",
                                                  "document": "d"})
        services.decide_report(report, True)
        services.issue_report(report)
        commit()
        block = db.session.scalars(services.block_query(project_id=project.id, state="available")).one()
        block_id, seller, quantity, project_id = block.id, block.account_id, block.quantity, project.id
        buyer_ids = [p.id for p in parties[1:]]
        db.session.remove()

    start = threading.Barrier(THREADS)
    outcomes: list = [None] * THREADS

    def buyer(n: int) -> None:
        with app.app_context():
            try:
                start.wait()
                entry = services.transfer_units({"block_id": block_id, "quantity": quantity, "to_party_id": buyer_ids[n],
                                                 "unit_price": "15", "from_party_id": parties_owner})
                commit()
                outcomes[n] = ("ok", entry.to_account_id)
            except Conflict as exc:
                rollback()
                outcomes[n] = ("refused", exc.code)
            except BaseException as exc:  # noqa: BLE001  (reported below)
                rollback()
                outcomes[n] = ("error", repr(exc))
            finally:
                db.session.remove()

    with app.app_context():
        parties_owner = db.session.get(CarbonBlock, block_id).account.party_id
        db.session.remove()
    threads = [threading.Thread(target=buyer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(o[0] for o in outcomes) == ["ok"] + ["refused"] * (THREADS - 1), outcomes
    assert {o[1] for o in outcomes if o[0] == "refused"} == {"moved"}
    winner = next(o[1] for o in outcomes if o[0] == "ok")
    with app.app_context():
        blocks = db.session.scalars(services.block_query(project_id=project_id)).all()
        assert sum(b.quantity for b in blocks) == 500  # nothing lost or duplicated
        moved = [b for b in blocks if b.id == block_id]
        assert moved[0].account_id == winner != seller and moved[0].quantity == quantity
        transfers = db.session.scalar(select(func.count(CarbonEntry.id)).where(
            CarbonEntry.project_id == project_id, CarbonEntry.op == "transfer"))
        assert transfers == 1
        assert ledger.verify_ledger().ok
        db.session.remove()
        db.engine.dispose()
