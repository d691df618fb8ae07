"""REST API of the eco-credit ledger and ratings.

Writes take an ``Idempotency-Key`` header. Postings and reversals require one and
keep it on the ledger row itself (atomic with the posting). Other writes replay the
stored response of an earlier call with the same key (greenfin/idempotency.py, as every
API write does); the same key with different content is a 409.
"""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from credit import schemas, services
from credit.models import CreditCheckpoint, RatingRun
from greenfin.api_utils import api_blueprint, paginate
from greenfin.errors import NotFound, ValidationFailed
from greenfin.extensions import db
from greenfin.uow import rollback
from greenfin.idempotency import keeps_own_key
from greenfin.ratelimit import rate_limited
from greenfin.security import PUBLIC, STAFF, access, own_party_id, require_party_access

blp = api_blueprint("credit_api", __name__, "/credit",
                    "Eco-credit points ledger, rule catalogue and four-colour ratings")

REVIEWERS = ("admin", "regulator")


def _key(data: dict) -> str:
    key = (request.headers.get("Idempotency-Key") or data.get("idempotency_key") or "").strip()
    if not key:
        raise ValidationFailed.field("idempotency_key", "send an Idempotency-Key header (or idempotency_key)")
    if data.get("idempotency_key") and request.headers.get("Idempotency-Key") \
            and data["idempotency_key"] != request.headers["Idempotency-Key"]:
        raise ValidationFailed.field("idempotency_key", "differs from the Idempotency-Key header")
    return key


def _with_retry(func):
    """Run a ledger write and flush it; after a unique-key race, roll back and run it once more
    (it then replays the posting the other request made). The unit of work commits."""
    try:
        result = func()
        db.session.flush()
        return result
    except IntegrityError:
        rollback()
        return func()


def _result_status(result) -> int:
    if result.replayed:
        return 200
    return 201 if result.status == "posted" else 202


# ---------------------------------------------------------------- rules


