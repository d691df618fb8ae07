"""The regulators' review of serial guessing: flags raised by guessing, listed for regulators and admins only."""
import json
import secrets
from datetime import timedelta

from traceability import services

GUESSER = "198.51.100.23"
NETWORK = "198.51.100.0/24"  # all a flag keeps of the guesser's address


def guess(app, lot, address=GUESSER, times=1):
    """A stranger scans codes of the lot's GTIN and lot code with serials and signatures made up."""
    client = app.test_client()
    for _ in range(times):
        serial, signature = secrets.token_hex(8).upper(), secrets.token_urlsafe(9)
        response = client.get(f"/01/{lot.product.gtin}/10/{lot.code}/21/{serial}?s={signature}",
                              environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 404


def today_in_china():
    return services.today()


def test_guessing_appears_on_the_regulators_page(client, app, create_lot, create_user, login, limits_on):
    lot = create_lot()
    guess(app, lot, times=services.ENUMERATION_THRESHOLD - 1)
    login(create_user("regulator"))
    assert "198.51.100.23" not in client.get("/trace/enumeration").get_data(as_text=True)
    guess(app, lot, times=3)  # the tenth raises the flag; the count goes on
    html = client.get("/trace/enumeration").get_data(as_text=True)
    assert "疑似猜码" in html and NETWORK in html and GUESSER not in html
    assert lot.product.gtin in html and lot.code in html and lot.product.brand.name in html
    assert f'href="/trace/lots/{lot.id}"' in html
    assert '<td class="num">12</td>' in html
    english = client.get("/trace/enumeration?lang=en").get_data(as_text=True)
    assert "Suspected serial guessing" in english and "Codes not recognised" in english


def test_api_lists_flags_newest_first_with_what_was_probed(app, api, create_lot, limits_on):
    first, second = create_lot(), create_lot()
    guess(app, first, address="198.51.100.1", times=services.ENUMERATION_THRESHOLD)
    guess(app, second, address="198.51.101.2", times=services.ENUMERATION_THRESHOLD + 5)
    regulator = api("regulator")
    response = regulator.get("/api/v1/trace/enumeration-flags")
    assert response.status_code == 200
    assert [f["client"] for f in response.json] == ["198.51.101.0/24", "198.51.100.0/24"]
    newest = response.json[0]
    assert newest["gtin"] == second.product.gtin and newest["lot"] == second.code and newest["lot_id"] == second.id
    assert newest["brand"] == second.product.brand.name and newest["product"] == second.product.name
    # The count is of the network's unrecognised codes in the window.
    assert newest["unrecognised_codes"] == services.ENUMERATION_THRESHOLD + 5
    assert newest["window_end"] > newest["occurred_at"] >= newest["window_start"]
    page = regulator.get("/api/v1/trace/enumeration-flags?page_size=1&page=2")
    assert [f["client"] for f in page.json] == ["198.51.100.0/24"]
    assert json.loads(page.headers["X-Pagination"])["total"] == 2


def test_flags_filter_by_days_in_china_time(app, api, create_lot, limits_on):
    guess(app, create_lot(), times=services.ENUMERATION_THRESHOLD)
    day = today_in_china()
    regulator = api("regulator")

    def clients(query):
        response = regulator.get("/api/v1/trace/enumeration-flags?" + query)
        assert response.status_code == 200, response.json
        return [f["client"] for f in response.json]

    assert clients(f"since={day}&until={day}") == [NETWORK]
    assert clients(f"since={day + timedelta(days=1)}") == []
    assert clients(f"until={day - timedelta(days=1)}") == []
    bad = regulator.get(f"/api/v1/trace/enumeration-flags?since={day}&until={day - timedelta(days=1)}")
    assert bad.status_code == 422 and "until" in bad.json["errors"]


def test_page_filters_by_date_and_reports_bad_dates(client, app, create_lot, create_user, login, limits_on):
    guess(app, create_lot(), times=services.ENUMERATION_THRESHOLD)
    login(create_user("admin"))
    day = today_in_china()
    assert NETWORK in client.get(f"/trace/enumeration?since={day}&until={day}").get_data(as_text=True)
    assert NETWORK not in client.get(f"/trace/enumeration?since={day + timedelta(days=1)}").get_data(as_text=True)
    html = client.get("/trace/enumeration?since=2026-13-45").get_data(as_text=True)
    assert "YYYY-MM-DD" in html and NETWORK in html
    html = client.get(f"/trace/enumeration?since={day}&until={day - timedelta(days=3)}").get_data(as_text=True)
    assert "日期范围无效" in html


def test_only_regulators_and_admins_see_the_flags(client, app, api, create_lot, create_user, login, limits_on):
    producer = create_user("producer")
    lot = create_lot(producer=producer.party)  # the guessing targets this producer's own lot
    guess(app, lot, times=services.ENUMERATION_THRESHOLD)
    for role in ("producer", "loan_officer"):
        assert api(role).get("/api/v1/trace/enumeration-flags").status_code == 403
    assert app.test_client().get("/api/v1/trace/enumeration-flags").status_code == 401
    anonymous = app.test_client().get("/trace/enumeration")
    assert anonymous.status_code == 302 and "/login" in anonymous.location
    login(producer)
    assert client.get("/trace/enumeration").status_code == 403
    assert "/trace/enumeration" not in client.get("/trace/").get_data(as_text=True)
    for role in ("regulator", "admin"):
        assert [f["client"] for f in api(role).get("/api/v1/trace/enumeration-flags").json] == [NETWORK]


def test_nav_links_regulators_to_the_review(client, create_user, login):
    login(create_user("regulator"))
    html = client.get("/trace/").get_data(as_text=True)
    assert 'href="/trace/enumeration"' in html and "猜码预警" in html


def test_flag_recorded_before_gtin_and_lot_were_kept_still_shows_them(api, create_lot):
    """Events written by the first version (only ``last_path``) are read from the path."""
    from greenfin.core.services import record_audit
    from greenfin.extensions import db

    lot = create_lot()
    record_audit(services.ENUMERATION_ACTION, "scan_client", "192.0.2.7", after={
        "unrecognised_codes_in_10_minutes": 10, "last_path": f"/01/{lot.product.gtin}/10/{lot.code}/21/X"})
    db.session.commit()
    [flag] = api("regulator").get("/api/v1/trace/enumeration-flags").json
    assert (flag["gtin"], flag["lot"], flag["lot_id"]) == (lot.product.gtin, lot.code, lot.id)
    assert flag["unrecognised_codes"] == 10 and flag["network"] == "192.0.2.0/24"
