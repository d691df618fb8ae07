"""REST API of weather-index insurance: stations and weather, products, policies, claims, backtests.

Insurers (role `insurer`) and admins write; regulators and loan officers read;
producers read their own policies and claims. Writes take an ``Idempotency-Key``
(greenfin/idempotency.py), so a retried import or approval is done once.
"""
from __future__ import annotations

from flask.views import MethodView

from greenfin.api_utils import api_blueprint, paginate
from greenfin.core.schemas import JobSchema
from greenfin.insurance import INSURERS, READERS, schemas, services
from greenfin.security import access, own_party_id, require_party_access

blp = api_blueprint("insurance_api", __name__, "/insurance",
                    "Weather-index insurance: stations, weather, products, policies, claims, backtests")


@blp.route("/stations")
class Stations(MethodView):
    @access(*READERS)
    @blp.response(200, schemas.WeatherStationSchema(many=True))
    def get(self):
        """Weather stations with their coordinates (parcels are read against the nearest)."""
        return services.list_stations()

    @access(*INSURERS)
    @blp.arguments(schemas.WeatherStationSchema)
    @blp.response(201, schemas.WeatherStationSchema)
    def post(self, data):
        """Add a station; parcels are linked to their nearest station again."""
        station = services.create_station(data)
        services.link_parcels()
        return station


@blp.route("/stations/<int:station_id>/observations")
class StationObservations(MethodView):
    @access(*READERS)
    @blp.response(200, schemas.WeatherObservationSchema(many=True))
    @blp.paginate()
    def get(self, station_id, pagination_parameters):
        """The station's daily readings, newest first."""
        services.get_station(station_id)
        return paginate(services.observation_query(station_id), pagination_parameters)


@blp.route("/weather")
class WeatherImport(MethodView):
    @access(*INSURERS)
    @blp.arguments(schemas.WeatherImportSchema)
    @blp.response(200, schemas.WeatherImportReportSchema)
    def post(self, data):
        """Import daily readings (CSV text): good rows are stored; bad rows, duplicates and gaps are reported."""
        return services.import_observations(data["csv"], data["source"]).as_dict()


@blp.route("/products")
class Products(MethodView):
    @access(*READERS, "producer")
    @blp.response(200, schemas.IndexProductSchema(many=True))
    def get(self):
        """Every version of every index product."""
        return services.list_products()

    @access(*INSURERS)
    @blp.arguments(schemas.IndexProductSchema)
    @blp.response(201, schemas.IndexProductSchema)
    def post(self, data):
        """A new product, or the next version of an existing code (versions are never edited)."""
        return services.create_product(data)


@blp.route("/products/<int:product_id>")
class ProductById(MethodView):
    @access(*READERS, "producer")
    @blp.response(200, schemas.IndexProductSchema)
    def get(self, product_id):
        return services.get_product(product_id)


@blp.route("/policies")
class Policies(MethodView):
    @access(*READERS, "producer")
    @blp.arguments(schemas.InsurancePolicyQueryArgsSchema, location="query")
    @blp.response(200, schemas.InsurancePolicySchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Policies, newest first (a producer sees its own)."""
        return paginate(services.policy_query(holder_id=own_party_id(), **args), pagination_parameters)

    @access(*INSURERS)
    @blp.arguments(schemas.InsurancePolicyCreateSchema)
    @blp.response(201, schemas.InsurancePolicySchema)
    def post(self, data):
        """Insure a parcel for a season; the lender of a pledged parcel becomes the first loss payee."""
        return services.issue_policy(data)


@blp.route("/policies/<int:policy_id>")
class PolicyById(MethodView):
    @access(*READERS, "producer")
    @blp.response(200, schemas.InsurancePolicySchema)
    def get(self, policy_id):
        policy = services.get_policy(policy_id)
        require_party_access(policy.holder_id)
        return policy


@blp.route("/policies/<int:policy_id>/cancel")
class PolicyCancel(MethodView):
    @access(*INSURERS)
    @blp.arguments(schemas.InsurancePolicyCancelSchema)
    @blp.response(200, schemas.InsurancePolicySchema)
    def post(self, data, policy_id):
        """Cancel a policy before its season starts (the premium is refunded by a new fund entry)."""
        return services.cancel_policy(services.get_policy(policy_id), data["reason"])


@blp.route("/evaluations")
class Evaluations(MethodView):
    @access(*INSURERS)
    @blp.arguments(schemas.InsuranceEvaluateSchema)
    @blp.response(202, JobSchema)
    def post(self, data):
        """Evaluate every live policy now (the daily job does it at 09:00); poll /jobs/<id>."""
        return services.start_evaluation(data.get("as_of"))


@blp.route("/claims")
class Claims(MethodView):
    @access(*READERS, "producer")
    @blp.arguments(schemas.InsuranceClaimQueryArgsSchema, location="query")
    @blp.response(200, schemas.InsuranceClaimSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Claims, newest first (a producer sees those of its own policies)."""
        return paginate(services.claim_query(holder_id=own_party_id(), **args), pagination_parameters)


@blp.route("/claims/<int:claim_id>/decision")
class ClaimDecision(MethodView):
    @access(*INSURERS)
    @blp.arguments(schemas.InsuranceClaimDecisionSchema)
    @blp.response(200, schemas.InsuranceClaimSchema)
    def post(self, data, claim_id):
        """Maker-checker: ``propose`` (the maker), then ``approve`` (pays; another user) or ``reject``."""
        claim = services.get_claim(claim_id)
        if data["action"] == "propose":
            return services.propose_claim(claim, data["note"])
        if data["action"] == "approve":
            return services.approve_claim(claim)
        return services.reject_claim(claim, data["note"])


@blp.route("/backtest")
class BacktestRun(MethodView):
    @access(*READERS)
    @blp.arguments(schemas.BacktestQueryArgsSchema, location="query")
    @blp.response(200, schemas.IndexBacktestSchema)
    def get(self, args):
        """Payout frequency, expected loss and premium of a product at a station over 20+ seasons."""
        return services.run_backtest(services.get_product(args["product_id"]), services.get_station(args["station_id"]))


@blp.route("/events")
class Events(MethodView):
    @access(*READERS)
    @blp.response(200, schemas.PayoutEventSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Payout events with the readings behind them (also public: /insurance/events)."""
        return paginate(services.event_query(), pagination_parameters)


@blp.route("/fund")
class Fund(MethodView):
    @access(*INSURERS)
    @blp.response(200, schemas.InsuranceFundSchema)
    def get(self):
        """Premiums in, claims paid out and the balance of the fund's ledger."""
        return services.fund_summary()
