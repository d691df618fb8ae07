"""Pages of the core: home, parties, parcels, audit trail, jobs, users, tokens, API docs."""
from __future__ import annotations

from datetime import datetime, timedelta

import swagger_ui_bundle
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from greenfin.core import services
from greenfin.core.audit_labels import (
    ACTION_GROUPS,
    AUDIT_ACTIONS,
    AUDIT_TARGETS,
    LOGIN_ACTIONS,
    action_label,
    target_label,
    target_url,
)
from greenfin.core.api import visible_job
from greenfin.core.forms import CONFIRM_MESSAGE, ConfirmForm, ParcelForm, PartyForm, TokenForm, UserForm, apply_errors
from greenfin.core.models import ApiToken, Party, User
from greenfin.dates import day_start
from greenfin.downloads import attach
from greenfin.errors import ValidationFailed
from greenfin.job_model import JOB_STATUS_LABELS
from greenfin.extensions import db
from greenfin.uow import rollback
from greenfin.pages import page_of
from greenfin.security import AUTHENTICATED, PUBLIC, STAFF, access, current_actor, own_party_id, require_party_access

bp = Blueprint("core", __name__)


@bp.route("/")
@access(PUBLIC)
def home():
    user = current_actor()
    cards = []
    if user is not None:
        cards = [c["template"] for c in current_app.extensions["greenfin_home"] if user.role in c["roles"]]
    return render_template("core/home.html", cards=cards)


def _township_choices():
    return [(t.code, f"{t.name_zh} {t.name_en}") for t in services.list_townships()]


# ---------------------------------------------------------------- parties


@bp.route("/parties")
@access(*STAFF, "producer")
def parties():
    scope = own_party_id()
    if scope is not None:
        return redirect(url_for("core.party_detail", party_id=scope))
    page = page_of(services.party_query(q=request.args.get("q"), kind=request.args.get("kind") or None,
                                        township=request.args.get("township") or None))
    return render_template("core/parties.html", page=page, townships=services.list_townships())


@bp.route("/parties/new", methods=["GET", "POST"])
@access("admin", "loan_officer", "regulator")
def party_new():
    form = PartyForm()
    form.township_code.choices = _township_choices()
    if form.validate_on_submit():
        data = {k: (v or None) if isinstance(v, str) else v for k, v in form.data.items() if k != "csrf_token"}
        try:
            party = services.create_party(data)
            flash(_("Party registered."), "success")
            return redirect(url_for("core.party_detail", party_id=party.id))
        except ValidationFailed as exc:
            rollback()
            apply_errors(form, exc.errors)
    return render_template("core/party_form.html", form=form), 422 if form.errors else 200


@bp.route("/parties/<int:party_id>")
@access(*STAFF, "producer")
def party_detail(party_id):
    require_party_access(party_id)
    party = services.get_party(party_id)
    parcels = list(db.session.scalars(services.parcel_query(holder_id=party_id)))
    return render_template("core/party_detail.html", party=party, parcels=parcels)


@bp.route("/parties/<int:party_id>/export.json")
@access("admin", "regulator", "producer")
def party_export(party_id):
    """Download everything held about a party as JSON (PIPL access right)."""
    require_party_access(party_id)
    data = services.export_party_data(party_id)
    response = current_app.response_class(current_app.json.dumps(data, indent=1), mimetype="application/json")
    return attach(response, f"party-{party_id}-data.json")


# ---------------------------------------------------------------- parcels


@bp.route("/parcels")
@access(*STAFF, "producer")
def parcels():
    page = page_of(services.parcel_query(holder_id=own_party_id(), township=request.args.get("township") or None,
                                         land_cover=request.args.get("land_cover") or None,
                                         q=request.args.get("q") or None))
    return render_template("core/parcels.html", page=page, townships=services.list_townships(),
                           land_covers=services.LAND_COVERS)


@bp.route("/parcels/new", methods=["GET", "POST"])
@access("admin", "loan_officer", "regulator", "producer")
def parcel_new():
    form = ParcelForm()
    form.township_code.choices = _township_choices()
    scope = own_party_id()
    holders = db.session.scalars(services.party_query(party_id=scope)).all()
    form.holder_id.choices = [(p.id, p.name) for p in holders]
    if form.validate_on_submit():
        data = {k: v for k, v in form.data.items() if k != "csrf_token"}
        try:
            require_party_access(data["holder_id"])
            parcel = services.create_parcel(data)
            flash(_("Parcel registered."), "success")
            return redirect(url_for("core.parcel_detail", parcel_id=parcel.id))
        except ValidationFailed as exc:
            rollback()
            apply_errors(form, exc.errors)
    return render_template("core/parcel_form.html", form=form), 422 if form.errors else 200


@bp.route("/parcels/<int:parcel_id>")
@access(*STAFF, "producer")
def parcel_detail(parcel_id):
    parcel = services.get_parcel(parcel_id)
    require_party_access(parcel.holder_id)
    return render_template("core/parcel_detail.html", parcel=parcel, )


# ---------------------------------------------------------------- audit


def _parse_day(value: str | None):
    """The first instant of a day given as YYYY-MM-DD, the day in business time (Asia/Shanghai)."""
    if not value:
        return None
    try:
        return day_start(datetime.strptime(value, "%Y-%m-%d").date())
    except ValueError:
        flash(_("Dates are written YYYY-MM-DD."), "error")
        return None


