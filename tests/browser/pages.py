"""What the browser tests share: where screenshots go, signing in through the real form, and
whether a page fits its screen without sideways scrolling."""
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def sign_in(page, live_server, user, *, with_the_keyboard: bool = False, password: str = "correct horse battery"):
    """Through the sign-in form, as a person would (Enter, as on a phone, or the button)."""
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    if with_the_keyboard:
        page.keyboard.press("Enter")
    else:
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/")


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
