"""Weather-index insurance for orchards and forests: index products, station weather, policies on
parcels, automatic claims from a daily evaluation, payouts to the lender of a pledged parcel
(through lending's contract, so they reach the pools' servicer reports), premium backtests and
public payout events."""
from decimal import Decimal

from flask import Flask
from flask_babel import lazy_gettext as _l

from greenfin.charts import format_money

# Who acts for the insurer (products, weather, policies, claims and payouts: an insurance company's
# staff, or an administrator) and who may read the insurance book (regulators supervise, loan officers
# see the policies that protect their loans).
INSURERS = ("admin", "insurer")
READERS = ("admin", "regulator", "loan_officer", "insurer")


def init_app(app: Flask) -> None:
    from greenfin import home_card, nav_item, slot
    from greenfin.extensions import api
    from greenfin.insurance import labels, models  # noqa: F401  (models registered for migrations)
    from greenfin.insurance.api import blp
    from greenfin.insurance.cli import insurance_cli
    from greenfin.insurance.views import bp

    api.register_blueprint(blp)
    app.register_blueprint(bp)
    app.cli.add_command(insurance_cli)
    nav_item(app, "insurance.dashboard", _l("Insurance"), READERS, order=55, group="lending")
    nav_item(app, "insurance.policies", _l("My insurance"), ("producer",), order=55)
    home_card(app, "insurance/_card_insurance.html", ("admin", "regulator", "insurer"), order=55)
    slot(app, "public_home", "insurance/_public_home.html", order=65)
    app.jinja_env.globals.update(
        ins_money=format_money, ins_insurers=INSURERS, ins_pct=pct, ins_peril=labels.peril_label, ins_unit=labels.peril_unit,
        ins_mode=labels.mode_label, ins_claim_status=labels.claim_status_label,
        ins_policy_status=labels.policy_status_label, ins_payer=labels.payer_label, ins_fund=_fund)


def pct(value, places: int = 1) -> str:
    if value is None:
        return "—"
    return f"{(Decimal(str(value)) * 100).quantize(Decimal(1).scaleb(-places))}%"


def _fund():
    from greenfin.insurance import services

    return services.fund_summary()


def seed_demo(rng, context):
    from greenfin.insurance.seed import seed_demo as seed

    return seed(rng, context)
