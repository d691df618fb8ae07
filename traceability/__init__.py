"""Origin and certification tracing: brands, products, lots, certificates, EPCIS 2.0 events,
signed GS1 Digital Link labels, the consumer scan page, anti-counterfeit checks and recalls."""
from flask import Flask
from flask_babel import lazy_gettext as _l


def check_config(config) -> None:
    """Refuse a malformed setting before anything is built (greenfin/registry.py)."""
    from traceability.scan_rules import geo_proxies

    try:
        geo_proxies(config.get("TRACE_GEO_PROXIES", ""))
    except ValueError as exc:
        raise ValueError(f"TRACE_GEO_PROXIES: {exc}") from None


def init_app(app: Flask) -> None:
    from greenfin import home_card, nav_group, nav_item, slot
    from greenfin.extensions import api
    from traceability import models  # noqa: F401  (models registered for migrations)
    from traceability.api import blp
    from traceability.cli import trace_cli
    from traceability.resolver_views import resolver_bp
    from traceability.views import bp, scan_bp

    app.register_blueprint(bp)
    app.register_blueprint(scan_bp)
    app.register_blueprint(resolver_bp)
    api.register_blueprint(blp)
    app.cli.add_command(trace_cli)
    nav_item(app, "trace.lots", _l("Traceability"), ("admin", "regulator", "producer"), order=40, group="trace")
    nav_item(app, "trace.enumeration_flags", _l("Serial guessing"), ("admin", "regulator"), order=41, group="trace")
    nav_group(app, "trace", _l("Traceability"))
    home_card(app, "traceability/_card.html", ("admin", "regulator", "producer"), order=40)
    slot(app, "parcel", "traceability/_slot_parcel.html", order=40)
    app.jinja_env.globals["trace_parcel_lots"] = _parcel_lots
    app.jinja_env.filters["trace_qty"] = _quantity


def _quantity(value) -> str:
    """A quantity without trailing zeros or exponent: 4200, 12.5."""
    from decimal import Decimal

    if value is None:
        return ""
    return format(Decimal(value).normalize(), "f")


def _parcel_lots(parcel_id: int, limit: int = 10):
    """Lots whose origin includes the parcel (for the parcel page's slot)."""
    from sqlalchemy import select

    from greenfin.extensions import db
    from traceability.models import Lot, lot_parcels

    return db.session.scalars(select(Lot).join(lot_parcels, lot_parcels.c.lot_id == Lot.id)
                              .where(lot_parcels.c.parcel_id == parcel_id).order_by(Lot.id.desc()).limit(limit)).all()


def seed_demo(rng, context):
    from traceability.seed import seed_demo as seed

    return seed(rng, context)
