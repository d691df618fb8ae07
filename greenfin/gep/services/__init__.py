"""GEP business functions. They add and flush, never commit.

For other packages (reach GEP only through these):
- ``current_parcel_gep(parcel_id) -> Optional[ParcelGep]``: the latest account of a
  parcel (value, account id, year, price version), e.g. to value loan collateral;
- ``service_quantity(parcel_ids, year, service)``: one service's summed quantity over parcels
  in a year (the carbon registry's estimate of sequestered tonnes);
- ``scan_summary(parcel_id) -> Optional[dict]``: a short summary for the consumer
  scan page (year, total, value per ha, top services with shares, both languages);
- ``year_accounts(year, township=None)`` -> [AccountFacts]: each parcel's latest account of a
  year with its service values (compensation reads GEP through it);
- ``revalue_accounts(account_ids, price_version)``: those accounts' quantities at another
  version's prices, V(q₁, p₀), for the quantity/price split of a change in GEP.
- ``accounted_parcel_ids() -> set[int]``: the parcels with at least one account (the market
  catalogue's coverage).
- ``service_codes() -> tuple[str, ...]``: the codes of the GEP services, in the method's order.
"""
from greenfin.gep.services.accounts import (  # noqa: F401
    ATTRIBUTE_FIELDS,
    ATTRIBUTE_LIMITS,
    ComputeResult,
    ParcelGep,
    account_query,
    account_services,
    accounted_parcel_ids,
    compute_accounts,
    compute_parcel_account,
    current_parcel_gep,
    get_account,
    get_attributes,
    latest_account,
    reproduce_account,
    scan_summary,
    service_quantity,
    set_attributes,
    validate_attributes,
    verify_account,
)
from greenfin.gep.services.totals import (  # noqa: F401
    CATEGORIES,
    CENT,
    account_years,
    category_shares,
    district_total,
    find_township,
    report_pdf,
    service_totals,
    shares,
    totals,
    versions_used,
    year_over_year,
)
from greenfin.gep.services.prices import (  # noqa: F401
    PARAMETER_FIELDS,
    copy_version,
    create_version,
    default_version,
    get_version,
    install_reference_versions,
    list_versions,
    update_parameter,
    version_query,
)
from greenfin.gep.services.runs import start_gep_run  # noqa: F401
from greenfin.gep.services.change import AccountFacts, revalue_accounts, year_accounts  # noqa: F401


def service_codes() -> tuple[str, ...]:
    """The codes of the GEP services (crops ... recreation), in the method's order."""
    from greenfin.gep.engine import SERVICES

    return tuple(s.code for s in SERVICES)


__all__ = [
    "ATTRIBUTE_FIELDS",
    "ATTRIBUTE_LIMITS",
    "ComputeResult",
    "ParcelGep",
    "account_query",
    "accounted_parcel_ids",
    "service_codes",
    "account_services",
    "compute_accounts",
    "compute_parcel_account",
    "current_parcel_gep",
    "get_account",
    "get_attributes",
    "latest_account",
    "reproduce_account",
    "scan_summary",
    "service_quantity",
    "set_attributes",
    "validate_attributes",
    "verify_account",
    "CATEGORIES",
    "CENT",
    "account_years",
    "category_shares",
    "district_total",
    "find_township",
    "report_pdf",
    "service_totals",
    "shares",
    "totals",
    "versions_used",
    "year_over_year",
    "PARAMETER_FIELDS",
    "copy_version",
    "create_version",
    "default_version",
    "get_version",
    "install_reference_versions",
    "list_versions",
    "update_parameter",
    "version_query",
    "start_gep_run",
    "AccountFacts",
    "revalue_accounts",
    "year_accounts",
]
