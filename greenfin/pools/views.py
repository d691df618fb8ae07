"""Pages of asset pools: for loan officers, regulators and admins, and the public investor disclosure
(``/disclosure/pools``: published cuts and servicer reports, no account needed)."""
from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from greenfin import dates
from greenfin.charts import format_money
from greenfin.core.forms import CONFIRM_MESSAGE, ConfirmForm, apply_errors
from greenfin.core.models import Party
from greenfin.downloads import content_disposition
from greenfin.errors import Conflict, DomainError, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.uow import rollback
from greenfin.pages import follow_job, page_of
from greenfin.pools import cuts, disclosure, projections, reporting, services
from greenfin.pools.forms import (
    AddLoansForm,
    CutForm,
    PoolForm,
    RemoveLoanForm,
    ReportForm,
    SubstituteForm,
    pool_error_field,
)
from greenfin.pools.pdf import servicer_report_pdf
from greenfin.pools.stats import STRATA
from greenfin.ratelimit import rate_limited
from greenfin.replica import public_reads
from greenfin.security import PUBLIC, access

bp = Blueprint("pools", __name__)

READERS = ("admin", "loan_officer", "regulator")
MANAGERS = ("admin", "loan_officer")


def _locale() -> str:
    return str(get_locale() or "zh")


def _errors_text(exc: DomainError) -> list[str]:
    out = []
    for field, messages in exc.errors.items():
        out.append(f"{field}: " + "; ".join(_(m) for m in messages))
    return out


def _flash_error(exc: DomainError) -> None:
    rollback()
    flash(_(exc.summary) + (" — " + " · ".join(_errors_text(exc)) if exc.errors else ""), "error")


# ---------------------------------------------------------------- pools


@bp.route("/pools")
@access(*READERS)
def index():
    page = page_of(services.pool_query(request.args.get("q") or None))
    counts = {p.id: len(services.live_memberships(p)) for p in page.items}
    return render_template("pools/index.html", page=page, counts=counts)


def _originator_choices():
    parties = db.session.scalars(select(Party).where(Party.kind != "individual").order_by(Party.name))
    return [(p.id, p.name) for p in parties]


def _save_pool_form(form: PoolForm, pool=None):
    data = {"name": form.name.data, "green_designation": form.green_designation.data,
            "description": form.description.data or None, "criteria": form.criteria(),
            "structure": form.structure()}
    if pool is None:
        data |= {"code": form.code.data, "originator_id": form.originator_id.data}
        return services.create_pool(data)
    return services.update_pool(pool, data)


@bp.route("/pools/new", methods=["GET", "POST"])
@bp.route("/pools/<int:pool_id>/edit", methods=["GET", "POST"])
@access(*MANAGERS)
def pool_form(pool_id=None):
    pool = services.get_pool(pool_id) if pool_id else None
    form = PoolForm()
    form.originator_id.choices = _originator_choices()
    if pool is not None:
        form.code.data = pool.code
        form.originator_id.data = pool.originator_id
        if request.method == "GET":
            form.name.data, form.green_designation.data = pool.name, pool.green_designation
            form.description.data = pool.description
            form.load(pool)
    if form.validate_on_submit():
        try:
            pool = _save_pool_form(form, pool)
            flash(_("Pool saved."), "success")
            return redirect(url_for("pools.detail", pool_id=pool.id))
        except ValidationFailed as exc:
            rollback()
            apply_errors(form, {pool_error_field(k): v for k, v in exc.errors.items()})
    return render_template("pools/pool_form.html", form=form, pool=pool), 422 if form.errors else 200


@bp.route("/pools/<int:pool_id>")
@access(*READERS)
def detail(pool_id):
    pool = services.get_pool(pool_id)
    stats = services.live_statistics(pool)
    members = page_of(services.membership_query(pool, include_removed=request.args.get("all") == "1"), per_page=50)
    pool_cuts = list(db.session.scalars(cuts.cut_query(pool)))
    reports = list(db.session.scalars(reporting.report_query(pool)))
    loans = services.loan_facts(m.loan_id for m in members.items)
    return render_template("pools/detail.html", pool=pool, stats=stats, members=members, loans=loans, cuts=pool_cuts,
                           reports=reports, products=services.product_names(_locale()), strata_names=list(STRATA),
                           remove_form=RemoveLoanForm(), cut_form=_cut_form(pool), report_form=ReportForm(),
                           today=dates.today())


# ---------------------------------------------------------------- membership


