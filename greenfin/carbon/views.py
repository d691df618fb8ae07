"""Pages of the carbon registry: the overview, projects, holders' accounts and a form for each
operation (staff; a producer sees its own account), and the public registry (``/disclosure/carbon``:
search, unit pages and retirement certificates, no account, no personal data, no script)."""
from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from greenfin.charts import format_money
from greenfin.carbon import labels, ledger, pricing, services
from greenfin.carbon.forms import DecisionForm, PledgeForm, ProjectForm, ReportForm, RetireForm, SettleForm, TransferForm
from greenfin.carbon.models import STATES
from greenfin.carbon.pdf import certificate_number, certificate_url, retirement_certificate_pdf
from greenfin.core.forms import apply_errors
from greenfin.core.models import Parcel, Party
from greenfin.downloads import content_disposition
from greenfin.errors import DomainError
from greenfin.extensions import db
from greenfin.pages import page_of
from greenfin.ratelimit import rate_limited
from greenfin.registry import contract
from greenfin.replica import public_reads
from greenfin.security import PUBLIC, STAFF, access
from greenfin.uow import rollback

bp = Blueprint("carbon", __name__)

READERS = STAFF
REGISTRARS = ("admin",)
LENDERS = ("admin", "loan_officer")


def _flash_error(exc: DomainError) -> None:
    rollback()
    details = " · ".join(f"{field}: " + "; ".join(_(m) for m in msgs) for field, msgs in exc.errors.items())
    flash(_(exc.summary) + (" — " + details if details else ""), "error")


# ---------------------------------------------------------------- overview and projects


@bp.route("/carbon")
@access(*READERS)
def index():
    rows = services.totals()
    projects = page_of(services.project_query(request.args.get("q") or None))
    pending = list(db.session.scalars(services.report_query(status="submitted").limit(20)))
    approved = list(db.session.scalars(services.report_query(status="approved").limit(20)))
    return render_template("carbon/index.html", rows=rows, total=services.grand_total(rows), projects=projects,
                           pending=pending, approved=approved, reference=pricing.reference_price())


def _owner_choices():
    parties = db.session.scalars(select(Party).where(Party.kind != "individual").order_by(Party.name).limit(500))
    return [(p.id, p.name) for p in parties]


def _forest_choices():
    parcels = db.session.scalars(select(Parcel).where(Parcel.land_cover == "forest").order_by(Parcel.code).limit(500))
    return [(p.id, f"{p.code} · {p.name or ''} · {p.area_ha} ha") for p in parcels]


@bp.route("/carbon/projects/new", methods=["GET", "POST"])
@access(*REGISTRARS)
def project_form():
    form = ProjectForm()
    form.owner_id.choices = _owner_choices()
    form.parcel_ids.choices = _forest_choices()
    if form.validate_on_submit():
        documents = [{"title": form.document_title.data, "ref": form.document_ref.data or ""}] \
            if form.document_title.data else []
        try:
            project = services.create_project({
                "code": form.code.data, "name": form.name.data, "method": form.method.data,
                "owner_id": form.owner_id.data, "parcel_ids": form.parcel_ids.data,
                "crediting_start": form.crediting_start.data, "crediting_end": form.crediting_end.data,
                "buffer_share": form.buffer_share.data, "description": form.description.data, "documents": documents})
            flash(_("Project registered."), "success")
            return redirect(url_for("carbon.project", project_id=project.id))
        except DomainError as exc:
            rollback()
            apply_errors(form, exc.errors or {"code": [exc.summary]})
    return render_template("carbon/project_form.html", form=form), 422 if form.errors else 200


@bp.route("/carbon/projects/<int:project_id>")
@access(*READERS)
def project(project_id):
    project = services.get_project(project_id)
    reports = list(db.session.scalars(services.report_query(project.id)))
    blocks = page_of(services.block_query(project_id=project.id), per_page=50)
    entries = list(db.session.scalars(services.entry_query(project_id=project.id).limit(50)))
    return render_template("carbon/project.html", project=project, reports=reports, blocks=blocks, entries=entries,
                           rows=services.totals(project.id), report_form=ReportForm(), decision_form=DecisionForm())


@bp.route("/carbon/projects/<int:project_id>/reports", methods=["POST"])
@access(*REGISTRARS)
def submit_report(project_id):
    project = services.get_project(project_id)
    form = ReportForm()
    if form.validate_on_submit():
        try:
            services.submit_report(project, {"vintage": form.vintage.data, "verified_tonnes": form.verified_tonnes.data,
                                             "verifier": form.verifier.data, "document": form.document.data})
            flash(_("Monitoring report submitted: a regulator approves it before issuance."), "success")
            return redirect(url_for("carbon.project", project_id=project.id))
        except DomainError as exc:
            rollback()
            apply_errors(form, exc.errors or {"vintage": [exc.summary]})
    return render_template("carbon/project.html", project=project, reports=list(db.session.scalars(services.report_query(project.id))),
                           blocks=page_of(services.block_query(project_id=project.id), per_page=50),
                           entries=list(db.session.scalars(services.entry_query(project_id=project.id).limit(50))),
                           rows=services.totals(project.id), report_form=form, decision_form=DecisionForm()), 422


