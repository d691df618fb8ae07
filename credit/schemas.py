"""marshmallow schemas of the eco-credit API. They load into dicts; services build models."""
from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from credit.catalogue import CATEGORIES
from credit.policy import COLOURS
from credit.ratings import STATES

KINDS = ("firm", "organisation", "individual")


class CreditRuleSchema(Schema):
    id = fields.Int(dump_only=True)
    code = fields.Str(required=True, validate=validate.Length(min=2, max=48))
    version = fields.Int(dump_only=True)
    effective_from = fields.Date(load_default=None)
    effective_to = fields.Date(dump_only=True, allow_none=True)
    category = fields.Str(required=True, validate=validate.OneOf(list(CATEGORIES)))
    description_zh = fields.Str(required=True, validate=validate.Length(min=1, max=255))
    description_en = fields.Str(required=True, validate=validate.Length(min=1, max=255))
    party_kinds = fields.List(fields.Str(validate=validate.OneOf(KINDS)), required=True)
    points = fields.Int(required=True, strict=True)
    evidence_required = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=255))
    legal_basis = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=255))
    display_months = fields.Int(required=True, strict=True,
                                metadata={"description": "months the posting counts and is shown (3-36)"})
    veto = fields.Bool(load_default=False, metadata={"description": "一票否决: makes the party red whatever its points"})
    created_by = fields.Str(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class CreditRuleReviseSchema(Schema):
    effective_from = fields.Date(required=True)
    category = fields.Str(validate=validate.OneOf(list(CATEGORIES)))
    description_zh = fields.Str(validate=validate.Length(min=1, max=255))
    description_en = fields.Str(validate=validate.Length(min=1, max=255))
    party_kinds = fields.List(fields.Str(validate=validate.OneOf(KINDS)))
    points = fields.Int(strict=True)
    evidence_required = fields.Str(allow_none=True, validate=validate.Length(max=255))
    legal_basis = fields.Str(allow_none=True, validate=validate.Length(max=255))
    display_months = fields.Int(strict=True)
    veto = fields.Bool()


class CreditRuleQueryArgsSchema(Schema):
    on = fields.Date()
    category = fields.Str(validate=validate.OneOf(list(CATEGORIES)))
    history = fields.Bool(load_default=False)


class CreditPostingSchema(Schema):
    id = fields.Int()
    party_id = fields.Int()
    account_id = fields.Int()
    seq = fields.Int()
    rule_code = fields.Str()
    rule_id = fields.Int()
    points = fields.Int()
    effective_date = fields.Date()
    expires_on = fields.Date()
    recorded_at = fields.DateTime()
    evidence = fields.Dict()
    entered_by = fields.Str()
    approved_by_id = fields.Int(allow_none=True)
    source = fields.Str()
    source_id = fields.Str()
    idempotency_key = fields.Str()
    reverses_id = fields.Int(allow_none=True)
    reason = fields.Str(allow_none=True)
    prev_hash = fields.Str()
    hash = fields.Str()


class CreditPendingSchema(Schema):
    id = fields.Int()
    party_id = fields.Int()
    rule_code = fields.Str()
    points = fields.Int()
    effective_date = fields.Date()
    evidence = fields.Dict()
    source = fields.Str()
    source_id = fields.Str()
    idempotency_key = fields.Str()
    reverses_id = fields.Int(allow_none=True)
    reason = fields.Str(allow_none=True)
    submitted_by = fields.Str()
    submitted_at = fields.DateTime()
    expires_at = fields.DateTime()
    status = fields.Str()
    decided_at = fields.DateTime(allow_none=True)
    decision_note = fields.Str(allow_none=True)
    posting_id = fields.Int(allow_none=True)


class CreditPostingResultSchema(Schema):
    status = fields.Str(metadata={"description": "posted, or pending (waiting for a regulator)"})
    replayed = fields.Bool(metadata={"description": "true when the idempotency key was seen before"})
    posting = fields.Nested(CreditPostingSchema, allow_none=True)
    pending = fields.Nested(CreditPendingSchema, allow_none=True)


class CreditPostingCreateSchema(Schema):
    party_id = fields.Int(required=True)
    rule_code = fields.Str(required=True, validate=validate.Length(min=2, max=48))
    effective_date = fields.Date(load_default=None)
    evidence = fields.Dict(load_default=None, metadata={"description": "document references, inspector, note"})
    idempotency_key = fields.Str(load_default=None, validate=validate.Length(min=1, max=200),
                                 metadata={"description": "or the Idempotency-Key header"})


class CreditReversalCreateSchema(Schema):
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=2000))
    idempotency_key = fields.Str(load_default=None, validate=validate.Length(min=1, max=200))


