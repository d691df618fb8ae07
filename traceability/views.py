"""Pages of traceability: producers' lots, events, certificates and labels; regulators' recall
and tracing; and the public GS1 Digital Link scan page."""
from __future__ import annotations

import io
import re
from datetime import datetime

from flask import (Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request,
                   send_file, stream_with_context, url_for)
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select

from greenfin import downloads
from greenfin.core.forms import CONFIRM_MESSAGE, apply_errors, confirmation_missing
from greenfin.core.models import Parcel, Party
from greenfin.errors import DomainError, NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.uow import rollback
from greenfin.pages import follow_job, page_of
from greenfin.ratelimit import rate_limited
from greenfin.replica import public_read
from greenfin.security import PUBLIC, access, current_actor, own_party_id, require_party_access
from greenfin.uow import keep_work_on
from traceability import digital_link as dl
from traceability.resolver_views import answer_links, is_link_request, label_links_header, lang_url
from greenfin.labels import label
from traceability import labels
from traceability import scan_rules, services
from traceability.forms import (AuthoriseForm, BlockForm, CertificationForm, EventForm, FlagNoteForm, LabelForm, LotForm,
                               ProductForm, RecallForm, RevokeForm)
from traceability.models import Brand, BrandAuthorisation, Lot, Product

bp = Blueprint("trace", __name__, url_prefix="/trace")
scan_bp = Blueprint("trace_scan", __name__)

STAFF_AND_PRODUCER = ("admin", "regulator", "producer")
EVENT_LABELS = labels.EVENT
VERDICT_LABELS = {"genuine": _l("Genuine, first scan"), "genuine_repeat": _l("Genuine, scanned before"),
                  "suspicious": _l("Suspicious"), "not_genuine": _l("Not genuine")}


def _lot_for_user(lot_id: int) -> Lot:
    lot = services.get_lot(lot_id)
    require_party_access(lot.producer_id)
    return lot


def _party_choices(scope):
    stmt = select(Party).order_by(Party.name)
    if scope is not None:
        stmt = stmt.where(Party.id == scope)
    return [(p.id, p.name) for p in db.session.scalars(stmt)]


# ---------------------------------------------------------------- lots


@bp.route("/")
@access(*STAFF_AND_PRODUCER)
def lots():
    recalled = {"1": True, "0": False}.get(request.args.get("recalled", ""))
    page = page_of(services.lot_query(own_party_id(), q=request.args.get("q") or None, recalled=recalled))
    return render_template("traceability/lots.html", page=page)


@bp.route("/lots/new", methods=["GET", "POST"])
@access("admin", "producer")
def lot_new():
    scope = own_party_id()
    form = LotForm()
    form.producer_id.choices = _party_choices(scope)
    form.product_id.choices = [(p.id, f"{p.name} · {p.gtin}") for p in db.session.scalars(select(Product).order_by(Product.id))
                               if scope is None or services.product_usable_by(p, scope)]
    producer = form.producer_id.data or (scope if scope is not None else None)
    parcels = db.session.scalars(select(Parcel).where(Parcel.holder_id == producer) if producer else
                                 select(Parcel).where(Parcel.land_cover == "orchard").order_by(Parcel.id)).all()
    form.parcel_ids.choices = [(p.id, f"{p.code} {p.name or ''}") for p in parcels]
    if form.validate_on_submit():
        data = {k: v for k, v in form.data.items() if k != "csrf_token"}
        try:
            require_party_access(data["producer_id"])
            lot = services.create_lot(data, scope=scope)
            flash(_("Lot registered."), "success")
            return redirect(url_for("trace.lot_detail", lot_id=lot.id))
        except ValidationFailed as exc:
            rollback()
            apply_errors(form, exc.errors)
    return render_template("traceability/lot_form.html", form=form), 422 if form.errors else 200


def _event_form(lot: Lot) -> EventForm:
    form = EventForm(prefix="ev")
    form.ship_to_id.choices = [(0, "—")] + [(p.id, p.name) for p in db.session.scalars(
        select(Party).where(Party.id != lot.producer_id).order_by(Party.name))]
    return form


@bp.route("/lots/<int:lot_id>")
@access(*STAFF_AND_PRODUCER)
def lot_detail(lot_id):
    lot = _lot_for_user(lot_id)
    return _render_lot(lot)


