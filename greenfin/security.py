"""Authentication and deny-by-default authorisation.

Every view declares who may call it with ``@access(...)``; a route without a
declaration is refused (and the role-matrix test fails for it). Pages use
Flask-Login sessions; ``/api/`` uses bearer tokens only, so API calls need no
CSRF token and a stolen session cookie cannot drive the API.
"""
from __future__ import annotations

import uuid
from typing import Callable, Iterable, Optional

from flask import Flask, abort, current_app, g, redirect, request, url_for
from flask_login import current_user

PUBLIC = "public"
AUTHENTICATED = "authenticated"
# The one list of roles (the users table's check constraint, the API schemas and the CLI read it).
ROLES = ("admin", "loan_officer", "producer", "regulator", "insurer", "buyer")
# Roles whose users act for one party (their own records only): a producer, a market buyer.
PARTY_ROLES = ("producer", "buyer")
STAFF = ("admin", "regulator", "loan_officer")

# Endpoints registered by libraries, with their rules.
LIBRARY_ENDPOINTS = {
    "static": {PUBLIC},
    "api-docs.openapi_json": {PUBLIC},
}


def access(*roles: str, methods: Iterable[str] = ("*",)) -> Callable:
    """Declare who may call a view function or MethodView method.

    A page that shows a form on GET and acts on POST may narrow the POST:
    ``@access(*STAFF)`` then ``@access("admin", methods=("POST",))``.
    """
    unknown = set(roles) - set(ROLES) - {PUBLIC, AUTHENTICATED}
    if unknown or not roles:
        raise ValueError(f"unknown roles: {unknown or 'none given'}")

    def decorate(func: Callable) -> Callable:
        rules = dict(getattr(func, "_access_rules", {}))
        for method in methods:
            rules[method.upper() if method != "*" else "*"] = frozenset(roles)
        func._access_rules = rules
        func._access = rules.get("*")
        return func

    return decorate


def _rule_for(obj, method: str) -> Optional[frozenset]:
    rules = getattr(obj, "_access_rules", None)
    if not rules:
        return None
    return rules.get(method, rules.get("GET") if method == "HEAD" else None) or rules.get("*")


def declared_access(app: Flask, endpoint: str, method: str) -> Optional[frozenset]:
    """The roles declared for ``endpoint`` and HTTP ``method``, or None if undeclared."""
    if endpoint in LIBRARY_ENDPOINTS:
        return frozenset(LIBRARY_ENDPOINTS[endpoint])
    view = app.view_functions.get(endpoint)
    if view is None:
        return None
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        handler = getattr(view_class, method.lower(), None)
        if handler is None and method == "HEAD":
            handler = getattr(view_class, "get", None)
        return _rule_for(handler, method) or _rule_for(view_class, method)
    return _rule_for(view, method)


def _bearer_user():
    from greenfin.core.services import user_for_token

    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    return user_for_token(header[7:].strip())


def current_actor():
    """The authenticated user of this request, or None (anonymous, CLI, job)."""
    return g.get("user")


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def init_security(app: Flask) -> None:
    @app.before_request
    def authenticate_and_authorise():
        # Flask-Login caches the user on ``g``; an app context that outlives a
        # request (tests, nested contexts) must never hand it to the next one.
        g.pop("_login_user", None)
        g.request_id = (request.headers.get("X-Request-ID") or uuid.uuid4().hex)[:64]
        if is_api_request():
            g.user = _bearer_user()
        else:
            g.user = current_user._get_current_object() if current_user.is_authenticated else None
        if request.endpoint is None:
            return None  # 404/405 handled by Flask
        rule = declared_access(app, request.endpoint, request.method)
        if rule is None:
            abort(403, description="No access rule is declared for this endpoint")
        if PUBLIC in rule:
            return None
        if g.user is None:
            if is_api_request():
                abort(401, description="A bearer token is required")
            return redirect(url_for("auth.login", next=request.full_path))
        if AUTHENTICATED in rule or g.user.role in rule:
            return None
        abort(403, description="Your role may not use this")

    @app.after_request
    def security_headers(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if request.endpoint != "static" and (g.get("user") is not None or "Content-Disposition" in response.headers):
            # Signed-in pages, API answers and downloads (exports with personal data, the token page):
            # kept by no browser or proxy cache.
            response.headers["Cache-Control"] = "no-store"
        if current_app.config.get("SESSION_COOKIE_SECURE"):
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response


def own_party_id() -> Optional[int]:
    """For producers and buyers, the party whose data they may see; None for staff roles."""
    user = current_actor()
    if user is not None and user.role in PARTY_ROLES:
        return user.party_id
    return None


def require_party_access(party_id: Optional[int]) -> None:
    """Producers may touch only their own party's records."""
    scope = own_party_id()
    if scope is not None and party_id != scope:
        abort(404)
