"""Two-factor sign-in, the whole way through: setting it up by scanning the page's QR code
(read back with an independent decoder), signing in with a code or a recovery code, codes
refused a second time, a pending sign-in that expires or runs out of guesses, roles that
must use it, and an admin's reset."""
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pyotp
import pytest
from sqlalchemy import func, select, text

from inventory import clock
from inventory.accounts import two_factor
from inventory.accounts.models import AdminApproval, LoginSession, RecoveryCode, User
from inventory.audit.models import AuditEvent, AuditEventKind
from inventory.extensions import db
from tests.qr_reader import decode_svg
from tests.support import Builders

REQUIRED = ["admin", "coordinator", "finance"]  # production's default
NOW = datetime(2026, 6, 20, 10, 0, 5, tzinfo=UTC)  # 5 s into a time step
SESSION_COOKIE = "safehold_session"


@pytest.fixture
def app_overrides():
    return {"TWO_FACTOR_REQUIRED_ROLES": REQUIRED}


@pytest.fixture(autouse=True)
def june_morning():
    with clock.frozen_at(NOW):
        yield


def at(seconds: int):
    """Later this morning: each new time step (30 s) allows a new code."""
    return clock.frozen_at(NOW + timedelta(seconds=seconds))


def code(secret: str) -> str:
    return pyotp.TOTP(secret).at(clock.now())


def page_of(response) -> str:
    return response.get_data(as_text=True)


def qr_text(page: str) -> str:
    """What a phone reads from the enrolment page's QR code."""
    return decode_svg(re.search(r'<div class="qr-enrol">(<svg.*?</svg>)', page, re.S).group(1))


def scanned(page: str) -> pyotp.TOTP:
    return pyotp.parse_uri(qr_text(page))


def recovery_codes_on(page: str) -> list[str]:
    return re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", page)


def enrolled(user: User) -> str:
    """Two-factor on for `user` (as if set up a minute ago); returns the secret."""
    with clock.frozen_at(NOW - timedelta(minutes=1)):
        two_factor.begin_enrolment(user)
        secret = user.totp_secret
        two_factor.confirm_enrolment(user, code(secret))
    db.session.commit()
    return secret


def password_step(client, user: User, next_url: str = ""):
    return client.post(f"/login{next_url}", data={"email": user.email, "password": Builders.PASSWORD})


def sign_in_with_code(client, user: User, secret: str):
    assert password_step(client, user).location == "/login/code"
    answer = client.post("/login/code", data={"code": code(secret)})
    assert answer.status_code == 302 and answer.location == "/", page_of(answer)
    return answer


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


def events(kind: AuditEventKind) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)).all()


# Setting it up -----------------------------------------------------------------------

def test_a_caseworker_sets_up_two_factor_from_their_account_page_by_scanning_the_qr_code(client, login):
    caseworker = login(roles=["caseworker"])
    account = page_of(client.get("/account"))
    assert 'href="/account/two-factor"' in account and 'href="/account/password"' in account
    assert 'href="/account/tokens"' in account and "off" in account
    assert 'href="/account"' in page_of(client.get("/"))  # reachable from the navigation

    assert client.post("/account/two-factor/start").location == "/account/two-factor"
    page = page_of(client.get("/account/two-factor"))
    phone = scanned(page)
    assert phone.issuer == "SafeHold" and phone.name == caseworker.email
    assert qr_text(page).startswith(f"otpauth://totp/SafeHold:{quote(caseworker.email)}?secret=")
    assert two_factor.key_in_groups(phone.secret) in page  # to type instead of scanning
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page

    wrong = client.post("/account/two-factor", data={"code": "000000" if phone.at(clock.now()) != "000000" else "111111"})
    assert wrong.status_code == 422 and "That code is not right" in page_of(wrong)
    assert not db.session.get(User, caseworker.id).two_factor_enabled

    done = client.post("/account/two-factor", data={"code": phone.at(clock.now())})
    assert done.status_code == 200
    codes = recovery_codes_on(page_of(done))
    assert len(codes) == 10 and len(set(codes)) == 10 and "will not be shown again" in page_of(done)
    assert db.session.get(User, caseworker.id).two_factor_enabled
    assert [e.subject_user_id for e in events(AuditEventKind.SECOND_FACTOR_ENROLLED)] == [caseworker.id]
    stored = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == caseworker.id)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)
    sealed = db.session.execute(text("SELECT totp_secret FROM users WHERE id = :id"), {"id": caseworker.id}).scalar()
    assert phone.secret not in sealed  # stored encrypted
    assert "10 recovery codes left" in page_of(client.get("/account/two-factor"))


