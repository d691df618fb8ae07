"""The public carbon registry on a phone: from the landing page to a retirement certificate, no account."""
import pytest

pytestmark = pytest.mark.browser


def test_public_carbon_registry_fits_a_phone(browser, live_server, tmp_path):
    context = browser.new_context(viewport={"width": 390, "height": 800}, device_scale_factor=2, is_mobile=True,
                                  locale="zh-CN")
    page = context.new_page()
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(live_server) else None)
    page.goto(live_server)
    page.click("a[href='/disclosure/carbon']")
    page.wait_for_load_state()
    assert page.url == f"{live_server}/disclosure/carbon" and "林业碳汇登记簿" in page.content()
    assert page.locator("svg").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.screenshot(path=str(tmp_path / "carbon-registry.png"), full_page=True)
    page.click("a[href*='/disclosure/carbon/retirements/']")
    page.wait_for_load_state()
    assert "注销证明" in page.content() and "/login" not in page.url
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.screenshot(path=str(tmp_path / "carbon-certificate.png"), full_page=True)
    pdf = page.request.get(page.url + ".pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    page.goto(f"{live_server}/disclosure/carbon?q=GF-GCF01-2024-00000001")
    assert "/disclosure/carbon/units/" in page.url
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    assert external == []
    context.close()
