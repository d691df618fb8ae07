"""What the registry shows: totals per project and vintage, holdings, the ledger, serial look-ups."""
from __future__ import annotations

from typing import Any, Optional

from sqlalchemy import Select, and_, func, select

from greenfin.carbon import ledger
from greenfin.carbon.models import STATES, CarbonAccount, CarbonBlock, CarbonEntry, CarbonProject
from greenfin.errors import NotFound
from greenfin.extensions import db


def totals(project_id: Optional[int] = None) -> list[dict[str, Any]]:
    """Per project and vintage: issued (including the buffer), available, pledged, retired, buffer."""
    issued = select(CarbonEntry.project_id, CarbonEntry.vintage, func.sum(CarbonEntry.quantity)) \
        .where(CarbonEntry.op.in_(("issue", "buffer"))).group_by(CarbonEntry.project_id, CarbonEntry.vintage)
    held = select(CarbonBlock.project_id, CarbonBlock.vintage, CarbonBlock.state,
                  func.sum(CarbonBlock.serial_end - CarbonBlock.serial_start + 1)) \
        .group_by(CarbonBlock.project_id, CarbonBlock.vintage, CarbonBlock.state)
    if project_id is not None:
        issued = issued.where(CarbonEntry.project_id == project_id)
        held = held.where(CarbonBlock.project_id == project_id)
    rows: dict[tuple[int, int], dict[str, Any]] = {}
    for pid, vintage, quantity in db.session.execute(issued):
        rows[(pid, vintage)] = {"project_id": pid, "vintage": vintage, "issued": int(quantity),
                                **{state: 0 for state in STATES}}
    for pid, vintage, state, quantity in db.session.execute(held):
        rows.setdefault((pid, vintage), {"project_id": pid, "vintage": vintage, "issued": 0,
                                         **{s: 0 for s in STATES}})[state] = int(quantity)
    codes = dict(db.session.execute(select(CarbonProject.id, CarbonProject.code)).all())
    out = [row | {"project_code": codes.get(row["project_id"])} for _key, row in sorted(rows.items())]
    return out


def grand_total(rows: list[dict]) -> dict[str, int]:
    return {name: sum(r[name] for r in rows) for name in ("issued", *STATES)}


def holdings(account_id: int) -> list[dict[str, Any]]:
    """An account's tonnes per project, vintage and state."""
    stmt = (select(CarbonBlock.project_id, CarbonProject.code, CarbonBlock.vintage, CarbonBlock.state,
                   func.sum(CarbonBlock.serial_end - CarbonBlock.serial_start + 1))
            .join(CarbonProject, CarbonProject.id == CarbonBlock.project_id)
            .where(CarbonBlock.account_id == account_id)
            .group_by(CarbonBlock.project_id, CarbonProject.code, CarbonBlock.vintage, CarbonBlock.state)
            .order_by(CarbonProject.code, CarbonBlock.vintage, CarbonBlock.state))
    return [{"project_id": r[0], "project_code": r[1], "vintage": r[2], "state": r[3], "tonnes": int(r[4])}
            for r in db.session.execute(stmt)]


def balances(project_id: Optional[int] = None) -> dict[int, dict[str, int]]:
    """Every account's tonnes by state, of one project or all (a replay of the ledger must agree)."""
    out: dict[int, dict[str, int]] = {}
    stmt = select(CarbonBlock.account_id, CarbonBlock.state, func.sum(CarbonBlock.serial_end - CarbonBlock.serial_start + 1)) \
        .group_by(CarbonBlock.account_id, CarbonBlock.state)
    if project_id is not None:
        stmt = stmt.where(CarbonBlock.project_id == project_id)
    for account_id, state, quantity in db.session.execute(stmt):
        out.setdefault(account_id, {})[state] = int(quantity)
    return out


def block_query(*, account_id: Optional[int] = None, project_id: Optional[int] = None,
                state: Optional[str] = None, application_id: Optional[int] = None) -> Select:
    stmt = select(CarbonBlock).order_by(CarbonBlock.project_id, CarbonBlock.vintage, CarbonBlock.serial_start)
    if account_id is not None:
        stmt = stmt.where(CarbonBlock.account_id == account_id)
    if project_id is not None:
        stmt = stmt.where(CarbonBlock.project_id == project_id)
    if state:
        stmt = stmt.where(CarbonBlock.state == state)
    if application_id is not None:
        stmt = stmt.where(CarbonBlock.application_id == application_id)
    return stmt


def entry_query(*, project_id: Optional[int] = None, account_id: Optional[int] = None,
                op: Optional[str] = None) -> Select:
    stmt = select(CarbonEntry).order_by(CarbonEntry.id.desc())
    if project_id is not None:
        stmt = stmt.where(CarbonEntry.project_id == project_id)
    if account_id is not None:
        stmt = stmt.where((CarbonEntry.to_account_id == account_id) | (CarbonEntry.from_account_id == account_id))
    if op:
        stmt = stmt.where(CarbonEntry.op == op)
    return stmt


def get_entry(entry_id: int) -> CarbonEntry:
    entry = db.session.get(CarbonEntry, entry_id) if isinstance(entry_id, int) else None
    if entry is None:
        raise NotFound(f"carbon ledger entry {entry_id} not found")
    return entry


def get_retirement(entry_id: int) -> CarbonEntry:
    entry = db.session.get(CarbonEntry, entry_id) if isinstance(entry_id, int) else None
    if entry is None or entry.op != "retire":
        raise NotFound(f"retirement {entry_id} not found")
    return entry


def get_account(account_id: int) -> CarbonAccount:
    account = db.session.get(CarbonAccount, account_id) if isinstance(account_id, int) else None
    if account is None:
        raise NotFound(f"carbon account {account_id} not found")
    return account


def account_query() -> Select:
    return select(CarbonAccount).order_by(CarbonAccount.id)


def find_units(text: str) -> dict[str, Any]:
    """The blocks that hold a serial or serial range now, with the entries that created and moved them."""
    code, vintage, start, end = ledger.parse_serial(text)
    project = db.session.scalar(select(CarbonProject).where(CarbonProject.code == code))
    if project is None:
        raise NotFound(f"no carbon project {code}")
    blocks = list(db.session.scalars(block_query(project_id=project.id).where(
        CarbonBlock.vintage == vintage, CarbonBlock.serial_start <= end, CarbonBlock.serial_end >= start)))
    if not blocks:
        raise NotFound(f"serials {ledger.serial(code, vintage, start, end)} were never issued")
    history = list(db.session.scalars(
        select(CarbonEntry).where(CarbonEntry.project_id == project.id, CarbonEntry.vintage == vintage,
                                  and_(CarbonEntry.serial_start <= end, CarbonEntry.serial_end >= start))
        .order_by(CarbonEntry.seq).limit(200)))
    return {"project": project, "vintage": vintage, "start": start, "end": end, "blocks": blocks, "history": history,
            "serial": ledger.serial(code, vintage, start, end)}


def ledger_account_of(party_id: int) -> Optional[int]:
    """The id of the party's carbon account, or None."""
    account = ledger.find_account(party_id)
    return account.id if account is not None else None
