"""Market business functions: the package's published contract (they add and flush, never commit:
greenfin/uow.py). By concern:

- ``catalogue``  the public eco-product catalogue (目录清单) and the regulators' coverage: a view of
                 what traceability, gep and credit record, nothing written
- ``trading``    buyers, offers made from traced lots, buyers' demand and its ranked matches, orders
                 (place, confirm, ship, receive, cancel) with EPCIS shipping and receiving events
- ``imports``    demand from a CSV file, all rows or none
- ``report``     offers, orders by status, what each buyer received per month; the procurement
                 dashboard (public buyers' eco-product share against their quota)

The rules (when a lot may be offered, which offers fit a demand, how they rank) live in
``greenfin/market/policy.py``.
"""
from __future__ import annotations

from greenfin.market.services.catalogue import (  # noqa: F401
    CSV_COLUMNS, add_figures, catalogue, certification_kinds, coverage, csv_rows, products, validate_filters,
)
from greenfin.market.services.imports import DEMAND_COLUMNS, import_demand  # noqa: F401
from greenfin.market.services.report import (  # noqa: F401
    PROCUREMENT_COLUMNS, REPORT_COLUMNS, market_report, procurement, record_purchase_total,
)
from greenfin.market.services.trading import (  # noqa: F401
    PUBLIC_QUOTA_DEFAULT, buyer_query, cancel_order, close_demand, confirm_order, demand_query, get_buyer,
    get_demand, get_offer, get_order, lot_left, lot_position, make_offer, match, offer_query, order_query,
    order_reference, place_order, post_demand, receive_order, register_buyer, ship_order, withdraw_offer,
    withdraw_recalled_lot,
)
