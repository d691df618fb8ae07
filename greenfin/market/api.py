"""REST API of the market (``/api/v1/market``): the public catalogue and the regulators' coverage;
buyers, offers, demand and its matches, orders and their transitions.

Who may do what: producers make and withdraw offers of their own lots, confirm and ship their
orders; buyers post demand, see matches, place, receive and cancel their orders; admins may act for
either (naming ``buyer_id``); regulators read. A producer or buyer sees only its own records (another's
answers 404). Writes take an ``Idempotency-Key`` (greenfin/idempotency.py): a retried order is placed once.
"""
from __future__ import annotations

from flask.views import MethodView

from greenfin.api_utils import api_blueprint, paginate
from greenfin.errors import NotFound, ValidationFailed
from greenfin.market import schemas, services
from greenfin.ratelimit import rate_limited
from greenfin.security import PUBLIC, access, current_actor

blp = api_blueprint("market_api", __name__, "/market",
                    "Eco-product catalogue, offers, demand and matching, orders with traced delivery")

READERS = ("admin", "regulator")


def producer_scope():
    """The acting producer's party (their own records only), None for staff."""
    user = current_actor()
    return user.party_id if user is not None and user.role == "producer" else None


def buyer_scope():
    user = current_actor()
    return user.party_id if user is not None and user.role == "buyer" else None


def _acting_buyer(data: dict):
    """A buyer acts for itself; an admin names ``buyer_id``."""
    scope = buyer_scope()
    if scope is None and not data.get("buyer_id"):
        raise ValidationFailed("Invalid input", {"buyer_id": ["is required"]})
    return scope


