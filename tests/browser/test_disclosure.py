"""The public investor disclosure on a phone: reached from the landing page without an account."""
import pytest

pytestmark = pytest.mark.browser


def test_investor_disclosure_fits_a_phone(browser, live_server, tmp_path):
    context = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True,
                                  locale="zh-CN")
    page = context.new_page()
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(live_server) else None)
    page.goto(live_server)
    page.click("a[href='/disclosure/pools']")
    page.wait_for_load_state()
    assert page.url == f"{live_server}/disclosure/pools"
    page.click("table a")  # the demo pool
    page.wait_for_load_state()
    assert "/disclosure/pools/" in page.url and "/login" not in page.url
    assert page.locator("svg").count() >= 8  # strata, pool factor and collections charts
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.screenshot(path=str(tmp_path / "disclosure-pool.png"), full_page=True)
    page.click("td a[href*='/reports/']")  # the latest servicer report
    page.wait_for_load_state()
    assert "/reports/" in page.url and page.locator("svg").count() >= 4
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.screenshot(path=str(tmp_path / "disclosure-report.png"), full_page=True)
    pdf = page.request.get(page.url + "/pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    assert external == []
    context.close()