@bp.route("/carbon/reports/<int:report_id>/decision", methods=["POST"])
@access("regulator")
def decide_report(report_id):
    report = services.get_report(report_id)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            services.decide_report(report, bool(form.approve.data), form.note.data or "")
            flash(_("Report approved.") if form.approve.data else _("Report rejected."), "success")
        except DomainError as exc:
            _flash_error(exc)
    return redirect(url_for("carbon.project", project_id=report.project_id))


@bp.route("/carbon/reports/<int:report_id>/issue", methods=["POST"])
@access(*REGISTRARS)
def issue_report(report_id):
    report = services.get_report(report_id)
    if SettleForm().validate_on_submit():
        try:
            report = services.issue_report(report)
            flash(_("%(units)s t issued, %(buffer)s t held in the buffer.", units=report.issued_units,
                    buffer=report.buffer_units), "success")
        except DomainError as exc:
            _flash_error(exc)
    return redirect(url_for("carbon.project", project_id=report.project_id))


# ---------------------------------------------------------------- accounts


def _visible_account(account_id: int):
    account = services.get_account(account_id)
    user = g.user
    if user.role == "producer" and (account.party_id is None or account.party_id != user.party_id):
        abort(404)
    return account


@bp.route("/carbon/accounts")
@access(*READERS)
def accounts():
    page = page_of(services.account_query())
    return render_template("carbon/accounts.html", page=page,
                           holdings={a.id: services.holdings(a.id) for a in page.items})


@bp.route("/carbon/my")
@access("producer")
def my_account():
    account = ledger.find_account(g.user.party_id) if g.user.party_id else None
    if account is None:
        return render_template("carbon/account.html", account=None, holdings=[], blocks=None, entries=[])
    return redirect(url_for("carbon.account", account_id=account.id))


@bp.route("/carbon/accounts/<int:account_id>")
@access(*READERS, "producer")
def account(account_id):
    account = _visible_account(account_id)
    blocks = page_of(services.block_query(account_id=account.id), per_page=50)
    entries = list(db.session.scalars(services.entry_query(account_id=account.id).limit(50)))
    return render_template("carbon/account.html", account=account, holdings=services.holdings(account.id),
                           blocks=blocks, entries=entries, settle_form=SettleForm())


# ---------------------------------------------------------------- operations on a block


def _buyer_choices(block):
    parties = db.session.scalars(select(Party).where(Party.id != (block.account.party_id or 0)).order_by(Party.name).limit(500))
    return [(p.id, p.name) for p in parties]


def _application_choices(block):
    lending = contract("greenfin.lending")
    if lending is None or block.account.party_id is None:
        return []
    out = []
    for app_id in lending.party_application_ids(block.account.party_id):
        brief = lending.application_brief(app_id)
        if brief and brief["product_kind"] == "carbon_pledge":
            out.append((brief["id"], f"{brief['number']} · {brief['amount']:,.2f} CNY · {brief['status']}"))
    return out


def _operation_page(block, form, kind: str, status: int = 200):
    return render_template("carbon/operation_form.html", block=block, form=form, kind=kind,
                           reference=pricing.reference_price(), haircut=pricing.default_haircut()), status


def _after(entry, message: str):
    flash(message, "success")
    return redirect(url_for("carbon.account", account_id=entry.from_account_id or entry.to_account_id))


@bp.route("/carbon/blocks/<int:block_id>/transfer", methods=["GET", "POST"])
@access(*REGISTRARS)
def transfer(block_id):
    block = services.get_block(block_id)
    form = TransferForm()
    form.to_party_id.choices = _buyer_choices(block)
    if form.validate_on_submit():
        try:
            entry = services.transfer_units({"block_id": block.id, "quantity": form.quantity.data,
                                             "to_party_id": form.to_party_id.data, "unit_price": form.unit_price.data,
                                             "from_party_id": block.account.party_id, "note": form.note.data})
            return _after(entry, _("%(q)s t transferred to %(buyer)s for %(amount)s CNY.", q=entry.quantity,
                                   buyer=entry.counterparty, amount=f"{entry.amount:,.2f}"))
        except DomainError as exc:
            rollback()
            apply_errors(form, exc.errors or {"quantity": [exc.summary]})
    return _operation_page(block, form, "transfer", 422 if form.errors else 200)


@bp.route("/carbon/blocks/<int:block_id>/pledge", methods=["GET", "POST"])
@access(*LENDERS)
def pledge(block_id):
    block = services.get_block(block_id)
    form = PledgeForm()
    form.application_id.choices = _application_choices(block)
    if form.validate_on_submit():
        try:
            entry = services.pledge_units({"block_id": block.id, "quantity": form.quantity.data,
                                           "application_id": form.application_id.data,
                                           "reference_price": form.reference_price.data or None,
                                           "price_source": form.price_source.data or None,
                                           "haircut": form.haircut.data or None})
            return _after(entry, _("%(q)s t pledged to %(number)s.", q=entry.quantity, number=entry.counterparty))
        except DomainError as exc:
            rollback()
            apply_errors(form, {("quantity" if k == "block_id" else k): v for k, v in exc.errors.items()}
                         or {"quantity": [exc.summary]})
    return _operation_page(block, form, "pledge", 422 if form.errors else 200)


