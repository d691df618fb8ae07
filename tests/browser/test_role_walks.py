"""Each role's main path in Chromium at desktop (1366x900) and phone (390x844) width: pages open, the
navigation fits, nothing overflows the screen, no table is cut off (on a phone they stack), charts are there with
labels of at least 11 px and thousands separators, and no raw code shows. A failing walk leaves a
screenshot of the page it stopped on in ``test-results/browser/`` (or ``$GREENFIN_TEST_ARTIFACTS``)."""
from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
ARTIFACTS = Path(os.environ.get("GREENFIN_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-results" / "browser"))
MIN_FONT_PX = 11

# Visible text of every rendered chart: its labels' rendered size (font size times the SVG's scale on screen).
CHART_TEXT = """() => {
  const out = [];
  document.querySelectorAll('figure.chart svg text').forEach(t => {
    const box = t.getBoundingClientRect();
    if (!box.width || !box.height) return;
    const m = t.getScreenCTM();
    out.push({text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b)});
  });
  return out;
}"""
VISIBLE_CHARTS = "() => [...document.querySelectorAll('figure.chart svg')].filter(s => s.getBoundingClientRect().width > 0).length"
# A code where a person reads words: snake_case identifiers or enumeration values in the visible text.
RAW_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")
UNSEPARATED = re.compile(r"(?<![\d,.\-:/])\d{4,}(?![\d\-:/])")


@contextmanager
def artefact_on_failure(page, name: str):
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        raise


def _context(browser, size: str):
    return browser.new_context(viewport=SIZES[size], locale="zh-CN", device_scale_factor=1,
                               is_mobile=size == "phone", has_touch=size == "phone")


@pytest.fixture
def open_as(browser, live_server):
    """``open_as(username or None, size)``: a fresh browser page, signed in; closed after the test."""
    contexts = []

    def do(username, size):
        contexts.append(_context(browser, size))
        page = contexts[-1].new_page()
        if username:
            _sign_in(page, live_server, username)
        return page

    yield do
    for context in contexts:
        context.close()


def _sign_in(page, live_server, username):
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"{username}-demo-2026")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, f"{username} could not sign in"


def _first_link(page, live_server, listing: str, selector: str) -> str:
    page.goto(f"{live_server}{listing}")
    href = page.locator(selector).first.get_attribute("href")
    assert href, f"no {selector} on {listing}"
    return href


def check_page(page, size: str, *, charts: bool) -> dict:
    """The acceptance checks of one page; returns what it measured."""
    where = page.url
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{where}: {overflow} px wider than the {size} screen"
    body = page.locator("main").inner_text()
    raw = sorted(set(RAW_CODE.findall(body)))
    assert raw == [], f"{where}: raw codes on the page: {raw}"
    if size == "desktop":
        tops = page.evaluate("() => [...document.querySelectorAll('.nav > a, .nav > details')]"
                             ".map(e => e.getBoundingClientRect().top)")
        assert not tops or max(tops) - min(tops) < 10, f"{where}: the top menu wraps at 1366 px ({tops})"
    clipped = page.evaluate("() => [...document.querySelectorAll('.table-wrap')]"
                            ".filter(w => !w.querySelector('table.wide') && w.scrollWidth > w.clientWidth + 1)"
                            ".map(w => (w.querySelector('th') || w).textContent.trim())")
    assert clipped == [], f"{where}: tables cut off at {size} width (first heading): {clipped}"
    texts = page.evaluate(CHART_TEXT)
    if charts:
        assert page.evaluate(VISIBLE_CHARTS) >= 1 or page.locator("figure.chart-empty").count() >= 1, f"{where}: no chart"
    if texts:
        smallest = min(t["px"] for t in texts)
        assert smallest >= MIN_FONT_PX, f"{where}: chart label of {smallest:.1f} px at {size} width"
        bare = [t["text"] for t in texts if UNSEPARATED.search(t["text"])]
        assert bare == [], f"{where}: chart numbers without thousands separators: {bare[:5]}"
    money = page.evaluate("() => [...document.querySelectorAll('td.num, dd')].map(e => e.textContent.trim())")
    bare_money = [m for m in money if re.fullmatch(r"-?\d{4,}\.\d{2}", m)]
    assert bare_money == [], f"{where}: money without thousands separators: {bare_money[:5]}"
    return {"chart_texts": len(texts), "min_px": min((t["px"] for t in texts), default=None)}


def walk(page, live_server, size: str, steps: list[tuple[str, bool]], name: str) -> list[dict]:
    measured = []
    for path, charts in steps:
        response = page.goto(path if path.startswith("http") else f"{live_server}{path}")
        with artefact_on_failure(page, f"{name}-{size}-{len(measured)}"):
            assert response.status == 200, f"{path}: {response.status}"
            measured.append(check_page(page, size, charts=charts) | {"path": path})
    return measured


