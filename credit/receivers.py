"""What other packages' events are worth in eco-credit points (greenfin/signals.py).

Credit subscribes these in ``init_app``; the senders announce facts (a certificate granted, a
loan repaid on time) and the rule codes that price them live here, beside the ledger. A posting
the ledger refuses raises, and ``greenfin.signals.announce`` audits the refusal while the
sender's work stands.
"""
from __future__ import annotations

from flask import Flask

from credit.ledger import post_event_points
from greenfin import signals


def on_certification_granted(app, *, party_id: int, certification_id: int, **_):
    post_event_points(party_id, "TRACE_CERT_GRANTED", source="certification", source_id=str(certification_id))


def on_certification_lapsed(app, *, party_id: int, certification_id: int, **_):
    post_event_points(party_id, "TRACE_CERT_LAPSED", source="certification", source_id=str(certification_id))


def on_loan_repaid(app, *, party_id: int, loan_id: int, repaid_on, on_time: bool, evidence: dict, **_):
    if on_time:
        post_event_points(party_id, "LOAN_REPAID_ON_TIME", source="lending.loan", source_id=str(loan_id),
                          effective_date=repaid_on, evidence={k: str(v) for k, v in evidence.items()})


def on_loan_defaulted(app, *, party_id: int, loan_id: int, defaulted_on, evidence: dict, **_):
    post_event_points(party_id, "LOAN_DEFAULTED", source="lending.loan", source_id=str(loan_id),
                      effective_date=defaulted_on, evidence={k: str(v) for k, v in evidence.items()})


def on_carbon_units_retired(app, *, party_id: int, entry_id: int, quantity: int, retired_on, evidence: dict, **_):
    post_event_points(party_id, "CARBON_OFFSET_RETIRED", source="carbon.retirement", source_id=str(entry_id),
                      effective_date=retired_on, evidence={"quantity": str(quantity)} | {k: str(v) for k, v in evidence.items()})


def on_carbon_vintage_issued(app, *, party_id: int, report_id: int, issued_on, evidence: dict, **_):
    post_event_points(party_id, "CARBON_PROJECT_VERIFIED", source="carbon.report", source_id=str(report_id),
                      effective_date=issued_on, evidence={k: str(v) for k, v in evidence.items()})


def subscribe(app: Flask) -> None:
    signals.certification_granted.connect(on_certification_granted, app)
    signals.certification_lapsed.connect(on_certification_lapsed, app)
    signals.loan_repaid.connect(on_loan_repaid, app)
    signals.loan_defaulted.connect(on_loan_defaulted, app)
    signals.carbon_units_retired.connect(on_carbon_units_retired, app)
    signals.carbon_vintage_issued.connect(on_carbon_vintage_issued, app)
