"""Asset pools for securitising green loans: eligibility, immutable cuts, loan tape,
stratification, cash-flow projection with a tranche waterfall, servicer reports."""
from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from greenfin import home_card, nav_item, slot
    from greenfin.extensions import api
    from greenfin.pools import models  # noqa: F401  (models registered for migrations)
    from greenfin.pools.api import blp
    from greenfin.pools.cli import pools_cli
    from greenfin.pools.report_charts import report_charts
    from greenfin.pools.views import bp

    api.register_blueprint(blp)
    app.register_blueprint(bp)
    app.cli.add_command(pools_cli)
    nav_item(app, "pools.index", _l("Asset pools"), ("admin", "loan_officer", "regulator"), order=60, group="lending")
    home_card(app, "pools/_card_pools.html", ("admin", "loan_officer", "regulator"), order=60)
    slot(app, "party", "pools/_party_pools.html", order=60)
    slot(app, "public_home", "pools/_public_home.html", order=60)
    app.jinja_env.globals["party_pool_loans"] = party_pool_loans
    app.jinja_env.globals["pool_report_charts"] = report_charts


def party_pool_loans(party_id: int) -> list:
    """The party's loans now in asset pools, for the party page (staff only)."""
    from greenfin.pools.services import party_pool_loans as loans

    return loans(party_id)


def seed_demo(rng, context):
    from greenfin.pools.seed import seed_demo as seed

    return seed(rng, context)
