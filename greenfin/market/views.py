"""Pages of the market: the public eco-product catalogue (no account, phone-friendly, no personal
identifiers), its CSV, and the regulators' coverage; producers' offers, buyers' demand with ranked
matches, orders (confirm, ship, receive by scanning the delivered labels, cancel), buyers."""
from __future__ import annotations

import io

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from greenfin import downloads
from greenfin.core.forms import apply_errors
from greenfin.errors import DomainError, ValidationFailed, error_text, translate
from greenfin.extensions import db
from greenfin.market import forms, services
from greenfin.pages import Page, page_of
from greenfin.ratelimit import rate_limited
from greenfin.registry import require
from greenfin.replica import public_reads
from greenfin.security import PUBLIC, access, current_actor
from greenfin.uow import rollback

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


# ---------------------------------------------------------------- trading pages

READERS = ("admin", "regulator")


def _scope(role: str):
    user = current_actor()
    return user.party_id if user is not None and user.role == role else None


def _refused(exc: DomainError, form=None) -> None:
    rollback()
    if form is not None:
        apply_errors(form, exc.errors or {})
    flash(error_text(exc), "error")


@bp.route("/offers", methods=("GET", "POST"))
@access(*READERS, "producer")
@access("admin", "producer", methods=("POST",))
def offers():
    """A producer's offers and the form to offer one of its lots; staff see every offer."""
    scope = _scope("producer")
    form = forms.OfferForm()
    trace = require("traceability")
    form.lot_id.choices = [(lot.id, f"{lot.code} · {lot.product.name} · {market_qty(lot.quantity)} {lot.unit}")
                           for lot in db.session.scalars(trace.lot_query(producer_id=scope, recalled=False).limit(200))]
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                offer = services.make_offer({"lot_id": form.lot_id.data, "quantity": form.quantity.data,
                                             "unit_price": form.unit_price.data,
                                             "delivery_from": form.delivery_from.data,
                                             "delivery_until": form.delivery_until.data}, scope=scope)
                flash(_("Offer %(id)s is on the market.", id=offer.id), "success")
                return redirect(url_for("market.offers"))
            except DomainError as exc:
                _refused(exc, form)
        else:
            flash(_("Nothing was offered: correct the fields marked below."), "error")
    page = page_of(services.offer_query(producer_id=scope, status=request.args.get("status") or None))
    return render_template("market/offers.html", page=page, form=form, reason_form=forms.ReasonForm(),
                           lots=_lot_names(page.items))


def _lot_names(items) -> dict:
    lots = require("traceability").lot_facts(list({i.lot_id for i in items}))
    return {lot_id: f"{f['lot_code']} · {f['product']}" for lot_id, f in lots.items()}


@bp.route("/offers/<int:offer_id>/withdraw", methods=("POST",))
@access("admin", "producer")
def withdraw_offer(offer_id):
    form = forms.ReasonForm()
    if not form.validate_on_submit():
        flash(_("Give the reason for withdrawing the offer."), "error")
        return redirect(url_for("market.offers"))
    try:
        services.withdraw_offer(services.get_offer(offer_id, scope=_scope("producer")), form.reason.data)
        flash(_("The offer is withdrawn."), "success")
    except DomainError as exc:
        _refused(exc)
    return redirect(url_for("market.offers"))


def _products() -> list:
    return [(pid, name) for pid, name, _en in services.products()]


@bp.route("/demand", methods=("GET", "POST"))
@access(*READERS, "buyer")
@access("buyer", methods=("POST",))
def demand():
    """A buyer's demand and the form to post it; staff see all demand."""
    scope = _scope("buyer")
    form = forms.DemandForm()
    form.product_id.choices = _products()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                posted = services.post_demand({
                    "product_id": form.product_id.data, "quantity": form.quantity.data, "unit": form.unit.data,
                    "delivery_from": form.delivery_from.data, "delivery_until": form.delivery_until.data,
                    "required_certifications": form.required_certifications.data or [],
                    "max_price": form.max_price.data}, scope=scope)
                return redirect(url_for("market.demand_detail", demand_id=posted.id))
            except DomainError as exc:
                _refused(exc, form)
        else:
            flash(_("Nothing was posted: correct the fields marked below."), "error")
    page = page_of(services.demand_query(buyer_id=scope))
    return render_template("market/demand.html", page=page, form=form, products=dict(_products()))


@bp.route("/demand/<int:demand_id>")
@access(*READERS, "buyer")
def demand_detail(demand_id):
    """The demand and the offers that can serve it, best first, each with its scores."""
    item = services.get_demand(demand_id, scope=_scope("buyer"))
    return render_template("market/demand_detail.html", demand=item, matches=services.match(item),
                           products=dict(_products()), form=forms.OrderForm())


@bp.route("/orders", methods=("GET", "POST"))
@access(*READERS, "producer", "buyer")
@access("buyer", methods=("POST",))
def orders():
    """Orders: a buyer's own (placing one from a match), a producer's sales, every order for staff."""
    if request.method == "POST":
        form = forms.OrderForm()
        if form.validate_on_submit():
            try:
                order = services.place_order({"offer_id": int(form.offer_id.data), "quantity": form.quantity.data,
                                              "demand_id": int(form.demand_id.data) if form.demand_id.data else None},
                                             scope=_scope("buyer"))
                flash(_("Order %(id)s placed; the quantity is reserved.", id=order.id), "success")
                return redirect(url_for("market.orders"))
            except (DomainError, ValueError) as exc:
                if isinstance(exc, ValueError):
                    exc = ValidationFailed("Invalid order", {"offer_id": ["unknown offer"]})
                _refused(exc)
        else:
            flash(_("Nothing was ordered: give a quantity."), "error")
        return redirect(request.referrer or url_for("market.demand"))
    page = page_of(services.order_query(buyer_id=_scope("buyer"), producer_id=_scope("producer"),
                                        status=request.args.get("status") or None))
    return render_template("market/orders.html", page=page, form=forms.CsrfOnlyForm(), reason_form=forms.ReasonForm(),
                           lots=_lot_names(page.items))


