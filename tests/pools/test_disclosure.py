"""Public investor disclosure: anonymous, published data only, nothing that identifies a borrower."""
import re
from datetime import date

import pytest

from greenfin.dates import today as business_today
from greenfin.extensions import db
from greenfin.pools import cuts, reporting, services
from greenfin.security import PUBLIC, declared_access

ENDPOINTS = ("pools.disclosure_index", "pools.disclosure_pool", "pools.disclosure_cut", "pools.disclosure_report",
             "pools.disclosure_report_pdf")


@pytest.fixture
def disclosed(create_pool, create_party, create_loan, pay_through):
    """A pool with a published cut (30 June), a later draft cut (31 July) and the August report."""
    pool = create_pool(name="广丰绿色资产池披露测试")
    parties = [create_party(name="披露测试柚园有限公司", sector="pomelo"),
               create_party(kind="individual", name="披露测试王五", township_code="hujiao")]
    loans = [create_loan(party=p, disbursed_on=date(2026, 1, 10), amount=str(60000 + 20000 * i),
                         collateral_value="150000", collateral_gep="88000") for i, p in enumerate(parties)]
    for loan in loans:
        pay_through(loan, business_today())
    services.add_loans(pool, [l.id for l in loans], added_on=date(2026, 6, 30), as_of=date(2026, 6, 30))
    published = cuts.publish_cut(cuts.create_cut(pool, date(2026, 6, 30)))
    reporting.generate_servicer_report(pool, "2026-08")
    draft = cuts.create_cut(pool, date(2026, 7, 31), note="草稿：尚未公布")
    db.session.commit()
    return pool, published, draft, parties, loans


def pages(pool, cut):
    base = f"/disclosure/pools/{pool.id}"
    return ["/disclosure/pools", base, f"{base}/cuts/{cut.id}", f"{base}/reports/2026-08"]


def test_disclosure_routes_are_public(app):
    for endpoint in ENDPOINTS:
        assert declared_access(app, endpoint, "GET") == {PUBLIC}, endpoint


def test_anonymous_reads_published_pool_reports_and_pdf(client, disclosed):
    pool, published, _draft, _parties, _loans = disclosed
    for url in pages(pool, published):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert pool.name in html and re.search(r"<script(?![^>]*\bsrc=)", html) is None and 'style="' not in html
        assert not re.search(r'(?:src|href)="(?:https?:)?//', html), url  # local assets only
    overview = client.get(f"/disclosure/pools/{pool.id}").get_data(as_text=True)
    assert f"#{published.seq} · " in overview and "2026-06-30" in overview
    assert "<svg" in overview and "2026-08" in overview and f"/disclosure/pools/{pool.id}/reports/2026-08/pdf" in overview
    report = client.get(f"/disclosure/pools/{pool.id}/reports/2026-08").get_data(as_text=True)
    assert "<svg" in report and "176,000.00" in report  # the collateral's GEP, from the stored report
    pdf = client.get(f"/disclosure/pools/{pool.id}/reports/2026-08/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_draft_cuts_and_undisclosed_pools_are_not_shown(client, create_pool, create_loan, pay_through, disclosed):
    pool, published, draft, *_ = disclosed
    base = f"/disclosure/pools/{pool.id}"
    assert client.get(f"{base}/cuts/{draft.id}").status_code == 404
    overview = client.get(base).get_data(as_text=True)
    assert f"/cuts/{draft.id}\"" not in overview and "2026-07-31" not in overview and "草稿" not in overview
    # A pool with only a draft cut is not disclosed at all.
    hidden = create_pool(name="未公布的资产池")
    loan = create_loan(disbursed_on=date(2026, 1, 10))
    pay_through(loan, business_today())
    services.add_loans(hidden, [loan.id], added_on=date(2026, 6, 30), as_of=date(2026, 6, 30))
    hidden_draft = cuts.create_cut(hidden, date(2026, 6, 30))
    db.session.commit()
    listing = client.get("/disclosure/pools").get_data(as_text=True)
    assert pool.name in listing and hidden.name not in listing
    for url in (f"/disclosure/pools/{hidden.id}", f"/disclosure/pools/{hidden.id}/cuts/{hidden_draft.id}",
                f"/disclosure/pools/{hidden.id}/cuts/{published.id}", f"/disclosure/pools/{hidden.id}/reports/2026-08",
                f"/disclosure/pools/{hidden.id}/reports/2026-08/pdf", f"{base}/reports/2026-09"):
        assert client.get(url).status_code == 404, url


def test_no_borrower_names_or_identifiers_in_the_pages(client, disclosed):
    pool, published, _draft, parties, loans = disclosed
    html = "".join(client.get(url).get_data(as_text=True) for url in pages(pool, published))
    html += "".join(client.get(url + "?lang=en").get_data(as_text=True) for url in pages(pool, published))
    for party in parties:
        assert party.name not in html
        assert f"GF-O{party.id:06d}" not in html
        for identifier in (party.uscc, party.id_masked):
            assert not identifier or identifier not in html
    for loan in loans:
        assert loan.number not in html
    assert "tape.csv" not in html


def test_staff_pool_page_links_to_the_disclosure(client, create_user, login, disclosed):
    pool, *_ = disclosed
    login(create_user("regulator"))
    assert f'href="/disclosure/pools/{pool.id}"' in client.get(f"/pools/{pool.id}").get_data(as_text=True)
    assert 'href="/disclosure/pools"' in client.get("/pools").get_data(as_text=True)
