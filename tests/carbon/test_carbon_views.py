"""Registry pages in both languages, the operation forms, and the public pages: small, no script,
no personal identifier; the certificate's QR decodes (zbarimg) to the public page that verifies it."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from greenfin.carbon import services
from greenfin.extensions import db
from tests.conftest import make_resident_id


@pytest.fixture
def staff(app, create_user):
    def client_for(role):
        client = app.test_client()
        user = create_user(role)
        client.post("/login", data={"username": user.username, "password": "correct-horse-battery"})
        return client

    return client_for


def test_overview_project_and_account_pages_in_both_languages(staff, issued_project):
    project, block, _buffer = issued_project(tonnes="1234")
    admin = staff("admin")
    for lang, words in (("zh", ("碳汇登记簿", "可用", "已质押", "缓冲")), ("en", ("Carbon registry", "Available", "Buffer"))):
        html = admin.get(f"/carbon?lang={lang}").get_data(as_text=True)
        assert all(w in html for w in words), lang
        assert project.code in html and "<svg" in html
    page = admin.get(f"/carbon/projects/{project.id}?lang=zh").get_data(as_text=True)
    assert "监测报告" in page and "1,234" in page and "CCER-14-001-V01" in page
    account = admin.get(f"/carbon/accounts/{block.account_id}?lang=zh").get_data(as_text=True)
    assert "持有量" in account and services.block_serial(block) in account


def test_transfer_form_shows_errors_then_moves_units_with_feedback(staff, issued_project, create_party):
    project, block, _buffer = issued_project(tonnes="14137")  # 12,723 t to the owner, 1,414 t to the buffer
    buyer = create_party(name="广丰区生态储备公司")
    admin = staff("admin")
    form = admin.get(f"/carbon/blocks/{block.id}/transfer?lang=zh")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form.get_data(as_text=True))
    data = {"quantity": "99999", "to_party_id": str(buyer.id), "unit_price": "15"}
    if token:
        data["csrf_token"] = token.group(1)
    refused = admin.post(f"/carbon/blocks/{block.id}/transfer?lang=zh", data=data)
    assert refused.status_code == 422, refused.get_data(as_text=True)[-2500:]
    assert "12723" in refused.get_data(as_text=True), refused.get_data(as_text=True)[-2500:]
    data["quantity"] = "2723"
    done = admin.post(f"/carbon/blocks/{block.id}/transfer?lang=zh", data=data, follow_redirects=True)
    assert done.status_code == 200 and "40,845.00" in done.get_data(as_text=True)
    assert services.totals(project.id)[0]["available"] == 12723


def test_public_pages_are_small_scriptless_and_name_no_person(client, issued_project, create_party, tmp_path):
    number = make_resident_id()
    person = create_party(kind="individual", name="林秀英", resident_id=number, contact_phone="13907930000")
    project, block, _buffer = issued_project(tonnes="1000")
    services.transfer_units({"block_id": block.id, "quantity": 10, "to_party_id": person.id, "unit_price": "15"})
    person_block = db.session.scalars(services.block_query(account_id=services.ledger_account_of(person.id))).one()
    entry = services.retire_units({"block_id": person_block.id, "quantity": 5, "beneficiary": "广丰区马拉松",
                                   "purpose": "抵消2025年赛事排放"})
    db.session.commit()
    pages = [client.get("/disclosure/carbon"), client.get(f"/disclosure/carbon/units/{services.entry_serial(entry)}"),
             client.get(f"/disclosure/carbon/retirements/{entry.id}"),
             client.get(f"/disclosure/carbon/units/{services.block_serial(person_block)}")]
    for response in pages:
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and len(response.data) < 100_000
        assert re.search(r"<script(?![^>]*\bsrc=)", html) is None  # nothing inline (CSP)
        for secret in ("林秀英", number, number[-6:], "13907930000", person.id_masked or "\0"):
            assert secret not in html
    assert "广丰区马拉松" in pages[2].get_data(as_text=True)
    pdf = client.get(f"/disclosure/carbon/retirements/{entry.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    if not (shutil.which("pdftoppm") and shutil.which("zbarimg")):
        pytest.skip("poppler-utils and zbar-tools decode the QR code")
    (tmp_path / "cert.pdf").write_bytes(pdf.data)
    subprocess.run(["pdftoppm", "-r", "110", "-png", str(tmp_path / "cert.pdf"), str(tmp_path / "page")], check=True)
    decoded = subprocess.run(["zbarimg", "-q", "--raw", str(next(tmp_path.glob("page*.png")))],
                             capture_output=True, text=True).stdout.strip()
    assert decoded.endswith(f"/disclosure/carbon/retirements/{entry.id}")
    path = decoded.split("://", 1)[1].split("/", 1)[1]
    opened = client.get("/" + path)
    assert opened.status_code == 200 and services.entry_serial(entry) in opened.get_data(as_text=True)


def test_public_search_finds_a_serial_and_refuses_a_malformed_one(client, issued_project):
    project, block, _buffer = issued_project()
    found = client.get(f"/disclosure/carbon?q={services.serial(project.code, 2024, 5)}")
    assert found.status_code == 302 and "/disclosure/carbon/units/" in found.location
    assert client.get(found.location).status_code == 200
    assert client.get("/disclosure/carbon/units/GF-NOPE").status_code in (404, 422)
