"""REST API of the carbon registry: projects, monitoring reports, issuance, the unit ledger.

Every write takes an ``Idempotency-Key`` (greenfin/idempotency.py): a retried transfer moves once.
Moving units whose state forbids it (pledged, retired, buffer) answers 409."""
from __future__ import annotations

from flask.views import MethodView

from greenfin.api_utils import api_blueprint, paginate
from greenfin.carbon import schemas, services
from greenfin.security import access

blp = api_blueprint("carbon_api", __name__, "/carbon",
                    "Forest carbon-sink registry: projects, verified vintages, serial units, transfers, pledges, retirements")

READERS = ("admin", "loan_officer", "regulator")
REGISTRARS = ("admin",)
APPROVERS = ("regulator",)
LENDERS = ("admin", "loan_officer")


@blp.route("/projects")
class Projects(MethodView):
    @access(*READERS)
    @blp.arguments(schemas.CarbonProjectQueryArgsSchema, location="query")
    @blp.response(200, schemas.CarbonProjectSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        return paginate(services.project_query(args.get("q")), pagination_parameters)

    @access(*REGISTRARS)
    @blp.arguments(schemas.CarbonProjectCreateSchema)
    @blp.response(201, schemas.CarbonProjectSchema)
    def post(self, data):
        """Register a project on forest parcels of its owner (a parcel is in at most one project)."""
        return services.create_project(data)


@blp.route("/projects/<int:project_id>")
class ProjectById(MethodView):
    @access(*READERS)
    @blp.response(200, schemas.CarbonProjectSchema)
    def get(self, project_id):
        return services.get_project(project_id)


@blp.route("/projects/<int:project_id>/reports")
class ProjectReports(MethodView):
    @access(*READERS)
    @blp.response(200, schemas.CarbonReportSchema(many=True))
    @blp.paginate()
    def get(self, project_id, pagination_parameters):
        return paginate(services.report_query(services.get_project(project_id).id), pagination_parameters)

    @access(*REGISTRARS)
    @blp.arguments(schemas.CarbonReportCreateSchema)
    @blp.response(201, schemas.CarbonReportSchema)
    def post(self, data, project_id):
        """A monitoring report for a vintage: verified tonnes beside the GEP engine's estimate."""
        return services.submit_report(services.get_project(project_id), data)


@blp.route("/reports/<int:report_id>/decision")
class ReportDecision(MethodView):
    @access(*APPROVERS)
    @blp.arguments(schemas.CarbonDecisionSchema)
    @blp.response(200, schemas.CarbonReportSchema)
    def post(self, data, report_id):
        """A regulator (not the submitter) approves or rejects (with a note) a submitted report."""
        return services.decide_report(services.get_report(report_id), data["approve"], data.get("note", ""))


@blp.route("/reports/<int:report_id>/issue")
class ReportIssue(MethodView):
    @access(*REGISTRARS)
    @blp.response(201, schemas.CarbonReportSchema)
    def post(self, report_id):
        """Issue the serials of an approved report: the owner's block and the buffer's share."""
        return services.issue_report(services.get_report(report_id))


@blp.route("/totals")
class Totals(MethodView):
    @access(*READERS)
    @blp.response(200, schemas.CarbonTotalsSchema(many=True))
    def get(self):
        """Issued, available, pledged, retired and buffer tonnes per project and vintage."""
        return services.totals()


@blp.route("/blocks")
class Blocks(MethodView):
    @access(*READERS)
    @blp.arguments(schemas.CarbonBlockQueryArgsSchema, location="query")
    @blp.response(200, schemas.CarbonBlockSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        return paginate(services.block_query(**args), pagination_parameters)


@blp.route("/entries")
class Entries(MethodView):
    @access(*READERS)
    @blp.arguments(schemas.CarbonEntryQueryArgsSchema, location="query")
    @blp.response(200, schemas.CarbonEntrySchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """The ledger, newest first."""
        return paginate(services.entry_query(**args), pagination_parameters)


@blp.route("/transfers")
class Transfers(MethodView):
    @access(*REGISTRARS)
    @blp.arguments(schemas.CarbonTransferSchema)
    @blp.response(201, schemas.CarbonEntrySchema)
    def post(self, data):
        """Transfer tonnes at a price a tonne; pledged, retired or buffer units answer 409."""
        return services.transfer_units(data)


@blp.route("/pledges")
class Pledges(MethodView):
    @access(*LENDERS)
    @blp.arguments(schemas.CarbonPledgeSchema)
    @blp.response(201, schemas.CarbonEntrySchema)
    def post(self, data):
        """Pledge tonnes to a CARBON-SINK application or loan, at a reference price with source and date."""
        return services.pledge_units(data)


@blp.route("/blocks/<int:block_id>/release")
class BlockRelease(MethodView):
    @access(*LENDERS)
    @blp.arguments(schemas.CarbonSettleSchema)
    @blp.response(201, schemas.CarbonEntrySchema)
    def post(self, data, block_id):
        """Release a pledged block to its holder."""
        return services.release_units(block_id, data.get("note"))


@blp.route("/blocks/<int:block_id>/enforce")
class BlockEnforce(MethodView):
    @access(*LENDERS)
    @blp.arguments(schemas.CarbonSettleSchema)
    @blp.response(201, schemas.CarbonEntrySchema)
    def post(self, data, block_id):
        """Enforce a pledge: the block passes to the lender's account."""
        return services.enforce_units(block_id, data.get("note"))


@blp.route("/retirements")
class Retirements(MethodView):
    @access(*REGISTRARS)
    @blp.arguments(schemas.CarbonRetireSchema)
    @blp.response(201, schemas.CarbonEntrySchema)
    def post(self, data):
        """Retire tonnes for a beneficiary and purpose; the certificate is at /disclosure/carbon/retirements/<id>."""
        return services.retire_units(data)


@blp.route("/verify")
class Verify(MethodView):
    @access(*READERS)
    @blp.response(200, schemas.CarbonVerifySchema)
    def get(self):
        """Recompute every chain and replay the ledger against the blocks."""
        report = services.verify_ledger()
        return {"ok": report.ok, "entries": report.entries, "projects": report.projects, "blocks": report.blocks,
                "first_broken_entry_id": report.first_broken_entry_id, "problems": report.problems[:50]}
