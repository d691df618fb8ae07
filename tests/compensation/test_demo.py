"""The demo district: its ΔGEP split adds up to the stored accounts, its runs to their budgets."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select


@pytest.mark.no_db_isolation
def test_demo_split_and_runs_add_up(demo_app):
    from greenfin.compensation import services
    from greenfin.extensions import db
    from greenfin.gep.models import GepAccount

    with demo_app.app_context():
        report = services.gep_change(2024, 2025)
        stored = {y: db.session.scalar(select(func.sum(GepAccount.total)).where(GepAccount.year == y))
                  for y in (2024, 2025)}
        total = report.total
        assert total.quantity + total.price == total.total == stored[2025] - stored[2024]
        assert report.by_service()["carbon_sequestration"].price < 0  # 97.5 → 72 CNY/t reads as price
        runs = {r.scheme.code: r for r in db.session.scalars(services.run_query())}
        budget = runs["GF-TP-2025"]
        assert budget.approved and sum(a.amount for a in budget.allocations) == Decimal("50000000.00")
        assert runs["GF-FENGXI"].status == "draft" and len(runs["GF-FENGXI"].allocations[0].sources["monitoring"]) == 36
        assert services.scores(2025) and services.indicator_tree()
