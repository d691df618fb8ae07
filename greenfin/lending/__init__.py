"""Eco-product lending: products, applications, collateral, scorecard, decisions, loans and servicing."""
from flask import Flask
from flask_babel import lazy_gettext as _l

from greenfin.labels import label
from greenfin.lending.labels import OUTCOME as OUTCOME_LABELS, STATUS as STATUS_LABELS  # noqa: F401  (older name)


def init_app(app: Flask) -> None:
    from greenfin.lending import labels  # declares the lending enumerations
    from greenfin import home_card, nav_group, nav_item, slot
    from greenfin.extensions import api
    from greenfin.lending import cli, models  # noqa: F401  (models registered for migrations)
    from greenfin.lending.api import blp
    from greenfin.lending.views import bp

    api.register_blueprint(blp)
    app.register_blueprint(bp)
    app.cli.add_command(cli.lending_cli)
    nav_item(app, "lending.queue", _l("Green loans"), ("admin", "loan_officer", "regulator", "producer"), order=40,
             group="lending")
    nav_group(app, "lending", _l("Green finance"))
    nav_item(app, "lending.portfolio", _l("Loan portfolio"), ("admin", "loan_officer", "regulator"), order=41, group="lending")
    home_card(app, "lending/_card.html", ("admin", "loan_officer", "regulator", "producer"), order=40)
    slot(app, "party", "lending/_party_slot.html", order=40)
    app.jinja_env.globals.update(status_label=lambda s: label("loan_status", s),
                                 outcome_label=lambda s: label("loan_outcome", s),
                                 score_value_label=score_value_label, lending_ignored_label=labels.ignored_label)


def score_value_label(feature: str, value) -> str:
    """A value of a scorecard feature (a township, a sector...) in words."""
    from greenfin.lending.labels import FEATURE_VALUES

    enumeration = FEATURE_VALUES.get(feature)
    return label(enumeration, value) if enumeration else str(value)


def seed_demo(rng, context):
    from greenfin.lending.seed import seed_demo as seed

    return seed(rng, context)
