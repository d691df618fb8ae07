"""Pages: review queue, objections, ledger history, rule catalogue, charts, ratings, public disclosure."""
from __future__ import annotations

import uuid

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from credit import services
from greenfin.ratelimit import rate_limited
from credit.catalogue import CATEGORIES
from credit.labels import rule_label
from credit.policy import COLOURS
from credit.forms import (
    AnswerForm,
    ImportForm,
    NoteForm,
    ObjectionForm,
    OverrideForm,
    PostingForm,
    RepairForm,
    ReversalForm,
    ReviewBatchForm,
    RuleForm,
    RunForm,
)
from credit.models import CreditCheckpoint, CreditPosting, CreditRepair, Rating, RatingObjection, RatingOverride, RatingPeriod
from greenfin.core.forms import CONFIRM_MESSAGE, ConfirmForm, apply_errors
from greenfin.core.models import Party
from greenfin.core.services import get_party, list_townships
from greenfin.core.types import utcnow
from greenfin.downloads import content_disposition
from greenfin.errors import DomainError, ValidationFailed
from greenfin.extensions import db
from greenfin.job_model import Job
from greenfin.uow import rollback
from greenfin.i18n import township_name
from greenfin.pages import page_of
from greenfin.replica import public_reads
from greenfin.security import PUBLIC, STAFF, access, own_party_id, require_party_access
from greenfin.dates import today

bp = Blueprint("credit", __name__, url_prefix="/credit")
REVIEWERS = ("admin", "regulator")


def _fail(exc: DomainError) -> None:
    rollback()
    flash(exc.message, "error")


def _back(default: str):
    target = request.form.get("next") or ""
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(default)


# ---------------------------------------------------------------- review queue


@bp.route("/review")
@access(*REVIEWERS)
def review():
    period = request.args.get("period") or None
    computed = page_of(services.rating_query(period=period, state="computed"), per_page=50)
    pending = list(db.session.scalars(services.pending_query().limit(50)))
    overrides = list(db.session.scalars(select(RatingOverride).where(RatingOverride.status == "pending")
                                        .order_by(RatingOverride.requested_at)))
    repairs = list(db.session.scalars(services.repair_query()))
    notice_due = list(db.session.scalars(select(Rating).where(Rating.state == "notice",
                                                              Rating.notice_ends_at <= utcnow()).limit(50)))
    periods = list(db.session.scalars(select(RatingPeriod).order_by(RatingPeriod.ends_on.desc())))
    return render_template("credit/review.html", computed=computed, pending=pending, overrides=overrides,
                           repairs=repairs, notice_due=notice_due, periods=periods, counts=services.review_counts(),
                           run_form=RunForm(period=services.default_run_period()), note_form=NoteForm(),
                           review_form=ReviewBatchForm())


@bp.route("/pending/<int:pending_id>/approve", defaults={"decision": "approve"}, methods=["POST"])
@bp.route("/pending/<int:pending_id>/reject", defaults={"decision": "reject"}, methods=["POST"])
@access("regulator")
def pending_decide(pending_id, decision):
    form = NoteForm()
    try:
        if decision == "approve":
            services.approve_pending(pending_id, note=form.note.data)
        else:
            services.reject_pending(pending_id, note=form.note.data or "")
        flash(_("Posting approved.") if decision == "approve" else _("Posting rejected."), "success")
    except DomainError as exc:
        _fail(exc)
    return _back(url_for("credit.review"))


@bp.route("/runs", methods=["POST"])
@access(*REVIEWERS)
def run_new():
    form = RunForm()
    if not form.validate_on_submit():
        flash(_("Give a period such as %(period)s.", period=services.default_run_period()), "error")
        return redirect(url_for("credit.review"))
    try:
        run = services.start_rating_run(form.period.data)
        job_id, period = run.job_id, run.period.code
    except DomainError as exc:
        _fail(exc)
        return redirect(url_for("credit.review"))
    flash(_("Rating run for %(period)s started: this page follows it, and links back to the review queue.",
            period=period), "success")
    return redirect(url_for("core.job_detail", job_id=job_id))