@blp.route("/catalogue")
class Catalogue(MethodView):
    @access(PUBLIC)
    @rate_limited("catalogue", 60, 60)
    @blp.arguments(schemas.CatalogueQueryArgsSchema, location="query")
    @blp.response(200, schemas.CatalogueEntrySchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """The public eco-product catalogue: one entry per lot and origin parcel; filters by township,
        product, certificate kind (valid today) and text. An unknown filter value is a 422 naming it."""
        entries = services.catalogue(**args, figures=False)
        pagination_parameters.item_count = len(entries)
        return services.add_figures(entries[pagination_parameters.first_item:pagination_parameters.first_item
                                            + pagination_parameters.page_size])


@blp.route("/coverage")
class Coverage(MethodView):
    @access("admin", "regulator")
    @blp.response(200, schemas.CoverageSchema)
    def get(self):
        """Which parcels with a GEP account have catalogue entries (regulators)."""
        return services.coverage()


@blp.route("/buyers")
class Buyers(MethodView):
    @access(*READERS)
    @blp.response(200, schemas.BuyerSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Registered buyers (public canteens with their procurement quota, processors, retailers)."""
        return paginate(services.buyer_query(), pagination_parameters)

    @access("admin")
    @blp.arguments(schemas.BuyerCreateSchema)
    @blp.response(201, schemas.BuyerSchema)
    def post(self, data):
        """Register a party (firm or organisation) as a buyer; its users sign in with the role ``buyer``."""
        return services.register_buyer(data)


@blp.route("/offers")
class Offers(MethodView):
    @access(*READERS, "producer", "buyer")
    @blp.arguments(schemas.OfferQueryArgsSchema, location="query")
    @blp.response(200, schemas.OfferSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Offers, newest first: a producer's own; buyers see the open ones."""
        if buyer_scope() is not None:
            args["status"] = "open"
        return paginate(services.offer_query(producer_id=producer_scope(), **args), pagination_parameters)

    @access("admin", "producer")
    @blp.arguments(schemas.OfferCreateSchema)
    @blp.response(201, schemas.OfferSchema)
    def post(self, data):
        """Offer (part of) a lot. 409 ``offer_refused`` with the reasons while the lot is recalled, the GI
        authorisation lapsed or revoked, or a claimed certificate expired; 422 when the quantity is more
        than the lot has left."""
        return services.make_offer(data, scope=producer_scope())


@blp.route("/offers/<int:offer_id>")
class OfferById(MethodView):
    @access(*READERS, "producer", "buyer")
    @blp.response(200, schemas.OfferSchema)
    def get(self, offer_id):
        offer = services.get_offer(offer_id, scope=producer_scope())
        if buyer_scope() is not None and offer.status != "open":
            raise NotFound(f"offer {offer_id} not found")  # a buyer sees open offers only
        return offer


@blp.route("/offers/<int:offer_id>/withdraw")
class OfferWithdraw(MethodView):
    @access("admin", "producer")
    @blp.arguments(schemas.ReasonSchema)
    @blp.response(200, schemas.OfferSchema)
    def post(self, data, offer_id):
        """Take the offer off the market (what orders have not taken goes back to the lot)."""
        return services.withdraw_offer(services.get_offer(offer_id, scope=producer_scope()), data["reason"])


@blp.route("/lots/<int:lot_id>/position")
class LotPosition(MethodView):
    @access(*READERS, "producer")
    @blp.response(200, schemas.LotPositionSchema)
    def get(self, lot_id):
        """How a lot's quantity stands: on offer, reserved by orders, delivered, left."""
        return services.lot_position(lot_id, scope=producer_scope())


@blp.route("/demand")
class Demands(MethodView):
    @access(*READERS, "buyer")
    @blp.arguments(schemas.DemandQueryArgsSchema, location="query")
    @blp.response(200, schemas.DemandSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Demand, newest first (a buyer's own)."""
        return paginate(services.demand_query(buyer_id=buyer_scope(), **args), pagination_parameters)

    @access("admin", "buyer")
    @blp.arguments(schemas.DemandCreateSchema)
    @blp.response(201, schemas.DemandSchema)
    def post(self, data):
        """Post demand: product, quantity, delivery window, required certificate kinds, price ceiling."""
        return services.post_demand(data, scope=_acting_buyer(data))


@blp.route("/demand/<int:demand_id>")
class DemandById(MethodView):
    @access(*READERS, "buyer")
    @blp.response(200, schemas.DemandSchema)
    def get(self, demand_id):
        return services.get_demand(demand_id, scope=buyer_scope())


@blp.route("/demand/<int:demand_id>/close")
class DemandClose(MethodView):
    @access("admin", "buyer")
    @blp.response(200, schemas.DemandSchema)
    def post(self, demand_id):
        return services.close_demand(services.get_demand(demand_id, scope=buyer_scope()))


@blp.route("/demand/<int:demand_id>/matches")
class DemandMatches(MethodView):
    @access(*READERS, "buyer")
    @blp.response(200, schemas.MatchSchema(many=True))
    def get(self, demand_id):
        """The open offers that can serve the demand, best first, with each criterion's score
        (certification fit, distance, price, producer colour: docs/market.md)."""
        return services.match(services.get_demand(demand_id, scope=buyer_scope()))


@blp.route("/orders")
class Orders(MethodView):
    @access(*READERS, "producer", "buyer")
    @blp.arguments(schemas.OrderQueryArgsSchema, location="query")
    @blp.response(200, schemas.OrderSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Orders, newest first: a buyer's own, a producer's sales."""
        return paginate(services.order_query(buyer_id=buyer_scope(), producer_id=producer_scope(), **args),
                        pagination_parameters)

    @access("admin", "buyer")
    @blp.arguments(schemas.OrderCreateSchema)
    @blp.response(201, schemas.OrderSchema)
    def post(self, data):
        """Place an order on an offer: the quantity is reserved at once (never more than the offer has:
        409 ``insufficient_quantity``); the lot's GI authorisation and certificates are checked that day
        (409 ``offer_refused``)."""
        return services.place_order(data, scope=_acting_buyer(data))


def _order(order_id):
    return services.get_order(order_id, buyer=buyer_scope(), producer=producer_scope())


@blp.route("/orders/<int:order_id>")
class OrderById(MethodView):
    @access(*READERS, "producer", "buyer")
    @blp.response(200, schemas.OrderSchema)
    def get(self, order_id):
        return _order(order_id)


@blp.route("/orders/<int:order_id>/confirm")
class OrderConfirm(MethodView):
    @access("admin", "producer")
    @blp.response(200, schemas.OrderSchema)
    def post(self, order_id):
        """The producer confirms a placed order."""
        return services.confirm_order(_order(order_id))


@blp.route("/orders/<int:order_id>/ship")
class OrderShip(MethodView):
    @access("admin", "producer")
    @blp.response(200, schemas.OrderSchema)
    def post(self, order_id):
        """The producer ships a confirmed order (an EPCIS shipping event, the order as ``po``)."""
        return services.ship_order(_order(order_id))


@blp.route("/orders/<int:order_id>/receive")
class OrderReceive(MethodView):
    @access("admin", "buyer")
    @blp.arguments(schemas.ReceiveSchema)
    @blp.response(200, schemas.OrderSchema)
    def post(self, data, order_id):
        """The buyer receives a shipped order with the scanned labels of the delivered cases; a label of
        another lot or an unknown serial refuses the receipt (422 ``receipt_refused``, each label named)."""
        return services.receive_order(_order(order_id), data["serials"])


@blp.route("/orders/<int:order_id>/cancel")
class OrderCancel(MethodView):
    @access("admin", "buyer", "producer")
    @blp.arguments(schemas.ReasonSchema)
    @blp.response(200, schemas.OrderSchema)
    def post(self, data, order_id):
        """Cancel a placed or confirmed order (not once shipped); its quantity is released."""
        return services.cancel_order(_order(order_id), data["reason"])


@blp.route("/purchase-totals")
class PurchaseTotals(MethodView):
    @access("admin", "buyer")
    @blp.arguments(schemas.PurchaseTotalCreateSchema)
    @blp.response(200, schemas.PurchaseTotalSchema)
    def post(self, data):
        """Record a buyer's farm-produce purchases of a month (all sources): the denominator of its
        eco-product share; recording a month again replaces the figure."""
        return services.record_purchase_total(data, scope=_acting_buyer(data))


@blp.route("/procurement")
class Procurement(MethodView):
    @access(*READERS)
    @blp.arguments(schemas.ProcurementQueryArgsSchema, location="query")
    @blp.response(200, schemas.ProcurementRowSchema(many=True))
    def get(self, args):
        """Each public buyer's eco-product purchases per month against its quota (regulators)."""
        return services.procurement(**args)
