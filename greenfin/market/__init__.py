"""The eco-product market (生态产品目录与供需对接): today the public eco-product catalogue built
from traced lots, certificates, GI authorisations, orchard GEP and producer colours, and the
regulators' coverage of it; buyers, offers from traced lots, demand with ranked matches, and orders
with EPCIS-traced delivery (docs/market.md)."""
from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from greenfin import nav_group, nav_item, slot
    from greenfin.extensions import api
    from greenfin.market import labels, models  # noqa: F401  (enumeration labels declared, models registered)
    from greenfin.market.api import blp
    from greenfin.market.cli import market_cli
    from greenfin.market.views import bp

    from greenfin import signals
    from greenfin.market.services import withdraw_recalled_lot

    signals.lot_recalled.connect(withdraw_recalled_lot, app)
    app.register_blueprint(bp)
    api.register_blueprint(blp)
    app.cli.add_command(market_cli)
    nav_item(app, "market.catalogue", _l("Eco-product catalogue"), ("admin", "regulator", "producer", "loan_officer"),
             order=45, group="trace")
    nav_item(app, "market.coverage", _l("Catalogue coverage"), ("admin", "regulator"), order=46, group="trace")
    slot(app, "public_home", "market/_public_home.html", order=45)
    nav_group(app, "market", _l("Market"))
    nav_item(app, "market.offers", _l("Market offers"), ("admin", "regulator", "producer"), order=47, group="market")
    nav_item(app, "market.demand", _l("Demand and matches"), ("admin", "regulator", "buyer"), order=48, group="market")
    nav_item(app, "market.orders", _l("Market orders"), ("admin", "regulator", "producer", "buyer"), order=49,
             group="market")
    nav_item(app, "market.buyers", _l("Market buyers"), ("admin", "regulator"), order=50, group="market")
    nav_item(app, "market.procurement", _l("Public procurement of eco-products"), ("admin", "regulator"), order=51,
             group="market")


def seed_demo(rng, context):
    from greenfin.market.seed import seed_demo as seed

    return seed(rng, context)
