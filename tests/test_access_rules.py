"""Deny by default: every route of every package declares who may use it."""
from greenfin.security import AUTHENTICATED, PUBLIC, ROLES, declared_access

ALLOWED = set(ROLES) | {PUBLIC, AUTHENTICATED}

# Everything anyone may open without signing in. A route becomes public only by being added here.
PUBLIC_ENDPOINTS = {
    "static", "api-docs.openapi_json", "core.api_docs", "core.api_docs_static", "auth.login", "core.home",
    "health.healthz", "health.readyz",
    "metrics.metrics",  # no session, but refused without the bearer METRICS_TOKEN (tests/core/test_metrics.py)
    # eco-credit disclosure
    "credit.public", "credit.public_rating", "credit.certificate", "credit_api.PublicRatings",
    "credit_api.PublicRatingByCode", "credit_api.LedgerHeads",
    # consumers' label scans
    "trace_scan.scan", "trace_scan.scan_malformed",
    # the GS1 resolver: its description and the lot-level targets of a label's links (no personal data)
    "trace_resolver.description", "trace_resolver.lot_page", "trace_resolver.lot_certifications",
    "trace_resolver.lot_traceability", "trace_resolver.lot_recall",
    # buyers: the eco-product catalogue (lot-level facts, no household named)
    "market.catalogue", "market.catalogue_csv", "market_api.Catalogue",
    # investors: published pool cuts and servicer reports of green ABS
    "pools.disclosure_index", "pools.disclosure_pool", "pools.disclosure_cut", "pools.disclosure_report",
    "pools.disclosure_report_pdf",
    # the public: index-insurance payout events (station readings and totals, no personal data)
    "insurance.events", "insurance.event", "insurance.event_pdf",
    # the public forest carbon registry: serials, retirement certificates (no personal data)
    "carbon.public_index", "carbon.public_units", "carbon.public_retirement", "carbon.public_retirement_pdf",
}


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


def test_public_routes_are_the_intended_ones(app):
    public = {rule.endpoint for rule, method in routes(app)
              if PUBLIC in (declared_access(app, rule.endpoint, method) or ())}
    assert public - PUBLIC_ENDPOINTS == set(), "public routes not listed in PUBLIC_ENDPOINTS"
    assert public == PUBLIC_ENDPOINTS & set(app.view_functions), "listed public routes that are not public"


def test_investor_disclosure_is_public_and_read_only(app):
    for rule, method in routes(app):
        if rule.rule.startswith("/disclosure/"):
            assert method == "GET" and declared_access(app, rule.endpoint, method) == {PUBLIC}, rule.rule


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
