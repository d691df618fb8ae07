"""The seeded demo registry: Sanming's figures, a pledge in the demo pool, a public certificate."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from greenfin.carbon import services
from greenfin.carbon.models import CarbonEntry
from greenfin.extensions import db
from greenfin.lending import services as lending
from greenfin.pools import services as pools
from greenfin.pools.models import Pool

pytestmark = [pytest.mark.no_db_isolation, pytest.mark.slow]


def test_demo_sale_reserve_pledge_and_certificate(demo_app):
    with demo_app.app_context():
        project = services.get_project_by_code("GCF01")
        transfers = db.session.scalars(select(CarbonEntry).where(CarbonEntry.project_id == project.id,
                                                                 CarbonEntry.op == "transfer")
                                       .order_by(CarbonEntry.seq)).all()
        sale, reserve = transfers
        assert (sale.quantity, sale.unit_price, sale.amount) == (2723, Decimal("15.00"), Decimal("40845.00"))
        assert (reserve.quantity, reserve.amount) == (10000, Decimal("100000.00"))
        rows = {r["vintage"]: r for r in services.totals(project.id)}
        assert rows[2024]["issued"] == 14137 and rows[2024]["buffer"] == 1414
        assert rows[2025]["pledged"] == 8000
        pledge = db.session.scalar(select(CarbonEntry).where(CarbonEntry.op == "pledge"))
        brief = lending.application_brief(pledge.application_id)
        assert brief["product_code"] == "CARBON-SINK" and brief["loan_id"] is not None
        retirement = db.session.scalar(select(CarbonEntry).where(CarbonEntry.op == "retire"))
        assert services.verify_ledger().ok
        loan_id, retirement_id = brief["loan_id"], retirement.id
        pool = db.session.scalar(select(Pool).where(Pool.code == "GF-GREEN-2026-1"))
        assert loan_id in {m.loan_id for m in pools.live_memberships(pool)}
        db.session.remove()
    client = demo_app.test_client()
    page = client.get(f"/disclosure/carbon/retirements/{retirement_id}")
    assert page.status_code == 200 and len(page.data) < 100_000 and re.search(rb"<script(?![^>]*\bsrc=)", page.data) is None