def _audit_page(logins: bool):
    """The audit trail (changes), or its sign-ins and sign-outs; filters chosen from lists."""
    args = request.args
    until = _parse_day(args.get("until"))
    action = args.get("action") or None
    if action and action not in AUDIT_ACTIONS and action not in ACTION_GROUPS:
        action = None
    entity_type = args.get("entity_type") if args.get("entity_type") in AUDIT_TARGETS else None
    stmt = services.audit_query(action=action, entity_type=entity_type,
                                entity_id=(args.get("entity_id") or "").strip()[:64] or None,
                                actor=args.get("actor") or None, since=_parse_day(args.get("since")),
                                until=until + timedelta(days=1) if until else None,
                                only=LOGIN_ACTIONS if logins else None, leave_out=None if logins else LOGIN_ACTIONS)
    actors = [u.username for u in db.session.scalars(select(User).order_by(User.username))] + ["system", "cli"]
    actions = {code: label for code, label in AUDIT_ACTIONS.items() if (code in LOGIN_ACTIONS) == logins}
    return render_template("core/audit.html", page=page_of(stmt, per_page=50), logins=logins, actors=actors,
                           actions=actions, groups={} if logins else ACTION_GROUPS, targets=AUDIT_TARGETS,
                           action_label=action_label, target_label=target_label, target_url=target_url)


@bp.route("/audit")
@access("admin", "regulator")
def audit():
    return _audit_page(logins=False)


@bp.route("/audit/logins")
@access("admin", "regulator")
def audit_logins():
    """Sign-ins and sign-outs, apart from the changes they would drown."""
    return _audit_page(logins=True)


# ---------------------------------------------------------------- jobs


@bp.route("/jobs")
@access(AUTHENTICATED)
def jobs():
    """Background jobs with filters (kind, status, days); each links to its page and to its subject.
    Admins and regulators see every job, others the jobs they started and their party's."""
    args = request.args
    status = args.get("status") if args.get("status") in services.JOB_STATUSES else None
    kinds = services.job_kinds()
    kind = args.get("kind") if args.get("kind") in kinds else None
    until = _parse_day(args.get("until"))
    stmt = services.job_query(user=current_actor(), kind=kind, status=status, since=_parse_day(args.get("since")),
                              until=until + timedelta(days=1) if until else None)
    return render_template("core/jobs.html", page=page_of(stmt), kinds=kinds, statuses=JOB_STATUS_LABELS)


@bp.route("/jobs/<job_id>")
@access(AUTHENTICATED)
def job_detail(job_id):
    return render_template("core/job.html", job=visible_job(job_id))


# ---------------------------------------------------------------- users and tokens (admin)


def _party_choices():
    return [(0, "—")] + [(p.id, p.name) for p in db.session.scalars(select(Party).order_by(Party.name))]


@bp.route("/admin/users")
@access("admin")
def users():
    return render_template("core/users.html", page=page_of(select(User).order_by(User.id)))


@bp.route("/admin/users/new", methods=["GET", "POST"])
@bp.route("/admin/users/<int:user_id>/edit", methods=["GET", "POST"])
@access("admin")
def user_form(user_id=None):
    user = services.get_user(user_id) if user_id else None
    form = UserForm(obj=user)
    form.party_id.choices = _party_choices()
    if request.method == "GET" and user is not None:
        form.party_id.data = user.party_id or 0
    if form.validate_on_submit():
        data = {k: v for k, v in form.data.items() if k != "csrf_token"}
        data["party_id"] = data["party_id"] or None
        if not data["password"]:
            data.pop("password")
        try:
            if user is None:
                user = services.create_user(data)
            else:
                data.pop("username")
                services.update_user(user, data)
            flash(_("User saved."), "success")
            return redirect(url_for("core.users"))
        except ValidationFailed as exc:
            rollback()
            apply_errors(form, exc.errors)
    return render_template("core/user_form.html", form=form, user=user), 422 if form.errors else 200


@bp.route("/admin/tokens", methods=["GET", "POST"])
@access("admin")
def tokens():
    form = TokenForm()
    form.user_id.choices = [(u.id, u.username) for u in db.session.scalars(select(User).order_by(User.username))]
    new_token = None
    if form.validate_on_submit():
        try:
            _token, new_token = services.issue_token(services.get_user(form.user_id.data), form.name.data)
        except ValidationFailed as exc:
            rollback()
            apply_errors(form, exc.errors)
    listing = db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).all()
    return render_template("core/tokens.html", form=form, tokens=listing, new_token=new_token,
                           confirm_form=ConfirmForm())


@bp.route("/admin/tokens/<int:token_id>/revoke", methods=["POST"])
@access("admin")
def token_revoke(token_id):
    if not ConfirmForm().validate_on_submit():
        flash(str(CONFIRM_MESSAGE), "error")
        return redirect(url_for("core.tokens"))
    services.revoke_token(token_id)
    flash(_("Token revoked."), "success")
    return redirect(url_for("core.tokens"))


# ---------------------------------------------------------------- API docs (local files, no CDN)


@bp.route("/api/v1/docs")
@access(PUBLIC)
def api_docs():
    return render_template("core/api_docs.html")


@bp.route("/api/v1/docs/static/<path:filename>")
@access(PUBLIC)
def api_docs_static(filename):
    if filename not in {"swagger-ui-bundle.js", "swagger-ui.css"}:
        abort(404)
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)