def test_setting_up_again_while_it_is_on_is_refused(client, login):
    caseworker = login(roles=["caseworker"])
    enrolled(db.session.get(User, caseworker.id))
    assert client.post("/account/two-factor/start").status_code == 409


# Signing in --------------------------------------------------------------------------

def test_with_two_factor_on_the_password_alone_does_not_sign_in_and_a_code_then_does(client, build):
    user = build.user(roles=["caseworker"])
    secret = enrolled(user)
    sessions_before = db.session.scalar(select(func.count()).select_from(LoginSession))
    asked = password_step(client, user, "?next=/cases")
    assert asked.status_code == 302 and asked.location == "/login/code"
    assert not signed_in(client)
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == sessions_before
    form = page_of(client.get("/login/code"))
    assert 'autocomplete="one-time-code"' in form and 'inputmode="numeric"' in form
    assert 'href="/login/recovery"' in form

    answer = client.post("/login/code", data={"code": code(secret)})
    assert answer.status_code == 302 and answer.location == "/cases"
    assert signed_in(client)


def test_a_code_is_accepted_once_and_an_earlier_one_never_after_it(app, client, build):
    user = build.user(roles=["caseworker"])
    secret = enrolled(user)
    with at(60):
        used = code(secret)
        sign_in_with_code(client, user, secret)
        other = app.test_client()  # someone who watched it being typed, at once
        password_step(other, user)
        replay = other.post("/login/code", data={"code": used})
        assert replay.status_code == 422 and "was used already" in page_of(replay)
        assert not signed_in(other)
    with at(90):
        earlier = pyotp.TOTP(secret).at(NOW + timedelta(seconds=30))  # one step back: within the window
        password_step(other, user)
        assert other.post("/login/code", data={"code": earlier}).status_code == 422
        sign_in_with_code(other, user, secret)


def test_a_code_with_letters_is_refused_with_a_message_and_counts_as_a_wrong_code(client, build):
    user = build.user(roles=["caseworker"])
    enrolled(user)
    password_step(client, user)
    answer = client.post("/login/code", data={"code": "12ab56"})
    assert answer.status_code == 422 and "Type the 6 digits" in page_of(answer)
    assert len(events(AuditEventKind.SECOND_FACTOR_FAILED)) == 1


def test_five_wrong_codes_send_the_person_back_to_the_password_and_an_older_cookie_gets_no_more(app, client, build):
    user = build.user(roles=["caseworker"])
    secret = enrolled(user)
    password_step(client, user)
    pending_cookie = client.get_cookie(SESSION_COOKIE).value
    wrong = f"{(int(code(secret)) + 1) % 1_000_000:06d}"
    for attempt in range(two_factor.CODE_FAILURE_LIMIT - 1):
        with at(attempt * 10):  # slower than the sign-in throttle's growing wait
            assert client.post("/login/code", data={"code": wrong}).status_code == 422
    with at(40):
        last = client.post("/login/code", data={"code": wrong})
    assert last.status_code == 302 and last.location == "/login"
    assert "Too many wrong codes" in page_of(client.get("/login"))
    assert client.get("/login/code").location == "/login"
    failures = events(AuditEventKind.SECOND_FACTOR_FAILED)
    assert len(failures) == 5 and {e.subject_user_id for e in failures} == {user.id}
    assert all(e.details == {"via": "app"} for e in failures)  # never the code typed

    replayed = app.test_client()
    replayed.set_cookie(SESSION_COOKIE, pending_cookie)
    assert replayed.post("/login/code", data={"code": code(secret)}).location == "/login"
    assert not signed_in(replayed)

    with at(120):  # starting again from the password gives five new tries
        sign_in_with_code(client, user, secret)


