"""Second-factor codes in the database: each accepted once, even when the same code arrives
twice at the same moment; recovery codes spent once; an admin's reset clears everything."""
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from inventory import clock
from inventory.accounts import two_factor
from inventory.accounts.models import RecoveryCode, User
from inventory.errors import Conflict
from inventory.extensions import db
from tests.concurrency import run_at_once

NOW = datetime(2026, 6, 20, 10, 0, 5, tzinfo=UTC)


@pytest.fixture
def enrolled_user(build):
    """A caseworker who set up two-factor a minute ago; (user id, secret, recovery codes)."""
    user = build.user(roles=["caseworker"])
    with clock.frozen_at(NOW - timedelta(minutes=1)):
        two_factor.begin_enrolment(user)
        codes = two_factor.confirm_enrolment(user, pyotp.TOTP(user.totp_secret).at(clock.now()))
    db.session.commit()
    return user.id, user.totp_secret, codes


def test_the_last_accepted_step_is_remembered_so_the_same_code_fails_next_time(enrolled_user):
    user_id, secret, _ = enrolled_user
    user = db.session.get(User, user_id)
    with clock.frozen_at(NOW):
        typed = pyotp.TOTP(secret).at(NOW)
        two_factor.check_sign_in_code(user, typed)
        assert user.totp_last_step == pyotp.TOTP(secret).timecode(NOW)
        with pytest.raises(two_factor.WrongCode):
            two_factor.check_sign_in_code(user, typed)


def test_confirming_an_enrolment_twice_is_refused(enrolled_user):
    user = db.session.get(User, enrolled_user[0])
    with pytest.raises(Conflict):
        two_factor.confirm_enrolment(user, "123456")


@pytest.mark.postgres_only
def test_the_same_code_sent_twice_at_once_is_accepted_only_once(app, enrolled_user):
    user_id, secret, _ = enrolled_user
    with clock.frozen_at(NOW):
        typed = pyotp.TOTP(secret).at(NOW)
        outcomes = run_at_once(app, [
            lambda: two_factor.check_sign_in_code(db.session.get(User, user_id), typed) for _ in range(4)])
    assert sorted(outcomes) == ["invalid_input"] * 3 + ["ok"]


@pytest.mark.postgres_only
def test_the_same_recovery_code_sent_twice_at_once_is_spent_only_once(app, enrolled_user):
    user_id, _, codes = enrolled_user
    outcomes = run_at_once(app, [
        lambda: two_factor.check_recovery_code(db.session.get(User, user_id), codes[0]) for _ in range(4)])
    assert sorted(outcomes) == ["invalid_input"] * 3 + ["ok"]
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))) == 9
