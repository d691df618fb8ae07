"""REST API of lending: products, applications, scoring, decisions, loans, repayments, models."""
from __future__ import annotations

import io

from flask import Response, send_file, url_for
from flask.views import MethodView
from sqlalchemy import select

from greenfin.api_utils import api_blueprint, paginate
from greenfin.core.schemas import JobSchema
from greenfin.downloads import attach, safe_frame
from greenfin.errors import Conflict
from greenfin.lending import schemas, services
from greenfin.lending.scoring import modelling
from greenfin.lending.models import ModelVersion
from greenfin.security import STAFF, access, own_party_id, require_party_access

blp = api_blueprint("lending_api", __name__, "/lending", "Loan products, applications, scores, decisions, loans")
OFFICERS = ("admin", "loan_officer")


def application_detail(app):
    app.collateral_summary = {k: (str(v) if v is not None else None) for k, v in services.collateral_summary(app).items()}
    app.score = modelling.latest_score(app)
    app.decision = services.current_decision(app)
    app.loan_id = app.loan.id if app.loan else None
    return app


def visible_application(application_id: int):
    app = services.get_application(application_id)
    require_party_access(app.party_id)
    return app


@blp.route("/products")
class Products(MethodView):
    @access(*STAFF, "producer")
    @blp.response(200, schemas.ProductSchema(many=True))
    def get(self):
        """The loan product catalogue."""
        return services.list_products()


@blp.route("/products/<int:product_id>")
class ProductById(MethodView):
    @access(*STAFF, "producer")
    @blp.response(200, schemas.ProductSchema)
    def get(self, product_id):
        return services.get_product(product_id)

    @access("admin")
    @blp.arguments(schemas.ProductUpdateSchema)
    @blp.response(200, schemas.ProductSchema)
    def patch(self, data, product_id):
        """Edit limits, rates, terms and green-loan fields (admins)."""
        return services.update_product(services.get_product(product_id), data)