def test_a_pending_sign_in_expires_after_five_minutes(client, build):
    user = build.user(roles=["caseworker"])
    secret = enrolled(user)
    password_step(client, user)
    with at(5 * 60 + 1):
        answer = client.post("/login/code", data={"code": code(secret)})
        assert answer.status_code == 302 and answer.location == "/login"
        assert not signed_in(client)
        assert "took too long" in page_of(client.get("/login"))


def test_a_recovery_code_signs_in_once_and_the_count_left_is_shown(client, build):
    user = build.user(roles=["caseworker"])
    with clock.frozen_at(NOW - timedelta(minutes=1)):
        two_factor.begin_enrolment(user)
        codes = two_factor.confirm_enrolment(user, code(user.totp_secret))
    db.session.commit()

    password_step(client, user)
    assert "recovery code" in page_of(client.get("/login/recovery"))
    answer = client.post("/login/recovery", data={"recovery_code": codes[0].upper().replace("-", " ")})
    assert answer.status_code == 302 and answer.location == "/"
    assert "You have 9 left" in page_of(client.get("/"))
    assert "9 recovery codes left" in page_of(client.get("/account/two-factor"))
    used = events(AuditEventKind.RECOVERY_CODE_USED)
    assert [(e.subject_user_id, e.details) for e in used] == [(user.id, {"left": 9})]

    client.post("/logout")
    password_step(client, user)
    again = client.post("/login/recovery", data={"recovery_code": codes[0]})
    assert again.status_code == 422 and "not right, or was used already" in page_of(again)
    assert client.post("/login/recovery", data={"recovery_code": codes[1]}).location == "/"


def test_making_new_recovery_codes_voids_the_old_ones(client, build):
    user = build.user(roles=["caseworker"])
    with clock.frozen_at(NOW - timedelta(minutes=1)):
        two_factor.begin_enrolment(user)
        old = two_factor.confirm_enrolment(user, code(user.totp_secret))
    db.session.commit()
    password_step(client, user)
    client.post("/login/recovery", data={"recovery_code": old[0]})
    made = client.post("/account/two-factor/recovery-codes")
    assert made.status_code == 200
    new = recovery_codes_on(page_of(made))
    assert len(new) == 10
    client.post("/logout")
    password_step(client, user)
    assert client.post("/login/recovery", data={"recovery_code": old[1]}).status_code == 422
    assert client.post("/login/recovery", data={"recovery_code": new[0]}).location == "/"


# Roles that must use it --------------------------------------------------------------

def test_a_coordinator_without_two_factor_must_set_it_up_before_anything_else(client, build):
    coordinator = build.user(roles=["coordinator"])
    asked = password_step(client, coordinator, "?next=/cases")
    assert asked.status_code == 302 and asked.location == "/login/set-up-two-factor"
    for path in ("/", "/cases", "/account/two-factor", "/queue"):
        assert "/login" in client.get(path).location  # not signed in yet
    page = page_of(client.get("/login/set-up-two-factor"))
    assert "Your role needs two-factor sign-in" in page
    phone = scanned(page)
    assert phone.name == coordinator.email

    done = client.post("/login/set-up-two-factor", data={"code": phone.at(clock.now())})
    assert done.status_code == 200
    assert len(recovery_codes_on(page_of(done))) == 10 and 'href="/cases"' in page_of(done)
    assert signed_in(client)

    client.post("/logout")
    with at(30):
        assert password_step(client, coordinator).location == "/login/code"  # from now on, a code each time