@bp.route("/pools/<int:pool_id>/candidates")
@access(*READERS)
def candidates(pool_id):
    pool = services.get_pool(pool_id)
    items = services.candidates(pool)
    return render_template("pools/candidates.html", pool=pool, items=items, form=AddLoansForm(),
                           products=services.product_names(_locale()), reason_text=lambda r: services.reason_text(r, _))


@bp.route("/pools/<int:pool_id>/loans", methods=["POST"])
@access(*MANAGERS)
def add_loans(pool_id):
    pool = services.get_pool(pool_id)
    form = AddLoansForm()
    if not form.validate_on_submit():
        flash(_("Please correct the fields marked below."), "error")
        return redirect(url_for("pools.candidates", pool_id=pool.id))
    try:
        ids = [int(v) for v in request.form.getlist("loan_ids")]
    except ValueError:
        ids = []
    try:
        created = services.add_loans(pool, ids, form.reason.data, form.added_on.data)
        flash(_("%(n)s loans added to the pool.", n=len(created)), "success")
        return redirect(url_for("pools.detail", pool_id=pool.id))
    except (ValidationFailed, Conflict, NotFound) as exc:
        _flash_error(exc)
        return redirect(url_for("pools.candidates", pool_id=pool.id))


@bp.route("/pools/<int:pool_id>/loans/<int:loan_id>/remove", methods=["POST"])
@access(*MANAGERS)
def remove_loan(pool_id, loan_id):
    pool = services.get_pool(pool_id)
    form = RemoveLoanForm()
    try:
        if not form.validate_on_submit():
            raise ValidationFailed("Invalid input", {"reason": ["a reason is required"]})
        services.remove_loan(pool, loan_id, form.reason.data)
        flash(_("Loan removed from the pool."), "success")
    except (ValidationFailed, Conflict, NotFound) as exc:
        _flash_error(exc)
    return redirect(url_for("pools.detail", pool_id=pool.id))


@bp.route("/pools/<int:pool_id>/substitute", methods=["GET", "POST"])
@access(*MANAGERS)
def substitute(pool_id):
    pool = services.get_pool(pool_id)
    form = SubstituteForm()
    form.out_loan_id.choices = [(m.loan_id, m.loan_number)
                                for m in services.label_memberships(services.live_memberships(pool))]
    eligible = [c for c in services.candidates(pool) if not c["reasons"]]
    form.in_loan_id.choices = [(c["record"]["loan_id"], c["record"]["loan_number"]) for c in eligible]
    if form.validate_on_submit():
        try:
            services.substitute_loan(pool, form.out_loan_id.data, form.in_loan_id.data, form.reason.data)
            flash(_("Loan substituted."), "success")
            return redirect(url_for("pools.detail", pool_id=pool.id))
        except (ValidationFailed, Conflict, NotFound) as exc:
            rollback()
            form.form_errors.append(_(exc.message))
            form.form_errors.extend(_errors_text(exc))
    return render_template("pools/substitute.html", pool=pool, form=form), 422 if form.errors or form.form_errors else 200


# ---------------------------------------------------------------- cuts


def _cut_form(pool) -> CutForm:
    form = CutForm()
    published = [c for c in db.session.scalars(cuts.cut_query(pool)) if c.published]
    form.corrects_id.choices = [(0, "—")] + [(c.id, f"#{c.seq} · {c.as_of}") for c in published]
    return form


@bp.route("/pools/<int:pool_id>/cuts", methods=["POST"])
@access(*MANAGERS)
def cut_new(pool_id):
    pool = services.get_pool(pool_id)
    form = _cut_form(pool)
    if not form.validate_on_submit():
        flash(_("Please correct the fields marked below."), "error")
        return redirect(url_for("pools.detail", pool_id=pool.id))
    try:
        cut = cuts.take_cut(pool, form.as_of.data, form.corrects_id.data or None, form.note.data,
                            publish=bool(form.publish.data))
        flash(_("Pool cut taken."), "success")
        return redirect(url_for("pools.cut_detail", pool_id=pool.id, cut_id=cut.id))
    except (ValidationFailed, Conflict, NotFound) as exc:
        _flash_error(exc)
        return redirect(url_for("pools.detail", pool_id=pool.id))


@bp.route("/pools/<int:pool_id>/cuts/<int:cut_id>")
@access(*READERS)
def cut_detail(pool_id, cut_id):
    pool = services.get_pool(pool_id)
    cut = cuts.get_cut(cut_id, pool)
    return render_template("pools/cut_detail.html", pool=pool, cut=cut, stats=cut.statistics,
                           confirm_form=ConfirmForm(), superseded=cuts.superseded_by(cut), products=services.product_names(_locale()),
                           strata_names=list(STRATA), reason_text=lambda r: services.reason_text(r, _))


