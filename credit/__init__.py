"""Eco-credit points ledger and four-colour ratings (生态信用积分, 环保信用评价)."""
from flask import Flask
from flask_babel import lazy_gettext as _l

STATE_LABELS = {"computed": _l("Computed, waiting for review"), "returned": _l("Returned for recomputation"),
                "notice": _l("On public notice"), "published": _l("Published")}
DECISION_LABELS = {"open": _l("Open"), "upheld": _l("Upheld"), "dismissed": _l("Dismissed"),
                   "pending": _l("Pending"), "approved": _l("Approved"), "rejected": _l("Rejected")}


def credit_summary(party_id: int) -> dict:
    from credit import services

    return {"current": services.current_rating(party_id), "latest": services.latest_rating(party_id),
            "balance": services.balance(party_id), "score": services.score(party_id)}


def check_config(config) -> None:
    """Parse the configured thresholds before anything is built; a malformed value stops the app."""
    from credit.policy import parse_thresholds

    config["CREDIT_THRESHOLDS"] = parse_thresholds(config.get("CREDIT_THRESHOLDS"))


def review_counts() -> dict:
    from credit import services

    return services.review_counts()


def init_app(app: Flask) -> None:
    from greenfin import home_card, nav_item, slot
    from greenfin.extensions import api

    from credit import models  # noqa: F401  (models registered for migrations)
    from credit.api import blp
    from credit.receivers import subscribe
    from credit.cli import credit_cli
    from credit.views import bp

    api.register_blueprint(blp)
    app.register_blueprint(bp)
    app.cli.add_command(credit_cli)
    subscribe(app)  # points for other packages' events (greenfin/signals.py)
    app.jinja_env.globals.update(
        credit_summary=credit_summary,
        credit_review_counts=review_counts,
        state_label=lambda state: STATE_LABELS.get(state, state),
        objection_label=lambda status: DECISION_LABELS.get(status, status),
        override_label=lambda status: DECISION_LABELS.get(status, status),
    )
    nav_item(app, "credit.review", _l("Eco-credit review"), ("admin", "regulator"), order=20)
    nav_item(app, "credit.ratings", _l("Eco-credit"), ("loan_officer", "producer"), order=20)
    nav_item(app, "credit.objections", _l("Objections"), ("admin", "regulator"), order=21)
    nav_item(app, "credit.rules", _l("Credit rules"), ("admin", "regulator"), order=22)
    nav_item(app, "credit.charts", _l("Credit charts"), ("admin", "regulator"), order=23)
    home_card(app, "credit/_card_credit.html", ("admin", "regulator", "loan_officer", "producer"), order=20)
    slot(app, "party", "credit/_party_credit.html", order=20)
    slot(app, "public_home", "credit/_public_home.html", order=20)


def seed_demo(rng, context):
    from credit.seed import seed_demo as seed

    return seed(rng, context)