def _render_lot(lot, event_form=None, label_form=None, status=200):
    view = services.build_lot_view(lot)
    stats = services.scan_statistics(lot.id)
    batches = db.session.scalars(services.batch_query(lot_id=lot.id).limit(20)).all()
    return render_template("traceability/lot_detail.html", lot=lot, view=view, stats=stats, batches=batches,
                           event_form=event_form or _event_form(lot), label_form=label_form or LabelForm(prefix="lb"),
                           recall_form=RecallForm(prefix="rc"), event_labels=EVENT_LABELS,
                           verdict_labels=VERDICT_LABELS,
                           events=services.lot_events(lot.id)), status


@bp.route("/lots/<int:lot_id>/events", methods=["POST"])
@access("admin", "producer")
def lot_event(lot_id):
    lot = _lot_for_user(lot_id)
    form = _event_form(lot)
    if form.validate_on_submit():
        data = {"quantity": form.quantity.data, "ship_to_id": form.ship_to_id.data or None,
                "reference": form.reference.data or None, "result": form.result.data, "grade": form.grade.data}
        if form.event_time.data:
            data["event_time"] = form.event_time.data.replace(tzinfo=services.CHINA_TZ)
        try:
            services.record_event(lot, form.kind.data, data)
            flash(_("Event recorded."), "success")
            return redirect(url_for("trace.lot_detail", lot_id=lot.id) + "#events")
        except DomainError as exc:
            rollback()
            apply_errors(form, exc.errors or {"kind": [exc.message]})
    return _render_lot(lot, event_form=form, status=422)


@bp.route("/lots/<int:lot_id>/labels", methods=["POST"])
@access("admin", "producer")
def lot_labels(lot_id):
    lot = _lot_for_user(lot_id)
    form = LabelForm(prefix="lb")
    if form.validate_on_submit():
        try:
            batch = services.start_label_sheet(
                lot, form.count.data, form.layout.data, created_by_id=current_actor().id, scope=own_party_id(),
                title=_("Labels for lot %(lot)s (%(n)s)", lot=lot.code, n=form.count.data))
            return follow_job(batch.job_id)
        except services.LabelQuotaExceeded as exc:
            rollback()
            form.count.errors = list(form.count.errors) + [
                _("Today's label quota is %(limit)s labels: %(remaining)s remain today.",
                  limit=f"{exc.limit:,}", remaining=f"{exc.remaining:,}")]
            return _render_lot(lot, label_form=form, status=429)
        except ValidationFailed as exc:
            rollback()
            apply_errors(form, exc.errors)
    return _render_lot(lot, label_form=form, status=422)


@bp.route("/batches/<int:batch_id>/sheet.pdf")
@access(*STAFF_AND_PRODUCER)
def batch_pdf(batch_id):
    from traceability.jobs import sheet_path

    batch = services.get_batch(batch_id)
    require_party_access(batch.lot.producer_id)
    path = sheet_path(batch.id)
    name = f"labels-{batch.lot.code}-{batch.id}.pdf"
    if path.exists():
        return downloads.attach(send_file(path, mimetype="application/pdf"), name, inline=True)
    # Another machine drew it, or the file was cleaned up: draw it again from the stored serials.
    buf = io.BytesIO()
    services.render_batch_pdf(batch, buf)
    buf.seek(0)
    return downloads.attach(send_file(buf, mimetype="application/pdf"), name, inline=True)


@bp.route("/batches/<int:batch_id>/labels.csv")
@access(*STAFF_AND_PRODUCER)
def batch_csv(batch_id):
    batch = services.get_batch(batch_id)
    require_party_access(batch.lot.producer_id)
    gtin, code = batch.lot.product.gtin, batch.lot.code

    def rows():
        buf = io.StringIO()
        writer = downloads.writer(buf)
        writer.writerow(["uri", "gtin", "lot", "serial"])
        for uri, serial in services.iter_batch_labels(batch):
            writer.writerow([uri, gtin, code, serial])
            if buf.tell() > 65536:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()

    return Response(stream_with_context(rows()), mimetype="text/csv",
                    headers={"Content-Disposition": downloads.content_disposition(f"labels-{code}-{batch.id}.csv")})


