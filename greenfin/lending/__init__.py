"""Eco-product lending: products, applications, collateral, scorecard, decisions, loans and servicing."""
from flask import Flask
from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    "submitted": _l("Submitted"), "scored": _l("Scored"), "approved": _l("Approved"), "referred": _l("Referred"),
    "declined": _l("Declined"), "override_pending": _l("Override pending"), "booked": _l("Booked"),
    "withdrawn": _l("Withdrawn"), "active": _l("Active"), "repaid": _l("Repaid"), "written_off": _l("Written off"),
    "proposed": _l("Proposed"), "pledged": _l("Pledged"), "released": _l("Released"), "enforced": _l("Enforced"),
    "champion": _l("Champion"), "challenger": _l("Challenger"), "retired": _l("Retired"),
    "stable": _l("Stable"), "warn": _l("Warning"), "alert": _l("Alert"), "few": _l("Too few to judge"),
}
OUTCOME_LABELS = {"approve": _l("Approve"), "refer": _l("Refer"), "decline": _l("Decline")}


def init_app(app: Flask) -> None:
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
    nav_group(app, "lending", _l("Green lending"))
    nav_item(app, "lending.portfolio", _l("Loan portfolio"), ("admin", "loan_officer", "regulator"), order=41, group="lending")
    home_card(app, "lending/_card.html", ("admin", "loan_officer", "regulator", "producer"), order=40)
    slot(app, "party", "lending/_party_slot.html", order=40)
    app.jinja_env.globals.update(status_label=lambda s: STATUS_LABELS.get(s, s),
                                 outcome_label=lambda s: OUTCOME_LABELS.get(s, s))


def seed_demo(rng, context):
    from greenfin.lending.seed import seed_demo as seed

    return seed(rng, context)