class CreditPostingQueryArgsSchema(Schema):
    party_id = fields.Int()
    rule_code = fields.Str(validate=validate.Length(max=48))


class CreditPendingQueryArgsSchema(Schema):
    status = fields.Str(load_default="pending", validate=validate.OneOf(("pending", "approved", "rejected", "expired")))
    party_id = fields.Int()


class CreditNoteSchema(Schema):
    note = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class CreditAccountSchema(Schema):
    party_id = fields.Int()
    balance = fields.Int(metadata={"description": "sum of all postings (cached, verified)"})
    score = fields.Int(metadata={"description": "points still inside their display period on as_of"})
    balance_as_of = fields.Int(metadata={"description": "sum of postings effective on or before as_of"})
    as_of = fields.Date()
    postings = fields.Int()
    last_hash = fields.Str()


class CreditAccountQueryArgsSchema(Schema):
    as_of = fields.Date()


class CreditVerifySchema(Schema):
    ok = fields.Bool()
    postings = fields.Int()
    accounts = fields.Int()
    checkpoints = fields.Int()
    first_broken_posting_id = fields.Int(allow_none=True)
    problems = fields.List(fields.Str())


class CreditCheckpointSchema(Schema):
    day = fields.Date()
    head = fields.Str()
    prev_head = fields.Str()
    posting_count = fields.Int()
    signature = fields.Str(allow_none=True, metadata={"description": "HMAC-SHA256 under the operator's key"})


class CreditLedgerHeadsSchema(Schema):
    algorithm = fields.Str(metadata={"example": "HMAC-SHA256"})
    heads = fields.List(fields.Nested(CreditCheckpointSchema), metadata={"description": "oldest first"})


class CreditRatingRunCreateSchema(Schema):
    period = fields.Str(required=True, validate=validate.Length(min=4, max=16), metadata={"example": "2026-Q3"})


class CreditRatingReviewSchema(Schema):
    rating_ids = fields.List(fields.Int(), required=True, validate=validate.Length(min=1, max=500))
    decision = fields.Str(required=True, validate=validate.OneOf(("approve", "return")),
                          metadata={"description": "approve: on public notice; return: computed again by the next run"})
    note = fields.Str(load_default="", validate=validate.Length(max=2000),
                      metadata={"description": "why the ratings go back (required to return)"})


class CreditRatingRunSchema(Schema):
    id = fields.Int()
    period = fields.Function(lambda run: run.period.code)
    status = fields.Str()
    rated = fields.Int()
    job_id = fields.Str(allow_none=True)
    job_url = fields.Function(lambda run: f"/api/v1/jobs/{run.job_id}" if run.job_id else None)
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)


class CreditRatingSchema(Schema):
    id = fields.Int()
    period = fields.Function(lambda r: r.period.code)
    party_id = fields.Int()
    party_name = fields.Function(lambda r: r.party.name)
    points = fields.Int()
    computed_colour = fields.Str()
    colour = fields.Str()
    veto_rule_code = fields.Str(allow_none=True)
    state = fields.Str()
    computed_at = fields.DateTime()
    notice_starts_at = fields.DateTime(allow_none=True)
    notice_ends_at = fields.DateTime(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    hidden = fields.Bool()
    certificate_code = fields.Str()


class CreditRatingQueryArgsSchema(Schema):
    period = fields.Str(validate=validate.Length(max=16))
    state = fields.Str(validate=validate.OneOf(STATES))
    colour = fields.Str(validate=validate.OneOf(COLOURS))
    party_id = fields.Int()
    township = fields.Str(validate=validate.Length(max=32))


class CreditCurrentRatingSchema(Schema):
    colour = fields.Str()
    period = fields.Str()
    published_at = fields.DateTime()
    points = fields.Int()
    rating_id = fields.Int()


class CreditObjectionCreateSchema(Schema):
    text = fields.Str(required=True, validate=validate.Length(min=1, max=4000))


class CreditObjectionSchema(Schema):
    id = fields.Int()
    rating_id = fields.Int()
    party_id = fields.Int()
    text = fields.Str()
    filed_by = fields.Str()
    filed_at = fields.DateTime()
    deadline = fields.DateTime()
    status = fields.Str()
    answer = fields.Str(allow_none=True)
    answered_at = fields.DateTime(allow_none=True)


class CreditObjectionAnswerSchema(Schema):
    decision = fields.Str(required=True, validate=validate.OneOf(("upheld", "dismissed")))
    answer = fields.Str(required=True, validate=validate.Length(min=1, max=4000))
    new_colour = fields.Str(load_default=None, allow_none=True, validate=validate.OneOf(COLOURS))


class CreditObjectionQueryArgsSchema(Schema):
    status = fields.Str(load_default="open", validate=validate.OneOf(("open", "upheld", "dismissed")))


class CreditOverrideCreateSchema(Schema):
    to_colour = fields.Str(required=True, validate=validate.OneOf(COLOURS))
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=4000))