@bp.route("/pools/<int:pool_id>/cuts/<int:cut_id>/publish", methods=["POST"])
@access(*MANAGERS)
def cut_publish(pool_id, cut_id):
    pool = services.get_pool(pool_id)
    if not ConfirmForm().validate_on_submit():  # a published cut never changes: confirmed first
        flash(str(CONFIRM_MESSAGE), "error")
        return redirect(url_for("pools.cut_detail", pool_id=pool.id, cut_id=cut_id))
    try:
        cuts.publish_cut(cuts.get_cut(cut_id, pool))
        flash(_("Cut published; it can no longer change."), "success")
    except Conflict as exc:
        _flash_error(exc)
    return redirect(url_for("pools.cut_detail", pool_id=pool.id, cut_id=cut_id))


@bp.route("/pools/<int:pool_id>/cuts/<int:cut_id>/discard", methods=["POST"])
@access(*MANAGERS)
def cut_discard(pool_id, cut_id):
    pool = services.get_pool(pool_id)
    try:
        cuts.discard_cut(cuts.get_cut(cut_id, pool))
        flash(_("Draft cut discarded."), "success")
        return redirect(url_for("pools.detail", pool_id=pool.id))
    except Conflict as exc:
        _flash_error(exc)
        return redirect(url_for("pools.cut_detail", pool_id=pool.id, cut_id=cut_id))


@bp.route("/pools/<int:pool_id>/cuts/<int:cut_id>/tape.csv")
@access(*READERS)
def cut_tape(pool_id, cut_id):
    pool = services.get_pool(pool_id)
    cut = cuts.get_cut(cut_id, pool)
    return Response(cuts.tape_csv(cut), mimetype="text/csv",
                    headers={"Content-Disposition": content_disposition(f"{pool.code}-cut{cut.seq}-tape.csv")})


# ---------------------------------------------------------------- projection


def _step(months: int) -> int:
    """Months per column: monthly for short deals, quarterly, then yearly."""
    return 1 if months <= 36 else (3 if months <= 120 else 12)


def _sampled(values, months: int) -> list[tuple[str, float]]:
    """Period-end values of a monthly series (10,000 CNY), for a readable column chart."""
    step = _step(months)
    ends = list(range(step - 1, months, step))
    if not ends or ends[-1] != months - 1:
        ends.append(months - 1)
    return [(str(e + 1), round(float(values[e]) / 1e4, 1)) for e in ends]


@bp.route("/pools/<int:pool_id>/projection")
@access(*READERS)
def projection(pool_id):
    pool = services.get_pool(pool_id)
    args = {k: request.args.get(k) for k in ("cpr", "cdr", "severity", "recovery_lag", "months") if request.args.get(k)}
    data = {k: str(v) for k, v in projections.DEFAULT_ASSUMPTIONS.items()} | args
    published = [c for c in db.session.scalars(cuts.cut_query(pool)) if c.published]
    cut_id = request.args.get("cut_id", type=int)
    result, errors = None, {}
    try:
        cut = cuts.get_cut(cut_id, pool) if cut_id else None
        result = projections.project(pool, data, cut)
    except (ValidationFailed, NotFound) as exc:
        errors = {k: [_(m) for m in v] for k, v in exc.errors.items()}
    if result is not None and request.args.get("format") == "csv":
        return Response(projections.projection_csv(result), mimetype="text/csv",
                        headers={"Content-Disposition": content_disposition(f"{pool.code}-projection.csv")})
    context = {"pool": pool, "data": data, "errors": errors, "result": result, "published": published,
               "cut_id": cut_id}
    if result is not None:
        proj, wf = result.projection, result.waterfall
        context["summary"] = projections.projection_summary(result)
        context["balance_by_period"] = _sampled(proj.balance_end + proj.pending_end, proj.months)
        step = _step(wf.months)
        ends = list(range(step - 1, wf.months, step)) or [wf.months - 1]
        context["tranche_periods"] = [(str(e + 1), [round(float(t.balance_end[e]) / 1e4, 1) for t in wf.tranches])
                                      for e in ends]
        context["rows"] = projections.projection_rows(result)
    return render_template("pools/projection.html", **context), 422 if errors else 200


# ---------------------------------------------------------------- servicer reports


@bp.route("/pools/<int:pool_id>/reports", methods=["POST"])
@access(*MANAGERS)
def report_new(pool_id):
    pool = services.get_pool(pool_id)
    form = ReportForm()
    try:
        if not form.validate_on_submit():
            raise ValidationFailed("Invalid month", {"month": ["write the month as YYYY-MM"]})
        job = reporting.start_servicer_report(pool, form.month.data.strip())
        return follow_job(job.id)
    except (ValidationFailed, NotFound) as exc:
        _flash_error(exc)
        return redirect(url_for("pools.detail", pool_id=pool.id))


