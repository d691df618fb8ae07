"""Insurance business functions, by concern; other packages use only this façade (the contract).

The contract for other packages: ``insured_parcel_ids(parcel_ids, on)`` (lending's pricing
mitigant reads it through ``greenfin.registry.contract("greenfin.insurance")``).
Insurance reads lending through lending's contract only: ``pledged_loans`` (the loss payee) and
``post_insurance_payout`` (the payout as a repayment). They add and flush, never commit.
"""
from greenfin.insurance.services.backtest import run_backtest  # noqa: F401
from greenfin.insurance.services.claims import (  # noqa: F401
    LIVE_CLAIM_STATUSES, approve_claim, claim_query, evaluate_policies, event_query, event_summary, get_claim,
    get_event, propose_claim, reject_claim, start_evaluation,
)
from greenfin.insurance.services.policies import (  # noqa: F401
    cancel_policy, fund_summary, get_policy, insured_parcel_ids, issue_policy, loss_payee_loans, policy_query,
)
from greenfin.insurance.services.products import (  # noqa: F401
    create_product, find_product, get_product, latest_products, list_products, terms_of, validate_product,
)
from greenfin.insurance.services.weather import (  # noqa: F401
    ImportReport, create_station, find_station, get_station, import_observations, link_parcels, list_stations,
    observation_query, observation_span, parcel_station, readings,
)
