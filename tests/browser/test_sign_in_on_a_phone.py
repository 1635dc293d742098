from playwright.sync_api import expect

from tests.browser.pages import ARTIFACTS


def test_a_fitter_signs_in_on_a_phone_with_the_keyboard_and_opens_the_menu(live_server, phone, build):
    fitter = build.user(roles=["fitter"], name="Frankie Fitter")
    errors = []
    phone.on("pageerror", lambda error: errors.append(str(error)))
    phone.on("console", lambda message: message.type == "error" and errors.append(message.text))

    phone.goto(f"{live_server}/login")
    phone.keyboard.press("Tab")  # the skip link comes first
    assert phone.evaluate("document.activeElement.className") == "skip-link"
    phone.get_by_label("Email").fill(fitter.email)
    phone.get_by_label("Password").fill("correct horse battery")
    phone.keyboard.press("Enter")
    phone.wait_for_url(f"{live_server}/")
    assert phone.get_by_role("heading", level=1).inner_text() == "Hello, Frankie Fitter"

    menu = phone.get_by_role("button", name="Menu")
    navigation = phone.get_by_role("navigation", name="Main")
    assert navigation.is_hidden()
    menu.click()
    assert navigation.is_visible() and menu.get_attribute("aria-expanded") == "true"
    assert phone.get_by_role("link", name="Users").count() == 0  # not a fitter's page
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "phone-home-menu.png"), full_page=True)
    assert errors == []  # no script errors, and no CSP violations reported


def test_a_wrong_password_shows_the_message_and_focuses_it(live_server, phone, build):
    user = build.user()
    phone.goto(f"{live_server}/login")
    phone.get_by_label("Email").fill(user.email)
    phone.get_by_label("Password").fill("not the password")
    phone.get_by_role("button", name="Sign in").click()
    alert = phone.get_by_role("alert")
    expect(alert).to_have_text("Email or password is not right.")
    expect(alert).to_be_focused()  # so a screen reader announces it and the keyboard starts there