@bp.route("/ratings/review", methods=["POST"])
@access("regulator")
def ratings_review():
    """Approve (public notice) or return the ticked computed ratings at once: one audit event each."""
    form = ReviewBatchForm()
    if not form.validate_on_submit():
        flash(_("Tick at least one rating."), "error")
    elif form.decision.data == "approve" and not form.confirm.data:
        flash(str(CONFIRM_MESSAGE), "error")
    elif form.decision.data == "return" and not (form.note.data or "").strip():
        flash(_("Say why the ratings go back."), "error")
    else:
        try:
            done = services.review_ratings(form.rating_ids.data, form.decision.data, note=form.note.data or "")
            flash(_("%(n)s rating(s) approved for public notice.", n=len(done)) if form.decision.data == "approve"
                  else _("%(n)s rating(s) returned; the next run of their period computes them again.", n=len(done)),
                  "success")
        except DomainError as exc:
            rollback()
            flash(f"{_(exc.summary)}: {', '.join(exc.errors.get('rating_ids', []))}", "error")
    return _back(url_for("credit.review"))


@bp.route("/publish-due", methods=["POST"])
@access("regulator")
def publish_due():
    if not ConfirmForm().validate_on_submit():  # publishing cannot be undone
        flash(str(CONFIRM_MESSAGE), "error")
        return redirect(url_for("credit.review"))
    count = services.publish_due_ratings()
    flash(_("%(n)s rating(s) published.", n=count), "success")
    return redirect(url_for("credit.review"))


# ---------------------------------------------------------------- ratings


@bp.route("/ratings")
@access(*STAFF, "producer")
def ratings():
    args = request.args
    stmt = services.rating_query(period=args.get("period") or None, state=args.get("state") or None,
                                 colour=args.get("colour") or None, township=args.get("township") or None,
                                 party_id=own_party_id())
    periods = list(db.session.scalars(select(RatingPeriod).order_by(RatingPeriod.ends_on.desc())))
    return render_template("credit/ratings.html", page=page_of(stmt), periods=periods, townships=list_townships(),
                           colours=COLOURS)


@bp.route("/ratings/<int:rating_id>", methods=["GET"])
@access(*STAFF, "producer")
def rating_detail(rating_id):
    rating = services.get_rating(rating_id)
    require_party_access(rating.party_id)
    objections = list(db.session.scalars(select(RatingObjection).where(RatingObjection.rating_id == rating.id)
                                         .order_by(RatingObjection.filed_at)))
    overrides = list(db.session.scalars(select(RatingOverride).where(RatingOverride.rating_id == rating.id)
                                        .order_by(RatingOverride.requested_at)))
    repairs = list(db.session.scalars(select(CreditRepair).where(CreditRepair.rating_id == rating.id)
                                      .order_by(CreditRepair.filed_at)))
    return render_template("credit/rating_detail.html", rating=rating, objections=objections, overrides=overrides,
                           repairs=repairs, now=utcnow(), objection_form=ObjectionForm(), override_form=OverrideForm(),
                           repair_form=RepairForm(), answer_form=AnswerForm(), note_form=NoteForm(),
                           confirm_form=ConfirmForm())


@bp.route("/ratings/<int:rating_id>/approve", defaults={"action": "approve"}, methods=["POST"])
@bp.route("/ratings/<int:rating_id>/publish", defaults={"action": "publish"}, methods=["POST"])
@access("regulator")
def rating_action(rating_id, action):
    if not ConfirmForm().validate_on_submit():  # public notice and publication cannot be undone
        flash(str(CONFIRM_MESSAGE), "error")
        return _back(url_for("credit.rating_detail", rating_id=rating_id))
    try:
        if action == "approve":
            services.approve_rating(rating_id)
        else:
            services.publish_rating(rating_id)
        flash(_("The rating is on public notice.") if action == "approve" else _("The rating is published."),
              "success")
    except DomainError as exc:
        _fail(exc)
    return _back(url_for("credit.rating_detail", rating_id=rating_id))


@bp.route("/ratings/<int:rating_id>/objections", methods=["POST"])
@access("producer", "regulator", "admin")
def objection_new(rating_id):
    rating = services.get_rating(rating_id)
    require_party_access(rating.party_id)
    form = ObjectionForm()
    if form.validate_on_submit():
        try:
            services.file_objection(rating_id, form.text.data)
            flash(_("Objection filed; a regulator will answer by the deadline."), "success")
        except DomainError as exc:
            _fail(exc)
    else:
        flash(_("Say what is wrong with the rating."), "error")
    return redirect(url_for("credit.rating_detail", rating_id=rating_id))


