"""Lending pages: officer queue, application, decision, letter, loans, portfolio, models."""
from __future__ import annotations


from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from greenfin import dates
from greenfin.core.forms import CONFIRM_MESSAGE, ConfirmForm, apply_errors
from greenfin.core.models import Parcel, Party
from greenfin.downloads import content_disposition
from greenfin.errors import Conflict, DomainError, Gone, ValidationFailed
from greenfin.extensions import db
from greenfin.i18n import local_name
from greenfin.labels import current_language, label
from greenfin.uow import rollback
from greenfin.lending import links, services
from greenfin.lending.scoring import modelling
from greenfin.lending.forms import (
    ApplicationForm, BookForm, CollateralForm, OfficerDecisionForm, ProductForm, RepaymentForm, ReviewForm,
    ScoreBatchForm, TrainForm, WriteOffForm, parse_lines,
)
from greenfin.lending.models import APPLICATION_STATUSES, ModelVersion
from greenfin.lending.pdf import decision_letter
from greenfin.lending.schedule import build_schedule
from greenfin.pages import follow_job, page_of
from greenfin.security import STAFF, access, current_actor, own_party_id, require_party_access

bp = Blueprint("lending", __name__, url_prefix="/lending")
OFFICERS = ("admin", "loan_officer")


def _fail(exc: DomainError) -> None:
    rollback()
    flash(exc.message, "error")


@bp.route("/")
@access(*STAFF, "producer")
def queue():
    """Officers: the application queue by status. Producers: their own applications and loans."""
    scope = own_party_id()
    status = request.args.get("status") or None
    if status not in APPLICATION_STATUSES:
        status = None
    page = page_of(services.application_query(status=status, party_id=scope))
    loans = list(db.session.scalars(services.loan_query(party_id=scope).limit(10))) if scope else []
    counts = {s: db.session.scalar(select(db.func.count()).select_from(
        services.application_query(status=s, party_id=scope).subquery())) for s in APPLICATION_STATUSES}
    return render_template("lending/queue.html", page=page, status=status, counts=counts, loans=loans)


@bp.route("/applications/new", methods=["GET", "POST"])
@access(*OFFICERS)
def application_new():
    form = ApplicationForm()
    form.party_id.choices = [(p.id, p.name) for p in db.session.scalars(select(Party).order_by(Party.name))]
    form.product_id.choices = [(p.id, local_name(p)) for p in services.list_products(active_only=True)]
    if request.method == "GET" and request.args.get("party_id", type=int):
        form.party_id.data = request.args.get("party_id", type=int)
    pending: list[str] = []  # the applicant's pending applications for the product, when filing would duplicate
    if form.validate_on_submit():
        data = {k: v for k, v in form.data.items() if k != "csrf_token"}
        data["guarantors"] = parse_lines(data["guarantors"], ("name", "relation"))
        data["documents"] = parse_lines(data["documents"], ("kind", "reference"))
        data["total_assets"] = data["total_assets"] or 0
        data["total_debts"] = data["total_debts"] or 0
        data["years_in_business"] = data["years_in_business"] or 0
        try:
            app = services.create_application(data)
            flash(_("Application filed."), "success")
            return redirect(url_for("lending.application_detail", application_id=app.id))
        except ValidationFailed as exc:
            rollback()
            apply_errors(form, exc.errors)
            pending = getattr(exc, "pending", [])
    return render_template("lending/application_form.html", form=form, pending=pending), 422 if form.errors else 200


@bp.route("/applications/<int:application_id>")
@access(*STAFF, "producer")
def application_detail(application_id):
    app = services.get_application(application_id)
    require_party_access(app.party_id)
    collateral_form = CollateralForm()
    collateral_form.parcel_id.choices = _parcel_choices(app)
    score = modelling.latest_score(app)
    challengers = [s for s in app.scores if s.role == "challenger"][-3:]
    gep_now = {p.parcel_id: links.parcel_gep(p.parcel_id) for p in app.collateral}
    return render_template(
        "lending/application_detail.html", app=app, score=score, challengers=challengers,
        summary=services.collateral_summary(app), decision=services.current_decision(app),
        pending=services.pending_override(app), colour_now=links.current_colour(app.party_id), gep_now=gep_now,
        collateral_form=collateral_form, decision_form=OfficerDecisionForm(), review_form=ReviewForm(),
        book_form=BookForm(disbursed_on=dates.today()), confirm_form=ConfirmForm(),
        officer=current_actor().role in OFFICERS)


