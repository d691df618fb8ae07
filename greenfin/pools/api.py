"""REST API of asset pools: pools, membership, candidates, cuts, loan tapes, projections, servicer reports."""
from __future__ import annotations

from flask import Response, url_for
from flask.views import MethodView

from greenfin.api_utils import api_blueprint, paginate
from greenfin.downloads import content_disposition
from greenfin.uow import commit
from greenfin.jobs import enqueue
from greenfin.pools import cuts, projections, reporting, schemas, services
from greenfin.pools.pdf import servicer_report_pdf
from greenfin.security import access

blp = api_blueprint("pools_api", __name__, "/pools", "Asset pools of green loans: cuts, loan tapes, cash flows, reports")

READERS = ("admin", "loan_officer", "regulator")
MANAGERS = ("admin", "loan_officer")


def candidate_dict(item: dict) -> dict:
    r = item["record"]
    return {"loan_id": r["loan_id"], "loan_number": r["loan_number"], "party_id": r["party_id"],
            "balance": r["balance"], "rate": r["rate"], "remaining_term": r["remaining_term"],
            "days_past_due": r["days_past_due"], "colour": r["colour"], "eligible": not item["reasons"],
            "reasons": [services.reason_text(x) for x in item["reasons"]]}


@blp.route("")
class Pools(MethodView):
    @access(*READERS)
    @blp.arguments(schemas.PoolQueryArgsSchema, location="query")
    @blp.response(200, schemas.PoolSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List pools."""
        return paginate(services.pool_query(args.get("q")), pagination_parameters)

    @access(*MANAGERS)
    @blp.arguments(schemas.PoolSchema)
    @blp.response(201, schemas.PoolSchema)
    def post(self, data):
        """Create a pool with its eligibility criteria and tranche structure (defaults where left out)."""
        pool = services.create_pool(data)
        commit()
        return pool


@blp.route("/<int:pool_id>")
class PoolById(MethodView):
    @access(*READERS)
    @blp.response(200, schemas.PoolSchema)
    def get(self, pool_id):
        return services.get_pool(pool_id)

    @access(*MANAGERS)
    @blp.arguments(schemas.PoolUpdateSchema)
    @blp.response(200, schemas.PoolSchema)
    def patch(self, data, pool_id):
        """Change the name, designation, criteria or structure (audited)."""
        pool = services.update_pool(services.get_pool(pool_id), data)
        commit()
        return pool


@blp.route("/<int:pool_id>/statistics")
class PoolStatistics(MethodView):
    @access(*READERS)
    @blp.response(200)
    def get(self, pool_id):
        """Pool statistics and stratification tables of the loans in the pool today."""
        return services.jsonable(services.live_statistics(services.get_pool(pool_id)))


@blp.route("/<int:pool_id>/loans")
class PoolLoans(MethodView):
    @access(*READERS)
    @blp.response(200, schemas.MembershipSchema(many=True))
    @blp.paginate()
    def get(self, pool_id, pagination_parameters):
        """The loans in the pool now."""
        return services.label_memberships(
            paginate(services.membership_query(services.get_pool(pool_id)), pagination_parameters))

    @access(*MANAGERS)
    @blp.arguments(schemas.AddLoansSchema)
    @blp.response(201, schemas.MembershipSchema(many=True))
    def post(self, data, pool_id):
        """Add loans, all or none: unknown loans (404), loans in a pool already (409) or loans failing
        the criteria (422, with the reasons per loan) refuse the request and nothing is stored."""
        created = services.add_loans(services.get_pool(pool_id), data["loan_ids"], data.get("reason"),
                                     data.get("added_on"))
        commit()
        return created


@blp.route("/<int:pool_id>/loans/<int:loan_id>/remove")
class PoolLoanRemove(MethodView):
    @access(*MANAGERS)
    @blp.arguments(schemas.RemoveLoanSchema)
    @blp.response(200, schemas.MembershipSchema)
    def post(self, data, pool_id, loan_id):
        """Take a loan out of the pool, with a reason."""
        m = services.remove_loan(services.get_pool(pool_id), loan_id, data["reason"], data.get("removed_on"))
        commit()
        return m


@blp.route("/<int:pool_id>/substitutions")
class PoolSubstitutions(MethodView):
    @access(*MANAGERS)
    @blp.arguments(schemas.SubstituteSchema)
    @blp.response(201, schemas.MembershipSchema)
    def post(self, data, pool_id):
        """Replace a loan in the pool with an eligible loan that is in no pool."""
        m = services.substitute_loan(services.get_pool(pool_id), data["out_loan_id"], data["in_loan_id"],
                                     data["reason"], data.get("on"))
        commit()
        return m


@blp.route("/<int:pool_id>/candidates")
class PoolCandidates(MethodView):
    @access(*READERS)
    @blp.response(200, schemas.CandidateSchema(many=True))
    @blp.paginate()
    def get(self, pool_id, pagination_parameters):
        """Active loans in no pool, by id, each with the criteria it fails (empty: eligible)."""
        pool = services.get_pool(pool_id)
        page = paginate(services.candidate_query(), pagination_parameters)
        return [candidate_dict(c) for c in services.candidates(pool, loan_ids=page)]


@blp.route("/<int:pool_id>/cuts")
class PoolCuts(MethodView):
    @access(*READERS)
    @blp.response(200, schemas.CutSchema(many=True))
    @blp.paginate()
    def get(self, pool_id, pagination_parameters):
        return paginate(cuts.cut_query(services.get_pool(pool_id)), pagination_parameters)

    @access(*MANAGERS)
    @blp.arguments(schemas.CutCreateSchema)
    @blp.response(201, schemas.CutSchema)
    def post(self, data, pool_id):
        """Snapshot every loan of the pool as of a date (a draft; ``publish`` publishes it at once).
        A correction names the published cut it corrects (``corrects_id``) and says why (``note``)."""
        pool = services.get_pool(pool_id)
        cut = cuts.create_cut(pool, data.get("as_of"), data.get("corrects_id"), data.get("note"))
        if data.get("publish"):
            cuts.publish_cut(cut)
        commit()
        return cut


@blp.route("/<int:pool_id>/cuts/<int:cut_id>")
class PoolCutById(MethodView):
    @access(*READERS)
    @blp.response(200, schemas.CutDetailSchema)
    def get(self, pool_id, cut_id):
        return cuts.get_cut(cut_id, services.get_pool(pool_id))

    @access(*MANAGERS)
    @blp.response(204)
    def delete(self, pool_id, cut_id):
        """Discard a draft cut; a published cut refuses (409)."""
        cuts.discard_cut(cuts.get_cut(cut_id, services.get_pool(pool_id)))
        commit()


@blp.route("/<int:pool_id>/cuts/<int:cut_id>/publish")
class PoolCutPublish(MethodView):
    @access(*MANAGERS)
    @blp.response(200, schemas.CutSchema)
    def post(self, pool_id, cut_id):
        """Publish a draft cut; from now on it never changes."""
        cut = cuts.publish_cut(cuts.get_cut(cut_id, services.get_pool(pool_id)))
        commit()
        return cut


@blp.route("/<int:pool_id>/cuts/<int:cut_id>/tape.csv")
class PoolCutTape(MethodView):
    @access(*READERS)
    @blp.response(200, content_type="text/csv")
    def get(self, pool_id, cut_id):
        """The cut's loan tape: one CSV row per loan, ESMA-style field names, No-Data codes ND1-ND5."""
        cut = cuts.get_cut(cut_id, services.get_pool(pool_id))
        return Response(cuts.tape_csv(cut), mimetype="text/csv", headers={
            "Content-Disposition": content_disposition(f"{cut.pool.code}-cut{cut.seq}-tape.csv")})


@blp.route("/<int:pool_id>/projection")
class PoolProjection(MethodView):
    @access(*READERS)
    @blp.arguments(schemas.ProjectionArgsSchema, location="query")
    @blp.response(200)
    def get(self, args, pool_id):
        """Project the pool (its latest published cut, else today's loans) through the tranche waterfall.
        Rates outside 0-100% are refused (422)."""
        pool = services.get_pool(pool_id)
        cut = cuts.get_cut(args["cut_id"], pool) if args.get("cut_id") else None
        result = projections.project(pool, args, cut)
        return services.jsonable(projections.projection_summary(result) | {"months": projections.projection_rows(result)})


@blp.route("/<int:pool_id>/reports")
class PoolReports(MethodView):
    @access(*READERS)
    @blp.response(200, schemas.ReportSchema(many=True))
    @blp.paginate()
    def get(self, pool_id, pagination_parameters):
        return paginate(reporting.report_query(services.get_pool(pool_id)), pagination_parameters)

    @access(*MANAGERS)
    @blp.arguments(schemas.ReportCreateSchema)
    @blp.response(202)
    def post(self, data, pool_id):
        """Generate the month's servicer report in the background; returns the job to watch."""
        pool = services.get_pool(pool_id)
        reporting.check_report_month(pool, data["month"])  # refuse bad months now, not in the job
        job = enqueue("greenfin.pools.jobs.generate_report", {"pool_id": pool.id, "month": data["month"]},
                      title=f"Servicer report {pool.code} {data['month']}")
        commit()
        return {"job_id": job.id, "status_url": url_for("core_api.JobById", job_id=job.id)}


@blp.route("/<int:pool_id>/reports/<month>")
class PoolReportByMonth(MethodView):
    @access(*READERS)
    @blp.response(200, schemas.ReportSchema)
    def get(self, pool_id, month):
        return reporting.get_report(services.get_pool(pool_id), month)


@blp.route("/<int:pool_id>/reports/<month>/pdf")
class PoolReportPdf(MethodView):
    @access(*READERS)
    @blp.response(200, content_type="application/pdf")
    def get(self, pool_id, month):
        """The servicer report as PDF, with charts."""
        pool = services.get_pool(pool_id)
        report = reporting.get_report(pool, month)
        body = servicer_report_pdf(pool, report, reporting.history(pool, month))
        return Response(body, mimetype="application/pdf",
                        headers={"Content-Disposition": content_disposition(f"{pool.code}-{month}.pdf")})
