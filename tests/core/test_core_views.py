"""Core pages: sign-in, access, forms re-shown with messages, CSRF, producer scoping."""
from sqlalchemy import func, select

from greenfin.core.models import ApiToken, Party, User
from greenfin.extensions import db


def test_anonymous_page_redirects_to_login(client):
    response = client.get("/parties")
    assert response.status_code == 302 and "/login" in response.location


def test_home_is_public_and_chinese_by_default(client):
    body = client.get("/").get_data(as_text=True)
    assert "广丰区绿色金融与生态产品服务平台" in body
    assert "Guangfeng green finance" in client.get("/?lang=en").get_data(as_text=True)


def test_login_rejects_wrong_password(client, create_user):
    user = create_user("regulator")
    response = client.post("/login", data={"username": user.username, "password": "nope-nope-nope"})
    assert response.status_code == 401
    assert "登录名或密码错误" in response.get_data(as_text=True)


def test_login_ignores_offsite_next(client, create_user):
    user = create_user("regulator")
    response = client.post("/login?next=//evil.example/x",
                           data={"username": user.username, "password": "correct-horse-battery"})
    assert response.location == "/"


def test_logout_invalidates_copied_cookie(app, create_user, login, client):
    user = create_user("regulator")
    login(user)
    stolen = client.get_cookie("session").value
    client.post("/logout")
    other = app.test_client()
    other.set_cookie("session", stolen)
    assert other.get("/audit").status_code == 302


def test_csrf_required_on_forms(app, client, create_user, login, monkeypatch):
    login(create_user("admin"))
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post("/parties/new", data={"kind": "firm", "name": "无令牌", "township_code": "danan"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Party.id))) == 0


def test_party_form_reshown_with_translated_message(client, create_user, login):
    login(create_user("loan_officer"))
    response = client.post("/parties/new", data={"kind": "firm", "name": "错误代码公司",
                                                 "uscc": "913611030000000000", "township_code": "danan"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "校验码不符" in body and 'value="错误代码公司"' in body
    assert db.session.scalar(select(func.count(Party.id))) == 0


def test_party_form_creates_party(client, create_user, login):
    from tests.conftest import make_uscc

    login(create_user("loan_officer"))
    response = client.post("/parties/new", data={"kind": "firm", "name": "广丰新公司", "uscc": make_uscc(),
                                                 "township_code": "hujiao"})
    assert response.status_code == 302
    party = db.session.scalar(select(Party).where(Party.name == "广丰新公司"))
    assert party.township_code == "hujiao"
    assert party.name in client.get(response.location).get_data(as_text=True)


def test_producer_lands_on_own_party(client, create_user, create_party, login):
    producer = create_user("producer")
    login(producer)
    assert client.get("/parties").location.endswith(f"/parties/{producer.party_id}")
    assert client.get(f"/parties/{create_party().id}").status_code == 404
    assert client.get("/audit").status_code == 403


def test_producer_parcel_form_offers_only_own_party(client, create_user, create_party, login):
    producer = create_user("producer")
    other = create_party()
    login(producer)
    body = client.get("/parcels/new").get_data(as_text=True)
    assert producer.party.name in body and other.name not in body


def test_audit_page_filters(client, create_user, create_party, login):
    login(create_user("regulator"))
    party = create_party(name="审计目标")
    body = client.get(f"/audit?entity_type=party&entity_id={party.id}&lang=en").get_data(as_text=True)
    assert "Party registered" in body and "审计目标" in body
    assert f'href="/parties/{party.id}"' in body, "the target is a link"
    assert "Party registered" not in client.get("/audit?action=user.&lang=en").get_data(as_text=True).split("<tbody>")[1]


def test_admin_creates_user_and_token(client, create_user, login):
    login(create_user("admin"))
    response = client.post("/admin/users/new", data={"username": "clerk1", "display_name": "Clerk", "role": "regulator",
                                                      "party_id": 0, "password": "long-enough-pass", "active": "y"})
    assert response.status_code == 302
    clerk = db.session.scalar(select(User).where(User.username == "clerk1"))
    page = client.post("/admin/tokens", data={"user_id": clerk.id, "name": "integration"}).get_data(as_text=True)
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == clerk.id))
    assert token.prefix in page and "gf_" in page


def test_user_form_rejects_short_password(client, create_user, login):
    login(create_user("admin"))
    response = client.post("/admin/users/new", data={"username": "clerk2", "role": "regulator", "party_id": 0,
                                                      "password": "short"})
    assert response.status_code == 422 and "至少 10 个字符" in response.get_data(as_text=True)


def test_api_docs_served_locally(client):
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assert "http" not in html.split("<body>")[1].split("</body>")[0].replace("http-equiv", "")
    assert client.get("/api/v1/docs/static/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/js/api-docs.js").status_code == 200
