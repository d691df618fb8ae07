"""A Hypothesis state machine over make_offer / withdraw / place / confirm / ship / receive / cancel on
one lot, against a model of every offer and order.

Invariants: what orders reserve (placed, confirmed, shipped) plus what they delivered (received)
plus what open offers still hold never exceeds the lot's quantity; each offer's ``available`` and
each order's status equal the model's; a move the state forbids (confirming a shipped order,
cancelling after shipping, ordering more than is left) is refused and changes nothing.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from greenfin.dates import today as business_today
from greenfin.errors import Conflict, ValidationFailed
from greenfin.extensions import db
from greenfin.market import services
from traceability import services as trace

TODAY = business_today()
LOT = Decimal("100")
quantities = st.integers(min_value=1, max_value=70).map(Decimal)


@pytest.mark.slow
def test_order_state_machine(app, create_lot, create_buyer, issue_labels):
    class OrderMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.lot = create_lot(quantity=LOT)
            self.serials = [s for _u, s in trace.iter_batch_labels(issue_labels(self.lot, count=3))]
            self.buyers = [create_buyer().id, create_buyer(kind="retailer", public=False).id]
            self.offers: dict[int, list] = {}  # id -> [status, available]
            self.orders: dict[int, list] = {}  # id -> [status, quantity, offer id]

        def _attempt(self, verb, *args, **kwargs):
            """Run a verb as a unit of work: refused, it leaves nothing behind."""
            savepoint = db.session.begin_nested()
            try:
                result = verb(*args, **kwargs)
            except (Conflict, ValidationFailed):
                savepoint.rollback()
                return None
            savepoint.commit()
            return result

        def _held(self) -> Decimal:
            return sum((o[1] for o in self.orders.values() if o[0] != "cancelled"), Decimal(0))

        def _on_offer(self) -> Decimal:
            return sum((o[1] for o in self.offers.values() if o[0] == "open"), Decimal(0))

        @rule(quantity=quantities, price=st.integers(min_value=1, max_value=30))
        def make_offer(self, quantity, price):
            offer = self._attempt(services.make_offer, {
                "lot_id": self.lot.id, "quantity": quantity, "unit_price": Decimal(price), "delivery_from": TODAY,
                "delivery_until": TODAY + timedelta(days=5), "certification_kinds": []})
            fits = quantity <= LOT - self._held() - self._on_offer()
            assert (offer is not None) == fits
            if offer is not None:
                self.offers[offer.id] = ["open", quantity]

        @precondition(lambda self: self.offers)
        @rule(data=st.data())
        def withdraw(self, data):
            offer_id = data.draw(st.sampled_from(sorted(self.offers)))
            done = self._attempt(services.withdraw_offer, services.get_offer(offer_id), "调整")
            assert (done is not None) == (self.offers[offer_id][0] == "open")
            self.offers[offer_id] = ["withdrawn", Decimal(0)]

        @precondition(lambda self: self.offers)
        @rule(data=st.data(), quantity=quantities)
        def place(self, data, quantity):
            offer_id = data.draw(st.sampled_from(sorted(self.offers)))
            buyer = data.draw(st.sampled_from(self.buyers))
            order = self._attempt(services.place_order, {"offer_id": offer_id, "quantity": quantity}, scope=buyer)
            status, available = self.offers[offer_id]
            assert (order is not None) == (status == "open" and quantity <= available)
            if order is not None:
                self.offers[offer_id][1] -= quantity
                self.orders[order.id] = ["placed", quantity, offer_id]

        def _step(self, data, verb, allowed, after, *args):
            order_id = data.draw(st.sampled_from(sorted(self.orders)))
            before = self.orders[order_id][0]
            done = self._attempt(verb, services.get_order(order_id), *args)
            assert (done is not None) == (before in allowed), (verb.__name__, before)
            if done is not None:
                self.orders[order_id][0] = after
            return order_id, before, done

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def confirm(self, data):
            self._step(data, services.confirm_order, ("placed",), "confirmed")

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def ship(self, data):
            self._step(data, services.ship_order, ("confirmed",), "shipped")

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def receive(self, data):
            self._step(data, services.receive_order, ("shipped",), "received", self.serials[:2])

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def cancel(self, data):
            order_id, before, done = self._step(data, services.cancel_order, ("placed", "confirmed"), "cancelled",
                                                "计划变更")
            if done is not None:
                _s, quantity, offer_id = self.orders[order_id]
                if self.offers[offer_id][0] == "open":
                    self.offers[offer_id][1] += quantity

        @invariant()
        def never_oversold(self):
            position = services.lot_position(self.lot.id)
            assert position["reserved"] + position["delivered"] + position["on_offer"] <= LOT
            assert position["reserved"] + position["delivered"] == self._held()
            assert position["on_offer"] == self._on_offer()

        @invariant()
        def rows_equal_the_model(self):
            for offer_id, (status, available) in self.offers.items():
                offer = services.get_offer(offer_id)
                assert (offer.status, offer.available) == (status, available)
            for order_id, (status, quantity, _o) in self.orders.items():
                order = services.get_order(order_id)
                assert (order.status, order.quantity) == (status, quantity)

    settings_ = settings(max_examples=15, stateful_step_count=25, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    run_state_machine_as_test(OrderMachine, settings=settings_)
