"""Index insurance in a browser: the public payout event on a phone and a laptop, the staff pages at 1366 px."""
import pytest

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width, height", [(390, 844), (1366, 768)])
def test_public_payout_event_is_readable_without_an_account(browser, live_server, width, height, tmp_path):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(live_server) else None)
    page.goto(f"{live_server}/insurance/events")
    assert "/login" not in page.url
    page.click("table a")  # the demo frost
    page.wait_for_load_state()
    body = page.inner_text("body")
    assert "-5.4" in body and "合成数据" in body and "140,040.00" in body
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.screenshot(path=str(tmp_path / f"event-{width}.png"), full_page=True)
    assert external == []
    context.close()


def test_staff_pages_fit_a_laptop_and_a_phone(browser, live_server, sign_in, tmp_path):
    for width, height in ((1366, 768), (390, 844)):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        page = context.new_page()
        sign_in(page, "insurer")
        for path in ("/insurance/", "/insurance/claims", "/insurance/policies"):
            page.goto(live_server + path)
            assert page.locator("h1").count() == 1 and "/login" not in page.url
            assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, (width, path)
        context.close()
