"""API tokens expire, and are revoked (with the reason kept and audited) when what they
were given to do no longer holds: a password reset or change, deactivation, a role change."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from inventory import clock
from inventory.accounts import operations
from inventory.accounts.models import ApiToken
from inventory.accounts.quiet_writes import record_token_use, worth_recording
from inventory.audit.models import AuditEvent, AuditEventKind
from inventory.errors import InvalidInput
from inventory.extensions import db

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
NEW_PASSWORD = "a quite different passphrase"


@pytest.fixture(autouse=True)
def june():
    with clock.frozen_at(NOW):
        yield


def revocations(user):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.kind == AuditEventKind.API_TOKEN_REVOKED,
                                                       AuditEvent.subject_user_id == user.id)).all()


def test_a_new_token_works_for_api_token_days_by_default(build, app):
    token, plain = operations.create_api_token(build.user(), name="sync")
    assert token.expires_at == NOW + timedelta(days=app.config["API_TOKEN_DAYS"]) == NOW + timedelta(days=90)
    with clock.frozen_at(NOW + timedelta(days=90) - timedelta(seconds=1)):
        assert operations.user_for_api_token(plain) is not None
    with clock.frozen_at(NOW + timedelta(days=90)):
        assert operations.user_for_api_token(plain) is None
        assert not token.is_active and token.is_expired


def test_the_creator_may_choose_fewer_days(build):
    token, plain = operations.create_api_token(build.user(), name="one-off export", days=1)
    assert token.expires_at == NOW + timedelta(days=1)
    with clock.frozen_at(NOW + timedelta(days=1)):
        assert operations.user_for_api_token(plain) is None


@pytest.mark.parametrize("days", [0, -3, 91, 10_000, True, "30", 2.5])
def test_days_outside_one_to_the_setting_are_refused_clearly(build, days):
    with pytest.raises(InvalidInput) as refused:
        operations.create_api_token(build.user(), name="sync", days=days)
    assert refused.value.details["fields"]["days"] == "A token lasts from 1 to 90 days."
    assert db.session.scalars(select(ApiToken)).all() == []


@pytest.mark.parametrize("app_overrides", [{"API_TOKEN_DAYS": 30}])
def test_the_longest_lifetime_is_a_setting(build):
    token, _ = operations.create_api_token(build.user(), name="sync")
    assert token.expires_at == NOW + timedelta(days=30)
    with pytest.raises(InvalidInput, match="from 1 to 30 days"):
        operations.create_api_token(build.user(), name="sync", days=31)


def test_a_token_expiring_within_seven_days_is_marked(build):
    soon, _ = operations.create_api_token(build.user(), name="soon", days=7)
    later, _ = operations.create_api_token(build.user(), name="later", days=8)
    assert soon.expires_soon and not later.expires_soon


def two_tokens(build, user):
    plains = [build.token(user), build.token(user)]
    operations.revoke_api_token(user, db.session.scalars(select(ApiToken.id)).first(), actor=user)
    return plains


@pytest.mark.parametrize("change, reason, by_admin", [
    (lambda user, admin: operations.set_password(user, NEW_PASSWORD, actor=admin), "password_reset", True),
    (lambda user, admin: operations.change_own_password(user, current_password="correct horse battery staple",
                                                        new_password=NEW_PASSWORD), "password_changed", False),
    (lambda user, admin: operations.deactivate_user(user, actor=admin), "deactivated", True),
    (lambda user, admin: operations.update_user(user, email=user.email, name=user.name,
                                                organisation=user.organisation, roles=["finance", "auditor"],
                                                actor=admin), "roles_changed", True),
], ids=["password reset", "password changed", "deactivated", "roles changed"])
def test_every_working_token_is_revoked_with_its_reason_and_audited(build, change, reason, by_admin):
    admin = build.user(roles=["admin"])
    user = build.user(roles=["finance"], password="correct horse battery staple")
    first, second, third = build.token(user), build.token(user), build.token(user)
    operations.revoke_api_token(user, operations.api_token_for(first).id, actor=user)  # already revoked: stays "owner"
    other = build.token(admin)

    change(user, admin)
    db.session.commit()

    assert operations.user_for_api_token(second) is None and operations.user_for_api_token(third) is None
    assert operations.user_for_api_token(other) == admin
    rows = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)).all()
    assert [row.revoked_reason for row in rows] == ["owner", reason, reason]
    event = revocations(user)[-1]
    assert event.details == {"reason": reason, "count": 2}
    assert event.actor_id == (admin.id if by_admin else user.id)
    assert not any(plain in str(e.details) for e in revocations(user) for plain in (first, second, third))


def test_reactivating_a_user_does_not_bring_their_tokens_back(build):
    admin, user = build.user(roles=["admin"]), build.user(roles=["finance"])
    plain = build.token(user)
    operations.deactivate_user(user, actor=admin)
    operations.reactivate_user(user, actor=admin)
    db.session.commit()
    assert operations.user_for_api_token(plain) is None


def test_saving_a_user_without_changing_roles_leaves_their_tokens(build):
    admin, user = build.user(roles=["admin"]), build.user(roles=["finance"])
    plain = build.token(user)
    operations.update_user(user, email=user.email, name="New Name", organisation=user.organisation,
                           roles=["finance"], actor=admin)
    assert operations.user_for_api_token(plain) == user
    assert revocations(user) == []


def test_an_admin_revoking_someones_token_is_recorded_as_the_admin(build):
    admin, user = build.user(roles=["admin"]), build.user(roles=["finance"])
    plain = build.token(user)
    token = operations.api_token_for(plain)
    operations.revoke_api_token(user, token.id, actor=admin)
    assert token.revoked_reason == "admin"
    event = revocations(user)[-1]
    assert event.actor_id == admin.id and event.details == {"token_id": token.id, "reason": "admin", "count": 1}


def test_a_tokens_last_use_is_recorded_at_most_once_a_minute(build, app):
    token, _ = operations.create_api_token(build.user(), name="sync")
    db.session.commit()
    assert worth_recording(token, NOW)

    record_token_use(db.engine, token.id, NOW)
    db.session.rollback()  # a fresh transaction sees what the other connection wrote
    assert token.last_used_at == NOW and not worth_recording(token, NOW + timedelta(seconds=59))

    record_token_use(db.engine, token.id, NOW + timedelta(seconds=59))  # as a request that raced would
    db.session.rollback()  # a fresh transaction sees what the other connection wrote
    assert token.last_used_at == NOW

    assert worth_recording(token, NOW + timedelta(minutes=1))
    record_token_use(db.engine, token.id, NOW + timedelta(minutes=1))
    db.session.rollback()  # a fresh transaction sees what the other connection wrote
    assert token.last_used_at == NOW + timedelta(minutes=1)
