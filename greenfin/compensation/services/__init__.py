"""Compensation business functions. They add and flush, never commit.

GEP is read only through ``greenfin.gep.services`` (``year_accounts``, ``revalue_accounts``);
eco-credit points are posted only through ``credit.services.post_event_points``.
"""
from greenfin.compensation.services.assessment import (  # noqa: F401
    alerts,
    create_indicator,
    enter_value,
    exit_audit,
    indicator_tree,
    score_year,
    scores,
)
from greenfin.compensation.services.damage import (  # noqa: F401
    basis_rows, get_incident, incident_query, value_damage,
)
from greenfin.compensation.services.change import ChangeReport, ParcelChange, gep_change, latest_change_year  # noqa: F401
from greenfin.compensation.services.runs import (  # noqa: F401
    approve_run,
    compute_run,
    get_run,
    import_monitoring,
    payment_csv,
    run_query,
    start_run,
)
from greenfin.compensation.services.schemes import (  # noqa: F401
    create_scheme,
    find_scheme,
    get_scheme,
    new_scheme_version,
    scheme_query,
    update_scheme,
    validate_rules,
)

__all__ = ["basis_rows", "get_incident", "incident_query", "value_damage", "alerts", "create_indicator", "enter_value", "exit_audit", "indicator_tree", "score_year", "scores",
           "ChangeReport", "ParcelChange", "gep_change", "latest_change_year", "approve_run", "compute_run", "get_run",
           "import_monitoring", "payment_csv", "run_query", "start_run", "create_scheme", "find_scheme",
           "get_scheme", "new_scheme_version", "scheme_query", "update_scheme", "validate_rules"]
