"""Business functions of traceability: the package's published contract. They add and flush, never
commit (the unit of work around the request, CLI command or job commits once: greenfin/uow.py).

Handlers, jobs, other packages and tests use this façade (``from traceability import services``,
``services.create_lot(...)``); the verbs live by concern:

- ``catalogue``       brands, their authorised producers, products
- ``lots``            lots and their origin, recalls, tracing and the KDE export
- ``certifications``  certificates and which a lot carries; granted/lapsed signals
- ``events``          EPCIS 2.0 events of a lot's steps, export
- ``capture``         EPCIS capture of partners' documents (large ones stored by a job)
- ``labels``          label batches, the daily quota, the label-sheet job
- ``scans``           the scan verb, the lot's public view, scan statistics
- ``scan_store``      where a scan is judged and recorded (ORM session or the PostgreSQL scan pool)
                      and the per-process caches of the scan page
- ``enumeration``     serial guessing: flags, their review, acknowledging them, blocking a network
- ``links``           reads of other packages (credit colour, GEP summary) and announcements
- ``common``          field errors, parsing, the business date

The scan verdict itself lives in ``traceability/scan_rules.py``.

For other packages (lending, a market): lots (``get_lot``, ``find_lot``, ``lot_query``, ``trace_lot``),
their certificates (``lot_certifications``, ``cert_marks``, ``certification_query``), what the
public sees of a lot (``lot_public_view``; ``lot_open_view`` without a label in hand) and the public
listing of lots for the market catalogue (``catalogue_lots``, in ``listing``), the same facts of
given lots for the market's offers and orders (``lot_facts``, optionally locking the lots' rows), and
which lot each label serial belongs to (``label_lots``, for a buyer's receipt). Certificates granted and lapsed are announced as signals
(``greenfin.signals.certification_granted`` / ``certification_lapsed``), a recall as
``greenfin.signals.lot_recalled``, not called in. ``record_event`` takes an ``order`` (a purchase
order's reference), written as the event's ``po`` business transaction.
"""
from __future__ import annotations

from greenfin.core.types import utcnow  # noqa: F401
from traceability.models import LOT_UNITS  # noqa: F401
from traceability.services.common import CHINA_TZ, UNPRINTABLE, today  # noqa: F401
from traceability.services.catalogue import (  # noqa: F401
    authorise_brand, brand_authorisations, brand_authorised, brand_query, create_brand, create_product, get_brand,
    get_brand_authorisation, get_product, product_by_gtin, product_query, product_usable_by, revoke_brand_authorisation,
)
from traceability.services.events import (  # noqa: F401
    build_event, event_query, export_epcis, iter_export_events, lot_events, pack_lot, record_event, store_event,
    transform_lot,
)
from traceability.services.lots import (  # noqa: F401
    KDE_COLUMNS, create_lot, find_lot, get_lot, kde_rows, lot_query, recall_lot, trace_lot,
)
from traceability.services.certifications import (  # noqa: F401
    CERT_KIND_LABELS, cert_marks, certification_query, get_certification, grant_certification,
    lapse_expired_certifications, lot_certifications, revoke_certification,
)
from traceability.services.labels import (  # noqa: F401
    LABEL_LIMIT, LabelQuotaExceeded, batch_query, label_lots, label_serial, create_label_batch, get_batch, issue_label_batch, issue_labels,
    iter_batch_labels, label_text, labels_issued_today, render_batch_pdf, start_label_sheet,
)
from traceability.services.links import credit_colour, gep_summary  # noqa: F401
from traceability.services.scan_store import cached_fragment, invalidate_lot_cache  # noqa: F401
from traceability.services.scans import (  # noqa: F401
    build_lot_view, lot_open_view, lot_recall_status, lot_public_view, resolve_label, resolve_scan, scan_label, scan_meta, scan_statistics,
)
from traceability.services.enumeration import (  # noqa: F401
    ACKNOWLEDGE_ACTION, BLOCK_DAYS, ENUMERATION_ACTION, ENUMERATION_THRESHOLD, ENUMERATION_WINDOW, REVIEW_FIRST_DAY,
    REVIEW_LAST_DAY, acknowledge_flag, active_blocks, block_network, block_query, enumeration_flag_query,
    enumeration_flags, get_flag, lift_block, note_unrecognised_scan,
)
from traceability.services.listing import catalogue_lots, lot_facts  # noqa: F401
from traceability.services.capture import capture_epcis, import_epcis, run_capture  # noqa: F401