@bp.route("/ratings/<int:rating_id>/overrides", methods=["POST"])
@access("regulator")
def override_new(rating_id):
    form = OverrideForm()
    if form.validate_on_submit():
        try:
            services.request_override(rating_id, to_colour=form.to_colour.data, reason=form.reason.data)
            flash(_("Override requested; a second regulator must approve it."), "success")
        except DomainError as exc:
            _fail(exc)
    else:
        flash(_("An override needs a reason."), "error")
    return redirect(url_for("credit.rating_detail", rating_id=rating_id))


@bp.route("/overrides/<int:override_id>/approve", defaults={"decision": "approve"}, methods=["POST"])
@bp.route("/overrides/<int:override_id>/reject", defaults={"decision": "reject"}, methods=["POST"])
@access("regulator")
def override_decide(override_id, decision):
    try:
        override = services.decide_override(override_id, approve=decision == "approve")
        flash(_("Override approved.") if decision == "approve" else _("Override rejected."), "success")
        return _back(url_for("credit.rating_detail", rating_id=override.rating_id))
    except DomainError as exc:
        _fail(exc)
    return _back(url_for("credit.review"))


@bp.route("/ratings/<int:rating_id>/repairs", methods=["POST"])
@access("producer", "regulator", "admin")
def repair_new(rating_id):
    rating = services.get_rating(rating_id)
    require_party_access(rating.party_id)
    form = RepairForm()
    if form.validate_on_submit():
        try:
            services.apply_repair(rating_id, form.statement.data)
            flash(_("Credit repair application filed."), "success")
        except DomainError as exc:
            _fail(exc)
    else:
        flash(_("Describe the correction made."), "error")
    return redirect(url_for("credit.rating_detail", rating_id=rating_id))


@bp.route("/repairs/<int:repair_id>/approve", defaults={"decision": "approve"}, methods=["POST"])
@bp.route("/repairs/<int:repair_id>/reject", defaults={"decision": "reject"}, methods=["POST"])
@access("regulator")
def repair_decide(repair_id, decision):
    form = NoteForm()
    try:
        repair = services.decide_repair(repair_id, approve=decision == "approve", note=form.note.data or "")
        flash(_("Repair approved: the rating is hidden from public view.") if decision == "approve"
              else _("Repair rejected."), "success")
        return _back(url_for("credit.rating_detail", rating_id=repair.rating_id))
    except DomainError as exc:
        _fail(exc)
    return _back(url_for("credit.review"))


# ---------------------------------------------------------------- objections


@bp.route("/objections")
@access(*REVIEWERS)
def objections():
    status = request.args.get("status") or "open"
    if status not in ("open", "upheld", "dismissed"):
        status = "open"
    page = page_of(services.objection_query(status=status))
    return render_template("credit/objections.html", page=page, status=status, now=utcnow(), form=AnswerForm())


@bp.route("/objections/<int:objection_id>/answer", methods=["POST"])
@access("regulator")
def objection_answer(objection_id):
    form = AnswerForm()
    if not form.validate_on_submit():
        flash(_("Write an answer."), "error")
        return _back(url_for("credit.objections"))
    try:
        services.answer_objection(objection_id, decision=form.decision.data, answer=form.answer.data,
                                  new_colour=form.new_colour.data or None)
        flash(_("Objection answered."), "success")
    except DomainError as exc:
        _fail(exc)
    return _back(url_for("credit.objections"))


# ---------------------------------------------------------------- ledger


@bp.route("/parties/<int:party_id>/ledger")
@access(*STAFF, "producer")
def ledger(party_id):
    require_party_access(party_id)
    party = get_party(party_id)
    page = page_of(services.posting_query(party_id=party_id), per_page=50)
    reversed_ids = set(db.session.scalars(select(CreditPosting.reverses_id).where(
        CreditPosting.party_id == party_id, CreditPosting.reverses_id.is_not(None))))
    account = services.get_account(party_id)
    pending = list(db.session.scalars(services.pending_query(party_id=party_id)))
    ratings = list(db.session.scalars(services.rating_query(party_id=party_id)))
    return render_template("credit/ledger.html", party=party, page=page, account=account, pending=pending,
                           balance=services.balance(party_id), score=services.score(party_id), ratings=ratings,
                           reversed_ids=reversed_ids, today=today())


