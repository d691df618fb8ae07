"""The relational core: parties, users, parcels, audit events, jobs."""
from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from greenfin import home_card, nav_group, nav_item
    from greenfin.core import cli, models  # noqa: F401  (models registered for migrations)
    from greenfin.core.api import blp
    from greenfin.core.views import bp
    from greenfin.health import bp as health_bp
    from greenfin.extensions import api

    api.register_blueprint(blp)
    app.register_blueprint(bp)
    app.register_blueprint(health_bp)
    app.cli.add_command(cli.seed_demo_command)
    app.cli.add_command(cli.create_user_command)
    from flask_migrate.cli import db as db_group  # `flask db grant-app-role ROLE`, next to `flask db upgrade`

    db_group.add_command(cli.grant_app_role_command)
    db_group.add_command(cli.partitions_group)  # `flask db partitions ensure|detach|list`
    nav_item(app, "core.parties", _l("Parties"), ("admin", "loan_officer", "regulator", "producer"), order=10,
             group="registry")
    nav_item(app, "core.parcels", _l("Parcels"), ("admin", "loan_officer", "regulator", "producer"), order=11,
             group="registry")
    nav_item(app, "core.jobs", _l("Jobs"), ("admin", "regulator"), order=89, group="system")
    nav_item(app, "core.audit", _l("Audit trail"), ("admin", "regulator"), order=90, group="system")
    nav_item(app, "core.users", _l("Users"), ("admin",), order=91, group="system")
    nav_item(app, "core.tokens", _l("API tokens"), ("admin",), order=92, group="system")
    nav_group(app, "registry", _l("Parties and parcels"))
    nav_group(app, "system", _l("System"))
    home_card(app, "core/_card_core.html", ("admin", "loan_officer", "regulator", "producer"), order=99)


def seed_demo(rng, context):
    from greenfin.core.seed import seed_demo as seed

    return seed(rng)