@blp.route("/applications")
class Applications(MethodView):
    @access(*STAFF, "producer")
    @blp.arguments(schemas.ApplicationQueryArgsSchema, location="query")
    @blp.response(200, schemas.ApplicationSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List applications; producers see only their own."""
        scope = own_party_id()
        if scope is not None:
            args["party_id"] = scope
        return paginate(services.application_query(**args), pagination_parameters)

    @access(*OFFICERS)
    @blp.arguments(schemas.ApplicationSchema)
    @blp.response(201, schemas.ApplicationDetailSchema)
    def post(self, data):
        """File an application (amount and term checked against the product)."""
        app = services.create_application(data)
        return application_detail(app)


@blp.route("/applications/<int:application_id>")
class ApplicationById(MethodView):
    @access(*STAFF, "producer")
    @blp.response(200, schemas.ApplicationDetailSchema)
    def get(self, application_id):
        """An application with collateral, its champion score, reasons and decision."""
        return application_detail(visible_application(application_id))


@blp.route("/applications/<int:application_id>/collateral")
class ApplicationCollateral(MethodView):
    @access(*OFFICERS)
    @blp.arguments(schemas.CollateralSchema)
    @blp.response(201, schemas.CollateralSchema)
    def post(self, data, application_id):
        """Pledge a parcel; 409 when it is already pledged to a live application or loan."""
        return services.add_collateral(services.get_application(application_id), data)


@blp.route("/applications/<int:application_id>/withdraw")
class ApplicationWithdraw(MethodView):
    @access(*OFFICERS)
    @blp.arguments(schemas.WithdrawSchema)
    @blp.response(200, schemas.ApplicationSchema)
    def post(self, data, application_id):
        """Withdraw a live application; its proposed collateral is released."""
        return services.withdraw_application(services.get_application(application_id), data["reason"])


@blp.route("/applications/<int:application_id>/score")
class ApplicationScore(MethodView):
    @access(*OFFICERS)
    @blp.response(201, schemas.ScoreSchema)
    def post(self, application_id):
        """Score with the champion (challengers score beside it)."""
        return modelling.score_application(services.get_application(application_id))


@blp.route("/applications/<int:application_id>/decision")
class ApplicationDecision(MethodView):
    @access(*OFFICERS)
    @blp.response(201, schemas.DecisionSchema)
    def post(self, application_id):
        """The system decision: policy rules, score cut-offs, price."""
        return services.decide_application(services.get_application(application_id))


@blp.route("/applications/<int:application_id>/officer-decision")
class ApplicationOfficerDecision(MethodView):
    @access(*OFFICERS)
    @blp.arguments(schemas.OfficerDecisionSchema)
    @blp.response(201, schemas.DecisionSchema)
    def post(self, data, application_id):
        """Resolve a referral, or override approve/decline (then a second officer reviews it)."""
        return services.officer_decision(services.get_application(application_id), data["outcome"], data["note"],
                                         amount=data.get("amount"))


@blp.route("/decisions/<int:decision_id>/review")
class DecisionReview(MethodView):
    @access(*OFFICERS)
    @blp.arguments(schemas.OverrideReviewSchema)
    @blp.response(200, schemas.DecisionSchema)
    def post(self, data, decision_id):
        """A second officer approves or rejects an override."""
        return services.review_override(services.get_decision(decision_id), data["approve"], data["note"])


@blp.route("/applications/<int:application_id>/book")
class ApplicationBook(MethodView):
    @access(*OFFICERS)
    @blp.arguments(schemas.BookSchema)
    @blp.response(201, schemas.LoanDetailSchema)
    def post(self, data, application_id):
        """Disburse: books the loan and its schedule."""
        return services.book_loan(services.get_application(application_id), data.get("disbursed_on"))


@blp.route("/loans")
class Loans(MethodView):
    @access(*STAFF, "producer")
    @blp.arguments(schemas.LoanQueryArgsSchema, location="query")
    @blp.response(200, schemas.LoanSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List loans; producers see only their own."""
        scope = own_party_id()
        if scope is not None:
            args["party_id"] = scope
        return paginate(services.loan_query(**args), pagination_parameters)


@blp.route("/loans/<int:loan_id>")
class LoanById(MethodView):
    @access(*STAFF, "producer")
    @blp.response(200, schemas.LoanDetailSchema)
    def get(self, loan_id):
        """A loan with its schedule and repayments."""
        loan = services.get_loan(loan_id)
        require_party_access(loan.party_id)
        return loan


@blp.route("/loans/<int:loan_id>/repayments")
class LoanRepayments(MethodView):
    @access(*OFFICERS)
    @blp.arguments(schemas.RepaymentSchema)
    @blp.response(201, schemas.RepaymentSchema)
    def post(self, data, loan_id):
        """Record a repayment: allocated to fees, then interest, then principal."""
        return services.record_repayment(services.get_loan(loan_id), data["amount"], data["received_on"],
                                         data.get("reference"))


@blp.route("/loans/<int:loan_id>/write-off")
class LoanWriteOff(MethodView):
    @access(*OFFICERS)
    @blp.arguments(schemas.WriteOffSchema)
    @blp.response(200, schemas.LoanSchema)
    def post(self, data, loan_id):
        return services.write_off_loan(services.get_loan(loan_id), data["reason"], data.get("on"))


@blp.route("/models")
class Models(MethodView):
    @access(*STAFF)
    @blp.response(200, schemas.ModelSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Registered scoring models (champion, challengers, retired), newest first."""
        return paginate(select(ModelVersion).order_by(ModelVersion.id.desc()), pagination_parameters)


@blp.route("/models/<int:model_id>/promote")
class ModelPromote(MethodView):
    @access("admin")
    @blp.response(200, schemas.ModelSchema)
    def post(self, model_id):
        return modelling.promote_model(modelling.get_model(model_id))


@blp.route("/score-batches")
class ScoreBatches(MethodView):
    @access(*OFFICERS)
    @blp.response(200, schemas.ScoreBatchSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Batch scorings, newest first."""
        return paginate(modelling.score_batch_query(), pagination_parameters)

    @access(*OFFICERS)
    @blp.arguments(schemas.ScoreBatchUploadSchema, location="multipart")
    @blp.response(202, JobSchema, headers={"Location": {"description": "the batch: /api/v1/lending/score-batches/<id>",
                                                        "schema": {"type": "string"}}})
    def post(self, data):
        """Score an applicants CSV in a job (default model: the champion); follow /api/v1/jobs/<id>.

        The file is checked first (readable CSV, at least one row, every feature column of the
        model): a bad file or an unknown version is answered 422 and nothing is kept. When the job
        has finished, its ``result.api_url`` downloads the scored CSV.
        """
        upload = data["file"]
        batch = modelling.start_score_batch(upload.read(), upload.filename or "", data.get("version"))
        return batch.job, 202, {"Location": url_for("lending_api.ScoreBatchById", batch_id=batch.id)}


@blp.route("/score-batches/<int:batch_id>")
class ScoreBatchById(MethodView):
    @access(*OFFICERS)
    @blp.response(200, schemas.ScoreBatchSchema)
    def get(self, batch_id):
        """A batch scoring: file name, rows, model version and its job's status."""
        return modelling.get_score_batch(batch_id)


@blp.route("/score-batches/<int:batch_id>/scored.csv")
class ScoreBatchCsv(MethodView):
    @access(*OFFICERS)
    @blp.response(200, content_type="text/csv", description="the input columns plus score, pd, reason_1..4, "
                                                           "reason_1..4_text, row_status (scored / rejected) and "
                                                           "problems (empty scores on rejected rows)")
    def get(self, batch_id):
        """The scored CSV of a finished batch (409 while its job has not finished, 410 once the
        upload has been deleted under the retention rule)."""
        return scored_csv_response(modelling.get_score_batch(batch_id))


@blp.route("/score-batches/<int:batch_id>/problems.csv")
class ScoreBatchProblems(MethodView):
    @access(*OFFICERS)
    @blp.response(200, content_type="text/csv", description="one row per problem of a rejected row: line, column, "
                                                           "value, problem, code")
    def get(self, batch_id):
        """The per-row report of a batch: why each rejected row was not scored (410 once the
        upload has been deleted under the retention rule)."""
        return problems_csv_response(modelling.get_score_batch(batch_id))


def problems_csv_response(batch) -> Response:
    """The batch's rejected rows, a row per problem, in the requester's language."""
    from flask_babel import gettext

    from greenfin.downloads import writer
    from greenfin.lending.scoring.intake import PROBLEM_TEXT, REPORT_COLUMNS

    buf = io.StringIO()
    out = writer(buf)
    out.writerow(REPORT_COLUMNS)
    for p in modelling.batch_problems(batch):
        out.writerow([p["line"], p["column"], p["value"], gettext(PROBLEM_TEXT[p["code"]]), p["code"]])
    body = io.BytesIO(buf.getvalue().encode("utf-8-sig"))  # the BOM: spreadsheets then read Chinese right
    return attach(send_file(body, mimetype="text/csv"), f"problems-{batch.id}-{batch.filename.rsplit('.', 1)[0]}.csv")


def scored_csv_response(batch) -> Response:
    """The batch's scored file; rebuilt from the stored upload where this machine lacks it."""
    from greenfin.lending.jobs import scored_path

    modelling.require_upload(batch)
    if batch.status != "finished":
        raise Conflict(f"batch {batch.id} is not scored yet (job {batch.status or 'missing'})")
    name = f"scored-{batch.id}-{batch.filename.rsplit('.', 1)[0]}.csv"
    path = scored_path(batch.id)
    if path.exists():
        return attach(send_file(path, mimetype="text/csv"), name)
    body = io.BytesIO(safe_frame(modelling.score_batch_frame(batch)).to_csv(index=False).encode())
    return attach(send_file(body, mimetype="text/csv"), name)
