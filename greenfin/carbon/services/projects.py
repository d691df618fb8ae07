"""Projects and monitoring reports: registration, GEP estimate, verification, approval and issuance."""
from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, Optional

from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError

from greenfin import signals
from greenfin.carbon import ledger, pricing
from greenfin.carbon.models import METHODS, CarbonMonitoringReport, CarbonProject, CarbonProjectParcel
from greenfin.core.models import Parcel, Party
from greenfin.core.services import record_audit, snapshot
from greenfin.dates import today, utcnow
from greenfin.errors import Conflict, Forbidden, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.numbers import parse_decimal
from greenfin.registry import contract
from greenfin.security import current_actor

CODE_RE = re.compile(r"^[A-Z0-9]{2,12}$")
FOREST_COVERS = ("forest",)
PROJECT_FIELDS = ("code", "name", "method", "owner_id", "crediting_start", "crediting_end", "buffer_share",
                  "description", "documents")


def actor_label() -> str:
    from flask import g, has_app_context

    user = current_actor() if has_app_context() else None
    return user.username if user is not None else (g.get("actor_label") if has_app_context() else None) or "system"


def _documents(value: Any, errors: dict) -> list[dict]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        errors["documents"] = ["must be a list of {title, ref}"]
        return []
    out = []
    for item in value[:20]:
        if not isinstance(item, dict) or not str(item.get("title") or "").strip():
            errors.setdefault("documents", []).append("each document needs a title")
            continue
        out.append({"title": str(item["title"]).strip()[:200], "ref": str(item.get("ref") or "").strip()[:255]})
    return out


def _date(value: Any, field: str, errors: dict) -> Optional[date]:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except (TypeError, ValueError):
        errors.setdefault(field, []).append("must be a date (YYYY-MM-DD)")
        return None


def create_project(data: dict) -> CarbonProject:
    """Register a project on forest parcels held by its owner (or given with the owner's consent)."""
    errors: dict[str, list[str]] = {}
    code = str(data.get("code") or "").strip().upper()
    if not CODE_RE.match(code):
        errors["code"] = ["2 to 12 capital letters or digits (it appears in every serial)"]
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = ["is required"]
    method = data.get("method")
    if method not in METHODS:
        errors["method"] = ["must be one of " + ", ".join(METHODS)]
    owner = db.session.get(Party, data.get("owner_id")) if isinstance(data.get("owner_id"), int) else None
    if owner is None:
        errors["owner_id"] = [f"unknown party {data.get('owner_id')}"]
    elif owner.kind == "individual":
        errors["owner_id"] = ["a project owner is a village collective, forest farm or firm"]
    start = _date(data.get("crediting_start"), "crediting_start", errors)
    end = _date(data.get("crediting_end"), "crediting_end", errors)
    if start and end and end <= start:
        errors["crediting_end"] = ["must be after the start of the crediting period"]
    share = data.get("buffer_share")
    share = pricing.default_buffer_share() if share in (None, "") else parse_decimal(share, "buffer_share", errors)
    share = Decimal(str(share)) if share is not None else None
    if share is not None and not (0 <= share < 1):
        errors["buffer_share"] = ["must be at least 0 and below 1"]
    documents = _documents(data.get("documents"), errors)
    parcel_ids = data.get("parcel_ids") or []
    parcels = []
    if not isinstance(parcel_ids, list) or not parcel_ids:
        errors["parcel_ids"] = ["name at least one forest parcel"]
    else:
        for parcel_id in parcel_ids:
            parcel = db.session.get(Parcel, parcel_id) if isinstance(parcel_id, int) else None
            if parcel is None:
                errors.setdefault("parcel_ids", []).append(f"unknown parcel {parcel_id}")
            elif parcel.land_cover not in FOREST_COVERS:
                errors.setdefault("parcel_ids", []).append(f"parcel {parcel.code} is {parcel.land_cover}, not forest")
            elif owner is not None and parcel.holder_id != owner.id:
                errors.setdefault("parcel_ids", []).append(f"parcel {parcel.code} is not held by the project owner")
            else:
                parcels.append(parcel)
    if errors:
        raise ValidationFailed("Invalid carbon project", errors)
    taken = db.session.execute(select(Parcel.code, CarbonProject.code).join(CarbonProjectParcel, CarbonProjectParcel.parcel_id == Parcel.id)
                               .join(CarbonProject, CarbonProject.id == CarbonProjectParcel.project_id)
                               .where(Parcel.id.in_([p.id for p in parcels]))).all()
    if taken:
        raise Conflict("Parcels already in a carbon project",
                       {"parcel_ids": [f"parcel {p} is already in project {c}" for p, c in taken]})
    if db.session.scalar(select(CarbonProject.id).where(CarbonProject.code == code)) is not None:
        raise Conflict(f"project code {code} is taken", {"code": ["is taken"]})
    user = current_actor()
    project = CarbonProject(code=code, name=name, method=method, owner_id=owner.id, crediting_start=start,
                            crediting_end=end, buffer_share=share, description=(data.get("description") or None),
                            documents=documents, created_by_id=user.id if user else None)
    try:
        with db.session.begin_nested():
            db.session.add(project)
            db.session.flush()
            for parcel in parcels:
                db.session.add(CarbonProjectParcel(project_id=project.id, parcel_id=parcel.id))
            db.session.flush()
    except IntegrityError:
        raise Conflict("Parcels already in a carbon project", {"parcel_ids": ["a parcel was registered meanwhile"]})
    record_audit("carbon.project.create", "carbon_project", project.id, party_id=owner.id,
                 after=snapshot(project, PROJECT_FIELDS) | {"parcel_ids": [p.id for p in parcels]})
    return project


