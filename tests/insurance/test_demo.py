"""The demo season's frost: three orchard policies paid, one pledged, whose lender's payout clears the
loan's arrears and shows as a recovery in the pool's next servicer report (page and PDF)."""
from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal

import pytest
from sqlalchemy import select

from greenfin.extensions import db
from greenfin.insurance import seed as demo
from greenfin.insurance import services
from greenfin.lending import services as lending

pytestmark = pytest.mark.no_db_isolation  # reads the demo database, not the test transaction


def test_demo_frost_pays_three_policies_and_reaches_the_servicer_report(demo_app, tmp_path):
    with demo_app.app_context():
        [event] = db.session.scalars(services.event_query()).all()
        assert (event.started_on, event.index_value) == (min(demo.FROST_DAYS), Decimal("-5.4"))
        claims = db.session.scalars(services.claim_query(event_id=event.id)).all()
        assert len(claims) == 3 and {c.status for c in claims} == {"paid"}
        [pledged] = [c for c in claims if c.loan_id is not None]
        assert pledged.to_lender == pledged.amount and pledged.paid_on == demo.PAID_ON
        facts = lending.loan_facts([pledged.loan_id], demo.PAID_ON)[pledged.loan_id]
        assert facts.on(demo.EVALUATED_ON).days_past_due > 0 and facts.days_past_due == 0  # arrears cleared
        from greenfin.pools.models import Pool, PoolMembership

        membership = db.session.scalar(select(PoolMembership).where(PoolMembership.loan_id == pledged.loan_id))
        assert membership is not None, "the pledged loan is in the demo pool"
        pool = db.session.get(Pool, membership.pool_id)
        month = demo.PAID_ON.strftime("%Y-%m")
        event_code, amount, pool_id = event.code, pledged.amount, pool.id
    client = demo_app.test_client()
    page = client.get(f"/disclosure/pools/{pool_id}/reports/{month}").get_data(as_text=True)
    assert "其中：指数保险赔付" in page and f"{amount:,.2f}" in page
    public = client.get(f"/insurance/events/{event_code}").get_data(as_text=True)
    assert "合成数据" in public and "-5.4" in public
    pdf = client.get(f"/disclosure/pools/{pool_id}/reports/{month}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        (tmp_path / "r.pdf").write_bytes(pdf.data)
        text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True).stdout
        assert "index-insurance payouts" in text and f"{amount:,.2f}" in text
        notice = client.get(f"/insurance/events/{event_code}.pdf")
        (tmp_path / "e.pdf").write_bytes(notice.data)
        text = subprocess.run(["pdftotext", str(tmp_path / "e.pdf"), "-"], capture_output=True, text=True).stdout
        assert "-5.4" in text and "SYNTHETIC" in text and "Policies paid" in text
