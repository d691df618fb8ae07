"""Ecological damage valued as lost GEP at locked prices, attached to the penalty notice's eco-credit posting.

lost GEP = Σ over the parcels, Σ over the affected services: the service's value in the parcel's
current account × the share of the parcel's area affected × the restoration period (years).
The affected area is spread over the parcels in proportion to their area. Each parcel's account
and price version are stored in ``basis``, so the figure can be recomputed from them.
"""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from greenfin.compensation.models import DamageIncident
from greenfin.core import services as core
from greenfin.core.models import Parcel
from greenfin.errors import N_, Message, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.numbers import parse_decimal
from greenfin.registry import contract, require
from greenfin.security import current_actor

CENT = Decimal("0.01")
PENALTY_RULE = "PENALTY_NOTICE"


def value_damage(data: dict) -> DamageIncident:
    """Value an incident and, with a responsible party, post the penalty notice's eco-credit points
    with the lost-GEP figure as evidence (through the credit contract).

    The API, the page and the CLI all come here. Parcels are ``parcel_ids`` or ``parcel_codes`` (a
    list or text of codes; errors under ``parcel_codes``); the party is ``party_id`` or ``party`` (an
    id, unified social credit code or resident ID number: ``core.find_party``; errors under ``party``);
    ``services`` must be GEP service codes."""
    gep = require("greenfin.gep")
    errors: dict[str, list[str]] = {}
    reference = (data.get("reference") or "").strip()
    if not reference or len(reference) > 64:
        errors.setdefault("reference", []).append(N_("must be 1 to 64 characters"))
    elif db.session.scalar(select(DamageIncident.id).where(DamageIncident.reference == reference)):
        errors.setdefault("reference", []).append(N_("is taken"))
    area = parse_decimal(data.get("area_ha"), "area_ha", errors)
    years = parse_decimal(data.get("restoration_years"), "restoration_years", errors)
    for field, number in (("area_ha", area), ("restoration_years", years)):
        if number is not None and number <= 0:
            errors.setdefault(field, []).append(N_("must be positive"))
    services = data.get("services")
    if not isinstance(services, list) or not services:
        errors.setdefault("services", []).append(N_("must list the affected ecosystem services"))
    else:
        services = list(dict.fromkeys(str(s).strip() for s in services))  # a service counted once
        known = set(gep.service_codes())
        unknown = [s for s in services if s not in known]
        if unknown:
            errors.setdefault("services", []).append(
                Message(N_("unknown GEP services: %(codes)s"), {"codes": ", ".join(unknown)}))
    try:
        occurred = date.fromisoformat(str(data.get("occurred_on")))
    except ValueError:
        errors.setdefault("occurred_on", []).append(N_("must be a date (YYYY-MM-DD)"))
        occurred = None
    parcel_field = "parcel_codes" if "parcel_codes" in data else "parcel_ids"
    parcel_ids = _parcel_ids(data["parcel_codes"], errors) if parcel_field == "parcel_codes" else data.get("parcel_ids")
    facts = []
    if parcel_field == "parcel_codes" and parcel_ids is None:
        pass  # the codes' errors are recorded
    elif not isinstance(parcel_ids, list) or not parcel_ids:
        errors.setdefault(parcel_field, []).append(N_("must list at least one parcel"))
    else:
        current = {pid: gep.current_parcel_gep(int(pid)) for pid in parcel_ids}
        missing = [pid for pid, c in current.items() if c is None]
        if missing:
            errors.setdefault(parcel_field, []).append(N_("has parcels without a GEP account"))
        else:
            facts = gep.year_accounts(None, account_ids=[c.account_id for c in current.values()])
    party_id = data.get("party_id")
    if data.get("party") not in (None, ""):
        party = core.find_party(str(data["party"]))
        party_id = party.id if party else None
        if party is None:
            errors.setdefault("party", []).append(N_("unknown party"))
    elif party_id is not None:
        try:
            core.get_party(int(party_id))
        except (NotFound, TypeError, ValueError):
            errors.setdefault("party_id", []).append(N_("unknown party"))
    if errors:
        raise ValidationFailed("The damage incident is not valid", errors)
    total_area = sum((f.area_ha for f in facts), Decimal(0))
    if area > total_area:
        raise ValidationFailed.field("area_ha", N_("must not exceed the parcels' area"))
    share = area / total_area
    lost = Decimal(0)
    basis = {"share_of_area": str(share), "restoration_years": str(years), "parcels": []}
    for f in facts:
        used = {s: f.services.get(s, Decimal(0)) for s in services}
        lost += parcel_loss(used.values(), share, years)
        basis["parcels"].append({"parcel_id": f.parcel_id, "account_id": f.account_id, "year": f.year,
                                 "price_version": f.version, "values": {k: str(v) for k, v in used.items()}})
    actor = current_actor()
    incident = DamageIncident(reference=reference, party_id=int(party_id) if party_id is not None else None,
                              occurred_on=occurred, area_ha=area, restoration_years=years, services=list(services),
                              value=lost.quantize(CENT, ROUND_HALF_UP), basis=basis,
                              created_by_id=actor.id if actor else None)
    db.session.add(incident)
    db.session.flush()
    credit = contract("credit")
    if incident.party_id is not None and credit is not None:
        posting = credit.post_event_points(incident.party_id, PENALTY_RULE, source="damage", source_id=reference,
                                           effective_date=occurred, evidence={
                                               "incident": reference, "lost_gep_cny": str(incident.value),
                                               "price_versions": sorted({p["price_version"] for p in basis["parcels"]})})
        incident.posting_id = posting.id
        db.session.flush()
    core.record_audit("compensation.damage.value", "damage_incident", incident.id, party_id=incident.party_id,
                      after={"reference": reference, "value": incident.value, "posting_id": incident.posting_id})
    return incident


