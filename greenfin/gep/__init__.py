"""GEP (生态产品总值) accounting per land parcel: versioned parameters and prices, vectorised
accounts, township and district totals, collateral valuation and the scan-page summary."""
from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from greenfin import home_card, nav_group, nav_item, slot
    from greenfin.extensions import api
    from greenfin.gep import models  # noqa: F401  (models registered for migrations)
    from greenfin.gep.api import blp
    from greenfin.gep.cli import gep_cli
    from greenfin.gep.labels import category_label, cover_label, parameter_label, service_label
    from greenfin.gep.views import bp

    api.register_blueprint(blp)
    app.register_blueprint(bp)
    app.cli.add_command(gep_cli)
    nav_item(app, "gep.dashboard", _l("GEP"), ("admin", "regulator", "loan_officer"), order=40, group="ecovalue")
    nav_group(app, "ecovalue", _l("Ecological value"))
    home_card(app, "gep/_card_gep.html", ("admin", "regulator", "loan_officer"), order=40)
    home_card(app, "gep/_card_gep_producer.html", ("producer",), order=40)
    slot(app, "parcel", "gep/_parcel_gep.html")
    app.jinja_env.globals.update(gep_service_label=service_label, gep_parameter_label=parameter_label, gep_cover_label=cover_label, gep_category_label=category_label,
                                 gep_parcel_panel=_parcel_panel, gep_home_summary=_home_summary,
                                 gep_name=_name, gep_area_chart=_area_chart, gep_share_chart=_share_chart,
                                 gep_service_chart=_service_chart,
                                 gep_party_parcels=_party_parcels)


def _parcel_panel(parcel_id: int) -> dict:
    """What the parcel page's GEP panel shows."""
    from greenfin.extensions import db
    from greenfin.gep import services

    summary = services.scan_summary(parcel_id, top=5)
    history = db.session.scalars(services.account_query(parcel_id=parcel_id).limit(10)).all()
    return {"summary": summary, "history": history, "versions": services.list_versions(),
            "attributes": services.get_attributes(parcel_id)}


def _name(row) -> str:
    """A totals or services row's name in the current language."""
    from flask_babel import get_locale

    return row["name_zh"] if str(get_locale()).startswith("zh") else row["name_en"]


def _area_chart(rows):
    from greenfin.gep.charts import area_chart

    return area_chart(rows, _name)


def _service_chart(rows):
    from greenfin.gep.charts import service_chart
    from greenfin.gep.labels import service_label

    return service_chart(rows, service_label)


def _share_chart(shares):
    from greenfin.gep.charts import share_chart
    from greenfin.gep.labels import category_label

    return share_chart(shares, category_label)


def _party_parcels(party_id: int) -> list[tuple]:
    """(parcel, ParcelGep or None) for every parcel a party holds: the producer's home card."""
    from greenfin.core import services as core
    from greenfin.extensions import db
    from greenfin.gep import services

    parcels = db.session.scalars(core.parcel_query(holder_id=party_id).limit(50)).all()
    return [(p, services.current_parcel_gep(p.id)) for p in parcels]


def _home_summary():
    from greenfin.gep import services

    years = services.account_years()
    if not years:
        return None
    rows = services.year_over_year(years[0], "district")
    return rows[0] | {"year": years[0]} if rows else None


def seed_demo(rng, context):
    from greenfin.gep.seed import seed_demo as seed

    return seed(rng, context)