@bp.route("/carbon/blocks/<int:block_id>/retire", methods=["GET", "POST"])
@access(*REGISTRARS)
def retire(block_id):
    block = services.get_block(block_id)
    form = RetireForm()
    if form.validate_on_submit():
        try:
            entry = services.retire_units({
                "block_id": block.id, "quantity": form.quantity.data, "beneficiary": form.beneficiary.data,
                "purpose": form.purpose.data, "from_party_id": block.account.party_id,
                "beneficiary_party_id": block.account.party_id if form.own_emissions.data else None})
            flash(_("%(q)s t retired: certificate %(number)s.", q=entry.quantity, number=certificate_number(entry)),
                  "success")
            return redirect(url_for("carbon.public_retirement", entry_id=entry.id))
        except DomainError as exc:
            rollback()
            apply_errors(form, exc.errors or {"quantity": [exc.summary]})
    return _operation_page(block, form, "retire", 422 if form.errors else 200)


@bp.route("/carbon/blocks/<int:block_id>/release", methods=["POST"])
@bp.route("/carbon/blocks/<int:block_id>/enforce", methods=["POST"], endpoint="enforce")
@access(*LENDERS)
def release(block_id):
    block = services.get_block(block_id)
    form = SettleForm()
    if form.validate_on_submit():
        try:
            if request.url_rule.endpoint == "carbon.enforce":
                entry = services.enforce_units(block.id, form.note.data)
                flash(_("Pledge enforced: %(q)s t passed to the lender.", q=entry.quantity), "success")
            else:
                entry = services.release_units(block.id, form.note.data)
                flash(_("Pledge released: %(q)s t available again.", q=entry.quantity), "success")
        except DomainError as exc:
            _flash_error(exc)
    return redirect(url_for("carbon.account", account_id=block.account_id))


# ---------------------------------------------------------------- public registry (no account, no script)


@bp.route("/disclosure/carbon")
@access(PUBLIC)
@rate_limited("carbon_public", 120, 60)
@public_reads
def public_index():
    q = (request.args.get("q") or "").strip()
    if q.upper().startswith("GF-") and not q.upper().startswith("GF-RT-"):
        return redirect(url_for("carbon.public_units", serial=q.upper()))
    if q.upper().startswith("GF-RT-") and q[6:].isdigit():
        return redirect(url_for("carbon.public_retirement", entry_id=int(q[6:])))
    rows = services.totals()
    projects = page_of(services.project_query(q or None))
    retirements = list(db.session.scalars(services.entry_query(op="retire").limit(10)))
    return render_template("carbon/public_index.html", rows=rows, total=services.grand_total(rows), projects=projects,
                           retirements=retirements, q=q)


@bp.route("/disclosure/carbon/units/<serial>")
@access(PUBLIC)
@rate_limited("carbon_public", 120, 60)
@public_reads
def public_units(serial):
    found = services.find_units(serial)
    return render_template("carbon/public_units.html", found=found)


@bp.route("/disclosure/carbon/retirements/<int:entry_id>")
@access(PUBLIC)
@rate_limited("carbon_public", 120, 60)
@public_reads
def public_retirement(entry_id):
    entry = services.get_retirement(entry_id)
    return render_template("carbon/public_retirement.html", entry=entry, number=certificate_number(entry),
                           url=certificate_url(entry))


@bp.route("/disclosure/carbon/retirements/<int:entry_id>.pdf")
@access(PUBLIC)
@rate_limited("carbon_public_pdf", 30, 60)
@public_reads
def public_retirement_pdf(entry_id):
    entry = services.get_retirement(entry_id)
    return Response(retirement_certificate_pdf(entry), mimetype="application/pdf", headers={
        "Content-Disposition": content_disposition(f"carbon-retirement-{certificate_number(entry)}.pdf", inline=True)})


@bp.context_processor
def carbon_helpers():
    def tonnes(value) -> str:
        return "—" if value is None else f"{Decimal(value):,.0f}" if Decimal(value) == int(value) else f"{Decimal(value):,.4f}"

    def carbon_columns(rows) -> list:
        return [(f"{r['project_code']} {r['vintage']}", [r[s] for s in STATES]) for r in rows]

    def holding_bars(holdings) -> list:
        return [(f"{h['project_code']} {h['vintage']} · {labels.state_label(h['state'])}", h["tonnes"]) for h in holdings]

    return {"tonnes": tonnes, "carbon_columns": carbon_columns, "holding_bars": holding_bars, "money": format_money, "carbon_serial": ledger.block_serial, "entry_serial": ledger.entry_serial,
            "state_label": labels.state_label, "op_label": labels.op_label, "method_label": labels.method_label,
            "report_status_label": labels.report_status_label, "account_label": labels.account_label,
            "carbon_states": STATES}