@bp.route("/pools/<int:pool_id>/reports/<month>")
@access(*READERS)
def report_detail(pool_id, month):
    pool = services.get_pool(pool_id)
    report = reporting.get_report(pool, month)
    history = reporting.history(pool, month)
    return render_template("pools/report.html", pool=pool, report=report, f=report.figures, history=history)


@bp.route("/pools/<int:pool_id>/reports/<month>/pdf")
@access(*READERS)
def report_pdf(pool_id, month):
    pool = services.get_pool(pool_id)
    report = reporting.get_report(pool, month)
    return _report_pdf(pool, month, report, reporting.history(pool, month))


def _report_pdf(pool, month: str, report, history) -> Response:
    body = servicer_report_pdf(pool, report, history)
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": content_disposition(f"{pool.code}-{month}.pdf", inline=True)})


# ---------------------------------------------------------------- public investor disclosure
# Published data only (a pool with a published cut, its published cuts, its servicer reports);
# nothing loan-level, no obligor names or identifiers.


@bp.route("/disclosure/pools")
@access(PUBLIC)
@public_reads
def disclosure_index():
    page = page_of(disclosure.disclosed_pool_query())
    latest = {p.id: cuts.latest_published_cut(p) for p in page.items}
    return render_template("pools/disclosure_index.html", page=page, latest=latest)


def _disclosure_page(pool, cut):
    reports = disclosure.disclosed_reports(pool)
    return render_template("pools/disclosure_pool.html", pool=pool, cut=cut, stats=cut.statistics,
                           latest=disclosure.get_published_cut(pool), cuts=disclosure.published_cuts(pool),
                           superseded=disclosure.superseded_by(cut), reports=reports,
                           products=services.product_names(_locale()), strata_names=list(STRATA))


@bp.route("/disclosure/pools/<int:pool_id>")
@access(PUBLIC)
@public_reads
def disclosure_pool(pool_id):
    pool = disclosure.get_disclosed_pool(pool_id)
    return _disclosure_page(pool, disclosure.get_published_cut(pool))


@bp.route("/disclosure/pools/<int:pool_id>/cuts/<int:cut_id>")
@access(PUBLIC)
@public_reads
def disclosure_cut(pool_id, cut_id):
    pool = disclosure.get_disclosed_pool(pool_id)
    return _disclosure_page(pool, disclosure.get_published_cut(pool, cut_id))


@bp.route("/disclosure/pools/<int:pool_id>/reports/<month>")
@access(PUBLIC)
@public_reads
def disclosure_report(pool_id, month):
    pool = disclosure.get_disclosed_pool(pool_id)
    report = disclosure.get_disclosed_report(pool, month)
    return render_template("pools/disclosure_report.html", pool=pool, report=report, f=report.figures,
                           history=disclosure.report_history(pool, month))


@bp.route("/disclosure/pools/<int:pool_id>/reports/<month>/pdf")
@access(PUBLIC)
@rate_limited("disclosure_pdf", 30, 60)
@public_reads
def disclosure_report_pdf(pool_id, month):
    pool = disclosure.get_disclosed_pool(pool_id)
    report = disclosure.get_disclosed_report(pool, month)
    return _report_pdf(pool, month, report, disclosure.report_history(pool, month))


@bp.context_processor
def pool_helpers():
    from greenfin.core.services import list_townships
    from greenfin.i18n import township_name

    def pct(value, digits: int = 1):
        return "—" if value is None else format_money(Decimal(str(value)) * 100, digits) + "%"

    return {
        "pct": pct,
        "townships": {t.code: township_name(t) for t in list_townships()},
        "strata_titles": {"product": _("Product"), "township": _("Township"), "colour": _("Eco-credit colour"),
                          "ltv": _("LTV band"), "dpd": _("Days past due"),
                          "remaining_term": _("Remaining term (months)")},
        "status_labels": {"performing": _("Performing"), "delinquent": _("Delinquent"), "defaulted": _("Defaulted"),
                          "repaid": _("Repaid"), "written_off": _("Written off"), "not_disbursed": _("Not yet disbursed"), "draft": _("Draft"),
                          "published": _("Published")},
        "kind_labels": {"senior": _("Senior"), "mezzanine": _("Mezzanine"), "subordinated": _("Subordinated")},
        "designation_labels": {"green": _("Green"), "transition": _("Transition"), "none": _("None")},
    }