def _parcel_choices(app) -> list[tuple[int, str]]:
    """Parcels of the applicant and of guarantors that are parties."""
    holders = {app.party_id} | {g.get("party_id") for g in app.guarantors or [] if g.get("party_id")}
    return [(p.id, f"{p.code} · {p.name or ''} · {p.land_cover} · {p.area_ha} ha")
            for p in db.session.scalars(select(Parcel).where(Parcel.holder_id.in_(holders)).order_by(Parcel.code))]


def _act(application_id, action, done):
    """Run an officer's action on the application; say what happened (``done``: a message, or a
    function of the action's result giving one) or why not; back to the application."""
    app = services.get_application(application_id)
    try:
        result = action(app)
        flash(done(result) if callable(done) else done, "success")
    except DomainError as exc:
        _fail(exc)
    return redirect(url_for("lending.application_detail", application_id=application_id))


def _confirmed() -> bool:
    """An action that cannot be undone is sent with its box ticked; else the officer is told so."""
    if ConfirmForm().validate_on_submit():
        return True
    flash(str(CONFIRM_MESSAGE), "error")
    return False


@bp.route("/applications/<int:application_id>/collateral", methods=["POST"])
@access(*OFFICERS)
def collateral_add(application_id):
    app = services.get_application(application_id)
    form = CollateralForm()
    form.parcel_id.choices = _parcel_choices(app)
    if not form.validate_on_submit():
        flash(_("Please give the parcel and its appraised value."), "error")
        return redirect(url_for("lending.application_detail", application_id=application_id))
    data = {k: v for k, v in form.data.items() if k != "csrf_token"}
    return _act(application_id, lambda app: services.add_collateral(app, data), _("Parcel pledged."))


@bp.route("/applications/<int:application_id>/score", methods=["POST"])
@access(*OFFICERS)
def application_score(application_id):
    return _act(application_id, modelling.score_application,
                lambda score: _("Scored: %(score)s points, band %(band)s.", score=score.score, band=score.band))


@bp.route("/applications/<int:application_id>/decide", methods=["POST"])
@access(*OFFICERS)
def application_decide(application_id):
    if not _confirmed():
        return redirect(url_for("lending.application_detail", application_id=application_id))
    return _act(application_id, services.decide_application,
                lambda decision: _("Policy rules run; the decision is: %(outcome)s.",
                                   outcome=label("loan_outcome", decision.outcome)))


@bp.route("/applications/<int:application_id>/officer-decision", methods=["POST"])
@access(*OFFICERS)
def application_officer_decision(application_id):
    form = OfficerDecisionForm()
    if not form.validate_on_submit():
        flash(_("A decision needs a reason."), "error")
        return redirect(url_for("lending.application_detail", application_id=application_id))
    return _act(application_id, lambda app: services.officer_decision(app, form.outcome.data, form.note.data,
                                                                       amount=form.amount.data),
                lambda decision: _("Override recorded; a second officer must approve it.")
                if decision.override_status == "pending"
                else _("Decision recorded: %(outcome)s.", outcome=label("loan_outcome", decision.outcome)))


@bp.route("/decisions/<int:decision_id>/review", methods=["POST"])
@access(*OFFICERS)
def decision_review(decision_id):
    form = ReviewForm()
    decision = services.get_decision(decision_id)
    return _act(decision.application_id,
                lambda app: services.review_override(decision, bool(form.approve.data), form.note.data or ""),
                _("The decision override is approved.") if form.approve.data else _("The decision override is rejected."))


@bp.route("/applications/<int:application_id>/withdraw", methods=["POST"])
@access(*OFFICERS)
def application_withdraw(application_id):
    if not _confirmed():
        return redirect(url_for("lending.application_detail", application_id=application_id))
    return _act(application_id, lambda app: services.withdraw_application(app, request.form.get("reason", "")),
                _("Application withdrawn."))


@bp.route("/applications/<int:application_id>/book", methods=["POST"])
@access(*OFFICERS)
def application_book(application_id):
    form = BookForm()
    app = services.get_application(application_id)
    try:
        loan = services.book_loan(app, form.disbursed_on.data if form.validate_on_submit() else None)
    except DomainError as exc:
        _fail(exc)
        return redirect(url_for("lending.application_detail", application_id=application_id))
    flash(_("Loan booked."), "success")
    return redirect(url_for("lending.loan_detail", loan_id=loan.id))