def _order(order_id):
    return services.get_order(order_id, buyer=_scope("buyer"), producer=_scope("producer"))


@bp.route("/orders/<int:order_id>/confirm", methods=("POST",))
@access("admin", "producer")
def confirm_order(order_id):
    return _step(order_id, services.confirm_order, _("Order %(id)s confirmed."))


@bp.route("/orders/<int:order_id>/ship", methods=("POST",))
@access("admin", "producer")
def ship_order(order_id):
    return _step(order_id, services.ship_order, _("Order %(id)s shipped; the shipping event is recorded."))


def _step(order_id, verb, message):
    if not forms.CsrfOnlyForm().validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
        return redirect(url_for("market.orders"))
    try:
        verb(_order(order_id))
        flash(message % {"id": order_id}, "success")
    except DomainError as exc:
        _refused(exc)
    return redirect(url_for("market.orders"))


@bp.route("/orders/<int:order_id>/cancel", methods=("POST",))
@access("admin", "producer", "buyer")
def cancel_order(order_id):
    form = forms.ReasonForm()
    if not form.validate_on_submit():
        flash(_("Give the reason for cancelling the order."), "error")
        return redirect(url_for("market.orders"))
    try:
        services.cancel_order(_order(order_id), form.reason.data)
        flash(_("Order %(id)s cancelled; its quantity is released.", id=order_id), "success")
    except DomainError as exc:
        _refused(exc)
    return redirect(url_for("market.orders"))


@bp.route("/orders/<int:order_id>/receive", methods=("GET", "POST"))
@access("admin", "regulator", "buyer")
@access("admin", "buyer", methods=("POST",))
def receive_order(order_id):
    """The buyer's receipt: the scanned labels of the delivered cases, each checked against the order's lot."""
    order = _order(order_id)
    form = forms.ReceiveForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.receive_order(order, form.serials.data.splitlines())
                flash(_("Order %(id)s received; the receiving event is recorded.", id=order_id), "success")
                return redirect(url_for("market.orders"))
            except DomainError as exc:
                _refused(exc, form)
                order = _order(order_id)
        else:
            flash(_("Scan at least one label of the delivery."), "error")
    return render_template("market/receive.html", order=order, form=form, lots=_lot_names([order])), \
        (422 if form.errors else 200)


@bp.route("/buyers")
@access(*READERS)
def buyers():
    """Registered buyers and their procurement quota."""
    page = page_of(services.buyer_query())
    names = {p.id: p.name for p in db.session.scalars(_party_query([b.party_id for b in page.items]))}
    return render_template("market/buyers.html", page=page, names=names)


def _party_query(ids):
    from sqlalchemy import select

    from greenfin.core.models import Party

    return select(Party).where(Party.id.in_(ids or [0]))


@bp.route("/procurement")
@access(*READERS)
def procurement():
    """The regulators' procurement dashboard: public buyers' eco-product share per month against quota."""
    try:
        rows = services.procurement(request.args.get("month_from") or None, request.args.get("month_to") or None)
        errors = {}
    except ValidationFailed as exc:
        rows, errors = [], {f: [translate(m) for m in ms] for f, ms in exc.errors.items()}
    return render_template("market/procurement.html", rows=rows, errors=errors, charts=_procurement_charts(rows),
                           eco_total=sum((r["eco_amount"] for r in rows), 0)), (422 if errors else 200)


def _procurement_charts(rows: list[dict]) -> dict:
    """Eco-products received per month (all public buyers, yuan), and each buyer's share in the
    latest month with a recorded total (green at or above its quota, red below)."""
    months: dict[str, object] = {}
    for r in rows:
        months[r["month"]] = months.get(r["month"], 0) + r["eco_amount"]
    shared = [r for r in rows if r["share"] is not None]
    latest = max((r["month"] for r in shared), default=None)
    shares = [(r["buyer"], r["share"], "green" if r["meets_quota"] else "red") for r in shared if r["month"] == latest]
    return {"months": sorted(months.items()), "shares": shares, "latest": latest}


@bp.route("/procurement.csv")
@access(*READERS)
def procurement_csv():
    try:
        rows = services.procurement(request.args.get("month_from") or None, request.args.get("month_to") or None)
    except ValidationFailed as exc:
        return Response(error_text(exc) + "\n", status=422, mimetype="text/plain")
    buf = io.StringIO()
    writer = downloads.DictWriter(buf, fieldnames=services.PROCUREMENT_COLUMNS)
    writer.writeheader()
    for r in rows:
        writer.writerow(r | {"quota_share": "" if r["quota_share"] is None else market_qty(r["quota_share"]),
                             "eco_amount": f"{r['eco_amount']:.2f}",
                             "total_amount": "" if r["total_amount"] is None else f"{r['total_amount']:.2f}",
                             "share": "" if r["share"] is None else str(r["share"]),
                             "meets_quota": "" if r["meets_quota"] is None else ("yes" if r["meets_quota"] else "no")})
    return Response(buf.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": downloads.content_disposition("procurement.csv")})
