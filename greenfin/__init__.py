"""GreenFin: green finance and eco-product tracing for Guangfeng district.

``create_app`` builds the application; nothing is created or connected at import time.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

from flask import Flask
from sqlalchemy.exc import DBAPIError
from werkzeug.routing import IntegerConverter

from greenfin.config import ROOT, Config
from greenfin.registry import FEATURES, check_features, installed_features, load_features  # noqa: F401  (FEATURES: public)

class BoundedInt(IntegerConverter):
    """``<int:id>`` limited to what a database integer holds: larger ids are simply not found."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: Optional[Any] = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(getattr(config, "INSTANCE_PATH", None) or ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(config if config is not None else Config())
    from greenfin.json_input import init_json_input

    init_json_input(app)
    app.json.ensure_ascii = False  # Chinese stays readable in JSON and in pages
    app.url_map.converters["int"] = BoundedInt
    check_features(app)  # a malformed setting stops the app before anything is built
    if app.config.get("PROXY_FIX_HOPS"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    from greenfin.logs import init_logging

    init_logging(app)
    from greenfin.metrics import init_metrics

    init_metrics(app)  # before the access checks, so refused requests are timed and counted too

    from greenfin import extensions as ext
    from greenfin.errors import ErrorSchema, register_error_handlers
    from greenfin.i18n import init_i18n
    from greenfin.jobs import init_jobs
    from greenfin.security import init_security

    from greenfin.replica import init_replica

    init_replica(app)  # the optional read replica's bind, before the engines are made
    ext.db.init_app(app)
    with app.app_context():
        for engine in ext.db.engines.values():
            ext.configure_sqlite(engine)  # builds the engine objects; connects nothing
    ext.migrate.init_app(app, ext.db, directory=str(ROOT / "migrations"))
    ext.api.ERROR_SCHEMA = ErrorSchema  # our error shape, documented for every operation
    ext.api.init_app(app)
    from greenfin.api_utils import init_api_docs

    init_api_docs(app)
    ext.login_manager.init_app(app)
    ext.csrf.init_app(app)
    init_i18n(app)
    from greenfin.charts import init_charts

    init_charts(app)
    init_security(app)
    from greenfin.ratelimit import init_ratelimit

    init_ratelimit(app)
    init_jobs(app)
    from greenfin.worker import rq_cli  # the worker builds on jobs, never the other way round

    app.cli.add_command(rq_cli)
    from greenfin.backup import init_backup

    init_backup(app)
    from greenfin.schedule import init_schedule

    init_schedule(app)
    register_error_handlers(app)
    app.extensions["greenfin_nav"] = []
    app.extensions["greenfin_nav_groups"] = {}
    app.extensions["greenfin_home"] = []
    app.extensions["greenfin_slots"] = {}
    app.extensions["greenfin_exporters"] = {}

    load_features(app)

    from greenfin.api_utils import mark_public_operations, serve_own_api_document

    mark_public_operations(app)
    serve_own_api_document(app)
    from greenfin.uow import wrap_views

    wrap_views(app)  # one commit point per request (greenfin/uow.py)

    # The API authenticates with bearer tokens, not cookies: no CSRF there.
    for name, blueprint in app.blueprints.items():
        if blueprint.url_prefix and blueprint.url_prefix.startswith("/api/"):
            ext.csrf.exempt(blueprint)

    @app.teardown_appcontext
    def close_session(exc):
        # Runs before Flask-SQLAlchemy's own teardown (registered later, called first).
        ext.db.session.info.pop("greenfin_pending_jobs", None)
        try:
            ext.db.session.remove()
        except DBAPIError as error:
            # The connection died with a transaction open (a database restart after the
            # response was built): the pool has invalidated it; the response still stands.
            ext.db.session.registry.clear()
            logging.getLogger("greenfin.errors").warning("session closed on a lost connection: %s",
                                                         error.__class__.__name__)

    return app


def nav_item(app: Flask, endpoint: str, label: Any, roles: tuple[str, ...], order: int = 50,
             group: str | None = None) -> None:
    """Add a link to the top navigation for the given roles; links of one ``group`` (declared with
    ``nav_group``) share one entry of the top bar and form the second level (greenfin/pages.py)."""
    app.extensions["greenfin_nav"].append({"endpoint": endpoint, "label": label, "roles": roles, "order": order,
                                           "group": group})
    app.extensions["greenfin_nav"].sort(key=lambda item: item["order"])


def nav_group(app: Flask, key: str, label: Any) -> None:
    """Name a group of navigation links (its place is its first link's)."""
    app.extensions["greenfin_nav_groups"][key] = label


def home_card(app: Flask, template: str, roles: tuple[str, ...], order: int = 50) -> None:
    """Add a partial template to the home page of the given roles."""
    app.extensions["greenfin_home"].append({"template": template, "roles": roles, "order": order})
    app.extensions["greenfin_home"].sort(key=lambda item: item["order"])


def slot(app: Flask, name: str, template: str, order: int = 50) -> None:
    """Add a partial to a named slot of a shared page.

    Slots: ``party`` and ``parcel`` (detail pages; the partial sees ``party`` or
    ``parcel``), ``user`` (an admin's user page; the partial sees ``user``) and
    ``public_home`` (the landing page for visitors).
    """
    entries = app.extensions["greenfin_slots"].setdefault(name, [])
    entries.append((order, template))
    entries.sort()


def data_exporter(app: Flask, name: str, func) -> None:
    """Register ``func(party_id) -> JSON-able`` as the package's part of a party's data export (PIPL)."""
    app.extensions["greenfin_exporters"][name] = func