def test_a_required_role_cannot_turn_two_factor_off_but_others_can_with_their_password(app, client, build):
    coordinator = build.user(roles=["coordinator"])
    sign_in_with_code(client, coordinator, enrolled(coordinator))
    refused = client.post("/account/two-factor/off", data={"password": Builders.PASSWORD})
    assert refused.status_code == 422 and "Your role requires two-factor sign-in" in page_of(refused)
    assert db.session.get(User, coordinator.id).two_factor_enabled

    caseworker = build.user(roles=["caseworker"])
    other = app.test_client()
    sign_in_with_code(other, caseworker, enrolled(caseworker))
    wrong = other.post("/account/two-factor/off", data={"password": "not my password at all"})
    assert wrong.status_code == 422 and "That is not your password." in page_of(wrong)
    assert other.post("/account/two-factor/off", data={"password": Builders.PASSWORD}).status_code == 302
    assert not db.session.get(User, caseworker.id).two_factor_enabled
    assert [e.subject_user_id for e in events(AuditEventKind.SECOND_FACTOR_DISABLED)] == [caseworker.id]
    client.post("/logout")
    assert password_step(other, caseworker).location == "/"


def test_the_demo_setting_lets_required_roles_sign_in_with_the_password_alone(app, client, build):
    app.config["TWO_FACTOR_REQUIRED_ROLES"] = []
    admin = build.user(roles=["admin"])
    assert password_step(client, admin).location == "/"


# An admin's reset --------------------------------------------------------------------

def test_an_admin_resets_someone_elses_second_factor_and_their_sessions_end(app, client, build):
    coordinator = build.user(roles=["coordinator"])
    sign_in_with_code(client, coordinator, enrolled(coordinator))
    admin = build.user(roles=["admin"])
    admin_browser = app.test_client()
    sign_in_with_code(admin_browser, admin, enrolled(admin))

    page = page_of(admin_browser.get(f"/admin/users/{coordinator.id}"))
    assert f'action="/admin/users/{coordinator.id}/two-factor/reset"' in page
    assert f'action="/admin/users/{admin.id}/two-factor/reset"' not in page_of(
        admin_browser.get(f"/admin/users/{admin.id}"))
    reset = admin_browser.post(f"/admin/users/{coordinator.id}/two-factor/reset")
    assert reset.status_code == 302 and reset.location == f"/admin/users/{coordinator.id}"
    assert db.session.get(User, coordinator.id).two_factor_enabled  # four eyes: not yet
    assert signed_in(client)

    second = build.user(roles=["admin"])
    second_browser = app.test_client()
    sign_in_with_code(second_browser, second, enrolled(second))
    [approval] = db.session.scalars(select(AdminApproval)).all()
    assert approval.kind == "reset_second_factor" and approval.requested_by_id == admin.id
    approved = second_browser.post(f"/admin/approvals/{approval.id}/approve", data={f"a{approval.id}-reason": "Lost phone"})
    assert approved.status_code == 302

    db.session.expire_all()
    after = db.session.get(User, coordinator.id)
    assert (after.two_factor_enabled, after.totp_secret, after.totp_last_step) == (False, None, None)
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode)
                             .where(RecoveryCode.user_id == coordinator.id)) == 0
    assert not signed_in(client)
    [event] = events(AuditEventKind.SECOND_FACTOR_RESET)
    assert (event.actor_id, event.subject_user_id, event.details) == (second.id, coordinator.id, {})
    assert password_step(client, coordinator).location == "/login/set-up-two-factor"

    own = admin_browser.post(f"/admin/users/{admin.id}/two-factor/reset")
    assert own.status_code == 409 and "ask another admin" in page_of(own)
    assert db.session.get(User, admin.id).two_factor_enabled


def test_only_admins_may_reset_a_second_factor(client, login, build):
    target = build.user(roles=["caseworker"])
    enrolled(target)
    login(roles=["caseworker"])
    assert client.post(f"/admin/users/{target.id}/two-factor/reset").status_code == 403
    assert db.session.get(User, target.id).two_factor_enabled


def test_quick_wrong_codes_meet_the_sign_in_throttle(client, build):
    """Wrong codes count like wrong passwords: typed fast, they are slowed, not just limited per sign-in."""
    user = build.user(roles=["caseworker"])
    secret = enrolled(user)
    password_step(client, user)
    wrong = f"{(int(code(secret)) + 1) % 1_000_000:06d}"
    answers = [client.post("/login/code", data={"code": wrong}) for _ in range(5)]
    assert [a.status_code for a in answers[:4]] == [422, 422, 422, 422]
    assert answers[4].status_code == 429 and answers[4].headers["Retry-After"] == "1"