@bp.route("/lots/<int:lot_id>/recall", methods=["POST"])
@access("admin", "regulator")
def lot_recall(lot_id):
    lot = services.get_lot(lot_id)
    return _with_reason(RecallForm(prefix="rc"),
                        lambda reason: services.recall_lot(lot, reason, actor_id=current_actor().id),
                        _("Lot recalled: its scan pages show the notice now."), _("Give the reason for the recall."),
                        url_for("trace.lot_detail", lot_id=lot.id))


def _with_reason(form, act, done: str, no_reason: str, back: str):
    """A regulator's action that needs a reason and cannot be undone (recall, revocation): run it
    once confirmed, or say why not (its work rolled back: the redirect is a success answer, which
    the unit of work would commit); then go back to the page it came from."""
    if form.validate_on_submit():
        try:
            act(form.reason.data)
            flash(done, "success")
        except DomainError as exc:
            rollback()
            flash(exc.message, "error")
    else:
        flash(str(CONFIRM_MESSAGE) if confirmation_missing(form) and not form.reason.errors else no_reason, "error")
    return redirect(back)


@bp.route("/lots/<int:lot_id>/trace")
@access(*STAFF_AND_PRODUCER)
def lot_trace(lot_id):
    lot = _lot_for_user(lot_id)
    return render_template("traceability/trace.html", lot=lot, trace=services.trace_lot(lot),
                           rows=services.kde_rows(lot), event_labels=EVENT_LABELS)


