"""The unit ledger through its service verbs: issuance with a buffer, transfer and split, refusals."""
from __future__ import annotations

from decimal import Decimal

import pytest

from credit.models import CreditPosting
from greenfin.carbon import services
from greenfin.errors import Conflict, ValidationFailed
from greenfin.extensions import db


def test_issue_holds_back_the_buffer_share_rounded_up(issued_project):
    project, owner_block, buffer_block = issued_project(tonnes="14137.6")
    assert owner_block.quantity == 12723 and buffer_block.quantity == 1414
    assert services.block_serial(owner_block) == f"GF-{project.code}-2024-00000001-00012723"
    assert buffer_block.serial_start == 12724
    [row] = services.totals(project.id)
    assert row["issued"] == 14137 and row["available"] == 12723 and row["buffer"] == 1414
    assert services.verify_ledger().ok


def test_transfer_splits_a_block_and_records_price_and_buyer(issued_project, create_party):
    project, block, _buffer = issued_project(tonnes="12723")
    buyer = create_party(name="广丰区生态产品储备公司")
    entry = services.transfer_units({"block_id": block.id, "quantity": 2723, "to_party_id": buyer.id,
                                     "unit_price": "15"})
    assert entry.amount == Decimal("40845.00") and entry.counterparty == buyer.name
    assert (entry.serial_start, entry.serial_end) == (1, 2723)
    db.session.refresh(block)
    assert block.serial_start == 2724
    report = services.verify_ledger()
    assert report.ok, report.problems


def test_pledged_or_buffer_units_cannot_be_transferred(issued_project, create_party):
    _project, _block, buffer_block = issued_project()
    with pytest.raises(Conflict) as refused:
        services.transfer_units({"block_id": buffer_block.id, "quantity": 1, "to_party_id": create_party().id,
                                 "unit_price": "10"})
    assert refused.value.code == "units_buffer"


def test_bad_transfer_names_each_field(issued_project):
    _project, block, _buffer = issued_project()
    with pytest.raises(ValidationFailed) as refused:
        services.transfer_units({"block_id": block.id, "quantity": 0, "to_party_id": 999999, "unit_price": "x"})
    assert set(refused.value.errors) == {"quantity", "to_party_id", "unit_price"}


def test_retiring_for_ones_own_emissions_posts_eco_credit_points(issued_project):
    project, block, _buffer = issued_project()
    entry = services.retire_units({"block_id": block.id, "quantity": 100, "beneficiary": project.owner.name,
                                   "beneficiary_party_id": project.owner_id, "purpose": "抵消2025年办公排放"})
    posting = db.session.scalar(db.select(CreditPosting).where(CreditPosting.source == "carbon.retirement",
                                                               CreditPosting.source_id == str(entry.id)))
    assert posting is not None and posting.rule_code == "CARBON_OFFSET_RETIRED" and posting.points == 5
    assert posting.party_id == project.owner_id


def test_an_issued_vintage_posts_eco_credit_points_to_the_owner(issued_project):
    project, _block, _buffer = issued_project()
    posting = db.session.scalar(db.select(CreditPosting).where(CreditPosting.source == "carbon.report",
                                                               CreditPosting.party_id == project.owner_id))
    assert posting is not None and posting.rule_code == "CARBON_PROJECT_VERIFIED" and posting.points == 3
