"""Four eyes: a role that opens personal data, given by an admin, waits for a second admin."""
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from inventory import clock
from inventory.accounts import approvals, operations
from inventory.accounts.models import AdminApproval, User
from inventory.audit.models import AuditEvent
from inventory.errors import Conflict, InvalidInput, NotAllowed
from inventory.extensions import db
from inventory.notifications.models import Notification
from tests.concurrency import run_at_once


def give(user, roles, *, actor):
    operations.update_user(user, email=user.email, name=user.name, organisation=user.organisation, roles=roles,
                           actor=actor)
    db.session.commit()


def kinds_of_events() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)))


@pytest.fixture
def admins(build):
    return build.user(roles=["admin"]), build.user(roles=["admin"])


@pytest.mark.parametrize("role", ["admin", "coordinator", "caseworker", "fitter"])
def test_a_role_that_opens_personal_data_waits_for_a_second_admin(build, admins, role):
    asker, _ = admins
    user = build.user(roles=["auditor"])
    give(user, ["auditor", role], actor=asker)
    assert db.session.get(User, user.id).roles == ["auditor"]
    (waiting,) = approvals.pending_for(user)
    assert (waiting.kind, waiting.values, waiting.requested_by_id) == ("grant_role", {"role": role}, asker.id)
    assert "approval_requested" in kinds_of_events()


def test_a_second_admin_approves_and_the_role_is_given_by_them(build, admins):
    asker, second = admins
    user = build.user(roles=["auditor"])
    give(user, ["auditor", "coordinator"], actor=asker)
    (waiting,) = approvals.pending_for(user)
    approvals.approve(waiting, actor=second, reason="New coordinator, agreed at the team meeting")
    db.session.commit()
    assert db.session.get(User, user.id).roles == ["auditor", "coordinator"]
    assert (waiting.outcome, waiting.decided_by_id) == ("approved", second.id)
    granted = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "roles_changed"))
    assert granted.actor_id == second.id and granted.details["added"] == ["coordinator"]
    approved = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "approval_approved"))
    assert approved.details == {"approval_id": waiting.id, "approval_kind": "grant_role", "by_operator": False,
                                "role": "coordinator"}


def test_every_other_active_admin_is_told_at_once_and_the_notice_closes_when_decided(build, admins):
    asker, second = admins
    third, gone = build.user(roles=["admin"]), build.user(roles=["admin"], active=False)
    user = build.user(roles=["auditor"])
    give(user, ["coordinator"], actor=asker)
    told = set(db.session.scalars(select(Notification.user_id).where(Notification.kind == "approval_requested")))
    assert told == {second.id, third.id} and gone.id not in told
    (waiting,) = approvals.pending_for(user)
    approvals.refuse(waiting, actor=third, reason="Not agreed")
    db.session.commit()
    assert db.session.scalars(select(Notification.closed_at).where(
        Notification.kind == "approval_requested")).all() and all(db.session.scalars(
            select(Notification.closed_at).where(Notification.kind == "approval_requested")))


def test_nobody_approves_their_own_request_or_one_about_themselves(build, admins):
    asker, second = admins
    give(second, ["admin", "coordinator"], actor=asker)
    (about_second,) = approvals.pending_for(second)
    with pytest.raises(NotAllowed, match="You asked for this change"):
        approvals.approve(about_second, actor=asker, reason="me")
    db.session.rollback()
    with pytest.raises(NotAllowed, match="This change is about you"):
        approvals.approve(about_second, actor=second, reason="me")
    db.session.rollback()
    assert db.session.get(User, second.id).roles == ["admin"]


def test_an_admin_asking_for_a_role_for_themselves_cannot_approve_it(build, admins):
    asker, _ = admins
    give(asker, ["admin", "coordinator"], actor=asker)
    (mine,) = approvals.pending_for(asker)
    with pytest.raises(NotAllowed):
        approvals.approve(mine, actor=asker, reason="I need it")
    db.session.rollback()
    assert db.session.get(User, asker.id).roles == ["admin"]


def test_the_database_refuses_a_decision_by_the_asker_or_the_subject(build, admins):
    asker, second = admins
    user = build.user(roles=["auditor"])
    give(user, ["auditor", "fitter"], actor=asker)
    (waiting,) = approvals.pending_for(user)
    for decider in (asker.id, user.id):
        with pytest.raises(IntegrityError):
            db.session.execute(update(AdminApproval).where(AdminApproval.id == waiting.id).values(
                outcome="approved", decided_at=clock.now(), decided_by_id=decider, reason="sneaky"))
        db.session.rollback()


def test_a_refusal_changes_nothing_and_needs_a_reason(build, admins):
    asker, second = admins
    user = build.user(roles=["auditor"])
    give(user, ["auditor", "fitter"], actor=asker)
    (waiting,) = approvals.pending_for(user)
    with pytest.raises(InvalidInput) as refused:
        approvals.refuse(waiting, actor=second, reason="   ")
    assert refused.value.fields == {"reason": "Say why (at most 500 characters)."}
    db.session.rollback()
    approvals.refuse(waiting, actor=second, reason="Not one of our fitters")
    db.session.commit()
    assert db.session.get(User, user.id).roles == ["auditor"] and waiting.outcome == "refused"
    with pytest.raises(Conflict, match="already refused"):
        approvals.approve(waiting, actor=second, reason="changed my mind")


def test_only_the_asker_withdraws(build, admins):
    asker, second = admins
    user = build.user(roles=["auditor"])
    give(user, ["auditor", "fitter"], actor=asker)
    (waiting,) = approvals.pending_for(user)
    with pytest.raises(NotAllowed, match="Only the admin who asked"):
        approvals.withdraw(waiting, actor=second)
    db.session.rollback()
    approvals.withdraw(waiting, actor=asker)
    db.session.commit()
    assert waiting.outcome == "withdrawn" and "approval_withdrawn" in kinds_of_events()