@bp.route("/lots/<int:lot_id>/trace.csv")
@access(*STAFF_AND_PRODUCER)
def lot_trace_csv(lot_id):
    lot = _lot_for_user(lot_id)
    buf = io.StringIO()
    # The key data elements as codes (for other systems), then the event and unit in words for people.
    writer = downloads.DictWriter(buf, fieldnames=services.KDE_COLUMNS + ("event_name", "unit_name"))
    writer.writeheader()
    writer.writerows(row | {"event_name": label("trace_event", row["event"]), "unit_name": label("unit", row["unit"])}
                     for row in services.kde_rows(lot))
    return Response(buf.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": downloads.content_disposition(f"trace-{lot.code}.csv")})


@bp.route("/lots/<int:lot_id>/epcis.jsonld")
@access(*STAFF_AND_PRODUCER)
def lot_epcis(lot_id):
    lot = _lot_for_user(lot_id)

    def generate():
        from traceability import epcis

        yield epcis.document_head(services.utcnow(), current_app.config["PUBLIC_BASE_URL"])
        first = True
        import json

        for event in services.iter_export_events(lot.id):
            yield ("\n" if first else ",\n") + json.dumps(event, ensure_ascii=False, separators=(",", ":"))
            first = False
        yield "\n" + epcis.DOCUMENT_TAIL

    return Response(stream_with_context(generate()), mimetype="application/ld+json",
                    headers={"Content-Disposition": downloads.content_disposition(f"epcis-{lot.code}.jsonld")})


# ---------------------------------------------------------------- certificates, products, brands


@bp.route("/certificates", methods=["GET", "POST"])
@access(*STAFF_AND_PRODUCER)
@access("admin", "regulator", methods=("POST",))
def certificates():
    scope = own_party_id()
    form = CertificationForm()
    form.party_id.choices = _party_choices(scope)
    form.product_id.choices = [(0, "—")] + [(p.id, p.name) for p in db.session.scalars(
        services.product_query(scope))]
    form.parcel_id.choices = [(0, "—")] + [(p.id, f"{p.code} {p.name or ''}") for p in db.session.scalars(
        select(Parcel).where(Parcel.holder_id == scope) if scope else select(Parcel).order_by(Parcel.id).limit(500))]
    can_grant = current_actor().role in ("admin", "regulator")
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            data = {k: v for k, v in form.data.items() if k != "csrf_token"}
            try:
                services.grant_certification(data)
                flash(_("Certificate recorded."), "success")
                return redirect(url_for("trace.certificates"))
            except ValidationFailed as exc:
                rollback()
                apply_errors(form, exc.errors)
        status = 422
    page = page_of(services.certification_query(scope))
    return render_template("traceability/certificates.html", page=page, form=form, can_grant=can_grant,
                           revoke_form=RevokeForm(prefix="rv"), today=services.today()), status


@bp.route("/certificates/<int:cert_id>/revoke", methods=["POST"])
@access("admin", "regulator")
def certificate_revoke(cert_id):
    cert = services.get_certification(cert_id)
    return _with_reason(RevokeForm(prefix="rv"), lambda reason: services.revoke_certification(cert, reason),
                        _("Certificate revoked."), _("Give the reason for the revocation."),
                        url_for("trace.certificates"))


@bp.route("/products", methods=["GET", "POST"])
@access(*STAFF_AND_PRODUCER)
@access("admin", "producer", methods=("POST",))
def products():
    scope = own_party_id()
    form = ProductForm()
    form.owner_id.choices = _party_choices(scope)
    form.brand_id.choices = [(0, "—")] + [(b.id, b.name) for b in db.session.scalars(select(Brand).order_by(Brand.id))]
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            data = {k: v for k, v in form.data.items() if k != "csrf_token"}
            try:
                require_party_access(data["owner_id"])
                services.create_product(data)
                flash(_("Product registered."), "success")
                return redirect(url_for("trace.products"))
            except ValidationFailed as exc:
                rollback()
                apply_errors(form, exc.errors)
        status = 422
    brands = db.session.scalars(select(Brand).order_by(Brand.id)).all()
    auth_form = AuthoriseForm(prefix="au")
    auth_form.brand_id.choices = [(b.id, b.name) for b in brands]
    auth_form.party_id.choices = _party_choices(None)
    authorisations = db.session.scalars(select(BrandAuthorisation).order_by(BrandAuthorisation.brand_id,
                                                                             BrandAuthorisation.id)).all()
    return render_template("traceability/products.html", page=page_of(services.product_query(scope)), form=form,
                           brands=brands, auth_form=auth_form, authorisations=authorisations,
                           revoke_form=RevokeForm(prefix="rv"), today=services.today()), status


@bp.route("/brands/authorise", methods=["POST"])
@access("admin", "regulator")
def brand_authorise():
    form = AuthoriseForm(prefix="au")
    form.brand_id.choices = [(b.id, b.name) for b in db.session.scalars(select(Brand))]
    form.party_id.choices = _party_choices(None)
    if form.validate_on_submit():
        try:
            services.authorise_brand(form.brand_id.data, form.party_id.data, form.valid_from.data,
                                     form.valid_until.data)
            flash(_("Producer authorised to use the brand."), "success")
        except DomainError as exc:
            rollback()
            flash(exc.message + "".join(f" {k}: {'; '.join(v)}" for k, v in exc.errors.items()), "error")
    else:
        flash(_("Please correct the fields marked below."), "error")
    return redirect(url_for("trace.products") + "#brands")


@bp.route("/brands/<int:brand_id>/authorisations/<int:auth_id>/revoke", methods=["POST"])
@access("admin", "regulator")
def brand_authorisation_revoke(brand_id, auth_id):
    auth = services.get_brand_authorisation(brand_id, auth_id)
    return _with_reason(RevokeForm(prefix="rv"), lambda reason: services.revoke_brand_authorisation(auth, reason),
                        _("Authorisation revoked."), _("Give the reason for the revocation."),
                        url_for("trace.products") + "#brands")


# ---------------------------------------------------------------- serial guessing (regulators)


def _day_arg(name: str):
    value = request.args.get(name) or None
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        flash(_("Dates are written YYYY-MM-DD."), "error")
        return None


@bp.route("/enumeration/<int:flag_id>/acknowledge", methods=["POST"])
@access("admin", "regulator")
def flag_acknowledge(flag_id):
    return _with_note(FlagNoteForm(prefix="ack"), lambda note: services.acknowledge_flag(flag_id, note),
                      lambda _event: _("Flag acknowledged."))


@bp.route("/enumeration/blocks", methods=["POST"])
@access("admin", "regulator")
def network_block():
    form = BlockForm(prefix="blk")
    if not form.validate_on_submit():
        flash(_("Write a note: what was found or decided."), "error")
        return _back_to_flags()
    try:
        block = services.block_network(form.network.data or "", form.days.data, form.note.data,
                                       flag_id=form.flag_id.data, actor_id=current_actor().id)
        flash(_("Network %(network)s blocked from scanning until %(until)s.", network=block.network,
                until=format_datetime(block.ends_at, "yyyy-MM-dd HH:mm")), "success")
    except DomainError as exc:
        rollback()
        flash(_translated(exc), "error")
    return _back_to_flags()


@bp.route("/enumeration/blocks/<int:block_id>/lift", methods=["POST"])
@access("admin", "regulator")
def network_block_lift(block_id):
    return _with_note(FlagNoteForm(prefix="lift"),
                      lambda note: services.lift_block(block_id, note, actor_id=current_actor().id),
                      lambda block: _("Block of %(network)s lifted: its scans are checked again.",
                                      network=block.network))


def _with_note(form, act, done):
    """A regulator's action on a flag or block that needs a note: run it and say so, or say why not."""
    if not form.validate_on_submit():
        flash(_("Write a note: what was found or decided."), "error")
    else:
        try:
            flash(done(act(form.note.data)), "success")
        except DomainError as exc:
            rollback()
            flash(_translated(exc), "error")
    return _back_to_flags()


def _translated(exc: DomainError) -> str:
    """A service's refusal in the page's language: its summary and each field's message."""
    return " ".join([_(exc.summary)] + [_(m) for messages in exc.errors.values() for m in messages])


def _back_to_flags():
    target = request.form.get("next") or ""
    return redirect(target if target.startswith("/trace/enumeration") else url_for("trace.enumeration_flags"))


@bp.route("/enumeration")
@access("admin", "regulator")
def enumeration_flags():
    """Flags of serial guessing on the public scan route, newest first, by date range."""
    try:
        stmt = services.enumeration_flag_query(_day_arg("since"), _day_arg("until"))
    except ValidationFailed:
        flash(_("The date range is not valid: the first day must not be after the last, both between "
                "%(first)s and %(last)s.", first=services.REVIEW_FIRST_DAY, last=services.REVIEW_LAST_DAY), "error")
        stmt = services.enumeration_flag_query()
    page = page_of(stmt)
    return render_template("traceability/enumeration_flags.html", page=page,
                           flags=services.enumeration_flags(page.items),
                           threshold=services.ENUMERATION_THRESHOLD,
                           minutes=services.ENUMERATION_WINDOW // 60,
                           blocks=db.session.scalars(services.block_query(current_only=True)).all(),
                           ack_form=FlagNoteForm(prefix="ack"), block_form=BlockForm(prefix="blk"),
                           lift_form=FlagNoteForm(prefix="lift"))


# ---------------------------------------------------------------- the public scan page

VERDICT_STATUS = {"genuine": 200, "genuine_repeat": 200, "suspicious": 200, "not_genuine": 404, "blocked": 429}


def _jsonable(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return value


# Where the per-scan parts go into a lot's cached page. Data is autoescaped ("<" becomes "&lt;"),
# so these markers can only come from here.
_LANG_SLOT, _VERDICT_SLOT = "<!--scan:lang-->", "<!--scan:verdict-->"


# A code not recognised answers 404, and its scan record (and a serial-guessing flag) is kept: the
# unit of work commits these views' 404 answers too (greenfin/uow.py ``keep_work_on``); so is the
# record of a scan from a blocked network (429).
@scan_bp.route("/01/<gtin>/10/<lot>/21/<serial>")
@keep_work_on(404, 429)
@access(PUBLIC)
@rate_limited("scan", 300, 60)
def scan(gtin, lot, serial):
    """GS1 Digital Link resolver: verify, record, answer (HTML for people, JSON for apps). A request
    for the linkset or a link type is answered by ``resolver_views`` and is not a scan."""
    if is_link_request():
        return answer_links(gtin, lot, serial)
    result = services.resolve_scan(gtin, lot, serial, request.args.get("s"), request)
    status = VERDICT_STATUS[result["verdict"]]
    if result["verdict"] == "blocked":
        return _paused()
    if result["verdict"] == "not_genuine":
        return _not_recognised()
    cookie = result.pop("repeat_cookie", None)
    # The scan is recorded (on the primary); the lot's facts around the verdict may come from the
    # read replica (greenfin/replica.py). A lot made a moment ago may not be there yet: then the primary.
    try:
        with public_read():
            view = services.lot_public_view(result["lot_id"])
    except NotFound:
        view = services.lot_public_view(result["lot_id"])
    if _wants_json():
        body = {k: _jsonable(v) for k, v in result.items() if k != "lot_id"}
        body.update(view)
        response = jsonify(body)
    else:
        # The page around the verdict is the same for every label of the lot: rendered once per lot
        # and language, kept like the lot's facts. Per scan: the language link and the verdict.
        head, middle, tail = services.cached_fragment(
            (result["lot_id"], str(get_locale())), lambda: _scan_page_parts(view))
        response = current_app.response_class(
            "".join((head, str(escape(lang_url())), middle, _verdict_html(result), tail)), mimetype="text/html")
    response.headers["Link"] = label_links_header(gtin, lot, serial)
    if cookie:  # this browser's reload or language switch within the window is not a new scan
        response.set_cookie(cookie[0], cookie[1], max_age=int(scan_rules.REPEAT_WINDOW.total_seconds()),
                            path=scan_rules.REPEAT_PATH, secure=request.is_secure, httponly=True, samesite="Lax")
    return response, status


# The verdict is one of a dozen shapes per language (verdict, reason, recall, first scan known,
# region known); each is rendered once with placeholders, and a scan fills in its own values.
_VERDICT_FIELDS = ("previous_scans", "first_scan_when", "first_scan_region", "serial", "recall_reason",
                   "scanned_when")
_VERDICT_PLACEHOLDER = re.compile("\x00(" + "|".join(_VERDICT_FIELDS) + ")\x00")
_VERDICT_SHAPES: dict[tuple, str] = {}


def _verdict_html(result: dict) -> str:
    first, region = result["first_scan_at"], result["first_scan_region"]
    values = {"previous_scans": str(result["previous_scans"]), "serial": escape(result["serial"]),
              "first_scan_when": _china_time(first),
              "first_scan_region": escape(region or ""), "recall_reason": escape(result["recall_reason"] or ""),
              "scanned_when": _china_time(result.get("scanned_at"))}
    shape = (str(get_locale()), result["verdict"], result["reason"], result["recalled_at"] is not None,
             first is not None, bool(region), bool(result.get("repeat")))
    html = _VERDICT_SHAPES.get(shape)
    if html is None:
        placeholders = {name: f"\x00{name}\x00" for name in _VERDICT_FIELDS}
        if not region:
            placeholders["first_scan_region"] = None  # the template leaves the region out
        html = render_template("traceability/_scan_verdict.html", result=result | placeholders)
        _VERDICT_SHAPES[shape] = html
    # One pass, so a value is never searched for placeholders itself.
    return _VERDICT_PLACEHOLDER.sub(lambda m: values[m.group(1)], html)


def _china_time(when) -> str:
    return when.astimezone(services.CHINA_TZ).strftime("%Y-%m-%d %H:%M") if when else ""


def _scan_page_parts(view: dict) -> tuple[str, str, str]:
    zh = str(get_locale()).startswith("zh")
    lot_html = render_template("traceability/_scan_lot.html", view=view, event_labels=EVENT_LABELS)
    page = render_template("traceability/scan.html", lang_url=Markup(_LANG_SLOT),
                           body=Markup(_VERDICT_SLOT) + Markup(lot_html),
                           title=view["product"]["name"] if zh else (view["product"]["name_en"] or view["product"]["name"]))
    head, _slot, rest = page.partition(_LANG_SLOT)
    middle, _slot, tail = rest.partition(_VERDICT_SLOT)
    return head, middle, tail


@scan_bp.route("/01/<path:rest>", merge_slashes=False)
@keep_work_on(404, 429)
@access(PUBLIC)
def scan_malformed(rest):
    """A lot code holding "/" (the server decoded the label's %2F before routing: see
    ``digital_link.split_path``) goes on to the scan; anything else under /01/ gets a friendly
    "code not recognised", recorded like a bad code."""
    values = dl.split_path(rest)
    if values is not None:
        return scan(*values)
    if services.scan_label("", "", "", None, services.scan_meta(request))["verdict"] == "blocked":
        return _paused()
    return _not_recognised()


def _not_recognised():
    if _wants_json():
        return jsonify({"verdict": "not_genuine", "reason": None}), 404
    return render_template("traceability/scan.html", body=None, title=None, lang_url=lang_url()), 404


def _paused():
    """A scan from a network blocked after serial guessing: nothing is checked or told about the code."""
    if _wants_json():
        return jsonify({"verdict": "blocked", "reason": "network_blocked"}), 429
    return render_template("traceability/scan.html", body=None, blocked=True, title=None, lang_url=lang_url()), 429



def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
