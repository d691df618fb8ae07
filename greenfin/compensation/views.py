"""Pages of eco-compensation for regulators and admins: schemes, runs, allocations, the ΔGEP split."""
from __future__ import annotations

from decimal import ROUND_HALF_UP

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from greenfin.core.forms import CONFIRM_MESSAGE, ConfirmForm, apply_errors
from greenfin.compensation import services
from greenfin.compensation.labels import DIRECTION_LABELS, KIND_LABELS, STATUS_LABELS
from greenfin.compensation.pdf import township_notice_pdf
from greenfin.core import services as core
from greenfin.compensation.forms import DamageForm
from greenfin.downloads import content_disposition
from greenfin.labels import current_language, label
from greenfin.registry import require
from greenfin.errors import DomainError
from greenfin.pages import page_of
from greenfin.security import access
from greenfin.uow import rollback

bp = Blueprint("compensation", __name__)
STAFF = ("admin", "regulator")




def _flash_error(exc: DomainError) -> None:
    rollback()
    details = " · ".join(f"{f}: " + "; ".join(_(m) for m in ms) for f, ms in exc.errors.items())
    flash(_(exc.summary) + (" — " + details if details else ""), "error")


def _ten_thousands(amount) -> int:
    """A chart bar's length: whole 10,000 CNY (the tables show the exact amounts)."""
    return int((amount / 10000).to_integral_value(ROUND_HALF_UP))


def township_names() -> dict[str, str]:
    zh = str(get_locale() or "zh").startswith("zh")
    return {t.code: (t.name_zh if zh else t.name_en) for t in core.list_townships()}


def _payee_name(value: str, names: dict) -> str:
    if value == "budget":
        return _("District budget")
    if value.startswith("party:"):
        return core.get_party(int(value.split(":", 1)[1])).name
    return names.get(value, value)


@bp.route("/compensation")
@access(*STAFF)
def index():
    from greenfin.compensation.models import CompensationRun  # noqa: F401

    schemes = page_of(services.scheme_query())
    runs = page_of(services.run_query(), per_page=15)
    change, error = None, None
    year = request.args.get("year", type=int) or services.latest_change_year()
    if year:
        try:
            change = services.gep_change(year - 1, year)
        except DomainError as exc:
            error = exc
    incidents = page_of(services.incident_query(), per_page=10)
    names = township_names()
    bars = {"quantity": [], "price": []}
    if change is not None:
        for code, c in change.by_township().items():
            bars["quantity"].append((names.get(code, code), _ten_thousands(c.quantity), "red" if c.quantity < 0 else "green"))
            bars["price"].append((names.get(code, code), _ten_thousands(c.price), "blue"))
    return render_template("compensation/index.html", schemes=schemes, runs=runs, change=change, year=year,
                           incidents=incidents, bars=bars,
                           error=error, kinds=KIND_LABELS, statuses=STATUS_LABELS, names=township_names())


@bp.route("/compensation/runs", methods=["POST"])
@access(*STAFF)
def start_run():
    try:
        run, job = services.start_run(request.form.get("scheme_id", type=int) or 0, request.form.get("period"))
    except DomainError as exc:
        _flash_error(exc)
        return redirect(url_for("compensation.index"))
    flash(_("Run started; it is computed in the background.") if job else _("This scheme has a run for that period already."),
          "success")
    return redirect(url_for("compensation.run_detail", run_id=run.id))


@bp.route("/compensation/runs/<int:run_id>")
@access(*STAFF)
def run_detail(run_id):
    run = services.get_run(run_id)
    names = township_names()
    bars = [(_payee_name(r.payee, names), _ten_thousands(r.amount), "") for r in run.allocations]
    return render_template("compensation/run.html", run=run, names=names, kinds=KIND_LABELS, statuses=STATUS_LABELS,
                           directions=DIRECTION_LABELS, bars=bars, confirm_form=ConfirmForm(), payee=lambda v: _payee_name(v, names))


@bp.route("/compensation/runs/<int:run_id>/approve", methods=["POST"])
@access(*STAFF)
def approve(run_id):
    if not ConfirmForm().validate_on_submit():  # an approved run never changes: confirmed first
        flash(str(CONFIRM_MESSAGE), "error")
        return redirect(url_for("compensation.run_detail", run_id=run_id))
    try:
        services.approve_run(services.get_run(run_id))
        flash(_("Run approved; it can no longer change."), "success")
    except DomainError as exc:
        _flash_error(exc)
    return redirect(url_for("compensation.run_detail", run_id=run_id))


