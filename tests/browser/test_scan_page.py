"""The consumer's scan page in real Chromium on a phone: a reload and a language switch are not new
scans (the per-label cookie, as a browser keeps it), and the page fits 390 px with no script."""
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

pytestmark = pytest.mark.browser


def unscanned_label(demo_app) -> tuple[int, str]:
    """(label id, path?query) of a demo label of a lot not recalled that nobody has scanned yet."""
    from greenfin.extensions import db
    from traceability import digital_link as dl
    from traceability.models import Label, Lot, Scan

    with demo_app.app_context():
        label = db.session.scalar(select(Label).join(Lot, Lot.id == Label.lot_id).where(
            Lot.recalled_at.is_(None), ~select(Scan.id).where(Scan.label_id == Label.id).exists()).limit(1))
        gtin, code, key = label.lot.product.gtin, label.lot.code, demo_app.config["LABEL_SIGNING_KEY"]
        uri = dl.label_uri("http://x", gtin, code, label.serial, dl.sign(key, gtin, code, label.serial))
        parts = urlsplit(uri)
        return label.id, parts.path + "?" + parts.query


def scans_of(demo_app, label_id: int) -> int:
    from greenfin.extensions import db
    from traceability.models import Scan

    with demo_app.app_context():
        try:
            return db.session.scalar(select(func.count(Scan.id)).where(Scan.label_id == label_id))
        finally:
            db.session.remove()


def test_reload_and_language_switch_count_once_and_the_page_fits_a_phone(browser, live_server, demo_app, tmp_path):
    label_id, path = unscanned_label(demo_app)
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  locale="zh-CN")
    page = context.new_page()
    page.goto(live_server + path)
    assert "这是此标签第一次被扫码" in page.content() and scans_of(demo_app, label_id) == 1
    assert page.locator("script").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.screenshot(path=str(tmp_path / "scan-zh.png"), full_page=True)
    page.reload()
    assert "再次打开或切换语言不计为新的扫码" in page.content()
    page.click("a.lang")  # English
    page.wait_for_load_state()
    html = page.content()
    assert 'lang="en"' in html and "not counted as another scan" in html and "best to worst" in html
    assert scans_of(demo_app, label_id) == 1
    context.close()
    other_phone = browser.new_context(locale="zh-CN")
    other_phone.new_page().goto(live_server + path)
    assert scans_of(demo_app, label_id) == 2  # another browser is a new scan
    other_phone.close()
