"""Names people read for the registry's codes: methods, unit states, ledger operations, account kinds.

``METHOD_NAMES`` gives both languages as plain strings (the PDF certificate); the ``*_label``
functions go through gettext for pages, so no raw code is ever shown.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

METHOD_NAMES: dict[str, tuple[str, str]] = {
    "CCER-14-001-V01": ("CCER-14-001-V01 造林碳汇", "CCER-14-001-V01 afforestation carbon sink"),
    "GF-COUNTY-FOREST-V1": ("广丰区森林经营碳汇方法（县级）", "Guangfeng county forest-management method"),
    "VM0047": ("VM0047 造林、再造林与植被恢复", "VM0047 afforestation, reforestation and revegetation"),
}
_METHODS = {
    "CCER-14-001-V01": _l("CCER-14-001-V01 afforestation carbon sink"),
    "GF-COUNTY-FOREST-V1": _l("Guangfeng county forest-management method"),
    "VM0047": _l("VM0047 afforestation, reforestation and revegetation"),
}
_STATES = {"available": _l("Available"), "pledged": _l("Pledged units"), "retired": _l("Retired units"),
           "buffer": _l("Buffer")}
_OPS = {"issue": _l("Units issued"), "buffer": _l("Issued to the buffer"), "transfer": _l("Transferred"),
        "pledge": _l("Units pledged"), "release": _l("Pledge released"), "enforce": _l("Pledge enforced"),
        "retire": _l("Units retired")}
_ACCOUNTS = {"buffer": _l("District buffer account"), "lender": _l("Lender's account")}
_REPORTS = {"submitted": _l("Awaiting approval"), "approved": _l("Approved"), "rejected": _l("Rejected"),
            "issued": _l("Report issued")}


def method_label(code: str) -> str:
    return str(_METHODS.get(code, code))


def state_label(code: str) -> str:
    return str(_STATES.get(code, code))


def op_label(code: str) -> str:
    return str(_OPS.get(code, code))


def report_status_label(code: str) -> str:
    return str(_REPORTS.get(code, code))


def account_label(account, public: bool = False) -> str:
    """An account's name: the party's name, or the buffer's or lender's; on public pages an
    individual's name is never shown."""
    if account is None:
        return "—"
    if account.kind != "holder":
        return str(_ACCOUNTS[account.kind])
    party = account.party
    if public and party.kind == "individual":
        return str(_l("Individual holder"))
    return party.name