def _parcel_ids(codes, errors: dict) -> list[int] | None:
    """The ids of the parcels named by ``codes`` (a list, or text separated by commas or spaces);
    unknown codes, and codes that several rights holders use, are named under ``parcel_codes``."""
    if isinstance(codes, str):
        codes = codes.replace("，", ",").replace("、", ",").replace(",", " ").split()
    if not isinstance(codes, list):
        errors.setdefault("parcel_codes", []).append(N_("must list at least one parcel"))
        return None
    codes = list(dict.fromkeys(str(c).strip() for c in codes if str(c).strip()))
    if not codes:
        errors.setdefault("parcel_codes", []).append(N_("must list at least one parcel"))
        return None
    found: dict[str, list[int]] = {}
    for pid, code in db.session.execute(select(Parcel.id, Parcel.code).where(Parcel.code.in_(codes))):
        found.setdefault(code, []).append(pid)
    unknown = [c for c in codes if c not in found]
    shared = [c for c in codes if len(found.get(c, ())) > 1]
    if unknown:
        errors.setdefault("parcel_codes", []).append(
            Message(N_("unknown parcel codes: %(codes)s"), {"codes": ", ".join(unknown)}))
    if shared:
        errors.setdefault("parcel_codes", []).append(
            Message(N_("parcel codes used by several rights holders: %(codes)s"), {"codes": ", ".join(shared)}))
    if unknown or shared:
        return None
    return [found[c][0] for c in codes]


def parcel_loss(values, share: Decimal, years: Decimal) -> Decimal:
    """One parcel's lost GEP: its affected services' values × the share of area × the years."""
    return sum(values, Decimal(0)) * share * years


def basis_rows(incident: DamageIncident) -> list[dict]:
    """The incident's figure parcel by parcel, from its stored basis: the parcel, its account's year
    and price version, each affected service's value and the parcel's lost GEP."""
    share = Decimal(incident.basis.get("share_of_area", "0"))
    rows = []
    for line in incident.basis.get("parcels", []):
        values = {code: Decimal(v) for code, v in line["values"].items()}
        rows.append({"parcel": core.get_parcel(line["parcel_id"]), "year": line["year"],
                     "price_version": line["price_version"], "service_values": values,
                     "lost": parcel_loss(values.values(), share, incident.restoration_years)})
    return rows


def get_incident(incident_id: int) -> DamageIncident:
    incident = db.session.get(DamageIncident, incident_id)
    if incident is None:
        raise NotFound(f"damage incident {incident_id} not found")
    return incident


def incident_query():
    return select(DamageIncident).order_by(DamageIncident.id.desc())