def get_project(project_id: int) -> CarbonProject:
    project = db.session.get(CarbonProject, project_id) if isinstance(project_id, int) else None
    if project is None:
        raise NotFound(f"carbon project {project_id} not found")
    return project


def get_project_by_code(code: str) -> CarbonProject:
    project = db.session.scalar(select(CarbonProject).where(CarbonProject.code == (code or "").upper()))
    if project is None:
        raise NotFound(f"carbon project {code} not found")
    return project


def project_query(q: Optional[str] = None, owner_id: Optional[int] = None) -> Select:
    stmt = select(CarbonProject).order_by(CarbonProject.id)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(CarbonProject.code.ilike(like), CarbonProject.name.ilike(like)))
    if owner_id is not None:
        stmt = stmt.where(CarbonProject.owner_id == owner_id)
    return stmt


def list_projects() -> list[CarbonProject]:
    return list(db.session.scalars(project_query()))


# ---------------------------------------------------------------- monitoring reports


def gep_estimate(project: CarbonProject, vintage: int) -> Optional[dict]:
    """The GEP engine's carbon-sequestration quantity (tCO₂) for the project's parcels that year."""
    gep = contract("greenfin.gep")
    if gep is None:
        return None
    return gep.service_quantity([link.parcel_id for link in project.parcels], vintage, "carbon_sequestration")


