"""GEP at work: eco-compensation schemes and runs (budget split, water-quality bet, per hectare,
eco-jobs), the honest split of a change in GEP into a quantity and a price effect."""
from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from greenfin import nav_group, nav_item
    from greenfin.compensation import models  # noqa: F401  (models registered for migrations)
    from greenfin.compensation.api import blp
    from greenfin.compensation.cli import assessment_cli, compensation_cli
    from greenfin.compensation.views import bp
    from greenfin.extensions import api

    api.register_blueprint(blp)
    app.register_blueprint(bp)
    app.cli.add_command(compensation_cli)
    app.cli.add_command(assessment_cli)
    nav_item(app, "compensation.index", _l("Eco-compensation"), ("admin", "regulator"), order=45, group="ecovalue")
    nav_group(app, "ecovalue", _l("Ecological value"))


def seed_demo(rng, context):
    from greenfin.compensation.seed import seed_demo as seed

    return seed(rng, context)
