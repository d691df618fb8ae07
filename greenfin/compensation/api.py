"""REST API of eco-compensation: schemes, runs, allocations, payment files, ΔGEP split, monitoring."""
from __future__ import annotations

from flask import Response
from flask.views import MethodView

from greenfin.api_utils import api_blueprint, paginate
from greenfin.compensation import schemas, services
from greenfin.core.schemas import JobSchema  # noqa: F401  (documented beside runs)
from greenfin.downloads import content_disposition
from greenfin.security import access

blp = api_blueprint("compensation_api", __name__, "/compensation",
                    "Eco-compensation: schemes, runs and allocations traced to GEP accounts; the ΔGEP split")

STAFF = ("admin", "regulator")


def change_dict(report) -> dict:
    def row(key, c):
        return {"key": key} | c.as_dict()

    return {"base_year": report.base_year, "year": report.year, "base_prices": report.base_prices,
            "prices": report.prices, "total": row("district", report.total),
            "townships": [row(k, c) for k, c in report.by_township().items()],
            "services": [row(k, c) for k, c in report.by_service().items()]}


@blp.route("/schemes")
class Schemes(MethodView):
    @access(*STAFF)
    @blp.arguments(schemas.CompensationSchemeQueryArgsSchema, location="query")
    @blp.response(200, schemas.CompensationSchemeSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Schemes, every version."""
        return paginate(services.scheme_query(args.get("kind")), pagination_parameters)

    @access(*STAFF)
    @blp.arguments(schemas.CompensationSchemeSchema)
    @blp.response(201, schemas.CompensationSchemeSchema)
    def post(self, data):
        """A new scheme (version 1)."""
        return services.create_scheme(data)


@blp.route("/schemes/<int:scheme_id>")
class SchemeById(MethodView):
    @access(*STAFF)
    @blp.response(200, schemas.CompensationSchemeSchema)
    def get(self, scheme_id):
        return services.get_scheme(scheme_id)

    @access(*STAFF)
    @blp.arguments(schemas.CompensationSchemeVersionSchema)
    @blp.response(200, schemas.CompensationSchemeSchema)
    def patch(self, data, scheme_id):
        """Change a scheme no run has used (409 once used: add a version)."""
        return services.update_scheme(services.get_scheme(scheme_id), data)


@blp.route("/schemes/<int:scheme_id>/versions")
class SchemeVersions(MethodView):
    @access(*STAFF)
    @blp.arguments(schemas.CompensationSchemeVersionSchema)
    @blp.response(201, schemas.CompensationSchemeSchema)
    def post(self, data, scheme_id):
        """A new version of the scheme with changed rules."""
        return services.new_scheme_version(services.get_scheme(scheme_id), data)


@blp.route("/runs")
class Runs(MethodView):
    @access(*STAFF)
    @blp.arguments(schemas.CompensationRunQueryArgsSchema, location="query")
    @blp.response(200, schemas.CompensationRunSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        return paginate(services.run_query(args.get("scheme_id")), pagination_parameters)

    @access(*STAFF)
    @blp.arguments(schemas.CompensationRunStartSchema)
    @blp.response(202, schemas.CompensationRunSchema)
    def post(self, data):
        """Start a run (a job computes it; poll /api/v1/jobs/<job_id>). The same scheme and period
        again answers the existing run."""
        run, _job = services.start_run(data["scheme_id"], data["period"])
        return run


@blp.route("/runs/<int:run_id>")
class RunById(MethodView):
    @access(*STAFF)
    @blp.response(200, schemas.CompensationRunDetailSchema)
    def get(self, run_id):
        """A run with every allocation row, its basis and its sources."""
        return services.get_run(run_id)


@blp.route("/runs/<int:run_id>/approve")
class RunApprove(MethodView):
    @access(*STAFF)
    @blp.response(200, schemas.CompensationRunSchema)
    def post(self, run_id):
        """Approve a computed run (not by who started it). 409 when approved already."""
        return services.approve_run(services.get_run(run_id))


@blp.route("/runs/<int:run_id>/recompute")
class RunRecompute(MethodView):
    @access(*STAFF)
    @blp.response(200, schemas.CompensationRunDetailSchema)
    def post(self, run_id):
        """Recompute a draft run's rows (409 once approved: an approved run never changes)."""
        return services.compute_run(services.get_run(run_id))


@blp.route("/runs/<int:run_id>/payments.csv")
class RunPayments(MethodView):
    @access(*STAFF)
    @blp.response(200, content_type="text/csv")
    def get(self, run_id):
        """The payment file of an approved run."""
        run = services.get_run(run_id)
        return Response(services.payment_csv(run), mimetype="text/csv", headers={
            "Content-Disposition": content_disposition(f"compensation-run-{run.id}.csv")})


@blp.route("/change")
class Change(MethodView):
    @access(*STAFF)
    @blp.arguments(schemas.CompensationChangeQueryArgsSchema, location="query")
    @blp.response(200, schemas.CompensationChangeSchema)
    def get(self, args):
        """ΔGEP between two years, split into quantity effect (constant prices) and price effect."""
        return change_dict(services.gep_change(args["base_year"], args["year"], township=args.get("township"),
                                               base_prices=args.get("base_prices")))


@blp.route("/monitoring")
class Monitoring(MethodView):
    @access(*STAFF)
    @blp.arguments(schemas.CompensationMonitoringImportSchema)
    @blp.response(201)
    def post(self, data):
        """Import water-quality monitoring rows (all or none; bad rows named by line)."""
        return services.import_monitoring(data["csv"])


@blp.route("/assessment/indicators")
class Indicators(MethodView):
    @access(*STAFF)
    @blp.response(200, schemas.AssessmentIndicatorSchema(many=True))
    def get(self):
        """The indicator tree (every indicator, by code)."""
        return services.indicator_tree()

    @access(*STAFF)
    @blp.arguments(schemas.AssessmentIndicatorSchema)
    @blp.response(201, schemas.AssessmentIndicatorSchema)
    def post(self, data):
        return services.create_indicator(data)


@blp.route("/assessment/values")
class Values(MethodView):
    @access(*STAFF)
    @blp.arguments(schemas.AssessmentValueSchema)
    @blp.response(201, schemas.AssessmentValueSchema)
    def post(self, data):
        """A department's value of an entered indicator, with its evidence."""
        return services.enter_value(data["indicator_code"], data["township_code"], data["year"], data["value"],
                                    data["evidence"])


@blp.route("/assessment/scores/<int:year>")
class Scores(MethodView):
    @access(*STAFF)
    @blp.response(200, schemas.AssessmentScoreSchema(many=True))
    def get(self, year):
        """The township scores of a year, by rank."""
        return services.scores(year)

    @access(*STAFF)
    @blp.response(200, schemas.AssessmentScoreSchema(many=True))
    def post(self, year):
        """Score the year (replaces its scores; raises alerts on quantity-effect falls)."""
        return services.score_year(year)


@blp.route("/assessment/alerts")
class Alerts(MethodView):
    @access(*STAFF)
    @blp.arguments(schemas.AssessmentYearArgsSchema, location="query")
    @blp.response(200, schemas.AssessmentAlertSchema(many=True))
    def get(self, args):
        return services.alerts(args.get("year"))


@blp.route("/assessment/exit-audit")
class ExitAudit(MethodView):
    @access(*STAFF)
    @blp.arguments(schemas.AssessmentExitAuditArgsSchema, location="query")
    @blp.response(200)
    def get(self, args):
        """The figures of an official's exit audit (GEP at constant prices, scores, alerts)."""
        audit = services.exit_audit(args["township"], args["start_year"], args["end_year"], args["official"])
        return {k: (str(v) if hasattr(v, "quantize") else v) for k, v in audit.items() if k != "services"} | {
            "services": {k: {f: str(x) for f, x in v.items()} for k, v in audit["services"].items()},
            "scores": [{k: (str(x) if x is not None else None) for k, x in s.items()} for s in audit["scores"]],
            "alerts": [{k: str(x) for k, x in a.items()} for a in audit["alerts"]]}


@blp.route("/damage")
class Damage(MethodView):
    @access(*STAFF)
    @blp.arguments(schemas.DamageIncidentSchema)
    @blp.response(201, schemas.DamageIncidentSchema)
    def post(self, data):
        """Value an incident as lost GEP at locked prices; a responsible party gets the penalty notice's
        eco-credit posting with the figure as evidence."""
        data["occurred_on"] = data["occurred_on"].isoformat()
        return services.value_damage(data)


@blp.route("/damage/<int:incident_id>")
class DamageById(MethodView):
    @access(*STAFF)
    @blp.response(200, schemas.DamageIncidentSchema)
    def get(self, incident_id):
        return services.get_incident(incident_id)
