"""A Hypothesis state machine over issue / transfer / split / pledge / release / enforce / retire.

Against a model that knows every serial's holder and state: for every project and vintage,
issued = available + pledged + retired + buffer; every serial is in exactly one state with one
holder; the blocks equal a replay of the ledger and the balances agree; every chain verifies;
moves the state forbids (pledged, retired, buffer units) are refused and change nothing.
"""
from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from greenfin.carbon import ledger, services
from greenfin.carbon.models import CarbonBlock, CarbonEntry
from greenfin.core import services as core
from greenfin.errors import Conflict, ValidationFailed
from greenfin.extensions import db
from greenfin.lending import services as lending
from tests.conftest import make_uscc

HOLDERS = 3


class RegistryMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        tag = secrets.token_hex(3)
        self.parties = [core.create_party({"kind": "organisation", "name": f"持有人{tag}{i}", "uscc": make_uscc("93"),
                                           "township_code": "danan"}) for i in range(HOLDERS)]
        parcel = core.create_parcel({"code": f"F-{tag}", "holder_id": self.parties[0].id, "township_code": "danan",
                                     "area_ha": Decimal("100"), "land_cover": "forest", "lat": Decimal("28.4"),
                                     "lon": Decimal("118.2"), "cert_type": "forest_rights", "cert_no": "林权0001"})
        self.project = services.create_project({
            "code": f"SM{tag.upper()}", "name": "状态机项目", "method": "CCER-14-001-V01", "owner_id": self.parties[0].id,
            "crediting_start": date(2015, 1, 1), "crediting_end": date(2034, 12, 31), "parcel_ids": [parcel.id],
            "buffer_share": "0.10"})
        product = next(p for p in lending.seed_products() if p.kind == "carbon_pledge")
        self.applications = [lending.create_application({
            "party_id": p.id, "product_id": product.id, "amount": Decimal("200000"), "term_months": 12,
            "purpose": "碳汇林经营", "annual_income": Decimal("500000"), "total_assets": Decimal("900000"),
            "total_debts": Decimal("0"), "years_in_business": 5, "guarantors": [],
            "applied_on": date(2026, 10, 1)}).id for p in self.parties]
        self.accounts = [ledger.holder_account(p.id).id for p in self.parties]
        self.buffer = ledger.buffer_account().id
        self.lender = ledger.lender_account().id
        self.vintages: list[int] = []
        self.model: dict[tuple[int, int], tuple[int, str, object]] = {}  # (vintage, serial) -> (account, state, app)
        self.issued: dict[int, int] = {}

    # ------------------------------------------------------------ helpers

    def _blocks(self, state=None):
        return list(db.session.scalars(services.block_query(project_id=self.project.id, state=state)))

    def _set(self, entry):
        application = entry.application_id if entry.to_state == "pledged" else None
        for n in range(entry.serial_start, entry.serial_end + 1):
            self.model[(entry.vintage, n)] = (entry.to_account_id, entry.to_state, application)

    # ------------------------------------------------------------ rules

    @rule(tonnes=st.integers(1, 80), share=st.sampled_from(["0", "0.10", "0.25"]))
    def issue(self, tonnes, share):
        vintage = 2015 + len(self.vintages)
        if vintage > 2025:
            return
        self.project.buffer_share = Decimal(share)
        report = services.submit_report(self.project, {"vintage": vintage, "verified_tonnes": str(tonnes),
                                                       "verifier": "核证机构", "document": f"VR-{vintage}"})
        services.decide_report(report, True)
        services.issue_report(report)
        owner, buffer = services.split_issuance(Decimal(tonnes), Decimal(share))
        assert (report.issued_units, report.buffer_units) == (owner, buffer) and owner + buffer == tonnes
        for n in range(1, tonnes + 1):
            self.model[(vintage, n)] = (self.accounts[0], "available", None) if n <= owner else (self.buffer, "buffer", None)
        self.vintages.append(vintage)
        self.issued[vintage] = tonnes

    @rule(data=st.data())
    def transfer(self, data):
        blocks = self._blocks("available")
        if not blocks:
            return
        block = data.draw(st.sampled_from(blocks))
        quantity = data.draw(st.integers(1, block.quantity))
        holders = [p for p in self.parties if ledger.find_account(p.id) is None or ledger.find_account(p.id).id != block.account_id]
        buyer = data.draw(st.sampled_from(holders))
        entry = services.transfer_units({"block_id": block.id, "quantity": quantity, "to_party_id": buyer.id,
                                         "unit_price": data.draw(st.sampled_from(["0", "10", "15.50"]))})
        assert entry.quantity == quantity and entry.amount == (entry.unit_price * quantity).quantize(Decimal("0.01"))
        self._set(entry)

    @rule(data=st.data())
    def pledge(self, data):
        blocks = [b for b in self._blocks("available") if b.account_id in self.accounts]
        if not blocks:
            return
        block = data.draw(st.sampled_from(blocks))
        application = self.applications[self.accounts.index(block.account_id)]
        entry = services.pledge_units({"block_id": block.id, "quantity": data.draw(st.integers(1, block.quantity)),
                                       "application_id": application})
        self._set(entry)

    @rule(data=st.data(), enforce=st.booleans())
    def release_or_enforce(self, data, enforce):
        blocks = self._blocks("pledged")
        if not blocks:
            return
        block = data.draw(st.sampled_from(blocks))
        entry = (services.enforce_units if enforce else services.release_units)(block.id)
        assert entry.to_account_id == (self.lender if enforce else block.account_id)
        self._set(entry)

    @rule(data=st.data())
    def retire(self, data):
        blocks = self._blocks("available")
        if not blocks:
            return
        block = data.draw(st.sampled_from(blocks))
        entry = services.retire_units({"block_id": block.id, "quantity": data.draw(st.integers(1, block.quantity)),
                                       "beneficiary": "广丰区马拉松赛事", "purpose": "抵消赛事排放"})
        self._set(entry)

    @rule(data=st.data())
    def refused_moves_change_nothing(self, data):
        blocks = [b for b in self._blocks() if b.state in ("pledged", "retired", "buffer")]
        if not blocks:
            return
        block = data.draw(st.sampled_from(blocks))
        before = db.session.scalar(select(func.count(CarbonEntry.id)))
        attempt = data.draw(st.sampled_from(["transfer", "retire", "pledge"]))
        with pytest.raises((Conflict, ValidationFailed)):
            if attempt == "transfer":
                services.transfer_units({"block_id": block.id, "quantity": 1, "to_party_id": self.parties[2].id,
                                         "unit_price": "1"})
            elif attempt == "retire":
                services.retire_units({"block_id": block.id, "quantity": 1, "beneficiary": "x", "purpose": "y"})
            else:
                services.pledge_units({"block_id": block.id, "quantity": 1, "application_id": self.applications[0]})
        assert db.session.scalar(select(func.count(CarbonEntry.id))) == before

    # ------------------------------------------------------------ invariants

    @invariant()
    def totals_add_up(self):
        for row in services.totals(self.project.id):
            assert row["issued"] == self.issued[row["vintage"]]
            assert row["issued"] == row["available"] + row["pledged"] + row["retired"] + row["buffer"]

    @invariant()
    def every_serial_has_one_holder_and_state(self):
        seen = {}
        for block in self._blocks():
            for n in range(block.serial_start, block.serial_end + 1):
                assert (block.vintage, n) not in seen, "two blocks hold one serial"
                seen[(block.vintage, n)] = (block.account_id, block.state, block.application_id)
        assert seen == self.model

    @invariant()
    def blocks_and_balances_equal_a_replay(self):
        entries = db.session.scalars(select(CarbonEntry).where(CarbonEntry.project_id == self.project.id)
                                     .order_by(CarbonEntry.seq)).all()
        replayed = ledger.replay(entries)
        stored = {(b.project_id, b.vintage, b.serial_start): (b.serial_end, b.account_id, b.state, b.application_id)
                  for b in self._blocks()}
        assert stored == replayed
        balances: dict[int, dict[str, int]] = {}
        for (_p, _v, start), (end, account, state, _a) in replayed.items():
            balances.setdefault(account, {}).setdefault(state, 0)
            balances[account][state] += end - start + 1
        assert services.balances(self.project.id) == balances

    def teardown(self):
        report = services.verify_ledger()
        assert report.ok, report.problems


@pytest.mark.slow
def test_registry_state_machine(app, products):
    settings_ = settings(max_examples=10, stateful_step_count=20, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    run_state_machine_as_test(RegistryMachine, settings=settings_)
    assert db.session.scalar(select(func.count(CarbonBlock.id))) > 0
