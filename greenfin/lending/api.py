"""REST API of lending: products, applications, scoring, decisions, loans, repayments, models."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from greenfin.api_utils import api_blueprint, paginate
from greenfin.extensions import commit, db
from greenfin.lending import modelling, schemas, services
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
        product = services.update_product(services.get_product(product_id), data)
        commit()
        return product


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
        commit()
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
        pledge = services.add_collateral(services.get_application(application_id), data)
        commit()
        return pledge


@blp.route("/applications/<int:application_id>/withdraw")
class ApplicationWithdraw(MethodView):
    @access(*OFFICERS)
    @blp.arguments(schemas.WithdrawSchema)
    @blp.response(200, schemas.ApplicationSchema)
    def post(self, data, application_id):
        """Withdraw a live application; its proposed collateral is released."""
        app = services.withdraw_application(services.get_application(application_id), data["reason"])
        commit()
        return app


@blp.route("/applications/<int:application_id>/score")
class ApplicationScore(MethodView):
    @access(*OFFICERS)
    @blp.response(201, schemas.ScoreSchema)
    def post(self, application_id):
        """Score with the champion (challengers score beside it)."""
        score = modelling.score_application(services.get_application(application_id))
        commit()
        return score


@blp.route("/applications/<int:application_id>/decision")
class ApplicationDecision(MethodView):
    @access(*OFFICERS)
    @blp.response(201, schemas.DecisionSchema)
    def post(self, application_id):
        """The system decision: policy rules, score cut-offs, price."""
        decision = services.decide_application(services.get_application(application_id))
        commit()
        return decision


@blp.route("/applications/<int:application_id>/officer-decision")
class ApplicationOfficerDecision(MethodView):
    @access(*OFFICERS)
    @blp.arguments(schemas.OfficerDecisionSchema)
    @blp.response(201, schemas.DecisionSchema)
    def post(self, data, application_id):
        """Resolve a referral, or override approve/decline (then a second officer reviews it)."""
        decision = services.officer_decision(services.get_application(application_id), data["outcome"], data["note"],
                                             amount=data.get("amount"))
        commit()
        return decision


@blp.route("/decisions/<int:decision_id>/review")
class DecisionReview(MethodView):
    @access(*OFFICERS)
    @blp.arguments(schemas.OverrideReviewSchema)
    @blp.response(200, schemas.DecisionSchema)
    def post(self, data, decision_id):
        """A second officer approves or rejects an override."""
        decision = services.review_override(services.get_decision(decision_id), data["approve"], data["note"])
        commit()
        return decision


@blp.route("/applications/<int:application_id>/book")
class ApplicationBook(MethodView):
    @access(*OFFICERS)
    @blp.arguments(schemas.BookSchema)
    @blp.response(201, schemas.LoanDetailSchema)
    def post(self, data, application_id):
        """Disburse: books the loan and its schedule."""
        loan = services.book_loan(services.get_application(application_id), data.get("disbursed_on"))
        commit()
        return loan


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
        repayment = services.record_repayment(services.get_loan(loan_id), data["amount"], data["received_on"],
                                              data.get("reference"))
        commit()
        return repayment


@blp.route("/loans/<int:loan_id>/write-off")
class LoanWriteOff(MethodView):
    @access(*OFFICERS)
    @blp.arguments(schemas.WriteOffSchema)
    @blp.response(200, schemas.LoanSchema)
    def post(self, data, loan_id):
        loan = services.write_off_loan(services.get_loan(loan_id), data["reason"], data.get("on"))
        commit()
        return loan


@blp.route("/models")
class Models(MethodView):
    @access(*STAFF)
    @blp.response(200, schemas.ModelSchema(many=True))
    def get(self):
        """Registered scoring models (champion, challengers, retired)."""
        return list(db.session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc())))


@blp.route("/models/<int:model_id>/promote")
class ModelPromote(MethodView):
    @access("admin")
    @blp.response(200, schemas.ModelSchema)
    def post(self, model_id):
        model = modelling.promote_model(modelling.get_model(model_id))
        commit()
        return model
