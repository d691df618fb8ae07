"""Jobs of traceability: label sheets (serials + PDF), large EPCIS captures and certificate lapses.
Safe to run twice."""
from __future__ import annotations

import os
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from greenfin.metrics import count_labels

from traceability import services


def sheet_path(batch_id: int) -> Path:
    folder = Path(current_app.config["INSTANCE_PATH"]) / "labels"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"batch-{batch_id}.pdf"


def render_label_sheet(ctx, batch_id: int) -> None:
    """Issue the batch's serials, then draw the sheet to instance/labels/ (atomic rename).

    A worker killed while drawing leaves its partial file behind (named by its process id);
    the retry removes it, so the folder ends with the one sheet.
    """
    batch = services.get_batch(batch_id)
    total = batch.count
    ctx.progress(1, "serials")
    services.issue_labels(batch, progress=lambda n: ctx.progress(1 + int(29 * n / total), "serials", n, total))
    path = sheet_path(batch.id)
    for partial in path.parent.glob(f"{path.stem}.*.tmp"):
        partial.unlink(missing_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    services.render_batch_pdf(batch, str(tmp), progress=lambda n: ctx.progress(30 + int(69 * n / total), "drawing", n, total))
    os.replace(tmp, path)
    count_labels(total)
    ctx.set_result(url=f"/trace/batches/{batch.id}/sheet.pdf", data={"batch_id": batch.id, "labels": total})


render_label_sheet.label = _l("Label sheet")


render_label_sheet.queue = "low"  # CPU-heavy drawing on its own queue (greenfin/jobs.py, docs/deploy.md)


def capture_epcis(ctx, capture_id: int) -> None:
    """Store a large EPCIS document kept by the capture (all or nothing), or record why it is refused."""
    result = services.run_capture(capture_id, progress=lambda done, total: ctx.progress(done * 99 // total, "storing", done, total))
    ctx.set_result(data={"capture_id": capture_id} | result)


capture_epcis.label = _l("EPCIS capture")


def lapse_certifications(ctx) -> None:
    lapsed = services.lapse_expired_certifications()
    ctx.set_result(data={"lapsed": [c.id for c in lapsed]})


lapse_certifications.label = _l("Certificate lapsing")