@pytest.mark.parametrize("size", SIZES)
def test_loan_officer_walk(open_as, live_server, size):
    page = open_as("officer", size)
    application = _first_link(page, live_server, "/lending/", "a[href*='/lending/applications/']:not([href$='/new'])")
    loan = _first_link(page, live_server, "/lending/loans", "a[href*='/lending/loans/']")
    measured = walk(page, live_server, size, [
        ("/", False), ("/lending/", False), (application, False), ("/lending/loans", False), (loan, False),
        ("/lending/portfolio", True), ("/gep/", True), ("/pools", False), ("/pools/1", True),
    ], "officer")
    assert any(m["chart_texts"] for m in measured)
    if size == "phone":
        # The application queue keeps its status and date on a phone: every cell is on the screen.
        page.goto(f"{live_server}/lending/")
        with artefact_on_failure(page, "officer-phone-queue"):
            assert page.locator("table.stack").count() >= 1
            boxes = page.evaluate("() => [...document.querySelectorAll('table.stack tbody tr:first-child td')]"
                                  ".map(td => [td.dataset.label, td.getBoundingClientRect().right])")
            labels = [label for label, _right in boxes]
            assert "状态" in labels and "申请日期" in labels, labels
            assert all(right <= 390 for _label, right in boxes), boxes


@pytest.mark.parametrize("size", SIZES)
def test_regulator_walk(open_as, live_server, size):
    page = open_as("regulator", size)
    report = _first_link(page, live_server, "/pools/1", "a[href*='/reports/']:not([href$='/pdf'])")
    lot = _first_link(page, live_server, "/trace/", "a[href*='/trace/lots/']:not([href$='/new'])")
    walk(page, live_server, size, [
        ("/", False), ("/credit/review", False), ("/credit/charts", True), ("/gep/", True),
        ("/pools/1", True), (report, True), ("/pools/1/projection", True), ("/trace/", False), (lot, True),
    ], "regulator")
    if size == "desktop":
        # The two-level menu: the eco-credit group opens and its second level shows on its pages.
        page.goto(f"{live_server}/credit/charts")
        with artefact_on_failure(page, "regulator-menu"):
            group = page.locator("details.nav-group.active")
            assert group.count() == 1
            group.locator("summary").click()
            assert group.locator(".menu a").first.is_visible()
            assert page.locator(".subnav a.active").inner_text().strip() != ""


@pytest.mark.parametrize("size", SIZES)
def test_insurer_walk(open_as, live_server, size):
    page = open_as("insurer", size)
    policy = _first_link(page, live_server, "/insurance/policies", "a[href*='/insurance/policies/']")
    backtest = _first_link(page, live_server, "/insurance/", "a[href*='/insurance/products/']")
    event = _first_link(page, live_server, "/insurance/events", "a[href*='/insurance/events/']:not([href$='.pdf'])")
    walk(page, live_server, size, [
        ("/", False), ("/insurance/", False), ("/insurance/policies", False), (policy, False),
        ("/insurance/claims", False), ("/insurance/events", False), (event, False), ("/insurance/weather", False),
    ], "insurer")
    backtest = _first_link(page, live_server, backtest, "a[href*='/insurance/backtest?']")
    walk(page, live_server, size, [(backtest, True)], "insurer-backtest")


@pytest.mark.parametrize("size", SIZES)
def test_regulator_compensation_walk(open_as, live_server, size):
    page = open_as("regulator", size)
    run = _first_link(page, live_server, "/compensation", "a[href*='/compensation/runs/']:not([href$='.csv'])")
    walk(page, live_server, size, [("/compensation", True), (run, True), ("/assessment", True)], "compensation")


@pytest.mark.parametrize("size", SIZES)
def test_producer_walk(open_as, live_server, size):
    page = open_as("producer", size)
    lot = _first_link(page, live_server, "/trace/", "a[href*='/trace/lots/']:not([href$='/new'])")
    walk(page, live_server, size, [("/", False), ("/trace/", False), (lot, True), ("/lending/", False),
                                   ("/credit/ratings", False)], "producer")


@pytest.mark.parametrize("size", SIZES)
def test_admin_walk(open_as, live_server, size):
    page = open_as("admin", size)
    walk(page, live_server, size, [("/", False), ("/admin/users", False), ("/credit/rules", False),
                                   ("/lending/models", False), ("/gep/townships/danan", True)], "admin")
    # Every link of the admin's menu, first and second level, opens.
    page.goto(live_server)
    links = page.eval_on_selector_all(".nav a", "els => els.map(e => e.href)")
    assert len(links) >= 14
    for href in links:
        assert page.goto(href).status == 200, href
    # English labels are longer: the admin's menu (every group) still fits on one line.
    walk(page, live_server, size, [("/?lang=en", False), ("/pools/1", True)], "admin-en")


@pytest.mark.parametrize("size", SIZES)
def test_public_walk(open_as, live_server, size):
    page = open_as(None, size)
    report = _first_link(page, live_server, "/disclosure/pools/1", "a[href*='/reports/']:not([href$='/pdf'])")
    walk(page, live_server, size, [("/", False), ("/disclosure/pools", False), ("/disclosure/pools/1", True),
                                   (report, True), ("/credit/public", False)], "public")


def test_empty_scan_chart_reads_as_a_sentence(open_as, live_server):
    """A lot without scans shows a sentence, not a blank box of zeros."""
    page = open_as("regulator", "desktop")
    page.goto(f"{live_server}/trace/")
    hrefs = page.eval_on_selector_all("a[href*='/trace/lots/']", "els => els.map(e => e.getAttribute('href'))")
    empty = None
    for href in hrefs:
        if href.endswith("/new"):
            continue
        page.goto(f"{live_server}{href}")
        if page.locator("figure.chart-empty").count():
            empty = href
            break
    with artefact_on_failure(page, "empty-scan-chart"):
        assert empty, "the demo district has a lot without scans"
        figure = page.locator("figure.chart-empty").first
        assert "近30天没有扫码记录" in figure.inner_text()
        assert figure.locator("svg").count() == 0
