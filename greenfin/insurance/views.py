"""Insurance pages: the dashboard, weather, products and backtests, policies, claims, and the public
payout events (no personal data: station, readings, trigger, number of policies paid, total)."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from greenfin.core.forms import apply_errors
from greenfin.downloads import content_disposition
from greenfin.errors import DomainError, NotFound
from greenfin.extensions import db
from greenfin.insurance import INSURERS, READERS, services
from greenfin.insurance.forms import (
    ClaimDecisionForm, CsrfOnlyForm, EvaluateForm, PolicyForm, ProductVersionForm, WeatherImportForm,
)
from greenfin.pages import page_of
from greenfin.security import PUBLIC, access, own_party_id, require_party_access
from greenfin.uow import rollback

bp = Blueprint("insurance", __name__, url_prefix="/insurance")


def _flash_error(exc: DomainError) -> None:
    rollback()
    details = "; ".join(f"{k}: {', '.join(_(m) for m in v)}" for k, v in (exc.errors or {}).items())
    flash(f"{_(exc.summary)}{' — ' + details if details else ''}", "error")


@bp.route("/")
@access(*READERS)
def dashboard():
    stations = [(s, services.observation_span(s.id)) for s in services.list_stations()]
    pending = db.session.scalars(services.claim_query(status="pending").limit(10)).all()
    proposed = db.session.scalars(services.claim_query(status="proposed").limit(10)).all()
    events = db.session.scalars(services.event_query().limit(10)).all()
    return render_template("insurance/dashboard.html", products=services.latest_products(), stations=stations,
                           fund=services.fund_summary(), pending=pending, proposed=proposed, events=events,
                           evaluate_form=EvaluateForm(), link_form=CsrfOnlyForm())


@bp.route("/evaluate", methods=["POST"])
@access(*INSURERS)
def evaluate():
    form = EvaluateForm()
    if not form.validate_on_submit():
        flash(_("Give the date as YYYY-MM-DD, or leave it empty for yesterday."), "error")
        return redirect(url_for("insurance.dashboard"))
    try:
        job = services.start_evaluation(form.as_of.data)
    except DomainError as exc:
        _flash_error(exc)
        return redirect(url_for("insurance.dashboard"))
    flash(_("The evaluation has started."), "success")
    return redirect(url_for("core.job_detail", job_id=job.id))


@bp.route("/stations/link", methods=["POST"])
@access(*INSURERS)
def link_stations():
    if CsrfOnlyForm().validate_on_submit():
        counts = services.link_parcels()
        flash(_("%(linked)d parcels linked, %(changed)d changed, %(unlinked)d beyond every station.", **counts),
              "success")
    return redirect(url_for("insurance.dashboard"))


@bp.route("/weather", methods=["GET", "POST"])
@access(*READERS)
@access(*INSURERS, methods=("POST",))
def weather():
    """Upload station readings; bad rows, duplicates and gaps are listed, good rows are kept."""
    form = WeatherImportForm()
    report = None
    if form.validate_on_submit():
        try:
            text = form.file.data.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            form.file.errors = list(form.file.errors) + [_("The file is not UTF-8 text.")]
        else:
            try:
                report = services.import_observations(text, source=form.file.data.filename or "upload")
                flash(_("%(count)d readings imported.", count=report.created),
                      "success" if not report.errors else "warning")
            except DomainError as exc:
                rollback()
                apply_errors(form, {"file": exc.errors.get("file", [exc.message])})
    stations = [(s, services.observation_span(s.id)) for s in services.list_stations()]
    return render_template("insurance/weather.html", form=form, report=report, stations=stations)


PAYERS = ("central", "provincial", "county", "farmer")


def _version_form(item) -> ProductVersionForm:
    tiers = "; ".join(f"{t['level']}:{t['share']}" for t in item.tiers or [])
    return ProductVersionForm(data={"trigger": str(item.trigger), "exit": str(item.exit), "tiers": tiers,
                                    "sum_insured_per_ha": str(item.sum_insured_per_ha),
                                    "premium_rate": str(item.premium_rate), "loading": str(item.loading),
                                    **{p: str(item.subsidy.get(p, "0")) for p in PAYERS}})


@bp.route("/products/<int:product_id>", methods=["GET", "POST"])
@access(*READERS, "producer")
@access(*INSURERS, methods=("POST",))
def product(product_id):
    """A product version; insurers add the next version from a copy of this one's values."""
    item = services.get_product(product_id)
    form = _version_form(item) if request.method == "GET" else ProductVersionForm()
    if request.method == "POST":
        if form.validate_on_submit():
            tiers = [dict(zip(("level", "share"), (part.strip() for part in pair.split(":", 1))))
                     for pair in (form.tiers.data or "").split(";") if pair.strip()]
            data = {k: getattr(item, k) for k in ("code", "name_zh", "name_en", "peril", "land_cover", "season_start",
                                                   "season_end", "payout_mode", "dry_day_mm", "notes")}
            data.update({k: getattr(form, k).data for k in ("trigger", "exit", "sum_insured_per_ha", "premium_rate",
                                                            "loading")})
            data.update(tiers=tiers, subsidy={p: getattr(form, p).data for p in PAYERS})
            try:
                made = services.create_product(data)
                flash(_("Version %(version)s of %(code)s created.", version=made.version, code=made.code), "success")
                return redirect(url_for("insurance.product", product_id=made.id))
            except DomainError as exc:
                rollback()
                apply_errors(form, {k.replace("subsidy.", ""): v for k, v in (exc.errors or {}).items()})
                flash(_("Nothing was created: correct the fields marked below."), "error")
        else:
            flash(_("Nothing was created: correct the fields marked below."), "error")
    return render_template("insurance/product.html", product=item, versions=services.list_products(item.code),
                           stations=services.list_stations(), form=form)


