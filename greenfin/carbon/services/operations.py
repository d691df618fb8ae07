"""What holders and lenders do with units: transfer (sell), pledge to a loan, release, enforce, retire."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import select

from greenfin import signals
from greenfin.carbon import ledger, pricing
from greenfin.carbon.models import CarbonAccount, CarbonBlock, CarbonEntry
from greenfin.carbon.services.projects import _date, actor_label
from greenfin.dates import business_date, today
from greenfin.core.models import Party
from greenfin.errors import Conflict, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.numbers import parse_decimal
from greenfin.registry import contract

LIVE_APPLICATION_STATUSES = ("submitted", "scored", "referred", "approved", "booked")
MAX_TEXT = 255


def _quantity(value: Any, errors: dict) -> Optional[int]:
    if isinstance(value, bool):
        value = None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value < 1:
        errors["quantity"] = ["must be a whole number of tonnes, at least 1"]
        return None
    return value


def _text(data: dict, name: str, errors: dict, required: bool = False) -> Optional[str]:
    value = str(data.get(name) or "").strip()
    if required and not value:
        errors[name] = ["is required"]
    if len(value) > MAX_TEXT:
        errors[name] = [f"at most {MAX_TEXT} characters"]
    return value or None


def _holder(party_id: Any, errors: dict, field: str = "from_party_id") -> Optional[CarbonAccount]:
    if party_id in (None, ""):
        return None
    account = ledger.find_account(party_id) if isinstance(party_id, int) else None
    if account is None:
        errors[field] = [f"party {party_id} holds no carbon units"]
    return account


def get_block(block_id: int) -> CarbonBlock:
    block = db.session.get(CarbonBlock, block_id) if isinstance(block_id, int) else None
    if block is None:
        raise NotFound(f"carbon block {block_id} not found")
    return block


def transfer_units(data: dict, *, idempotency_key: Optional[str] = None) -> CarbonEntry:
    """Sell or give ``quantity`` tonnes of a block to another party, at a recorded price a tonne."""
    errors: dict[str, list[str]] = {}
    quantity = _quantity(data.get("quantity"), errors)
    price = parse_decimal(data.get("unit_price"), "unit_price", errors)
    if price is not None and price < 0:
        errors["unit_price"] = ["must not be negative"]
    buyer = db.session.get(Party, data.get("to_party_id")) if isinstance(data.get("to_party_id"), int) else None
    if buyer is None:
        errors["to_party_id"] = [f"unknown party {data.get('to_party_id')}"]
    holder = _holder(data.get("from_party_id"), errors)
    note = _text(data, "note", errors)
    if errors:
        raise ValidationFailed("Invalid transfer", errors)
    block = get_block(data.get("block_id"))
    if block.account.party_id == buyer.id:
        raise ValidationFailed.field("to_party_id", "the buyer already holds these units")
    return ledger.move(block.id, quantity, "transfer", ledger.holder_account(buyer.id),
                       holder_id=holder.id if holder else None, actor=actor_label(),
                       idempotency_key=idempotency_key, unit_price=price.quantize(pricing.CENT),
                       amount=(price * quantity).quantize(pricing.CENT), counterparty=buyer.name[:128], note=note)


def _application(data: dict, errors: dict) -> Optional[dict]:
    lending = contract("greenfin.lending")
    if lending is None:
        errors["application_id"] = ["lending is not installed here"]
        return None
    application_id, loan_id = data.get("application_id"), data.get("loan_id")
    if loan_id not in (None, ""):
        application_id = lending.loan_application_id(loan_id)
        if application_id is None:
            errors["loan_id"] = [f"unknown loan {loan_id}"]
            return None
    brief = lending.application_brief(application_id)
    if brief is None:
        errors["application_id"] = [f"unknown loan application {application_id}"]
        return None
    if brief["product_kind"] != "carbon_pledge":
        errors["application_id"] = [f"application {brief['number']} is for {brief['product_code']}, "
                                    "not a carbon-sink pledge loan"]
    elif brief["status"] not in LIVE_APPLICATION_STATUSES:
        errors["application_id"] = [f"application {brief['number']} is {brief['status']}"]
    return brief


def _forest_already_pledged(block: CarbonBlock) -> list[str]:
    """The project's parcels that secure a loan as land: the same forest cannot back two loans."""
    lending = contract("greenfin.lending")
    parcel_ids = [link.parcel_id for link in block.project.parcels]
    if lending is None or not parcel_ids:
        return []
    codes = {link.parcel_id: link.parcel.code for link in block.project.parcels}
    return [f"parcel {codes[p['parcel_id']]} already secures application {p['application_number']} "
            f"({p['product_kind']})" for p in lending.live_parcel_pledges(parcel_ids)]


