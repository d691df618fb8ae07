"""PostgreSQL: two regulators authorise the same producer for overlapping periods at once. The
second waits for the first's commit, then is refused (without the lock both periods were stored)."""
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from greenfin.core import services as core
from greenfin.errors import Conflict
from greenfin.extensions import db
from greenfin.uow import commit
from tests.conftest import PG_DB, make_uscc, migrated_app, reset_postgres, using_postgres
from traceability import services
from traceability.models import BrandAuthorisation

pytestmark = [pytest.mark.no_db_isolation,
              pytest.mark.skipif(not using_postgres(), reason="needs PostgreSQL and real concurrency")]


def test_overlapping_authorisations_at_once_store_one_period():
    app = migrated_app(reset_postgres(f"{PG_DB}_brand_auth_race"))
    with app.app_context():
        core.ensure_townships()
        party = core.create_party({"kind": "firm", "name": "同时授权", "uscc": make_uscc(), "township_code": "danan"})
        brand = services.create_brand({"name": "马家柚"})
        commit()
        ids = (brand.id, party.id)
        db.session.remove()
    inserted, outcome = threading.Event(), {}

    def first():
        with app.app_context():
            services.authorise_brand(*ids, date(2026, 1, 1), date(2026, 12, 31))
            inserted.set()
            threading.Event().wait(0.5)  # holds its transaction open while the second one starts
            commit()
            db.session.remove()

    thread = threading.Thread(target=first)
    thread.start()
    assert inserted.wait(30)
    with app.app_context():
        try:
            services.authorise_brand(*ids, date(2026, 6, 1), None)
            commit()
            outcome["second"] = "stored"
        except Conflict:
            db.session.rollback()
            outcome["second"] = "refused"
        thread.join()
        assert outcome["second"] == "refused"
        assert db.session.scalar(select(func.count(BrandAuthorisation.id))) == 1
        db.session.remove()
        db.engine.dispose()
