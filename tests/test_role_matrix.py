"""Role × route matrix, generated from the app's own URL map.

For every route and method, each role (anonymous, producer, loan officer,
regulator, admin) calls it: a role outside the declared rule must be refused
(401/302-to-login for anonymous, 403 otherwise) and must never get data; a role
inside it must not be refused and must not meet a server error. A new route
without a declared rule fails ``test_every_route_declares_access``.
"""
from __future__ import annotations

import re

import pytest
from werkzeug.routing.converters import NumberConverter

from greenfin.security import AUTHENTICATED, PUBLIC, declared_access

ROLES = ("anonymous", "producer", "buyer", "loan_officer", "regulator", "insurer", "admin")
SKIP_ENDPOINTS = {"static", "core.api_docs_static", "auth.logout"}
SKIP_METHODS = {"HEAD", "OPTIONS"}


def _fill(rule) -> str:
    """A concrete URL for a rule: ids that do not exist, harmless strings."""
    url = rule.rule
    for name, conv in rule._converters.items():
        value = "999999" if isinstance(conv, NumberConverter) else "x1"
        url = re.sub(r"<(?:[^:<>]+:)?" + re.escape(name) + r">", value, url)
    return url


def _cases(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in SKIP_ENDPOINTS:
            continue
        for method in sorted(rule.methods - SKIP_METHODS):
            yield rule, method


def _allowed(rule_roles, role):
    if PUBLIC in rule_roles:
        return True
    if role == "anonymous":
        return False
    return AUTHENTICATED in rule_roles or role in rule_roles


@pytest.fixture
def callers(app, create_user, api, login):
    """For each role, a function(method, url) -> response, pages by session and API by token."""
    made = {}
    for role in ROLES[1:]:
        user = create_user(role)
        made[role] = (app.test_client(), api(user=user))
        made[role][0].post("/login", data={"username": user.username, "password": "correct-horse-battery"})
    anon = app.test_client()

    def call(role, method, url):
        if role == "anonymous":
            return anon.open(url, method=method)
        page_client, api_client = made[role]
        if url.startswith("/api/"):
            return api_client._call(method.lower(), url)
        return page_client.open(url, method=method)

    return call


def test_role_matrix(app, callers):
    failures, checked = [], 0
    for rule, method in _cases(app):
        rule_roles = declared_access(app, rule.endpoint, method)
        url = _fill(rule)
        for role in ROLES:
            try:
                response = callers(role, method, url)
            except Exception as exc:  # an unhandled error is a failure of its own
                failures.append(f"{role:12s} {method} {url} -> {exc.__class__.__name__}: {exc}")
                continue
            checked += 1
            status = response.status_code
            if _allowed(rule_roles, role):
                if status in (401, 403) or status >= 500:
                    failures.append(f"{role:12s} {method} {url} -> {status} (should be allowed)")
            else:
                refused = status in (401, 403) or (status == 302 and "/login" in response.location)
                if not refused:
                    failures.append(f"{role:12s} {method} {url} -> {status} (should be refused)")
    assert checked > 0
    print(f"role matrix: {checked} route x method x role checks")
    assert not failures, "\n".join(failures)
