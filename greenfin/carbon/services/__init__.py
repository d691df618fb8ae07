"""Carbon registry business functions. They add and flush, never commit.

For other packages (reach the registry only through these):
- ``collateral_of(application_ids) -> {application_id: {"tonnes", "value", "lendable", "price",
  "price_source", "price_date", "haircut"}}``: the tonnes pledged to each loan application now and
  what they are worth as collateral (lending's CARBON-SINK coverage, pools' loan tapes);
- ``collateral_of_loans(loan_ids)``: the same keyed by booked loan (pool cuts and loan tapes);
- ``parcels_with_pledged_carbon(parcel_ids)``: parcels whose carbon is pledged (a forest mortgage
  on them would pledge the same trees twice);
- ``settle_loan_pledges(loan_id, outcome)``: release (repaid) or enforce (defaulted) a loan's pledges
  (called by this package's own receivers of ``loan_repaid`` / ``loan_defaulted``).
"""
from greenfin.carbon.ledger import (  # noqa: F401
    VerifyReport, block_serial, entry_serial, parse_serial, serial, verify_ledger,
)
from greenfin.carbon.services.operations import (  # noqa: F401
    collateral_of, collateral_of_loans, enforce_units, get_block, parcels_with_pledged_carbon, pledge_units, pledged_blocks,
    release_units, retire_units, settle_loan_pledges, transfer_units,
)
from greenfin.carbon.services.projects import (  # noqa: F401
    create_project, decide_report, gep_estimate, get_project, get_project_by_code, get_report, issue_report,
    list_projects, project_query, report_query, split_issuance, submit_report,
)
from greenfin.carbon.services.reads import (  # noqa: F401
    account_query, balances, block_query, entry_query, find_units, get_account, get_entry, get_retirement,
    grand_total, holdings, ledger_account_of, totals,
)
