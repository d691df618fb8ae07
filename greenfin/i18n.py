"""Chinese first, English one click away."""
from __future__ import annotations

from functools import lru_cache

from babel import Locale
from flask import Flask, current_app, has_request_context, request, url_for
from flask_babel import get_locale, gettext, refresh

from greenfin import dates, labels
from greenfin.extensions import babel
from greenfin.pages import navigation

COOKIE = "lang"


def colour_label(colour):
    """An eco-credit colour's translated name (the scale is credit's policy: credit/policy.py)."""
    from credit.policy import colour_label as label

    return label(colour)


def requester_gettext(message: str, **params) -> str:
    """A text stored for a person (a job's title) in the requester's language; English outside a
    request (CLI, worker), where nobody's language is known."""
    return gettext(message, **params) if has_request_context() else message % params


def select_locale() -> Locale:
    if not has_request_context():
        return _parsed(current_app.config["BABEL_DEFAULT_LOCALE"])
    languages = current_app.config["LANGUAGES"]
    wanted = request.args.get("lang") or request.cookies.get(COOKIE)
    return _parsed(wanted if wanted in languages else current_app.config["BABEL_DEFAULT_LOCALE"])


@lru_cache(maxsize=None)
def _parsed(identifier: str) -> Locale:
    """Flask-Babel takes a Locale as it is; parsing the same two names on every request costs."""
    return Locale.parse(identifier)


def init_i18n(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)

    @app.before_request
    def fresh_locale():
        # Flask-Babel caches the locale on ``g``; an app context that outlives one
        # request (tests, CLI-driven requests) must not carry it over.
        refresh()

    @app.context_processor
    def inject_locale():
        locale = str(get_locale())
        return {"current_locale": locale, "other_locale": "en" if locale.startswith("zh") else "zh_CN"}

    # Globals (not context variables) so that imported macros see them too.
    app.jinja_env.globals.update(
        config_nav=lambda: current_app.extensions["greenfin_nav"],
        navigation=navigation,
        role_label=lambda role: labels.label("role", role),
        colour_label=colour_label,
        kind_label=lambda kind: labels.label("party_kind", kind),
        land_cover_label=lambda cover: labels.label("land_cover", cover),
        township_name=township_name,
        local_name=local_name,
        label=labels.label,
        page_url=page_url,
        slot_templates=lambda name: [t for _o, t in current_app.extensions["greenfin_slots"].get(name, [])],
    )

    # One set of date and time filters, all in the business timezone (greenfin/dates.py).
    app.jinja_env.filters.update(local_date=dates.local_date, local_datetime=dates.local_datetime,
                                 local_time=dates.local_time, label=lambda code, enumeration: labels.label(enumeration, code))

    @app.after_request
    def remember_language(response):
        lang = request.args.get("lang")
        if lang in app.config["LANGUAGES"]:
            response.set_cookie(COOKIE, lang, max_age=365 * 86400, samesite="Lax", httponly=True)
        return response


def township_name(township) -> str:
    """A township row in the current language."""
    return local_name(township)


def local_name(row) -> str:
    """The name of a row that keeps one per language (``name_zh`` / ``name_en``: townships, loan
    products) in the current language; the Chinese one when there is no English name."""
    if row is None:
        return ""
    if str(get_locale()).startswith("zh"):
        return row.name_zh
    return getattr(row, "name_en", None) or row.name_zh


def page_url(page: int) -> str:
    """The current page's URL with its query string, at another page number."""
    args = request.args.to_dict() | {"page": page}
    return url_for(request.endpoint, **(request.view_args or {}), **args)