@blp.route("/rules")
class Rules(MethodView):
    @access(*STAFF, "producer")
    @blp.arguments(schemas.CreditRuleQueryArgsSchema, location="query")
    @blp.response(200, schemas.CreditRuleSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """The rule catalogue in force on a day (default today), or every version with history=true;
        by category, code and version."""
        return paginate(services.rule_query(**args), pagination_parameters)

    @access("admin")
    @blp.arguments(schemas.CreditRuleSchema)
    @blp.response(201, schemas.CreditRuleSchema)
    def post(self, data):
        """Add a rule (admins; audited)."""
        rule = services.create_rule(data)
        return rule


@blp.route("/rules/<code>/versions")
class RuleVersions(MethodView):
    @access(*STAFF, "producer")
    @blp.response(200, schemas.CreditRuleSchema(many=True))
    def get(self, code):
        """Every version of a rule, oldest first."""
        versions = services.rule_versions(code.upper())
        if not versions:
            raise NotFound(f"rule {code} not found")
        return versions

    @access("admin")
    @blp.arguments(schemas.CreditRuleReviseSchema)
    @blp.response(201, schemas.CreditRuleSchema)
    def post(self, data, code):
        """A new version from effective_from on; the previous version closes that day (admins; audited)."""
        rule = services.revise_rule(code.upper(), data)
        return rule


# ---------------------------------------------------------------- postings


@blp.route("/postings")
class Postings(MethodView):
    @access(*STAFF, "producer")
    @blp.arguments(schemas.CreditPostingQueryArgsSchema, location="query")
    @blp.response(200, schemas.CreditPostingSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Postings, newest effective date first; producers see their own."""
        scope = own_party_id()
        if scope is not None:
            args["party_id"] = scope
        return paginate(services.posting_query(**args), pagination_parameters)

    @keeps_own_key
    @access("admin", "regulator")
    @blp.arguments(schemas.CreditPostingCreateSchema)
    @blp.response(201, schemas.CreditPostingResultSchema)
    @blp.alt_response(202, schema=schemas.CreditPostingResultSchema, description="waiting for a regulator")
    @blp.alt_response(200, schema=schemas.CreditPostingResultSchema, description="replay of an earlier request")
    def post(self, data):
        """Post points under a rule. Negative and large positive postings wait for a regulator (202)."""
        key = _key(data)
        result = _with_retry(lambda: services.submit_posting(
            data["party_id"], data["rule_code"], idempotency_key=key, effective_date=data["effective_date"],
            evidence=data["evidence"], source="api"))
        return result, _result_status(result)


@blp.route("/postings:batch")
class PostingsBatch(MethodView):
    @keeps_own_key
    @access("admin", "regulator")
    @blp.arguments(schemas.CreditBatchSchema)
    @blp.response(200, schemas.CreditBatchResultSchema)
    def post(self, data):
        """Up to 1,000 postings in one transaction, for systems that push (each item with its own
        idempotency_key): a result per item, in order: posted, pending (a regulator approves),
        duplicate (the key was used with the same content) or refused with the reason."""
        outcomes = services.post_batch(data["postings"])
        counts = {status: sum(o.status == status for o in outcomes)
                  for status in ("posted", "pending", "duplicate", "refused")}
        return {"results": outcomes, "counts": counts}


@blp.route("/intakes")
class Intakes(MethodView):
    @access("admin", "regulator")
    @blp.response(200, schemas.CreditIntakeSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Bulk intakes, newest first."""
        return paginate(services.intake_query(), pagination_parameters)

    @access("admin", "regulator")
    @blp.arguments(schemas.CreditIntakeFormatSchema, location="query")
    @blp.arguments(schemas.CreditIntakeUploadSchema, location="files")
    @blp.response(202, schemas.CreditIntakeSchema)
    def post(self, args, files):
        """Upload a CSV or JSON Lines file (multipart field ``file``): stored, then posted by a job in
        chunks of 5,000 rows, each one transaction. Follow ``job_url`` for progress; refused lines
        are at ``errors_url``. Rows are idempotent: the same file again posts nothing."""
        upload = files["file"]
        return services.start_intake(upload.read(), upload.filename or "upload", fmt=args["format"])


@blp.route("/intakes/<int:intake_id>")
class IntakeById(MethodView):
    @access("admin", "regulator")
    @blp.response(200, schemas.CreditIntakeSchema)
    def get(self, intake_id):
        return services.get_intake(intake_id)


@blp.route("/intakes/<int:intake_id>/errors")
class IntakeErrors(MethodView):
    @access("admin", "regulator")
    @blp.response(200, schemas.CreditIntakeErrorSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters, intake_id):
        """The refused lines of an intake with their reasons, by line number (the page offers them as CSV)."""
        services.get_intake(intake_id)
        return paginate(services.intake_errors_query(intake_id), pagination_parameters)


@blp.route("/postings/<int:posting_id>")
class PostingById(MethodView):
    @access(*STAFF, "producer")
    @blp.response(200, schemas.CreditPostingSchema)
    def get(self, posting_id):
        posting = services.get_posting(posting_id)
        require_party_access(posting.party_id)
        return posting


@blp.route("/postings/<int:posting_id>/reversal")
class PostingReversal(MethodView):
    @keeps_own_key
    @access("admin", "regulator")
    @blp.arguments(schemas.CreditReversalCreateSchema)
    @blp.response(201, schemas.CreditPostingResultSchema)
    @blp.alt_response(202, schema=schemas.CreditPostingResultSchema, description="waiting for a regulator")
    def post(self, data, posting_id):
        """Correct a posting with a reversal that points at it (once; a reversal cannot be reversed)."""
        key = _key(data)
        result = _with_retry(lambda: services.reverse_posting(posting_id, reason=data["reason"], idempotency_key=key))
        return result, _result_status(result)


@blp.route("/pending")
class Pending(MethodView):
    @access(*REVIEWERS)
    @blp.arguments(schemas.CreditPendingQueryArgsSchema, location="query")
    @blp.response(200, schemas.CreditPendingSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Postings waiting for a regulator (or decided ones by status)."""
        return paginate(services.pending_query(**args), pagination_parameters)


@blp.route("/pending/<int:pending_id>/approve")
class PendingApprove(MethodView):
    @access("regulator")
    @blp.arguments(schemas.CreditNoteSchema)
    @blp.response(201, schemas.CreditPostingSchema)
    def post(self, data, pending_id):
        """Approve: the posting enters the ledger (not by the person who entered it)."""
        posting = services.approve_pending(pending_id, note=data.get("note"))
        return posting


@blp.route("/pending/<int:pending_id>/reject")
class PendingReject(MethodView):
    @access("regulator")
    @blp.arguments(schemas.CreditNoteSchema)
    @blp.response(200, schemas.CreditPendingSchema)
    def post(self, data, pending_id):
        """Reject with a reason: nothing enters the ledger."""
        pending = services.reject_pending(pending_id, note=data.get("note") or "")
        return pending


@blp.route("/parties/<int:party_id>/account")
class Account(MethodView):
    @access(*STAFF, "producer")
    @blp.arguments(schemas.CreditAccountQueryArgsSchema, location="query")
    @blp.response(200, schemas.CreditAccountSchema)
    def get(self, args, party_id):
        """Balance (cached), balance as of a day and the score that counts toward the rating."""
        require_party_access(party_id)
        from credit.ledger import _party, today

        _party(party_id)
        account = services.get_account(party_id)
        as_of = args.get("as_of") or today()
        return {"party_id": party_id, "balance": services.balance(party_id),
                "balance_as_of": services.balance(party_id, as_of=as_of), "score": services.score(party_id, as_of),
                "as_of": as_of, "postings": account.posting_count if account else 0,
                "last_hash": account.last_hash if account else None}


@blp.route("/parties/<int:party_id>/rating")
class PartyRating(MethodView):
    @access(*STAFF, "producer")
    @blp.response(200, schemas.CreditCurrentRatingSchema)
    def get(self, party_id):
        """The party's current published rating (404 when none is published)."""
        require_party_access(party_id)
        rating = services.current_rating(party_id)
        if rating is None:
            raise NotFound("no published rating")
        return rating


@blp.route("/ledger/verify")
class Verify(MethodView):
    @access(*REVIEWERS)
    @blp.response(200, schemas.CreditVerifySchema)
    def get(self):
        """Recompute every hash chain, cached balance and daily checkpoint."""
        report = services.verify_ledger()
        return {"ok": report.ok, "postings": report.postings, "accounts": report.accounts,
                "checkpoints": report.checkpoints, "first_broken_posting_id": report.first_broken_posting_id,
                "problems": report.problems[:50]}


@blp.route("/ledger/heads")
class LedgerHeads(MethodView):
    @access(PUBLIC)
    @rate_limited("ledger_heads", 60, 60)
    @blp.response(200, schemas.CreditLedgerHeadsSchema)
    def get(self):
        """Published daily ledger heads, oldest first (no account needed).

        Save this document: ``flask credit verify --against FILE`` later detects any rewrite
        of a day it covers.
        """
        return {"algorithm": "HMAC-SHA256", "heads": services.published_heads()}


@blp.route("/ledger/checkpoints")
class Checkpoints(MethodView):
    @access(*REVIEWERS)
    @blp.response(200, schemas.CreditCheckpointSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Daily ledger-wide chain heads, newest first."""
        return paginate(select(CreditCheckpoint).order_by(CreditCheckpoint.day.desc()), pagination_parameters)

    @access("admin", "regulator")
    @blp.response(201, schemas.CreditCheckpointSchema(many=True))
    def post(self):
        """Checkpoint every closed day not yet checkpointed."""
        made = services.checkpoint_ledger()
        return made


# ---------------------------------------------------------------- ratings


@blp.route("/rating-runs")
class RatingRuns(MethodView):
    @access(*REVIEWERS)
    @blp.response(200, schemas.CreditRatingRunSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        return paginate(select(RatingRun).order_by(RatingRun.id.desc()), pagination_parameters)

    @access(*REVIEWERS)
    @blp.arguments(schemas.CreditRatingRunCreateSchema)
    @blp.response(202, schemas.CreditRatingRunSchema)
    def post(self, data):
        """Start a rating run for a period (a background job; follow job_url)."""
        run = services.start_rating_run(data["period"])
        return run


@blp.route("/ratings")
class Ratings(MethodView):
    @access(*STAFF, "producer")
    @blp.arguments(schemas.CreditRatingQueryArgsSchema, location="query")
    @blp.response(200, schemas.CreditRatingSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Ratings in every state (staff); producers see their own."""
        scope = own_party_id()
        if scope is not None:
            args["party_id"] = scope
        return paginate(services.rating_query(**args), pagination_parameters)


@blp.route("/ratings/<int:rating_id>")
class RatingById(MethodView):
    @access(*STAFF, "producer")
    @blp.response(200, schemas.CreditRatingSchema)
    def get(self, rating_id):
        rating = services.get_rating(rating_id)
        require_party_access(rating.party_id)
        return rating


@blp.route("/ratings/<int:rating_id>/approve")
class RatingApprove(MethodView):
    @access("regulator")
    @blp.response(200, schemas.CreditRatingSchema)
    def post(self, rating_id):
        """Regulator review passed: the level goes on public notice (公示)."""
        rating = services.approve_rating(rating_id)
        return rating


@blp.route("/ratings/review")
class RatingsReview(MethodView):
    @access("regulator")
    @blp.arguments(schemas.CreditRatingReviewSchema)
    @blp.response(200, schemas.CreditRatingSchema(many=True))
    def post(self, data):
        """Approve or return many computed ratings at once: one audit event per rating, all or none."""
        return services.review_ratings(data["rating_ids"], data["decision"], note=data["note"])


@blp.route("/ratings/<int:rating_id>/publish")
class RatingPublish(MethodView):
    @access("regulator")
    @blp.response(200, schemas.CreditRatingSchema)
    def post(self, rating_id):
        """Publish once the notice is over and no objection or override is open."""
        rating = services.publish_rating(rating_id)
        return rating


@blp.route("/ratings/<int:rating_id>/objections")
class RatingObjections(MethodView):
    @access("regulator", "admin", "producer")
    @blp.arguments(schemas.CreditObjectionCreateSchema)
    @blp.response(201, schemas.CreditObjectionSchema)
    def post(self, data, rating_id):
        """File an objection (异议) during the public notice; producers for their own rating."""
        objection = services.file_objection(rating_id, data["text"])  # a producer: their own rating only
        return objection


@blp.route("/objections")
class Objections(MethodView):
    @access(*REVIEWERS, "producer")
    @blp.arguments(schemas.CreditObjectionQueryArgsSchema, location="query")
    @blp.response(200, schemas.CreditObjectionSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Objections by status, nearest deadline first; producers see their own."""
        return paginate(services.objection_query(status=args["status"], party_id=own_party_id()),
                        pagination_parameters)


@blp.route("/objections/<int:objection_id>/answer")
class ObjectionAnswer(MethodView):
    @access("regulator")
    @blp.arguments(schemas.CreditObjectionAnswerSchema)
    @blp.response(200, schemas.CreditObjectionSchema)
    def post(self, data, objection_id):
        """Uphold (optionally with a corrected level; the notice restarts) or dismiss."""
        objection = services.answer_objection(objection_id, **data)
        return objection


@blp.route("/ratings/<int:rating_id>/overrides")
class RatingOverrides(MethodView):
    @access("regulator")
    @blp.arguments(schemas.CreditOverrideCreateSchema)
    @blp.response(201, schemas.CreditOverrideSchema)
    def post(self, data, rating_id):
        """Ask to change a level; a second regulator must approve it."""
        override = services.request_override(rating_id, **data)
        return override


@blp.route("/overrides/<int:override_id>/decision")
class OverrideDecision(MethodView):
    @access("regulator")
    @blp.arguments(schemas.CreditDecisionSchema)
    @blp.response(200, schemas.CreditOverrideSchema)
    def post(self, data, override_id):
        """Approve or reject an override (not by the regulator who asked)."""
        override = services.decide_override(override_id, approve=data["approve"])
        return override


@blp.route("/repairs")
class Repairs(MethodView):
    @access(*REVIEWERS, "producer")
    @blp.response(200, schemas.CreditRepairSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Credit-repair applications; producers see their own."""
        return paginate(services.repair_query(status=None, party_id=own_party_id()), pagination_parameters)

    @access("regulator", "admin", "producer")
    @blp.arguments(schemas.CreditRepairCreateSchema)
    @blp.response(201, schemas.CreditRepairSchema)
    def post(self, data):
        """Apply for credit repair (信用修复) of a published yellow or red rating."""
        repair = services.apply_repair(data["rating_id"], data["statement"])  # a producer: their own rating only
        return repair


@blp.route("/repairs/<int:repair_id>/decision")
class RepairDecision(MethodView):
    @access("regulator")
    @blp.arguments(schemas.CreditDecisionSchema)
    @blp.response(200, schemas.CreditRepairSchema)
    def post(self, data, repair_id):
        """Approve (the rating leaves public view, kept in the record) or reject."""
        repair = services.decide_repair(repair_id, approve=data["approve"], note=data["note"])
        return repair


# ---------------------------------------------------------------- public disclosure


@blp.route("/public/ratings")
class PublicRatings(MethodView):
    @access(PUBLIC)
    @rate_limited("disclosure", 60, 60)
    @blp.arguments(schemas.CreditPublicQueryArgsSchema, location="query")
    @blp.response(200, schemas.CreditPublicRatingSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Published ratings, searchable by name or credit code; individuals masked."""
        return paginate(services.public_rating_query(**args), pagination_parameters)


@blp.route("/public/ratings/<code>")
class PublicRatingByCode(MethodView):
    @access(PUBLIC)
    @blp.response(200, schemas.CreditPublicRatingSchema)
    def get(self, code):
        """Confirm a certificate: the published rating behind its code."""
        return services.rating_by_certificate(code)