@bp.route("/postings/<int:posting_id>/reverse", methods=["GET", "POST"])
@access(*REVIEWERS)
def posting_reverse(posting_id):
    posting = services.get_posting(posting_id)
    form = ReversalForm()
    if request.method == "GET":
        form.idempotency_key.data = f"page:{uuid.uuid4()}"
    if form.validate_on_submit():
        try:
            result = services.reverse_posting(posting_id, reason=form.reason.data,
                                              idempotency_key=form.idempotency_key.data)
            flash(_("Reversal posted.") if result.status == "posted" else _("Reversal waits for a regulator."),
                  "success")
            return redirect(url_for("credit.ledger", party_id=posting.party_id))
        except ValidationFailed as exc:
            rollback()
            apply_errors(form, exc.errors)
        except DomainError as exc:
            _fail(exc)
    return render_template("credit/reverse.html", posting=posting, form=form), 422 if form.errors else 200


@bp.route("/postings/new", methods=["GET", "POST"])
@access(*REVIEWERS)
def posting_new():
    form = PostingForm()
    form.party_id.choices = [(p.id, f"{p.name} · {p.identifier_display}")
                             for p in db.session.scalars(select(Party).order_by(Party.kind, Party.name))]
    form.rule_code.choices = [(r.code, f"{rule_label(r.code, r)} ({r.points:+d})")
                              for r in db.session.scalars(services.rule_query())]
    if request.method == "GET":
        form.idempotency_key.data = f"page:{uuid.uuid4()}"
        if request.args.get("party_id", type=int):
            form.party_id.data = request.args.get("party_id", type=int)
    if form.validate_on_submit():
        evidence = {k: getattr(form, k).data.strip() for k in ("document", "inspector", "note")
                    if (getattr(form, k).data or "").strip()}
        try:
            result = services.submit_posting(form.party_id.data, form.rule_code.data,
                                             idempotency_key=form.idempotency_key.data,
                                             effective_date=form.effective_date.data, evidence=evidence, source="page")
            flash(_("Posted.") if result.status == "posted" else _("Saved; it waits for a regulator's approval."),
                  "success")
            return redirect(url_for("credit.ledger", party_id=form.party_id.data))
        except ValidationFailed as exc:
            rollback()
            apply_errors(form, exc.errors)
        except DomainError as exc:
            _fail(exc)
    return render_template("credit/posting_form.html", form=form), 422 if form.errors else 200


@bp.route("/import", methods=["GET", "POST"])
@access(*REVIEWERS)
def import_csv():
    """Bulk intake: upload a CSV or JSON Lines file; a job posts it in chunks (as ``credit import``)."""
    from credit.importer import IMPORT_COLUMNS

    form = ImportForm()
    if form.validate_on_submit():
        upload = form.csv_file.data
        try:
            intake = services.start_intake(upload.read(), upload.filename or "upload.csv")
        except ValidationFailed as exc:
            rollback()
            form.csv_file.errors = [f"{field}: {', '.join(msgs)}" if field not in ("file", "format") else
                                    ", ".join(msgs) for field, msgs in exc.errors.items()]
        else:
            flash(_("The file is stored and being posted: %(rows)s rows.", rows=intake.rows_total), "success")
            return redirect(url_for("credit.intake_detail", intake_id=intake.id))
    return render_template("credit/import.html", form=form, columns=IMPORT_COLUMNS,
                           page=page_of(services.intake_query(), per_page=10)), 422 if form.errors else 200


@bp.route("/intakes/<int:intake_id>")
@access(*REVIEWERS)
def intake_detail(intake_id):
    intake = services.get_intake(intake_id)
    job = db.session.get(Job, intake.job_id) if intake.job_id else None
    errors = list(db.session.scalars(services.intake_errors_query(intake_id).limit(100)))
    return render_template("credit/intake.html", intake=intake, job=job, errors=errors)


@bp.route("/intakes/<int:intake_id>/errors.csv")
@access(*REVIEWERS)
def intake_errors(intake_id):
    intake = services.get_intake(intake_id)
    return Response("\ufeff" + services.intake_errors_csv(intake.id), mimetype="text/csv",
                    headers={"Content-Disposition": content_disposition(f"intake-{intake.id}-errors.csv")})


