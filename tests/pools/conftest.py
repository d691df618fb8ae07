"""Factories for pool tests: loans booked directly from the lending models, repaid through lending's servicing."""
from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from greenfin.extensions import db
from greenfin.lending.models import Application, Instalment, Loan, LoanProduct
from greenfin.lending.schedule import add_months, build_schedule

PRODUCTS = {
    "T-ANNUITY": ("annuity", "sustainable agriculture"),
    "T-LINEAR": ("equal_principal", "sustainable forestry"),
    "T-BULLET": ("interest_only", "forest carbon sinks"),
}


def ensure_product(code: str, green_category: str | None = None) -> LoanProduct:
    product = db.session.scalar(select(LoanProduct).where(LoanProduct.code == code))
    if product is None:
        amortisation, category = PRODUCTS[code]
        product = LoanProduct(code=code, kind="eco_credit", name_zh=f"测试{code}", name_en=f"Test {code}", secured=False,
                              min_amount=Decimal("1000"), max_amount=Decimal("10000000"), min_term_months=1,
                              max_term_months=360, base_rate=Decimal("0.045"), min_rate=Decimal("0"),
                              max_rate=Decimal("0.2"), amortisation=amortisation, green_category=category,
                              environmental_benefit="test")
        db.session.add(product)
        db.session.flush()
    return product


@pytest.fixture
def create_loan(create_party):
    """A booked loan with its schedule: ``create_loan(amount="100000", rate="0.045", term=24, ...)``."""

    def factory(party=None, product="T-ANNUITY", amount="100000", rate="0.045", term=24,
                disbursed_on=date(2025, 1, 10), collateral_value="0", collateral_gep="0", green_category=None):
        prod = ensure_product(product)
        party = party or create_party()
        token = secrets.token_hex(4).upper()
        amount = Decimal(amount)
        app = Application(number=f"LA-T-{token}", party_id=party.id, product_id=prod.id, amount=amount,
                          term_months=term, purpose="test", annual_income=Decimal("1000000"),
                          total_assets=Decimal("2000000"), total_debts=Decimal("100000"), applied_on=disbursed_on,
                          status="booked")
        db.session.add(app)
        db.session.flush()
        loan = Loan(number=f"LN-T-{token}", application_id=app.id, party_id=party.id, product_id=prod.id,
                    principal=amount, annual_rate=Decimal(rate), term_months=term, amortisation=prod.amortisation,
                    disbursed_on=disbursed_on, maturity_date=add_months(disbursed_on, term), status="active",
                    outstanding_principal=amount,
                    green_category=prod.green_category if green_category is None else green_category,
                    collateral_value=Decimal(collateral_value), collateral_gep=Decimal(collateral_gep),
                    days_past_due=0, max_days_past_due=0, bucket="current", dpd_as_of=disbursed_on)
        db.session.add(loan)
        db.session.flush()
        for line in build_schedule(amount, Decimal(rate), term, prod.amortisation, disbursed_on):
            db.session.add(Instalment(loan_id=loan.id, seq=line.seq, due_date=line.due_date,
                                      opening_balance=line.opening_balance, principal_due=line.principal,
                                      interest_due=line.interest, fee_due=line.fee, total_due=line.total,
                                      closing_balance=line.closing_balance))
        db.session.commit()
        db.session.refresh(loan)
        return loan

    return factory


@pytest.fixture
def pay_through():
    """Pay every instalment due on or before ``until`` on its due date (lending's own servicing)."""
    from greenfin.lending.servicing import record_repayment

    def pay(loan: Loan, until: date, skip: tuple[int, ...] = ()) -> None:
        for inst in list(loan.instalments):
            if inst.due_date > until:
                break
            if inst.seq in skip or inst.settled:
                continue
            record_repayment(loan, inst.amount_unpaid, inst.due_date)
        db.session.commit()

    return pay


@pytest.fixture
def create_pool(create_party):
    from greenfin.pools import services

    def factory(**overrides):
        bank = create_party(name=f"测试银行{secrets.token_hex(2)}", sector="banking")
        data = {"code": f"P-{secrets.token_hex(3)}", "name": "测试绿色资产池", "originator_id": bank.id,
                "criteria": {"max_obligor_share": None, "max_township_share": None}}
        data.update(overrides)
        pool = services.create_pool(data)
        db.session.commit()
        return pool

    return factory
