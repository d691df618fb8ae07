"""Lending fixtures: products, a registered champion, applications; seams faked and recorded."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from contextlib import ExitStack
from functools import lru_cache

import pytest

from greenfin import signals
from greenfin.extensions import db
from greenfin.lending import links, services
from greenfin.lending.scoring import modelling
from greenfin.lending.scoring.scorecard import train
from greenfin.lending.synthetic import generate_book


@lru_cache(maxsize=1)
def trained():
    return train(generate_book(4000, seed=7), "defaulted")


@pytest.fixture
def seams(app, monkeypatch):
    """Fake eco-credit colours and GEP per id; collect what servicing announces.

    ``announced`` holds (signal name, keyword arguments) of every ``loan_repaid`` and
    ``loan_defaulted``, in order, as a subscribed package would receive them.
    """

    class Seams:
        colours: dict = {}
        gep: dict = {}
        announced: list = []

    state = Seams()
    state.colours, state.gep, state.announced = {}, {}, []
    monkeypatch.setattr(links, "current_colour", lambda party_id: state.colours.get(party_id))
    monkeypatch.setattr(links, "parcel_gep", lambda parcel_id: (
        links.ParcelGep(Decimal(state.gep[parcel_id]), 1, 2025) if parcel_id in state.gep else None))

    def recorder(name):
        def receive(sender, **data):
            state.announced.append((name, data))
        return receive

    with ExitStack() as stack:
        for signal in (signals.loan_repaid, signals.loan_defaulted):
            stack.enter_context(signal.connected_to(recorder(signal.name), app))
        yield state


@pytest.fixture
def products():
    result = {p.kind: p for p in services.seed_products()}
    db.session.commit()
    return result


@pytest.fixture
def champion(products):
    model = modelling.register_model(trained(), name="test", target="defaulted", bad_value=None, role="champion")
    db.session.commit()
    return model


@pytest.fixture
def create_application(products, create_party):
    def factory(kind="eco_credit", party=None, **overrides):
        party = party or create_party()
        data = {"party_id": party.id, "product_id": products[kind].id, "amount": Decimal("40000"), "term_months": 12,
                "purpose": "果园施肥", "annual_income": Decimal("200000"), "total_assets": Decimal("500000"),
                "total_debts": Decimal("20000"), "years_in_business": 8,
                "guarantors": [{"name": "担保公司", "relation": "guarantee"}], "applied_on": date(2026, 10, 1)}
        data.update(overrides)
        app = services.create_application(data)
        db.session.commit()
        return app

    return factory
