"""Translated labels of the insurance codes (perils, payout modes, claim and policy statuses)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

PERIL_LABELS = {"frost": _l("Frost (daily minimum temperature)"), "drought": _l("Drought (consecutive dry days)"),
                "excess_rain": _l("Excess rain (daily rainfall)")}
PERIL_UNITS = {"frost": "°C", "drought": _l("days"), "excess_rain": "mm"}
MODE_LABELS = {"tiers": _l("Payout tiers"), "linear": _l("Linear between trigger and exit")}
CLAIM_STATUS_LABELS = {"pending": _l("Pending check"), "proposed": _l("Proposed, awaiting approval"),
                       "paid": _l("Paid out"), "rejected": _l("Claim turned down")}
POLICY_STATUS_LABELS = {"active": _l("In force"), "cancelled": _l("Policy cancelled")}
PAYER_LABELS = {"central": _l("Central government"), "provincial": _l("Province"), "county": _l("County"),
                "farmer": _l("Farmer")}


def peril_label(code: str) -> str:
    return str(PERIL_LABELS.get(code, code))


def peril_unit(code: str) -> str:
    return str(PERIL_UNITS.get(code, ""))


def mode_label(code: str) -> str:
    return str(MODE_LABELS.get(code, code))


def claim_status_label(code: str) -> str:
    return str(CLAIM_STATUS_LABELS.get(code, code))


def policy_status_label(code: str) -> str:
    return str(POLICY_STATUS_LABELS.get(code, code))


def payer_label(code: str) -> str:
    return str(PAYER_LABELS.get(code, code))