def pledge_units(data: dict, *, idempotency_key: Optional[str] = None) -> CarbonEntry:
    """Pledge tonnes to a CARBON-SINK loan application (or its loan), valued at a reference price."""
    errors: dict[str, list[str]] = {}
    quantity = _quantity(data.get("quantity"), errors)
    brief = _application(data, errors)
    reference = pricing.reference_price()
    price, source, on = reference.price, reference.source, reference.on
    if data.get("reference_price") not in (None, ""):
        price = parse_decimal(data.get("reference_price"), "reference_price", errors)
        source = _text(data, "price_source", errors, required=True)
        on = today() if data.get("price_date") in (None, "") else _date(data.get("price_date"), "price_date", errors)
        if price is not None and price <= 0:
            errors["reference_price"] = ["must be positive"]
    haircut = pricing.default_haircut() if data.get("haircut") in (None, "") else \
        parse_decimal(data.get("haircut"), "haircut", errors)
    if haircut is not None and not (0 <= haircut < 1):
        errors["haircut"] = ["must be at least 0 and below 1"]
    if errors:
        raise ValidationFailed("Invalid pledge", errors)
    block = get_block(data.get("block_id"))
    if block.account.party_id != brief["party_id"]:
        raise ValidationFailed.field("application_id", f"the units are not held by the applicant of {brief['number']}")
    double = _forest_already_pledged(block)
    if double:
        raise Conflict("The forest already secures a loan as land", {"block_id": double}, code="forest_pledged")
    return ledger.move(block.id, quantity, "pledge", block.account, holder_id=block.account_id, actor=actor_label(),
                       idempotency_key=idempotency_key, application_id=brief["id"], loan_id=brief["loan_id"],
                       reference_price=price, price_source=source[:255], price_date=on, haircut=haircut,
                       counterparty=brief["number"])


def release_units(block_id: int, note: Optional[str] = None, *, idempotency_key: Optional[str] = None) -> CarbonEntry:
    """Release a pledge (the loan was repaid, or the application withdrawn or declined)."""
    block = get_block(block_id)
    return ledger.move(block.id, block.quantity, "release", block.account, holder_id=block.account_id,
                       actor=actor_label(), idempotency_key=idempotency_key, note=(note or None))


def enforce_units(block_id: int, note: Optional[str] = None, *, idempotency_key: Optional[str] = None) -> CarbonEntry:
    """The loan defaulted: the pledged units pass to the lender."""
    block = get_block(block_id)
    return ledger.move(block.id, block.quantity, "enforce", ledger.lender_account(), holder_id=block.account_id,
                       actor=actor_label(), idempotency_key=idempotency_key, note=(note or None))


