"""Session login for pages (Flask-Login) and the language switch."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from greenfin.core import services
from greenfin.extensions import commit, login_manager
from greenfin.ratelimit import check, rate_limited
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


@bp.route("/login", methods=["GET", "POST"])
@access(PUBLIC)
@rate_limited("login", 30, 60, methods=("POST",))
def login():
    form = LoginForm()
    if form.validate_on_submit():
        # Throttle password guessing per account too, from whichever address it comes.
        account = (form.username.data or "").strip().lower()
        check("login-failures", 10, 900, key=account, add=0)
        user = services.authenticate(form.username.data, form.password.data)
        if user is not None:
            commit()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        check("login-failures", 10, 900, key=account)
        form.form_errors.append(_("Wrong login name or password."))
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@access(AUTHENTICATED)
def logout():
    services.end_sessions(current_actor())
    commit()
    logout_user()
    flash(_("You have signed out."), "success")
    return redirect(url_for("core.home"))


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.session_protection = "strong"
    login_manager.user_loader(services.load_session_user)
    app.register_blueprint(bp)
