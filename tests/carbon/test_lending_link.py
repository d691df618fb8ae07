"""Carbon units as CARBON-SINK collateral: coverage follows the pledged tonnes, the same forest
cannot secure two loans, a repaid loan releases its units and a defaulted one passes them to the lender."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from greenfin import signals
from greenfin.carbon import services
from greenfin.errors import ValidationFailed
from greenfin.extensions import db
from greenfin.lending import services as lending


def _pledge(block, quantity, application):
    return services.pledge_units({"block_id": block.id, "quantity": quantity, "application_id": application.id})


def test_coverage_changes_when_the_pledged_tonnes_change(issued_project, create_application):
    project, block, _buffer = issued_project(tonnes="5000")
    app = create_application(kind="carbon_pledge", party=project.owner, amount=Decimal("100000"))
    assert lending.collateral_summary(app)["coverage"] == Decimal("0")
    _pledge(block, 1000, app)
    summary = lending.collateral_summary(app)
    assert summary["carbon_tonnes"] == 1000 and summary["lendable"] == Decimal("50400.00")  # 1000 x 72 x 0.7
    assert summary["coverage"] == Decimal("0.5040") and summary["carbon_price_source"]
    assert any(r["code"] == "P08_CARBON_COVER" for r in lending.policy_rules(app, None))
    _pledge(db.session.get(type(block), block.id), 1000, app)
    assert lending.collateral_summary(app)["coverage"] == Decimal("1.0080")
    assert not any(r["code"] == "P08_CARBON_COVER" for r in lending.policy_rules(app, None))
    first = db.session.scalars(services.block_query(application_id=app.id)).first()
    services.release_units(first.id, "部分解押")
    assert lending.collateral_summary(app)["coverage"] == Decimal("0.5040")


def test_the_carbon_product_takes_tonnes_not_land_and_a_pledged_forest_takes_no_mortgage(
        issued_project, create_application, create_parcel):
    project, block, _buffer = issued_project()
    carbon_app = create_application(kind="carbon_pledge", party=project.owner, amount=Decimal("100000"))
    other = create_parcel(holder_id=project.owner.id, land_cover="forest", cert_type="forest_rights")
    with pytest.raises(ValidationFailed) as refused:
        lending.add_collateral(carbon_app, {"parcel_id": other.id, "appraised_value": "500000"})
    assert "carbon registry" in refused.value.errors["parcel_id"][0]
    _pledge(block, 100, carbon_app)
    mortgage = create_application(kind="forest_mortgage", party=project.owner, amount=Decimal("100000"))
    with pytest.raises(ValidationFailed) as refused:
        lending.add_collateral(mortgage, {"parcel_id": project.parcels[0].parcel_id, "appraised_value": "900000"})
    assert "cannot secure a second loan" in refused.value.errors["parcel_id"][0]


def _booked(create_application, project, block, monkeypatch):
    monkeypatch.setattr(lending, "APPROVE_AT", 0)
    monkeypatch.setattr(lending, "REFER_AT", 0)
    app = create_application(kind="carbon_pledge", party=project.owner, amount=Decimal("100000"), term_months=12)
    _pledge(block, 2000, app)
    lending.decide_application(app)
    assert app.status == "approved", [r["code"] for r in lending.policy_rules(app, None)]
    loan = lending.book_loan(app, date(2026, 1, 10))
    assert loan.collateral_value == Decimal("100800.00")
    return loan


def test_a_repaid_loan_releases_its_units(issued_project, create_application, champion, monkeypatch):
    project, block, _buffer = issued_project(tonnes="5000")
    loan = _booked(create_application, project, block, monkeypatch)
    lending.record_repayment(loan, sum((i.total_due for i in loan.instalments), Decimal("0")), date(2026, 2, 1))
    assert loan.status == "repaid"
    rows = services.totals(project.id)[0]
    assert rows["pledged"] == 0 and rows["available"] == 4500
    release = db.session.scalars(services.entry_query(project_id=project.id, op="release")).one()
    assert release.loan_id is None and release.application_id == loan.application_id


def test_a_defaulted_loan_passes_its_units_to_the_lender(issued_project, create_application, champion, monkeypatch):
    project, block, _buffer = issued_project(tonnes="5000")
    loan = _booked(create_application, project, block, monkeypatch)
    signals.announce(signals.loan_defaulted, entity_type="loan", entity_id=loan.id, party_id=loan.party_id,
                     loan_id=loan.id, defaulted_on=date(2026, 6, 1), evidence={"loan": loan.number})
    enforced = db.session.scalars(services.entry_query(project_id=project.id, op="enforce")).one()
    assert enforced.quantity == 2000 and enforced.to_account.kind == "lender"
    assert services.totals(project.id)[0]["pledged"] == 0
    assert services.verify_ledger().ok


def test_pool_cut_tape_carries_the_pledged_tonnes_and_their_value(issued_project, create_application, champion,
                                                                    monkeypatch, create_pool):
    from greenfin.pools import cuts, tape
    from greenfin.pools import services as pools

    project, block, _buffer = issued_project(tonnes="5000")
    loan = _booked(create_application, project, block, monkeypatch)
    pool = create_pool(criteria={"performing": False, "zero_dpd": False, "green_tagged": False,
                                 "min_remaining_term": 0, "max_obligor_share": "1", "max_township_share": "1"})
    pools.add_loans(pool, [loan.id], "碳票质押贷款", date(2026, 2, 1), as_of=date(2026, 2, 1))
    cut = cuts.take_cut(pool, date(2026, 2, 1), None, None, publish=True)
    [row] = tape.read_loan_tape(cuts.tape_csv(cut))
    assert row["Pledged Carbon Units (tCO2e)"] == "2000"
    assert row["Pledged Carbon Value"] == "144000.00"  # 2,000 t x 72 CNY
    assert row["Collateral Type"] == "carbon_units"


def test_a_block_bought_whole_can_be_pledged_by_its_buyer_in_the_same_session(issued_project, create_party,
                                                                             create_application):
    """The block object read before the transfer answers with its new holder (CI stop 26 found it stale)."""
    project, block, _buffer = issued_project(tonnes="100")
    buyer = create_party(kind="organisation", name="碳汇收储公司")
    services.transfer_units({"block_id": block.id, "quantity": block.quantity, "to_party_id": buyer.id,
                             "unit_price": "60"})
    assert block.account.party_id == buyer.id
    app = create_application(kind="carbon_pledge", party=buyer, amount=Decimal("100000"))
    entry = _pledge(block, 10, app)
    assert entry.to_state == "pledged" and entry.application_id == app.id