@bp.route("/ledger")
@access(*REVIEWERS)
def ledger_status():
    checkpoints = list(db.session.scalars(select(CreditCheckpoint).order_by(CreditCheckpoint.day.desc()).limit(30)))
    return render_template("credit/ledger_status.html", checkpoints=checkpoints, report=None)


@bp.route("/ledger/verify", methods=["POST"])
@access(*REVIEWERS)
def ledger_verify():
    report = services.verify_ledger()
    checkpoints = list(db.session.scalars(select(CreditCheckpoint).order_by(CreditCheckpoint.day.desc()).limit(30)))
    return render_template("credit/ledger_status.html", checkpoints=checkpoints, report=report)


# ---------------------------------------------------------------- rule catalogue


@bp.route("/rules")
@access(*STAFF, "producer")
def rules():
    history = request.args.get("history") == "1"
    listing = list(db.session.scalars(services.rule_query(history=history)))
    grouped: dict[str, list] = {}
    for rule in listing:
        grouped.setdefault(rule.category, []).append(rule)
    return render_template("credit/rules.html", grouped=grouped, categories=CATEGORIES, history=history)


@bp.route("/rules/new", methods=["GET", "POST"])
@bp.route("/rules/<code>/revise", methods=["GET", "POST"])
@access("admin")
def rule_form(code=None):
    current = services.rule_versions(code)[-1] if code and services.rule_versions(code) else None
    if code and current is None:
        return render_template("errors.html", status=404, message=_("Rule not found"), errors={}), 404
    form = RuleForm(obj=current)
    if current is not None:
        form.code.data = current.code
        if request.method == "GET":
            form.effective_from.data = today()
    if form.validate_on_submit():
        data = {k: v for k, v in form.data.items() if k != "csrf_token"}
        data["evidence_required"] = data["evidence_required"] or None
        data["legal_basis"] = data["legal_basis"] or None
        try:
            if current is None:
                rule = services.create_rule(data)
            else:
                data.pop("code")
                rule = services.revise_rule(current.code, data)
            flash(_("Rule %(code)s version %(v)s saved.", code=rule.code, v=rule.version), "success")
            return redirect(url_for("credit.rules"))
        except ValidationFailed as exc:
            rollback()
            apply_errors(form, exc.errors)
    return render_template("credit/rule_form.html", form=form, current=current), 422 if form.errors else 200


# ---------------------------------------------------------------- charts


@bp.route("/charts")
@access(*REVIEWERS, "loan_officer")
def charts():
    periods = list(db.session.scalars(select(RatingPeriod).order_by(RatingPeriod.ends_on.desc())))
    code = request.args.get("period") or (periods[0].code if periods else None)
    period = next((p for p in periods if p.code == code), None)
    townships = {t.code: t for t in list_townships()}
    by_township = []
    if period is not None:
        for township_code, counts in sorted(services.distribution_by_township(period.id).items()):
            by_township.append((township_name(townships.get(township_code)) or township_code, counts))
    return render_template("credit/charts.html", periods=periods, period=period, by_township=by_township,
                           over_time=services.distribution_over_time(), colours=COLOURS)


# ---------------------------------------------------------------- public disclosure


@bp.route("/public")
@access(PUBLIC)
@rate_limited("disclosure", 60, 60)
@public_reads
def public():
    q = (request.args.get("q") or "").strip()[:64]
    page = page_of(services.public_rating_query(q=q or None))
    return render_template("credit/public.html", page=page, q=q, masked_name=services.masked_name,
                           public_identifier=services.public_identifier, heads=services.published_heads(limit=7))


@bp.route("/public/<code>")
@access(PUBLIC)
@public_reads
def public_rating(code):
    rating = services.rating_by_certificate(code)
    return render_template("credit/public_rating.html", rating=rating, name=services.masked_name(rating.party),
                           identifier=services.public_identifier(rating.party))


@bp.route("/public/<code>/certificate.pdf")
@access(PUBLIC)
@public_reads
def certificate(code):
    from credit.pdf import render_certificate

    rating = services.rating_by_certificate(code)
    url = current_app.config["PUBLIC_BASE_URL"] + url_for("credit.public_rating", code=rating.certificate_code)
    pdf = render_certificate(rating, name=services.masked_name(rating.party),
                             identifier=services.public_identifier(rating.party), url=url)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": content_disposition(f"eco-credit-{rating.certificate_code}.pdf", inline=True)})
