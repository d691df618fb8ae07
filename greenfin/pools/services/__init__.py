"""Pool business functions, by concern; importers use this façade (``from greenfin.pools import services``).

- ``pools``: pools themselves (CRUD);
- ``loans``: loans as pools see them, read through lending's published ``loan_facts``;
- ``membership``: evaluation, candidates, adding, removing and substituting loans;
- ``statistics``: headline figures and stratification tables.

Eligibility rules live in ``greenfin/pools/eligibility.py``; cuts and loan tapes in ``cuts.py``,
projections in ``projections.py``, servicer reports in ``reporting.py``. They add and flush,
never commit, and raise ``ValidationFailed`` / ``NotFound`` / ``Conflict``.
"""
from greenfin.pools.eligibility import (  # noqa: F401
    REASONS, concentration_reasons, loan_reasons, reason, reason_text,
)
from greenfin.pools.services.loans import (  # noqa: F401
    candidate_query, get_loans, label_memberships, lending, loan_facts, loan_record, party_pool_loans, product_names,
)
from greenfin.pools.services.membership import (  # noqa: F401
    add_loans, candidates, check_date, evaluate, live_memberships, members_on, membership_query, remove_loan,
    substitute_loan,
)
from greenfin.pools.services.pools import POOL_FIELDS, create_pool, get_pool, pool_query, update_pool  # noqa: F401
from greenfin.pools.services.statistics import (  # noqa: F401
    AMORTISATION_MAP, jsonable, live_records, live_statistics, statistics_of,
)
