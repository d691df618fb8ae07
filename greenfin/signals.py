"""Events between packages (Flask signals on blinker, as Indico's ``core/signals``).

A package announces what happened in its own words; the packages that care subscribe in their
``init_app`` for that app (``loan_repaid.connect(receiver, app)``). A package that is not loaded
does not subscribe, so nothing happens. Every receiver runs in its own savepoint: when it refuses
(a ``DomainError``: the ledger refuses a posting, say), its writes are undone, the refusal is
audited as ``<signal>.refused``, and the sender's work still stands. The same policy everywhere.

Signals and what they carry (keyword arguments; plain values):

- ``certification_granted``: party_id, certification_id, kind, granted_on
- ``certification_lapsed``: party_id, certification_id, kind, lapsed_on
- ``loan_repaid``: party_id, loan_id, repaid_on, on_time (bool), evidence (dict: loan number, principal)
- ``loan_defaulted``: party_id, loan_id, defaulted_on, evidence (dict: loan number, days past due)
- ``carbon_units_retired``: party_id (the beneficiary offsetting its own emissions), entry_id, quantity,
  retired_on, evidence (dict: serials, purpose)
- ``lot_recalled``: party_id (the producer), lot_id, recalled_on, reason (a regulator recalled a traced
  lot; the market withdraws its open offers)
- ``carbon_vintage_issued``: party_id (the project owner), report_id, vintage, quantity, issued_on,
  evidence (dict: project, verifier, document)
"""
from __future__ import annotations

import logging
from typing import Any

from blinker import Namespace
from flask import current_app

from greenfin.errors import DomainError

log = logging.getLogger(__name__)
_signals = Namespace()

certification_granted = _signals.signal("certification-granted")
certification_lapsed = _signals.signal("certification-lapsed")
loan_repaid = _signals.signal("loan-repaid")
loan_defaulted = _signals.signal("loan-defaulted")
carbon_units_retired = _signals.signal("carbon-units-retired")
carbon_vintage_issued = _signals.signal("carbon-vintage-issued")
lot_recalled = _signals.signal("lot-recalled")


def announce(signal, *, entity_type: str, entity_id: Any, party_id: int | None = None, **data: Any) -> int:
    """Tell the subscribed packages; returns how many accepted. Refusals are audited, not raised."""
    from greenfin.core.services import record_audit
    from greenfin.extensions import db

    app = current_app._get_current_object()
    accepted = 0
    for receiver in signal.receivers_for(app):
        try:
            with db.session.begin_nested():
                receiver(app, party_id=party_id, **data)
        except DomainError as exc:
            name = f"{getattr(receiver, '__module__', '?')}.{getattr(receiver, '__name__', '?')}"
            log.warning("%s refused %s for %s %s: %s", name, signal.name, entity_type, entity_id, exc)
            record_audit(f"{signal.name}.refused", entity_type, entity_id, party_id=party_id,
                         after={"receiver": name, "error": exc.message, "code": exc.code})
            continue
        accepted += 1
    return accepted
