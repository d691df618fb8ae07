"""Labels: batches of signed serials for a lot (held to a producer's daily quota), the job that
draws their sheet, and reading them back for the sheet and the CSV."""
from __future__ import annotations

from typing import Iterator, Optional

from flask import current_app
from sqlalchemy import Select, func, insert, select

from greenfin import dates
from greenfin.core.services import record_audit
from greenfin.core.types import utcnow
from greenfin.errors import DomainError, NotFound, ValidationFailed
from greenfin.extensions import advisory_lock, db
from traceability import digital_link as dl
from traceability.models import Label, LabelBatch, Lot
from traceability.services.certifications import cert_marks
from traceability.services.common import add_error

LABEL_LIMIT = 100_000


class LabelQuotaExceeded(DomainError):
    """A producer asked for more labels than are left of its allowance for the business day."""

    status = 429
    code = "label_quota_exceeded"

    def __init__(self, remaining: int, limit: int):
        self.remaining, self.limit = remaining, limit
        super().__init__(f"Daily label quota: {remaining:,} of {limit:,} labels remain today",
                         {"count": [f"at most {remaining:,} more labels today (quota {limit:,} a day)"]})


def labels_issued_today(producer_id: int) -> int:
    """Labels of the producer's lots in the batches created this business day (Asia/Shanghai)."""
    return db.session.scalar(select(func.coalesce(func.sum(LabelBatch.count), 0)).join(Lot).where(
        Lot.producer_id == producer_id, LabelBatch.created_at >= dates.day_start(dates.today()))) or 0


def _check_label_quota(producer_id: int, count: int) -> None:
    limit = current_app.config["TRACE_LABELS_PER_DAY"]
    advisory_lock(f"trace_label_quota:{producer_id}")  # one producer's requests take turns
    remaining = max(0, limit - labels_issued_today(producer_id))
    if count > remaining:
        raise LabelQuotaExceeded(remaining, limit)


# A fixed text, so that forms and the API say the same and it is translated.
COUNT_RANGE = "must be a whole number from 1 to 100,000"


def create_label_batch(lot: Lot, count: int, layout: str, created_by_id: Optional[int] = None,
                       scope: Optional[int] = None) -> LabelBatch:
    """A batch of ``count`` labels for the lot. A producer (``scope``) is held to the daily quota
    (``TRACE_LABELS_PER_DAY``, counting every batch of its lots that day); staff and the CLI are not."""
    from traceability.pdf import LAYOUTS

    errors: dict = {}
    if not isinstance(count, int) or not 1 <= count <= LABEL_LIMIT:
        add_error(errors, "count", COUNT_RANGE)
    if layout not in LAYOUTS:
        add_error(errors, "layout", "must be one of " + ", ".join(LAYOUTS))
    if lot.recalled_at is not None:
        add_error(errors, "lot_id", "the lot is recalled: no new labels")
    if errors:
        raise ValidationFailed("Invalid label batch", errors)
    if scope is not None:
        _check_label_quota(lot.producer_id, count)
    batch = LabelBatch(lot_id=lot.id, count=count, layout=layout, created_by_id=created_by_id)
    db.session.add(batch)
    db.session.flush()
    record_audit("trace.labels.create", "trace_label_batch", batch.id,
                 after={"lot_id": lot.id, "count": count, "layout": layout}, party_id=lot.producer_id)
    return batch


def start_label_sheet(lot: Lot, count: int, layout: str, title: str, created_by_id: Optional[int] = None,
                      scope: Optional[int] = None) -> LabelBatch:
    """Issue a batch of labels and draw its sheet in a job on the low-priority queue."""
    from greenfin.jobs import enqueue

    batch = create_label_batch(lot, count, layout, created_by_id=created_by_id, scope=scope)
    batch.job_id = enqueue("traceability.jobs.render_label_sheet", {"batch_id": batch.id}, title=title,
                           party_id=lot.producer_id, subject=("trace.lot_detail", {"lot_id": lot.id})).id
    return batch


def issue_label_batch(lot: Lot, count: int, layout: str) -> LabelBatch:
    """A batch of labels with its serials issued at once, without a job (the CLI; no quota)."""
    batch = create_label_batch(lot, count, layout)
    issue_labels(batch)
    return batch


