"""Forest carbon-sink registry (林业碳票): projects on forest parcels, verified monitoring reports,
serial unit blocks issued with a buffer share, and an insert-only, hash-chained unit ledger of
transfers, pledges to loans, releases, enforcements and retirements (docs/carbon.md)."""
from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from greenfin import home_card, nav_group, nav_item, slot
    from greenfin.carbon import models  # noqa: F401  (models registered for migrations)
    from greenfin.carbon import receivers
    from greenfin.carbon.api import blp
    from greenfin.carbon.cli import carbon_cli
    from greenfin.carbon.views import bp
    from greenfin.extensions import api

    api.register_blueprint(blp)
    app.register_blueprint(bp)
    app.cli.add_command(carbon_cli)
    receivers.connect(app)
    nav_item(app, "carbon.index", _l("Carbon registry"), ("admin", "loan_officer", "regulator"), order=65, group="ecovalue")
    nav_group(app, "ecovalue", _l("Ecological value"))
    nav_item(app, "carbon.my_account", _l("My carbon units"), ("producer",), order=65)
    home_card(app, "carbon/_card_carbon.html", ("admin", "loan_officer", "regulator"), order=65)
    slot(app, "public_home", "carbon/_public_home.html", order=65)


def seed_demo(rng, context):
    from greenfin.carbon.seed import seed_demo as seed

    return seed(rng, context)
