"""What an event of a lot must satisfy to be recorded: the one home of these rules, used by the
lot page, the API, the CLI and EPCIS capture alike (``check_event``).

1. **Not in the future**: ``eventTime`` no later than now plus ``CLOCK_SKEW`` (a device's clock
   may run a few minutes fast; a step dated next year is a typing error or a forgery).
2. **Quantities above zero** (``is_positive``; EPCIS capture's schema says the same).
3. **CBV step order per lot**: the lot's commissioning comes first. Commissioning is the
   ``commissioning`` business step of the lot itself (our harvest; a processing step for the lot
   it produces), not of a processing step that consumes the lot. So
   - a commissioning step may not be dated after any other step already recorded for the lot
     (a harvest after packing, shipping or after the lot went into processing is refused);
   - any other step may not be dated before the lot's commissioning, nor before the lot's
     harvest date (a day in Asia/Shanghai);
   - receiving may not be dated before the lot's first shipping.
   Inspection, grading and recall may come at any time after commissioning; a lot may be shipped
   and received several times.

Messages are fixed texts (forms translate them at the field; the API names the field).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable, Optional

from sqlalchemy import select

from greenfin.dates import business_date, utcnow
from greenfin.extensions import db
from traceability.models import EpcisEvent, EventLot, Lot
from traceability.services.common import add_error

CLOCK_SKEW = timedelta(minutes=5)

IN_FUTURE = "is in the future: a step is recorded when it has happened"
BEFORE_HARVEST_DATE = "is before the lot's harvest date"
BEFORE_COMMISSIONING = "is before the lot's harvest (its first step)"
COMMISSIONING_LATE = "a harvest must come before the lot's other steps, and a later step is already recorded"
RECEIVED_BEFORE_SHIPPED = "receiving is dated before the lot was shipped"

# The CBV 2.0 business steps the order rule knows; others (inspecting, sampling, holding, a
# partner's own steps) only have to come after commissioning.
COMMISSIONING, SHIPPING, RECEIVING = "commissioning", "shipping", "receiving"


def cbv_step(value: Optional[str]) -> Optional[str]:
    """A business step in its compact form, whether written compact, as a web URI
    (``https://ref.gs1.org/cbv/BizStep-shipping``) or as a URN (``urn:epcglobal:cbv:bizstep:shipping``)."""
    if not value:
        return None
    for marker in ("BizStep-", "bizstep:"):
        if marker in value:
            return value.rsplit(marker, 1)[1]
    return value


def check_event_time(when: datetime, field: str, errors: dict, now: Optional[datetime] = None) -> None:
    """Rule 1: not later than now plus the clock skew."""
    if when > (now or utcnow()) + CLOCK_SKEW:
        add_error(errors, field, IN_FUTURE)


def _history(lot: Lot) -> list[tuple[datetime, Optional[str], str]]:
    return [(t, cbv_step(step), role) for t, step, role in db.session.execute(
        select(EpcisEvent.event_time, EpcisEvent.biz_step, EventLot.role)
        .join(EventLot, EventLot.event_id == EpcisEvent.id).where(EventLot.lot_id == lot.id))]


def is_commissioning(step: Optional[str], role: str) -> bool:
    return step == COMMISSIONING and role != "input"


def check_step_order(lot: Lot, step: Optional[str], role: str, when: datetime, field: str, errors: dict,
                     history: list[tuple[datetime, Optional[str], str]]) -> None:
    """Rule 3 for one event of ``lot`` (``role``: subject, output or input), against the lot's
    ``history``: (time, step, role) of the steps recorded for it (and checked before, in a capture)."""
    if lot.harvest_date and business_date(when) < lot.harvest_date:
        add_error(errors, field, BEFORE_HARVEST_DATE)
    if is_commissioning(step, role):
        others = [t for t, s, r in history if not is_commissioning(s, r)]
        if others and when > min(others):
            add_error(errors, field, COMMISSIONING_LATE)
        return
    starts = [t for t, s, r in history if is_commissioning(s, r)]
    if starts and when < min(starts):
        add_error(errors, field, BEFORE_COMMISSIONING)
    if step == RECEIVING:
        shipped = [t for t, s, r in history if s == SHIPPING]
        if shipped and when < min(shipped):
            add_error(errors, field, RECEIVED_BEFORE_SHIPPED)


def check_event(lots: Iterable[tuple[Lot, str]], step: Optional[str], when: datetime, field: str = "event_time",
                errors: Optional[dict] = None, pending: Optional[dict] = None) -> dict:
    """Rules 1 and 3 for an event of ``lots`` ((lot, role) pairs); returns the errors (field: messages).

    ``pending``: {lot id: history} kept across the events of one capture document: each lot's
    stored steps are read once, and each event checked is added to its lots' history.
    """
    errors = {} if errors is None else errors
    check_event_time(when, field, errors)
    step = cbv_step(step)
    for lot, role in lots:
        if lot.id is None:
            continue
        if pending is None:
            history = _history(lot)
        else:
            history = pending.get(lot.id)
            if history is None:
                history = pending[lot.id] = _history(lot)
        check_step_order(lot, step, role, when, field, errors, history)
        if pending is not None:
            history.append((when, step, role))
    for key, messages in errors.items():
        errors[key] = list(dict.fromkeys(messages))
    return errors
