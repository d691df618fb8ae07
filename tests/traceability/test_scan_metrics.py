"""Traceability's series on /metrics: scans by verdict, labels drawn."""
import pytest
from prometheus_client import REGISTRY

from greenfin.uow import commit
from greenfin.jobs import enqueue
from traceability import services
from tests.traceability.test_scan import first_label_path


@pytest.fixture
def client(app):
    """Each request a phone that keeps no cookies, so that each is a scan of its own (the same
    browser opening a label again is tests/traceability/test_scan_repeat.py's)."""
    return app.test_client(use_cookies=False)


def sample(name, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_scans_are_counted_by_verdict(client, create_lot, issue_labels):
    path, _serial = first_label_path(issue_labels(create_lot(), 2))
    genuine, repeat, fake = (sample("greenfin_scans_total", verdict=v) for v in ("genuine", "genuine_repeat",
                                                                                 "not_genuine"))
    client.get(path)
    client.get(path)
    client.get(path.replace("?s=", "?s=0"))  # a forged signature
    assert sample("greenfin_scans_total", verdict="genuine") == genuine + 1
    assert sample("greenfin_scans_total", verdict="genuine_repeat") == repeat + 1
    assert sample("greenfin_scans_total", verdict="not_genuine") == fake + 1


def test_label_sheet_job_counts_labels_drawn(create_lot, drain_jobs):
    lot = create_lot()
    batch = services.create_label_batch(lot, 24, "a4-3x8")
    before = sample("greenfin_labels_drawn_total")
    enqueue("traceability.jobs.render_label_sheet", {"batch_id": batch.id}, title="labels")
    commit()
    drain_jobs()
    assert sample("greenfin_labels_drawn_total") == before + 24
