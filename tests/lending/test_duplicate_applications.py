"""A second pending application for the same applicant and product is warned about and refused
unless confirmed: through the service, the API and the page."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from greenfin.errors import ValidationFailed
from greenfin.extensions import db
from greenfin.lending import services
from greenfin.lending.models import Application
from greenfin.core.models import AuditEvent


def applications() -> int:
    return db.session.scalar(select(func.count(Application.id)))


def body(party, product) -> dict:
    return {"party_id": party.id, "product_id": product.id, "amount": "30000", "term_months": 12, "purpose": "周转",
            "annual_income": "300000", "total_assets": "600000", "total_debts": "10000"}


def test_second_pending_application_is_refused_unless_confirmed(create_application, create_party):
    party = create_party()
    first = create_application(party=party)
    with pytest.raises(ValidationFailed) as info:
        create_application(party=party)
    assert info.value.code == "duplicate_pending" and info.value.pending == [first.number]
    assert info.value.errors == {"confirm_duplicate": [services.DUPLICATE_PENDING]}
    db.session.rollback()
    assert applications() == 1
    second = create_application(party=party, confirm_duplicate=True)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "lending.application.create",
                                                       AuditEvent.entity_id == str(second.id)))
    assert event.after["duplicate_of"] == [first.number]
    # Another product, or once the first is no longer pending: no warning.
    create_application(kind="orchard", party=party, amount=Decimal("100000"))
    services.withdraw_application(first, "重复提交")
    services.withdraw_application(second, "重复提交")
    create_application(party=party)


def test_api_answers_422_naming_the_pending_one_and_files_when_confirmed(api, create_application, create_party,
                                                                          products):
    party = create_party()
    first = create_application(party=party)
    officer = api("loan_officer")
    refused = officer.post("/api/v1/lending/applications", json=body(party, products["eco_credit"]))
    assert refused.status_code == 422 and refused.json["code"] == "duplicate_pending"
    assert refused.json["errors"] == {"confirm_duplicate": [services.DUPLICATE_PENDING]}
    assert first.number in refused.json["message"]
    assert applications() == 1
    filed = officer.post("/api/v1/lending/applications",
                         json=body(party, products["eco_credit"]) | {"confirm_duplicate": True})
    assert filed.status_code == 201 and applications() == 2


def test_page_warns_at_the_field_in_chinese_and_files_when_confirmed(client, login, create_user, create_application,
                                                                      create_party, products):
    party = create_party()
    first = create_application(party=party)
    login(create_user("loan_officer"))
    form = {k: str(v) for k, v in body(party, products["eco_credit"]).items()}
    refused = client.post("/lending/applications/new", data=form)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and applications() == 1
    assert "该申请人已有此贷款产品的待处理申请" in html and first.number in html
    assert 'name="confirm_duplicate"' in html
    filed = client.post("/lending/applications/new", data=form | {"confirm_duplicate": "y"})
    assert filed.status_code == 302 and applications() == 2