@bp.route("/applications/<int:application_id>/letter.pdf")
@access(*STAFF, "producer")
def decision_letter_pdf(application_id):
    app = services.get_application(application_id)
    require_party_access(app.party_id)
    decision = services.current_decision(app)
    if decision is None or decision.outcome == "refer":
        abort(404)
    preview = []
    if app.loan is not None:
        preview = [(i.seq, i.due_date, i.principal_due, i.interest_due, i.total_due) for i in app.loan.instalments[:6]]
    elif decision.outcome == "approve":
        preview = [(l.seq, l.due_date, l.principal, l.interest, l.total) for l in build_schedule(
            decision.approved_amount, decision.rate, app.term_months, app.product.amortisation, dates.today(),
            harvest_months=app.product.harvest_months, fee=app.product.arrangement_fee)[:6]]
    body = decision_letter(app, decision, services.collateral_summary(app), preview)
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": content_disposition(f"{app.number}-decision.pdf", inline=True)})


# ---------------------------------------------------------------- loans


@bp.route("/loans")
@access(*STAFF, "producer")
def loans():
    scope = own_party_id()
    page = page_of(services.loan_query(party_id=scope if scope is not None else request.args.get("party", type=int), status=request.args.get("status") or None,
                                       bucket=request.args.get("bucket") or None))
    return render_template("lending/loans.html", page=page)


@bp.route("/loans/<int:loan_id>")
@access(*STAFF, "producer")
def loan_detail(loan_id, form: RepaymentForm | None = None, write_off: WriteOffForm | None = None):
    loan = services.get_loan(loan_id)
    require_party_access(loan.party_id)
    form = form or RepaymentForm(prefix="r", received_on=dates.today())
    write_off = write_off or WriteOffForm(prefix="w")
    status = 422 if form.errors or write_off.errors else 200
    return render_template("lending/loan_detail.html", loan=loan, form=form, write_off=write_off,
                           officer=current_actor().role in OFFICERS), status


@bp.route("/loans/<int:loan_id>/repayments", methods=["POST"])
@access(*OFFICERS)
def loan_repayment(loan_id):
    loan = services.get_loan(loan_id)
    form = RepaymentForm(prefix="r")
    if form.validate_on_submit():
        try:
            services.record_repayment(loan, form.amount.data, form.received_on.data, form.reference.data or None)
            flash(_("Repayment recorded."), "success")
            return redirect(url_for("lending.loan_detail", loan_id=loan_id))
        except ValidationFailed as exc:
            rollback()
            apply_errors(form, exc.errors)
        except DomainError as exc:
            _fail(exc)
            return redirect(url_for("lending.loan_detail", loan_id=loan_id))
    return loan_detail(loan_id, form=form)


@bp.route("/loans/<int:loan_id>/write-off", methods=["POST"])
@access(*OFFICERS)
def loan_write_off(loan_id):
    loan = services.get_loan(loan_id)
    write_off = WriteOffForm(prefix="w")
    if write_off.validate_on_submit():
        try:
            services.write_off_loan(loan, write_off.reason.data)
            flash(_("Loan written off."), "success")
        except DomainError as exc:
            _fail(exc)
        return redirect(url_for("lending.loan_detail", loan_id=loan_id))
    return loan_detail(loan_id, write_off=write_off)


@bp.route("/portfolio")
@access(*STAFF)
def portfolio():
    from credit.policy import colour_label

    summary = services.portfolio_summary()
    charts = {
        "buckets": [(label("dpd_bucket", b), v, "red" if b in ("61-90", "90+") else ("yellow" if b != "current" else "green"))
                    for b, v in summary["by_bucket"].items()],
        "colours": [(str(colour_label(c)), v, c) for c, v in summary["by_colour"].items()],
        "products": [(label("loan_product_kind", p), v) for p, v in summary["by_product"].items()],
        "months": [(m[2:], v) for m, v in summary["by_month"].items()],
    }
    return render_template("lending/portfolio.html", summary=summary, charts=charts)


# ---------------------------------------------------------------- models and products


@bp.route("/models")
@access(*STAFF)
def models(form: TrainForm | None = None, score_form: ScoreBatchForm | None = None):
    """The registry; admins upload a loan-book CSV to train a new version in the background;
    officers upload applicants to score them in the background."""
    form = form or TrainForm()
    versions = list(db.session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc())))
    score_form = score_form or ScoreBatchForm(prefix="sb")
    score_form.version.choices = _version_choices(versions)
    batches = db.session.scalars(modelling.score_batch_query().limit(10)).all() \
        if current_actor().role in OFFICERS else []
    status = 422 if form.errors or score_form.errors else 200
    return render_template("lending/models.html", versions=versions, form=form, score_form=score_form,
                           batches=batches), status


def _version_choices(versions) -> list[tuple[str, str]]:
    champion = next((v.version for v in versions if v.role == "champion"), None)
    first = _("The champion (%(version)s)", version=champion) if champion else _("The champion")
    return [("", first)] + [(v.version, f"{v.version} · {label('loan_status', v.role)}") for v in versions]


