"""Deny by default: every route of every package declares who may use it."""
from greenfin.security import AUTHENTICATED, PUBLIC, ROLES, declared_access

ALLOWED = set(ROLES) | {PUBLIC, AUTHENTICATED}


def routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_declares_access(app):
    undeclared = [f"{method} {rule.rule} ({rule.endpoint})" for rule, method in routes(app)
                  if declared_access(app, rule.endpoint, method) is None]
    assert not undeclared, "routes without @access(...):\n" + "\n".join(undeclared)


def test_declared_roles_are_known(app):
    for rule, method in routes(app):
        assert set(declared_access(app, rule.endpoint, method) or ()) <= ALLOWED, rule.rule


def test_api_writes_are_never_public(app):
    public_writes = [f"{method} {rule.rule}" for rule, method in routes(app)
                     if rule.rule.startswith("/api/") and method != "GET"
                     and PUBLIC in (declared_access(app, rule.endpoint, method) or ())]
    assert not public_writes, public_writes


def test_undeclared_view_is_refused(app):
    from flask import Flask

    probe = Flask("probe")
    probe.add_url_rule("/x", "x", lambda: "secret")
    assert declared_access(probe, "x", "GET") is None
