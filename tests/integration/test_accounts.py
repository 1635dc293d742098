import hashlib

import pytest
from sqlalchemy import select

from inventory.accounts import operations
from inventory.accounts.models import ApiToken, LoginSession
from inventory.audit.models import AuditEvent
from inventory.errors import InvalidInput
from inventory.extensions import db


def events(kind):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.kind == kind)).all()


@pytest.mark.parametrize("role", ["coordinator", "fitter", "finance", "admin"])
def test_lead_only_roles_cannot_be_given_to_partner_staff(build, role):
    partner = build.organisation(kind="partner")
    with pytest.raises(InvalidInput) as raised:
        build.user(roles=[role], organisation=partner)
    assert "roles" in raised.value.fields


def test_partner_agencies_have_caseworkers(build):
    partner = build.organisation(kind="partner")
    assert build.user(roles=["caseworker"], organisation=partner).roles == ["caseworker"]


def test_emails_are_unique_whatever_their_case(build):
    build.user(email="Sam@Example.test")
    with pytest.raises(InvalidInput) as raised:
        build.user(email="sam@example.TEST")
    assert raised.value.fields == {"email": "Already in use."}


def test_a_user_needs_at_least_one_role(build):
    with pytest.raises(InvalidInput, match="at least one role"):
        build.user(roles=[])


def test_there_is_only_one_lead_provider(build):
    build.lead()
    with pytest.raises(InvalidInput, match="already a lead"):
        operations.create_organisation(name="Second lead", kind="lead", actor=None)


def test_creating_a_user_is_audited_without_the_password(build):
    user = build.user(roles=["fitter"])
    (event,) = events("user_created")
    assert event.subject_user_id == user.id and event.details == {"roles": ["fitter"]}
    assert build.PASSWORD not in user.password_hash


def test_unknown_email_and_wrong_password_fail_with_the_same_message(build):
    build.user(email="known@example.test")
    with pytest.raises(operations.InvalidCredentials) as unknown:
        operations.authenticate("nobody@example.test", build.PASSWORD)
    with pytest.raises(operations.InvalidCredentials) as wrong:
        operations.authenticate("known@example.test", "not the password")
    assert unknown.value.message == wrong.value.message


def test_a_deactivated_user_cannot_sign_in_even_with_the_right_password(build):
    user = build.user(active=False)
    with pytest.raises(operations.InvalidCredentials):
        operations.authenticate(user.email, build.PASSWORD)


def test_staff_of_a_deactivated_organisation_cannot_sign_in(build):
    partner = build.organisation()
    user = build.user(roles=["caseworker"], organisation=partner)
    admin = build.user(roles=["admin"])
    operations.update_organisation(partner, name=partner.name, active=False,
                                  case_reference_prefix=partner.case_reference_prefix, actor=admin)
    db.session.commit()
    with pytest.raises(operations.InvalidCredentials):
        operations.authenticate(user.email, build.PASSWORD)


def test_failed_attempts_on_unknown_emails_store_only_a_keyed_hash(build):
    with pytest.raises(operations.InvalidCredentials):
        operations.authenticate("Stranger@Example.test", "whatever it is")
    (event,) = events("login_failed")
    assert event.subject_user_id is None
    assert "stranger" not in (event.subject_key or "") and len(event.subject_key) == 64
    assert event.subject_key != hashlib.sha256(b"stranger@example.test").hexdigest()


def test_deactivation_ends_every_session_of_the_user(build):
    admin, user = build.user(), build.user(roles=["fitter"])
    tokens = [operations.start_login_session(user) for _ in range(2)]
    db.session.commit()
    assert all(operations.user_for_login_session(str(user.id), t) == user for t in tokens)
    operations.deactivate_user(user, actor=admin)
    db.session.commit()
    assert all(operations.user_for_login_session(str(user.id), t) is None for t in tokens)
    assert db.session.scalar(select(LoginSession).where(LoginSession.ended_at.is_(None))) is None


def test_an_admin_cannot_deactivate_themselves(build):
    admin = build.user()
    with pytest.raises(Exception, match="yourself"):
        operations.deactivate_user(admin, actor=admin)


def test_an_admin_cannot_remove_their_own_admin_role(build):
    admin = build.user()
    with pytest.raises(InvalidInput, match="own admin"):
        operations.update_user(admin, email=admin.email, name=admin.name, organisation=admin.organisation,
                               roles=["coordinator"], actor=admin)


def test_role_changes_are_audited_with_what_was_added_and_removed(build):
    admin, user = build.user(), build.user(roles=["fitter"])
    operations.update_user(user, email=user.email, name=user.name, organisation=user.organisation,
                           roles=["finance", "auditor"], actor=admin)
    db.session.commit()
    (event,) = events("roles_changed")
    assert event.details == {"added": ["auditor", "finance"], "removed": ["fitter"]}
    assert event.actor_id == admin.id
    assert user.roles == ["auditor", "finance"]


def test_api_tokens_are_stored_only_as_hashes_and_can_be_revoked(build):
    user = build.user()
    token, plain = operations.create_api_token(user, name="finance export")
    db.session.commit()
    assert plain.startswith("sh_") and plain not in token.token_hash and token.prefix == plain[:10]
    assert operations.user_for_api_token(plain) == user
    operations.revoke_api_token(user, token.id, actor=user)
    db.session.commit()
    assert operations.user_for_api_token(plain) is None
    assert db.session.get(ApiToken, token.id).revoked_at is not None


def test_a_deactivated_users_tokens_stop_working(build):
    admin, user = build.user(), build.user(roles=["finance"])
    plain = build.token(user)
    operations.deactivate_user(user, actor=admin)
    db.session.commit()
    assert operations.user_for_api_token(plain) is None


def test_a_password_reset_ends_the_users_sessions(build):
    admin, user = build.user(), build.user(roles=["fitter"])
    session_token = operations.start_login_session(user)
    db.session.commit()
    operations.set_password(user, "a brand new passphrase", actor=admin)
    db.session.commit()
    assert operations.user_for_login_session(str(user.id), session_token) is None
    assert operations.authenticate(user.email, "a brand new passphrase") == user
    assert [e.actor_id for e in events("password_reset")] == [admin.id]
