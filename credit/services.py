"""What other packages (and this one's API, pages and CLI) call. Add and flush, never commit.

For other capabilities:

- ``COLOURS``: the four levels, best to worst.
- ``current_rating(party_id) -> Optional[PublishedRating]``: the party's latest published
  rating still shown publicly (colour, period, published_at, points, rating_id), or None.
- ``post_event_points(party_id, rule_code, *, source, source_id, effective_date=None, evidence=None)``:
  idempotent on (source, source_id, rule_code); event rule codes TRACE_CERT_GRANTED,
  TRACE_CERT_LAPSED, LOAN_REPAID_ON_TIME, LOAN_DEFAULTED, PENALTY_NOTICE.
"""
from __future__ import annotations

from credit.common import add_months  # noqa: F401
from credit.integrity import (  # noqa: F401
    VerifyReport, checkpoint_ledger, parse_published_heads, published_heads, verify_against, verify_checkpoints,
    verify_ledger,
)
from credit.balances import balance, get_account, posting_query, replayed_balance, score  # noqa: F401
from credit.bulk import Outcome, Row, post_batch, post_rows  # noqa: F401
from credit.intake import (  # noqa: F401
    counts_of, get_intake, intake_errors_csv, intake_errors_query, intake_query, start_intake,
)
from credit.ledger import (  # noqa: F401
    PostingResult,
    approve_pending,
    expire_pending,
    get_pending,
    get_posting,
    needs_review,
    pending_query,
    post_event_points,
    reject_pending,
    reversal_of,
    reverse_posting,
    submit_posting,
)
from credit.rules import (  # noqa: F401
    create_rule,
    ensure_rule_catalogue,
    get_rule,
    revise_rule,
    rule_applies,
    rule_query,
    rule_versions,
)
from credit.ratings import (  # noqa: F401
    COLOURS,
    PublishedRating,
    THRESHOLDS,
    answer_objection,
    apply_repair,
    approve_rating,
    colour_for,
    current_rating,
    decide_override,
    decide_repair,
    default_run_period,
    distribution_by_township,
    distribution_over_time,
    file_objection,
    get_objection,
    get_or_create_period,
    get_override,
    get_period,
    get_rating,
    get_repair,
    latest_rating,
    masked_name,
    objection_query,
    period_bounds,
    public_identifier,
    public_rating_query,
    publish_due_ratings,
    publish_rating,
    rate_all,
    rating_by_certificate,
    rating_query,
    repair_query,
    request_override,
    return_rating,
    review_counts,
    review_ratings,
    start_rating_run,
)

EVENT_RULES = ("TRACE_CERT_GRANTED", "TRACE_CERT_LAPSED", "LOAN_REPAID_ON_TIME", "LOAN_DEFAULTED", "PENALTY_NOTICE")