@bp.route("/compensation/runs/<int:run_id>/payments.csv")
@access(*STAFF)
def payments(run_id):
    run = services.get_run(run_id)
    try:
        text = services.payment_csv(run)
    except DomainError as exc:
        _flash_error(exc)
        return redirect(url_for("compensation.run_detail", run_id=run_id))
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": content_disposition(f"compensation-run-{run.id}.csv")})


@bp.route("/compensation/runs/<int:run_id>/notice/<township>.pdf")
@access(*STAFF)
def notice(run_id, township):
    run = services.get_run(run_id)
    rows = [r for r in run.allocations if township in (r.township_code, r.payer, r.payee)]
    if not rows:
        flash(_("This run has no row for that township."), "error")
        return redirect(url_for("compensation.run_detail", run_id=run_id))
    names = township_names()
    pdf = township_notice_pdf(run, rows, names.get(township, township), KIND_LABELS,
                              payee=lambda v: _payee_name(v, names))
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": content_disposition(f"notice-{run.id}-{township}.pdf", inline=True)})


# ---------------------------------------------------------------- ecological damage


@bp.route("/compensation/damage/new", methods=["GET", "POST"])
@access(*STAFF)
def damage_new():
    """Record an incident: the service values it (lost GEP) and posts the penalty's points."""
    form = DamageForm()
    form.services.choices = [(code, label("gep_service", code)) for code in require("greenfin.gep").service_codes()]
    if form.validate_on_submit():
        try:
            incident = services.value_damage({
                "reference": form.reference.data, "occurred_on": form.occurred_on.data,
                "parcel_codes": form.parcel_codes.data or "", "area_ha": form.area_ha.data,
                "restoration_years": form.restoration_years.data, "services": form.services.data or [],
                "party": form.party.data})
            flash(_("Damage incident recorded."), "success")
            return redirect(url_for("compensation.damage_detail", incident_id=incident.id))
        except DomainError as exc:
            rollback()
            apply_errors(form, exc.errors or {"reference": [exc.summary]})
    return render_template("compensation/damage_form.html", form=form), 422 if form.errors else 200


@bp.route("/compensation/damage/<int:incident_id>")
@access(*STAFF)
def damage_detail(incident_id):
    from decimal import Decimal

    incident = services.get_incident(incident_id)
    share = Decimal(incident.basis.get("share_of_area", "0"))
    rows = services.basis_rows(incident)
    party = core.get_party(incident.party_id) if incident.party_id else None
    ledger_url = (url_for("credit.ledger", party_id=party.id)
                  if party is not None and incident.posting_id and "credit" in current_app.blueprints else None)
    plain = lambda number: f"{number.normalize():f}"  # 25.0000 ha reads 25  # noqa: E731
    separator = "、" if current_language() == "zh" else ", "
    return render_template("compensation/damage.html", incident=incident, rows=rows, share=share, party=party,
                           ledger_url=ledger_url, plain=plain, separator=separator)


# ---------------------------------------------------------------- assessment


@bp.route("/assessment")
@access(*STAFF)
def assessment():
    from greenfin import dates

    year = request.args.get("year", type=int) or dates.today().year - 1
    zh = str(get_locale() or "zh").startswith("zh")
    indicators = services.indicator_tree()
    return render_template("compensation/assessment.html", year=year, scores=services.scores(year),
                           alerts=services.alerts(), indicators=indicators, names=township_names(),
                           indicator_name=lambda i: i.name_zh if zh else i.name_en,
                           bars=[(township_names().get(s.township_code, s.township_code),
                                  int(s.score.to_integral_value(ROUND_HALF_UP)), "") for s in services.scores(year)])


@bp.route("/assessment/score", methods=["POST"])
@access(*STAFF)
def assessment_score():
    year = request.form.get("year", type=int)
    try:
        scored = services.score_year(year)
        flash(_("%(n)s townships scored.", n=len(scored)), "success")
    except DomainError as exc:
        _flash_error(exc)
    return redirect(url_for("compensation.assessment", year=year or ""))


@bp.route("/assessment/exit-audit.pdf")
@access(*STAFF)
def exit_audit():
    from greenfin.compensation.pdf import exit_audit_pdf

    args = request.args
    try:
        audit = services.exit_audit(args.get("township", ""), args.get("start_year"), args.get("end_year"),
                                    args.get("official", ""))
    except DomainError as exc:
        _flash_error(exc)
        return redirect(url_for("compensation.assessment"))
    names = township_names()
    pdf = exit_audit_pdf(audit, names.get(audit["township"], audit["township"]))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": content_disposition(f"exit-audit-{audit['township']}-{audit['end_year']}.pdf",
                                                   inline=True)})
