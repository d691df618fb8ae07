"""Every role signs in through the real form in Chromium and reaches its home page."""
import pytest

pytestmark = pytest.mark.browser

DEMO_USERS = [("admin", "系统管理员"), ("officer", "信贷员"), ("regulator", "监管人员"), ("producer", "生产主体")]


@pytest.mark.parametrize("username, role_label", DEMO_USERS)
def test_sign_in_reaches_role_home(page, live_server, sign_in, username, role_label, tmp_path):
    sign_in(page, username)
    assert page.url.rstrip("/") == live_server
    assert "欢迎" in page.locator("h1").inner_text()
    assert role_label in page.locator(".who").inner_text() or role_label in page.content()
    page.screenshot(path=str(tmp_path / f"home-{username}.png"), full_page=True)
    # Every navigation link of this role opens without an error page.
    links = page.eval_on_selector_all(".nav a", "els => els.map(e => e.href)")
    assert links, "a signed-in role sees navigation"
    for href in links:
        response = page.goto(href)
        assert response.status == 200, href


def test_wrong_password_shows_message(page, live_server, sign_in):
    sign_in(page, "admin", "not-the-password")
    assert "/login" in page.url
    assert "登录名或密码错误" in page.content()


def test_sign_out_ends_session(page, live_server, sign_in):
    sign_in(page, "regulator")
    cookies = page.context.cookies()
    page.click("text=退出")
    page.wait_for_load_state()
    # Replaying the old session cookie does not sign anyone in again.
    page.context.clear_cookies()
    page.context.add_cookies(cookies)
    page.goto(f"{live_server}/audit")
    assert "/login" in page.url


def test_language_switch_to_english(page, live_server):
    page.goto(live_server)
    assert "广丰区绿色金融" in page.content()
    page.click("a.lang")
    page.wait_for_load_state()
    assert "Guangfeng green finance" in page.content()


def test_landing_page_fits_a_phone(browser, live_server):
    context = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True,
                                  locale="zh-CN")
    page = context.new_page()
    page.goto(live_server)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    context.close()


def test_party_form_rejects_bad_credit_code(page, live_server, sign_in):
    sign_in(page, "officer")
    page.goto(f"{live_server}/parties/new")
    page.select_option("select[name=kind]", "firm")
    page.fill("input[name=name]", "测试错误代码公司")
    page.fill("input[name=uscc]", "913611030000000000")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "check character" in page.content() or "校验" in page.content()
    assert page.input_value("input[name=name]") == "测试错误代码公司"