def submit_report(project: CarbonProject, data: dict) -> CarbonMonitoringReport:
    """A monitoring report for a vintage: verified tonnes, the verifier and the verification document."""
    errors: dict[str, list[str]] = {}
    vintage = data.get("vintage")
    if isinstance(vintage, bool) or not isinstance(vintage, int):
        errors["vintage"] = ["must be a year"]
    elif not (project.crediting_start.year <= vintage <= project.crediting_end.year):
        errors["vintage"] = [f"must fall in the crediting period "
                             f"({project.crediting_start.year}-{project.crediting_end.year})"]
    elif vintage >= today().year:
        errors["vintage"] = ["must be a year that has ended"]
    verified = parse_decimal(data.get("verified_tonnes"), "verified_tonnes", errors)
    if verified is not None and not (Decimal("1") <= verified <= Decimal("10000000")):
        errors["verified_tonnes"] = ["must be between 1 and 10,000,000 t"]
    for name in ("verifier", "document"):
        if not str(data.get(name) or "").strip():
            errors[name] = ["is required"]
    if errors:
        raise ValidationFailed("Invalid monitoring report", errors)
    live = db.session.scalar(select(CarbonMonitoringReport).where(
        CarbonMonitoringReport.project_id == project.id, CarbonMonitoringReport.vintage == vintage,
        CarbonMonitoringReport.status != "rejected"))
    if live is not None:
        raise Conflict(f"vintage {vintage} of {project.code} already has a report ({live.status})",
                       {"vintage": ["already reported"]})
    estimate = gep_estimate(project, vintage)
    user = current_actor()
    report = CarbonMonitoringReport(
        project_id=project.id, vintage=vintage, verified_tonnes=verified.quantize(Decimal("0.0001")),
        verifier=str(data["verifier"]).strip()[:128], document=str(data["document"]).strip()[:255],
        estimated_tonnes=estimate["quantity"].quantize(Decimal("0.0001")) if estimate else None,
        estimate_source=(f"GEP accounts {vintage}: {estimate['parcels']} parcels" if estimate else None),
        status="submitted", submitted_by_id=user.id if user else None, submitted_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(report)
            db.session.flush()
    except IntegrityError:
        raise Conflict(f"vintage {vintage} of {project.code} already has a report", {"vintage": ["already reported"]})
    record_audit("carbon.report.submit", "carbon_monitoring_report", report.id, party_id=project.owner_id,
                 after=snapshot(report, ("project_id", "vintage", "verified_tonnes", "estimated_tonnes", "verifier",
                                         "document")))
    return report


def get_report(report_id: int) -> CarbonMonitoringReport:
    report = db.session.get(CarbonMonitoringReport, report_id) if isinstance(report_id, int) else None
    if report is None:
        raise NotFound(f"monitoring report {report_id} not found")
    return report


def report_query(project_id: Optional[int] = None, status: Optional[str] = None) -> Select:
    stmt = select(CarbonMonitoringReport).order_by(CarbonMonitoringReport.id.desc())
    if project_id is not None:
        stmt = stmt.where(CarbonMonitoringReport.project_id == project_id)
    if status:
        stmt = stmt.where(CarbonMonitoringReport.status == status)
    return stmt


def _locked_report(report: CarbonMonitoringReport) -> CarbonMonitoringReport:
    return db.session.scalar(select(CarbonMonitoringReport).where(CarbonMonitoringReport.id == report.id)
                             .with_for_update(of=CarbonMonitoringReport).execution_options(populate_existing=True))


def decide_report(report: CarbonMonitoringReport, approve: bool, note: str = "") -> CarbonMonitoringReport:
    """A regulator approves or rejects a submitted report; never the person who submitted it."""
    report = _locked_report(report)
    if report.status != "submitted":
        raise Conflict(f"report {report.id} is already {report.status}")
    user = current_actor()
    if user is not None and report.submitted_by_id == user.id:
        raise Forbidden("a second person must approve the report you submitted")
    if not approve and not (note or "").strip():
        raise ValidationFailed.field("note", "say why the report is rejected")
    report.status = "approved" if approve else "rejected"
    report.decided_by_id, report.decided_at = (user.id if user else None), utcnow()
    report.decision_note = (note or "").strip() or None
    db.session.flush()
    record_audit("carbon.report.approve" if approve else "carbon.report.reject", "carbon_monitoring_report", report.id, party_id=report.project.owner_id,
                 before={"status": "submitted"}, after={"status": report.status, "note": report.decision_note})
    return report


def split_issuance(verified: Decimal, buffer_share: Decimal) -> tuple[int, int]:
    """Whole tonnes issued from a verified quantity: (to the owner, to the buffer); the buffer is
    rounded up so the held-back share is never below the setting."""
    total = int(verified.to_integral_value(rounding=ROUND_FLOOR))
    buffer = int((Decimal(total) * buffer_share).to_integral_value(rounding=ROUND_CEILING))
    return total - buffer, buffer


def issue_report(report: CarbonMonitoringReport) -> CarbonMonitoringReport:
    """Issue the serials of an approved report: the owner's block and the buffer's block."""
    project = ledger.lock_project(report.project_id)
    report = _locked_report(report)
    if report.status != "approved":
        raise Conflict(f"report {report.id} is {report.status}: only an approved report is issued",
                       code="not_approved")
    owner_units, buffer_units = split_issuance(report.verified_tonnes, project.buffer_share)
    actor = actor_label()
    ledger.issue_block(project, vintage=report.vintage, quantity=owner_units, to_account=ledger.holder_account(project.owner_id),
                       op="issue", report_id=report.id, actor=actor)
    ledger.issue_block(project, vintage=report.vintage, quantity=buffer_units, to_account=ledger.buffer_account(),
                       op="buffer", report_id=report.id, actor=actor)
    report.status, report.issued_units, report.buffer_units = "issued", owner_units, buffer_units
    db.session.flush()
    record_audit("carbon.report.issue", "carbon_monitoring_report", report.id, party_id=project.owner_id,
                 before={"status": "approved"},
                 after={"status": "issued", "issued_units": owner_units, "buffer_units": buffer_units})
    signals.announce(signals.carbon_vintage_issued, entity_type="carbon_monitoring_report", entity_id=report.id,
                     party_id=project.owner_id, report_id=report.id, vintage=report.vintage,
                     quantity=owner_units + buffer_units, issued_on=today(),
                     evidence={"project": project.code, "verifier": report.verifier, "document": report.document})
    return report
