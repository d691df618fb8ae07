"""REST API of GEP accounting: parcel GEP, accounts, totals, runs, parameter versions."""
from __future__ import annotations

from flask.views import MethodView

from greenfin.api_utils import api_blueprint, paginate
from greenfin.core import services as core
from greenfin.core.schemas import JobSchema
from greenfin.errors import NotFound
from greenfin.gep import schemas, services
from greenfin.security import STAFF, access, require_party_access

blp = api_blueprint("gep_api", __name__, "/gep", "GEP (生态产品总值) accounts per parcel, totals and price versions")


def _visible_parcel(parcel_id: int):
    parcel = core.get_parcel(parcel_id)
    require_party_access(parcel.holder_id)
    return parcel


@blp.route("/parcels/<int:parcel_id>/current")
class ParcelCurrent(MethodView):
    @access(*STAFF, "producer")
    @blp.response(200, schemas.ParcelGepSchema)
    def get(self, parcel_id):
        """The parcel's current GEP (latest account): the collateral value used by lending."""
        _visible_parcel(parcel_id)
        current = services.current_parcel_gep(parcel_id)
        if current is None:
            raise NotFound(f"parcel {parcel_id} has no GEP account yet")
        return current


@blp.route("/parcels/<int:parcel_id>/summary")
class ParcelSummary(MethodView):
    @access(*STAFF, "producer")
    @blp.response(200, schemas.GepScanSummarySchema)
    def get(self, parcel_id):
        """The short summary shown on the consumer scan page."""
        _visible_parcel(parcel_id)
        summary = services.scan_summary(parcel_id)
        if summary is None:
            raise NotFound(f"parcel {parcel_id} has no GEP account yet")
        return summary


@blp.route("/parcels/<int:parcel_id>/attributes")
class ParcelAttributes(MethodView):
    @access(*STAFF, "producer")
    @blp.response(200, schemas.GepAttributesSchema)
    def get(self, parcel_id):
        _visible_parcel(parcel_id)
        attrs = services.get_attributes(parcel_id)
        if attrs is None:
            raise NotFound(f"parcel {parcel_id} has no GEP attributes; land-cover defaults apply")
        return attrs

    @access("admin", "regulator")
    @blp.arguments(schemas.GepAttributesSchema)
    @blp.response(200, schemas.GepAttributesSchema)
    def put(self, data, parcel_id):
        """Set measured K, LS, NPP, yield or slope (null: use the land-cover default)."""
        attrs = services.set_attributes(core.get_parcel(parcel_id), data)
        return attrs


@blp.route("/parcels/<int:parcel_id>/accounts")
class ParcelAccounts(MethodView):
    @access(*STAFF, "producer")
    @blp.arguments(schemas.GepAccountQueryArgsSchema, location="query")
    @blp.response(200, schemas.GepAccountSchema(many=True))
    @blp.paginate()
    def get(self, args, parcel_id, pagination_parameters):
        """Every account of the parcel, newest first (old price versions are kept)."""
        _visible_parcel(parcel_id)
        return paginate(services.account_query(parcel_id=parcel_id, **args), pagination_parameters)

    @access("admin", "regulator")
    @blp.arguments(schemas.GepComputeSchema)
    @blp.response(201, schemas.GepAccountDetailSchema)
    def post(self, data, parcel_id):
        """Account one parcel for a year (a new version or changed inputs add an account)."""
        version = services.get_version(data["prices"]) if data.get("prices") else None
        account = services.compute_parcel_account(parcel_id, data["year"], version)
        return account


@blp.route("/accounts/<int:account_id>")
class AccountById(MethodView):
    @access(*STAFF, "producer")
    @blp.response(200, schemas.GepAccountDetailSchema)
    def get(self, account_id):
        """One account with its stored inputs and per-service quantities and values."""
        account = services.get_account(account_id)
        require_party_access(account.parcel.holder_id)
        return account


@blp.route("/totals")
class Totals(MethodView):
    @access("admin", "regulator", "loan_officer")
    @blp.arguments(schemas.GepTotalsQueryArgsSchema, location="query")
    @blp.response(200, schemas.GepTotalsRowSchema(many=True))
    def get(self, args):
        """Totals by district, township or village, with shares and the change on the year before."""
        return services.year_over_year(args["year"], args["level"], township=args.get("township"))


@blp.route("/services")
class ServiceTotals(MethodView):
    @access("admin", "regulator", "loan_officer")
    @blp.arguments(schemas.GepTotalsQueryArgsSchema, location="query")
    @blp.response(200, schemas.GepServiceTotalSchema(many=True))
    def get(self, args):
        """Quantity, value and share of each ecosystem service (district or one township)."""
        return services.service_totals(args["year"], township=args.get("township"))


@blp.route("/runs")
class Runs(MethodView):
    @access("admin", "regulator")
    @blp.arguments(schemas.GepRunSchema)
    @blp.response(202, JobSchema)
    def post(self, data):
        """Account every parcel of the district (or a township) as a background job; poll /jobs/<id>."""
        return services.start_gep_run(data["year"], data.get("prices"), data.get("township"))


@blp.route("/versions")
class Versions(MethodView):
    @access(*STAFF)
    @blp.response(200, schemas.GepVersionSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Parameter and price versions, newest base year first."""
        return paginate(services.version_query(), pagination_parameters)

    @access("admin")
    @blp.arguments(schemas.GepVersionCopySchema)
    @blp.response(201, schemas.GepVersionDetailSchema)
    def post(self, data):
        """A new version: a copy of ``source`` with ``changes`` applied."""
        source = services.get_version(data.pop("source"))
        changes = data.pop("changes", {})
        version = services.copy_version(source, data, changes)
        return version


@blp.route("/versions/<code>")
class VersionByCode(MethodView):
    @access(*STAFF)
    @blp.response(200, schemas.GepVersionDetailSchema)
    def get(self, code):
        """A version with every parameter and price, its unit, source and year."""
        return services.get_version(code)


@blp.route("/versions/<code>/parameters/<key>")
class ParameterByKey(MethodView):
    @access("admin")
    @blp.arguments(schemas.GepParameterChangeSchema)
    @blp.response(200, schemas.GepParameterSchema)
    def patch(self, data, code, key):
        """Edit a value of a version no account has used yet (409 once used: copy it instead)."""
        param = services.update_parameter(services.get_version(code), key, data)
        return param