@bp.route("/score-batches", methods=["POST"])
@access(*OFFICERS)
def score_batch_new():
    """Upload applicants; they are scored in a job whose page shows the progress and the download."""
    form = ScoreBatchForm(prefix="sb")
    form.version.choices = _version_choices(db.session.scalars(select(ModelVersion)).all())
    if form.validate_on_submit():
        upload = form.file.data
        try:
            batch = modelling.start_score_batch(upload.read(), upload.filename or "", form.version.data or None)
            return follow_job(batch.job_id)
        except ValidationFailed as exc:
            rollback()
            _batch_errors(form, exc)
        except Conflict:
            rollback()
            form.version.errors = list(form.version.errors) + [_("No champion model is registered: choose a version.")]
    return models(score_form=form)


def _batch_errors(form: ScoreBatchForm, exc: ValidationFailed) -> None:
    """The service's field errors on the form, in the user's language."""
    if exc.code == "missing_columns":
        form.file.errors = list(form.file.errors) + [
            _("The CSV lacks the model's feature columns: %(columns)s", columns=", ".join(exc.columns))]
    elif exc.code == "unreadable_csv":
        form.file.errors = list(form.file.errors) + [_("The file cannot be read as a CSV.")]
    else:
        apply_errors(form, exc.errors)


@bp.route("/score-batches/<int:batch_id>/scored.csv")
@access(*OFFICERS)
def score_batch_csv(batch_id):
    from greenfin.lending.api import scored_csv_response

    batch = modelling.get_score_batch(batch_id)
    try:
        return scored_csv_response(batch)
    except Gone:
        flash(_("The upload of this batch was deleted under the retention rule."), "error")
        return redirect(url_for("lending.models") + "#score-batch")
    except Conflict:
        flash(_("The batch is not scored yet."), "error")
        return redirect(url_for("core.job_detail", job_id=batch.job_id) if batch.job_id else url_for("lending.models"))


@bp.route("/score-batches/<int:batch_id>/problems.csv")
@access(*OFFICERS)
def score_batch_problems(batch_id):
    """The per-row report: why each rejected row of the batch was not scored."""
    from greenfin.lending.api import problems_csv_response

    try:
        return problems_csv_response(modelling.get_score_batch(batch_id))
    except Gone:
        flash(_("The upload of this batch was deleted under the retention rule."), "error")
        return redirect(url_for("lending.models") + "#score-batch")


@bp.route("/models/train", methods=["POST"])
@access("admin")
def model_train():
    form = TrainForm()
    if form.validate_on_submit():
        try:
            job = modelling.start_training(form.csv.data.stream, target=form.target.data, bad_value=form.bad_value.data,
                                           name=form.name.data, champion=form.champion.data,
                                           include_protected=[c for c in (form.include_protected.data or "").split(",")
                                                              if c.strip()])
            return follow_job(job.id)
        except ValidationFailed as exc:
            rollback()
            apply_errors(form, exc.errors)
    return models(form)


@bp.route("/loans/refresh-delinquency", methods=["POST"])
@access(*OFFICERS)
def loans_refresh():
    job = services.start_delinquency_refresh()
    return follow_job(job.id)


@bp.route("/models/<int:model_id>")
@access(*STAFF)
def model_card(model_id):
    model = modelling.get_model(model_id)
    card = modelling.load_scorecard(model)
    return render_template("lending/model_card.html", model=model, table=card.card_table(current_language()),
                           bins=card.bins)


@bp.route("/models/<int:model_id>/promote", methods=["POST"])
@access("admin")
def model_promote(model_id):
    try:
        modelling.promote_model(modelling.get_model(model_id))
        flash(_("Champion changed."), "success")
    except Conflict as exc:
        _fail(exc)
    return redirect(url_for("lending.models"))


@bp.route("/monitoring")
@access(*STAFF)
def monitoring():
    return render_template("lending/monitoring.html", report=modelling.psi_report())


@bp.route("/products")
@access(*STAFF, "producer")
def products():
    return render_template("lending/products.html", products=services.list_products())


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@access("admin")
def product_edit(product_id):
    product = services.get_product(product_id)
    form = ProductForm(obj=product)
    if form.validate_on_submit():
        data = {k: v for k, v in form.data.items() if k != "csrf_token"}
        try:
            services.update_product(product, data)
            flash(_("Product saved."), "success")
            return redirect(url_for("lending.products"))
        except ValidationFailed as exc:
            rollback()
            apply_errors(form, exc.errors)
    return render_template("lending/product_form.html", form=form, product=product), 422 if form.errors else 200
