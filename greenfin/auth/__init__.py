"""Session login for pages (Flask-Login), login throttling (``throttle``) and the admins' unlock."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from greenfin.auth import throttle
from greenfin.core import services
from greenfin.extensions import login_manager
from greenfin.ratelimit import client_network, limiter, rate_limited, wait_text
from greenfin.security import AUTHENTICATED, PUBLIC, access, current_actor

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("Login name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("core.home")


def _wait_message(seconds: int) -> str:
    return _("Too many failed sign-ins from your network: please try again in %(wait)s.", wait=wait_text(seconds))


@bp.route("/login", methods=["GET", "POST"])
@access(PUBLIC)
@rate_limited("login", 30, 60, methods=("POST",))
@limiter.shared_limit(throttle.network_limit, scope="login_network", methods=["POST"], key_func=client_network,
                      deduct_when=lambda response: response.status_code == 401)  # password spraying
def login():
    form = LoginForm()
    if form.validate_on_submit():
        network = client_network()
        wait = throttle.login_wait(form.username.data, network)
        if wait:
            form.form_errors.append(_wait_message(wait))
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(wait)}
        user = services.authenticate(form.username.data, form.password.data)
        if user is not None:
            throttle.note_success(form.username.data, network)
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        form.form_errors.append(_("Wrong login name or password."))
        wait = throttle.note_failure(form.username.data, network)
        if wait:
            form.form_errors.append(_wait_message(wait))
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@access(AUTHENTICATED)
def logout():
    services.end_sessions(current_actor())
    logout_user()
    flash(_("You have signed out."), "success")
    return redirect(url_for("core.home"))


@bp.route("/admin/users/<int:user_id>/unlock", methods=["POST"])
@access("admin")
def unlock(user_id):
    """Lift the sign-in waits on an account (a forgotten password, a guessing attack that is over)."""
    throttle.unlock_account(services.get_user(user_id))
    flash(_("Sign-in waits lifted for this account."), "success")
    return redirect(url_for("core.user_form", user_id=user_id))


def init_app(app: Flask) -> None:
    from greenfin import slot
    from greenfin.auth.api import blp
    from greenfin.auth.cli import unlock_user_command
    from greenfin.extensions import api

    api.register_blueprint(blp)
    app.cli.add_command(unlock_user_command)
    slot(app, "user", "auth/_user_throttle.html")
    app.jinja_env.globals.update(login_throttle=throttle.throttled_networks, wait_text=wait_text)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.session_protection = "strong"
    login_manager.user_loader(services.load_session_user)
    app.register_blueprint(bp)
