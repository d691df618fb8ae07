"""Pages of the market: the public eco-product catalogue (no account, phone-friendly, no personal
identifiers), its CSV, and the regulators' coverage."""
from __future__ import annotations

import io

from flask import Blueprint, Response, render_template, request

from greenfin import downloads
from greenfin.errors import ValidationFailed, translate
from greenfin.market import services
from greenfin.pages import Page
from greenfin.ratelimit import rate_limited
from greenfin.replica import public_reads
from greenfin.security import PUBLIC, access

bp = Blueprint("market", __name__, url_prefix="/market")
PER_PAGE = 25


def _filters() -> dict:
    return {"township": request.args.get("township") or None,
            "product": request.args.get("product", type=int) or None,
            "certification": request.args.get("certification") or None,
            "q": request.args.get("q") or None}


@bp.route("/catalogue")
@access(PUBLIC)
@rate_limited("catalogue", 60, 60)
@public_reads
def catalogue():
    filters = _filters()
    errors, status = {}, 200
    try:
        entries = services.catalogue(**filters, figures=False)
    except ValidationFailed as exc:
        errors = {field: [translate(m) for m in messages] for field, messages in exc.errors.items()}
        entries, status = [], 422
    number = max(1, request.args.get("page", 1, type=int) or 1)
    page = Page(items=services.add_figures(entries[(number - 1) * PER_PAGE:number * PER_PAGE]), page=number,
                per_page=PER_PAGE, total=len(entries))
    return render_template("market/catalogue.html", page=page, filters=filters, errors=errors,
                           products=services.products(), kinds=services.certification_kinds()), status


@bp.route("/catalogue.csv")
@access(PUBLIC)
@rate_limited("catalogue", 60, 60)
@public_reads
def catalogue_csv():
    try:
        entries = services.catalogue(**_filters())
    except ValidationFailed as exc:
        return Response(translate(exc.summary) + ": " + "; ".join(
            f"{field}: {translate(m)}" for field, messages in exc.errors.items() for m in messages) + "\n",
            status=422, mimetype="text/plain")
    buf = io.StringIO()
    writer = downloads.DictWriter(buf, fieldnames=services.CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(services.csv_rows(entries))
    return Response(buf.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": downloads.content_disposition("eco-product-catalogue.csv")})


@bp.route("/coverage")
@access("admin", "regulator")
def coverage():
    return render_template("market/coverage.html", coverage=services.coverage())


@bp.context_processor
def market_helpers():
    from greenfin.core.services import list_townships
    from greenfin.i18n import township_name

    townships = list_townships()
    names = {t.code: township_name(t) for t in townships}
    return {"townships_list": townships, "township_label": lambda code: names.get(code, code)}


@bp.app_template_filter("market_qty")
def market_qty(value) -> str:
    """A quantity or area without trailing zeros or exponent: 4200, 12.5."""
    from decimal import Decimal

    return "" if value is None else format(Decimal(value).normalize(), "f")