@bp.route("/backtest")
@access(*READERS)
def backtest():
    product = services.get_product(request.args.get("product_id", 0, type=int))
    station = services.get_station(request.args.get("station_id", 0, type=int))
    result, error = None, None
    try:
        result = services.run_backtest(product, station)
    except DomainError as exc:
        error = "; ".join(m for v in (exc.errors or {}).values() for m in v) or exc.message
    return render_template("insurance/backtest.html", product=product, station=station, result=result, error=error)


@bp.route("/policies", methods=["GET", "POST"])
@access(*READERS, "producer")
@access(*INSURERS, methods=("POST",))
def policies():
    form = PolicyForm()
    form.product_id.choices = [(p.id, f"{p.name(_lang())} (v{p.version})") for p in services.latest_products()]
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                policy = services.issue_policy({"product_id": form.product_id.data, "parcel_id": form.parcel_id.data,
                                                "season": form.season.data})
                flash(_("Policy %(number)s issued.", number=policy.number), "success")
                return redirect(url_for("insurance.policy", policy_id=policy.id))
            except DomainError as exc:
                rollback()
                apply_errors(form, exc.errors or {})
                flash(_(exc.summary), "error")
        else:
            flash(_("Nothing was issued: correct the fields marked below."), "error")
    page = page_of(services.policy_query(holder_id=own_party_id(), season=request.args.get("season", type=int)))
    return render_template("insurance/policies.html", page=page, form=form)


def _lang() -> str:
    from flask_babel import get_locale

    return str(get_locale())


@bp.route("/policies/<int:policy_id>")
@access(*READERS, "producer")
def policy(policy_id):
    item = services.get_policy(policy_id)
    require_party_access(item.holder_id)
    claims = db.session.scalars(services.claim_query(policy_id=item.id)).all()
    return render_template("insurance/policy.html", policy=item, claims=claims)


@bp.route("/claims")
@access(*READERS, "producer")
def claims():
    status = request.args.get("status") or None
    page = page_of(services.claim_query(status=status, holder_id=own_party_id()))
    return render_template("insurance/claims.html", page=page, status=status, form=ClaimDecisionForm())


@bp.route("/claims/<int:claim_id>/decide", methods=["POST"])
@access(*INSURERS)
def decide_claim(claim_id):
    claim = services.get_claim(claim_id)
    form = ClaimDecisionForm()
    if not form.validate_on_submit():
        flash(_("Choose propose, approve or reject."), "error")
        return redirect(url_for("insurance.claims"))
    try:
        if form.action.data == "propose":
            services.propose_claim(claim, form.note.data)
            flash(_("Claim proposed for payment; a second person approves it."), "success")
        elif form.action.data == "approve":
            services.approve_claim(claim)
            flash(_("Claim approved and paid."), "success")
        else:
            services.reject_claim(claim, form.note.data)
            flash(_("Claim rejected."), "success")
    except DomainError as exc:
        _flash_error(exc)
    return redirect(url_for("insurance.claims", status=request.args.get("status") or None))


# ---------------------------------------------------------------- public


@bp.route("/events")
@access(PUBLIC)
def events():
    page = page_of(services.event_query())
    return render_template("insurance/events.html", page=page,
                           summaries={e.id: services.event_summary(e) for e in page.items})


@bp.route("/events/<code>")
@access(PUBLIC)
def event(code):
    try:
        item = services.get_event(code)
    except NotFound:
        return render_template("insurance/event_missing.html", code=code), 404
    return render_template("insurance/event.html", event=item, summary=services.event_summary(item))


@bp.route("/events/<code>.pdf")
@access(PUBLIC)
def event_pdf(code):
    from greenfin.insurance.pdf import event_pdf as render

    item = services.get_event(code)
    return Response(render(item, services.event_summary(item)), mimetype="application/pdf",
                    headers={"Content-Disposition": content_disposition(f"payout-event-{item.code}.pdf", inline=True)})
