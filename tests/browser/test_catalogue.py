"""The public eco-product catalogue on a phone and a desktop: reached from the landing page
without an account, filtered, and a lot's page opened from it."""
import pytest

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width, height", [(390, 844), (1366, 900)])
def test_catalogue_fits_and_leads_to_a_lot(browser, live_server, width, height):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(live_server) else None)
    page.goto(live_server)
    page.click("a[href='/market/catalogue']")
    page.wait_for_load_state()
    assert page.url == f"{live_server}/market/catalogue" and page.locator("tbody tr").count() >= 7
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.select_option("select[name=certification]", "green_food")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert "certification=green_food" in page.url and page.locator("tbody tr").count() >= 1
    page.click("tbody tr a[href^='/trace/public/lots/']")
    page.wait_for_load_state()
    assert "/trace/public/lots/" in page.url and page.locator("section.card").count() >= 3
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    assert external == []
    context.close()