def test_taking_a_role_away_and_giving_one_without_personal_data_are_immediate(build, admins):
    asker, _ = admins
    user = build.user(roles=["coordinator"])
    give(user, ["finance"], actor=asker)
    assert db.session.get(User, user.id).roles == ["finance"] and approvals.pending_for(user) == []


def test_creating_a_user_with_such_a_role_creates_them_without_it_until_approved(build, admins):
    asker, second = admins
    user = operations.create_user(email="new@example.test", name="New", organisation=asker.organisation,
                                  roles=["fitter", "finance"], password=build.PASSWORD, actor=asker)
    db.session.commit()
    assert user.roles == ["finance"] and [a.values for a in approvals.pending_for(user)] == [{"role": "fitter"}]
    created = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "user_created",
                                                         AuditEvent.subject_user_id == user.id))
    assert created.details == {"roles": ["finance"], "awaiting_approval": ["fitter"]}


def test_asking_again_for_a_waiting_change_is_the_same_request(build, admins):
    asker, second = admins
    user = build.user(roles=["auditor"])
    give(user, ["auditor", "fitter"], actor=asker)
    give(user, ["auditor", "fitter"], actor=second)
    assert len(approvals.pending_for(user)) == 1


def test_a_request_nobody_decides_expires_after_approval_days(app, build, admins):
    asker, second = admins
    user = build.user(roles=["auditor"])
    give(user, ["auditor", "fitter"], actor=asker)
    (waiting,) = approvals.pending_for(user)
    later = clock.now() + timedelta(days=app.config["APPROVAL_DAYS"], minutes=1)
    with clock.frozen_at(later):
        with pytest.raises(Conflict, match="expired"):
            approvals.approve(waiting, actor=second, reason="late")
        db.session.rollback()
        assert approvals.pending_for(user) == []
        outcome = approvals.expire_approvals_job(clock.now())
        db.session.commit()
    assert outcome.counts == {"approvals_expired": 1} and waiting.outcome == "expired"
    assert db.session.get(User, user.id).roles == ["auditor"] and "approval_expired" in kinds_of_events()
    assert approvals.expire_approvals_job(later).counts == {"approvals_expired": 0}


def test_a_new_request_after_one_expired_is_a_new_request(app, build, admins):
    asker, _ = admins
    user = build.user(roles=["auditor"])
    give(user, ["auditor", "fitter"], actor=asker)
    with clock.frozen_at(clock.now() + timedelta(days=app.config["APPROVAL_DAYS"] + 1)):
        give(user, ["auditor", "fitter"], actor=asker)
        (fresh,) = approvals.pending_for(user)
    assert db.session.scalars(select(AdminApproval.outcome).order_by(AdminApproval.id)).all() == ["expired", None]
    assert fresh.requested_at > db.session.scalar(select(AdminApproval.requested_at).order_by(AdminApproval.id))


def test_with_no_other_admin_the_operator_grants_it_from_the_command_line(runner, build):
    only = build.user(roles=["admin"])
    give(only, ["admin", "coordinator"], actor=only)
    (waiting,) = approvals.pending_for(only)
    assert not approvals.deciders_exist(waiting)
    result = runner.invoke(args=["grant-role", only.email, "coordinator", "--reason", "Only admin; board agreed"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(User, only.id).roles == ["admin", "coordinator"]
    assert (waiting.outcome, waiting.decided_by_id, waiting.reason) == ("approved", None, "Only admin; board agreed")
    approved = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "approval_approved"))
    assert approved.actor_id is None and approved.details["by_operator"] is True


def test_the_operator_can_grant_a_role_nobody_asked_for_and_it_is_on_record(runner, build):
    user = build.user(roles=["auditor"])
    result = runner.invoke(args=["grant-role", user.email, "admin", "--reason", "Second admin for four eyes"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    record = db.session.scalar(select(AdminApproval))
    assert (record.requested_by_id, record.outcome, record.values) == (None, "approved", {"role": "admin"})
    assert db.session.get(User, user.id).roles == ["admin", "auditor"]


def test_the_operator_cannot_give_a_lead_only_role_at_a_partner(runner, build):
    user = build.user(roles=["caseworker"], organisation=build.organisation())
    result = runner.invoke(args=["grant-role", user.email, "coordinator", "--reason", "x"])
    assert result.exit_code == 1 and "Only staff of the lead provider" in result.output
    assert db.session.scalar(select(AdminApproval)) is None


@pytest.mark.postgres_only
def test_two_admins_deciding_at_once_decide_it_once(app, build):
    asker = build.user(roles=["admin"])
    deciders = [build.user(roles=["admin"]).id for _ in range(3)]
    user = build.user(roles=["auditor"])
    give(user, ["coordinator"], actor=asker)
    approval_id = approvals.pending_for(user)[0].id
    db.session.remove()

    def decide(decider_id, approve):
        decider, approval = db.session.get(User, decider_id), db.session.get(AdminApproval, approval_id)
        (approvals.approve if approve else approvals.refuse)(approval, actor=decider, reason="at once")

    outcomes = run_at_once(app, [lambda d=d, a=n % 2 == 0: decide(d, a) for n, d in enumerate(deciders)])
    assert sorted(outcomes) == ["already_decided", "already_decided", "ok"]
    assert db.session.execute(text("SELECT count(*) FROM audit_events WHERE kind IN "
                                   "('approval_approved', 'approval_refused')")).scalar() == 1
