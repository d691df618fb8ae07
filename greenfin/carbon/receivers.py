"""The registry's answers to lending's events: a repaid loan releases its pledged units, a defaulted
loan passes them to the lender. Each receiver runs in its own savepoint (``greenfin.signals``)."""
from __future__ import annotations

from flask import Flask

from greenfin import signals


def on_loan_repaid(app: Flask, *, party_id=None, loan_id: int, **_data) -> None:
    from greenfin.carbon.services import settle_loan_pledges

    settle_loan_pledges(loan_id, "repaid")


def on_loan_defaulted(app: Flask, *, party_id=None, loan_id: int, **_data) -> None:
    from greenfin.carbon.services import settle_loan_pledges

    settle_loan_pledges(loan_id, "defaulted")


def connect(app: Flask) -> None:
    signals.loan_repaid.connect(on_loan_repaid, app)
    signals.loan_defaulted.connect(on_loan_defaulted, app)