def issue_labels(batch: LabelBatch, progress=None, chunk: int = 5000, rng=None) -> int:
    """Create the batch's serials and signatures (bulk inserts). Safe to call again: tops up only.

    ``rng`` (a seeded random.Random) makes serials reproducible: for demo data only.
    """
    lot = batch.lot
    key = current_app.config["LABEL_SIGNING_KEY"]
    have = db.session.scalar(select(func.count(Label.id)).where(Label.batch_id == batch.id)) or 0
    missing = batch.count - have
    now = utcnow()
    done = 0
    while missing > 0:
        n = min(chunk, missing)
        serials = dl.new_serials(n) if rng is None else list(dict.fromkeys(
            "".join(rng.choice(dl.SERIAL_ALPHABET) for _ in range(dl.SERIAL_LENGTH)) for _ in range(n)))
        clash = set(db.session.scalars(select(Label.serial).where(Label.serial.in_(serials))))
        serials = [s for s in serials if s not in clash]
        db.session.execute(insert(Label), [
            {"serial": s, "signature": dl.sign(key, lot.product.gtin, lot.code, s), "lot_id": lot.id,
             "batch_id": batch.id, "created_at": now} for s in serials])
        missing -= len(serials)
        done += len(serials)
        if progress:
            progress(done)
    return done


def iter_batch_labels(batch: LabelBatch, chunk: int = 2000) -> Iterator[tuple[str, str]]:
    """(uri, serial) of a batch's labels, read in chunks."""
    base = current_app.config["PUBLIC_BASE_URL"]
    gtin, code = batch.lot.product.gtin, batch.lot.code
    last = 0
    while True:
        rows = db.session.execute(select(Label.id, Label.serial, Label.signature)
                                  .where(Label.batch_id == batch.id, Label.id > last)
                                  .order_by(Label.id).limit(chunk)).all()
        if not rows:
            return
        for row_id, serial, signature in rows:
            last = row_id
            yield dl.label_uri(base, gtin, code, serial, signature), serial


def label_text(lot: Lot):
    from traceability.pdf import LabelText

    brand = lot.product.brand
    return LabelText(product=lot.product.name, lot=lot.code,
                     harvest_date=lot.harvest_date.isoformat() if lot.harvest_date else "—",
                     marks=cert_marks(lot), brand=f"{brand.name} {brand.name_en or ''}".strip() if brand else "")


def render_batch_pdf(batch: LabelBatch, out, progress=None) -> int:
    from traceability.pdf import render_label_sheet

    return render_label_sheet(out, batch.layout, label_text(batch.lot), iter_batch_labels(batch),
                              total=batch.count, progress=progress)


def batch_query(lot_id: Optional[int] = None, producer_id: Optional[int] = None) -> Select:
    stmt = select(LabelBatch).order_by(LabelBatch.id.desc())
    if lot_id is not None:
        stmt = stmt.where(LabelBatch.lot_id == lot_id)
    if producer_id is not None:
        stmt = stmt.join(Lot).where(Lot.producer_id == producer_id)
    return stmt


def get_batch(batch_id: int) -> LabelBatch:
    batch = db.session.get(LabelBatch, batch_id)
    if batch is None:
        raise NotFound(f"label batch {batch_id} not found")
    return batch



def label_serial(scanned: str) -> str:
    """The serial (GS1 AI 21) of what a scanner read: the serial itself or the label's whole
    Digital Link URI (``.../01/<gtin>/10/<lot>/21/<serial>?s=...``)."""
    text = (scanned or "").strip()
    if "/21/" in text:
        text = text.split("/21/", 1)[1].split("?", 1)[0].split("/", 1)[0]
    return text


def label_lots(scanned: list[str]) -> dict[str, Optional[int]]:
    """For each scanned label (serial or Digital Link URI), the id of the lot it was issued for, or
    None for a serial no label carries."""
    serials = {s: label_serial(s) for s in scanned}
    known = dict(db.session.execute(select(Label.serial, Label.lot_id)
                                    .where(Label.serial.in_(set(serials.values())))).all()) if serials else {}
    return {s: known.get(serial) for s, serial in serials.items()}