def retire_units(data: dict, *, idempotency_key: Optional[str] = None) -> CarbonEntry:
    """Retire tonnes for good, on behalf of a beneficiary (an organisation or an event) and a purpose."""
    errors: dict[str, list[str]] = {}
    quantity = _quantity(data.get("quantity"), errors)
    beneficiary = _text(data, "beneficiary", errors, required=True)
    purpose = _text(data, "purpose", errors, required=True)
    beneficiary_party_id = data.get("beneficiary_party_id")
    if beneficiary_party_id not in (None, "") and (not isinstance(beneficiary_party_id, int)
                                                    or db.session.get(Party, beneficiary_party_id) is None):
        errors["beneficiary_party_id"] = [f"unknown party {beneficiary_party_id}"]
    holder = _holder(data.get("from_party_id"), errors)
    note = _text(data, "note", errors)
    if errors:
        raise ValidationFailed("Invalid retirement", errors)
    block = get_block(data.get("block_id"))
    entry = ledger.move(block.id, quantity, "retire", block.account, holder_id=holder.id if holder else None,
                        actor=actor_label(), idempotency_key=idempotency_key, beneficiary=beneficiary[:128],
                        beneficiary_party_id=beneficiary_party_id or None, purpose=purpose, note=note)
    if entry.beneficiary_party_id and entry.beneficiary_party_id == block.account.party_id:
        # Offsetting its own emissions: other packages (eco-credit) may price it.
        signals.announce(signals.carbon_units_retired, entity_type="carbon_entry", entity_id=entry.id,
                         party_id=entry.beneficiary_party_id, entry_id=entry.id, quantity=entry.quantity,
                         retired_on=business_date(entry.recorded_at),
                         evidence={"serials": ledger.entry_serial(entry), "purpose": entry.purpose})
    return entry


# ---------------------------------------------------------------- loans: repaid releases, default enforces


def pledged_blocks(application_id: int) -> list[CarbonBlock]:
    return list(db.session.scalars(select(CarbonBlock).where(CarbonBlock.application_id == application_id,
                                                             CarbonBlock.state == "pledged")
                                   .order_by(CarbonBlock.id)))


def settle_loan_pledges(loan_id: int, outcome: str) -> list[CarbonEntry]:
    """Release (``repaid``) or enforce (``defaulted``) every block pledged to the loan."""
    lending = contract("greenfin.lending")
    application_id = lending.loan_application_id(loan_id) if lending is not None else None
    if application_id is None:
        return []
    verb = release_units if outcome == "repaid" else enforce_units
    note = f"loan {loan_id} {outcome}"
    return [verb(block.id, note) for block in pledged_blocks(application_id)]


def collateral_of(application_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Pledged tonnes of each application now, valued at each pledge's reference price and haircut."""
    out: dict[int, dict[str, Any]] = {}
    if not application_ids:
        return out
    rows = db.session.execute(
        select(CarbonBlock.application_id, CarbonBlock.serial_start, CarbonBlock.serial_end, CarbonEntry.reference_price,
               CarbonEntry.haircut, CarbonEntry.price_source, CarbonEntry.price_date)
        .join(CarbonEntry, CarbonEntry.id == CarbonBlock.entry_id)
        .where(CarbonBlock.application_id.in_(application_ids), CarbonBlock.state == "pledged"))
    for app_id, start, end, price, haircut, source, on in rows:
        tonnes = end - start + 1
        item = out.setdefault(app_id, {"tonnes": 0, "value": Decimal("0.00"), "lendable": Decimal("0.00"),
                                       "price": price, "price_source": source, "price_date": on, "haircut": haircut})
        item["tonnes"] += tonnes
        item["value"] += pricing.collateral_value(tonnes, price)
        item["lendable"] += pricing.lendable_value(tonnes, price, haircut)
    return out


def collateral_of_loans(loan_ids: list[int]) -> dict[int, dict[str, Any]]:
    """``collateral_of`` keyed by booked loan (pool cuts and loan tapes)."""
    lending = contract("greenfin.lending")
    if lending is None:
        return {}
    applications = {loan_id: lending.loan_application_id(loan_id) for loan_id in loan_ids}
    found = collateral_of([a for a in applications.values() if a is not None])
    return {loan_id: found[a] for loan_id, a in applications.items() if a in found}


def parcels_with_pledged_carbon(parcel_ids: list[int]) -> list[int]:
    """Those of the parcels whose project has tonnes pledged now (they cannot back a second loan as land)."""
    from greenfin.carbon.models import CarbonProjectParcel

    if not parcel_ids:
        return []
    return list(db.session.scalars(
        select(CarbonProjectParcel.parcel_id).distinct()
        .join(CarbonBlock, CarbonBlock.project_id == CarbonProjectParcel.project_id)
        .where(CarbonProjectParcel.parcel_id.in_(parcel_ids), CarbonBlock.state == "pledged")))