class CreditOverrideSchema(Schema):
    id = fields.Int()
    rating_id = fields.Int()
    from_colour = fields.Str()
    to_colour = fields.Str()
    reason = fields.Str()
    requested_by_id = fields.Int()
    requested_at = fields.DateTime()
    status = fields.Str()
    decided_by_id = fields.Int(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)


class CreditDecisionSchema(Schema):
    approve = fields.Bool(required=True)
    note = fields.Str(load_default="", validate=validate.Length(max=4000))


class CreditRepairCreateSchema(Schema):
    rating_id = fields.Int(required=True)
    statement = fields.Str(required=True, validate=validate.Length(min=1, max=4000))


class CreditRepairSchema(Schema):
    id = fields.Int()
    rating_id = fields.Int()
    party_id = fields.Int()
    statement = fields.Str()
    filed_by = fields.Str()
    filed_at = fields.DateTime()
    status = fields.Str()
    reviewed_at = fields.DateTime(allow_none=True)
    note = fields.Str(allow_none=True)


class CreditPublicRatingSchema(Schema):
    name = fields.Function(lambda r: _masked(r))
    kind = fields.Function(lambda r: r.party.kind)
    identifier = fields.Function(lambda r: _identifier(r))
    colour = fields.Str()
    period = fields.Function(lambda r: r.period.code)
    published_at = fields.DateTime()
    certificate_code = fields.Str()


class CreditPublicQueryArgsSchema(Schema):
    q = fields.Str(validate=validate.Length(max=64))
    period = fields.Str(validate=validate.Length(max=16))


def _masked(rating):
    from credit.ratings import masked_name

    return masked_name(rating.party)


def _identifier(rating):
    from credit.ratings import public_identifier

    return public_identifier(rating.party)


# ---------------------------------------------------------------- bulk intake and batch postings


class CreditIntakeUploadSchema(Schema):
    file = Upload(required=True, metadata={"description": "CSV (party, rule_code, effective_date, document, "
                                                          "inspector, note, source_id) or JSON Lines, UTF-8"})


class CreditIntakeFormatSchema(Schema):
    format = fields.Str(load_default=None, validate=validate.OneOf(("csv", "jsonl")),
                        metadata={"description": "default: from the file name or its first character"})


class CreditIntakeSchema(Schema):
    id = fields.Int()
    filename = fields.Str()
    format = fields.Str()
    sha256 = fields.Str()
    size_bytes = fields.Int()
    rows_total = fields.Int()
    rows_done = fields.Int()
    chunk_size = fields.Int()
    chunks_done = fields.Int()
    posted = fields.Int()
    pending = fields.Int()
    duplicate = fields.Int()
    refused = fields.Int()
    job_id = fields.Str()
    created_by = fields.Str()
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    errors_url = fields.Function(lambda i: f"/api/v1/credit/intakes/{i.id}/errors")
    job_url = fields.Function(lambda i: f"/api/v1/jobs/{i.job_id}")


class CreditIntakeErrorSchema(Schema):
    line = fields.Int()
    reason = fields.Str()


class CreditBatchItemSchema(Schema):
    party_id = fields.Int(required=True)
    rule_code = fields.Str(required=True, validate=validate.Length(min=2, max=48))
    effective_date = fields.Date(load_default=None)
    evidence = fields.Dict(load_default=None)
    idempotency_key = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    source_id = fields.Str(load_default=None, validate=validate.Length(max=128))


class CreditBatchSchema(Schema):
    postings = fields.List(fields.Nested(CreditBatchItemSchema), required=True,
                           validate=validate.Length(min=1, max=1000))


class CreditBatchResultItemSchema(Schema):
    index = fields.Int(attribute="line")
    status = fields.Str(metadata={"description": "posted | pending | duplicate | refused"})
    reason = fields.Str(allow_none=True)
    posting_id = fields.Int(allow_none=True)
    pending_id = fields.Int(allow_none=True)


class CreditBatchResultSchema(Schema):
    results = fields.List(fields.Nested(CreditBatchResultItemSchema))
    counts = fields.Dict(keys=fields.Str(), values=fields.Int())
