"""Delivering a job run's notices: one notification per condition per person per day, to
the active people they are addressed to, closed once a later run no longer finds them."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from inventory.extensions import db
from inventory.notices import JobOutcome, Notice
from inventory.notifications.delivery import deliver
from inventory.notifications.models import Notification

MORNING = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
KINDS = ("low_stock", "low_stock_summary")


def low_stock(type_id=4, *, message=None, roles=("coordinator",), user_ids=()):
    return Notice("low_stock", f"item_type:{type_id}", message or f"Item type {type_id} is low on stock.",
                  f"/stock/types/{type_id}", roles=roles, user_ids=user_ids)


def run(*notices, now=MORNING, kinds=KINDS):
    delivered = deliver("low_stock", JobOutcome(counts={}, notices=list(notices)), kinds=kinds, now=now)
    db.session.commit()
    return delivered


def notifications(user=None, *, open_only=False):
    query = select(Notification).order_by(Notification.id)
    if user is not None:
        query = query.where(Notification.user_id == user.id)
    if open_only:
        query = query.where(Notification.closed_at.is_(None))
    return list(db.session.scalars(query))


def test_a_notice_becomes_one_notification_for_each_person_holding_its_role(build):
    first, second = build.user(roles=["coordinator"]), build.user(roles=["coordinator", "finance"])
    build.user(roles=["finance"])
    delivered = run(low_stock())
    rows = notifications()
    assert sorted(row.user_id for row in rows) == [first.id, second.id]
    assert {(row.kind, row.subject, row.link, row.day) for row in rows} == {
        ("low_stock", "item_type:4", "/stock/types/4", MORNING.date())}
    assert all(row.read_at is None and row.closed_at is None and row.created_at == MORNING for row in rows)
    assert delivered.as_counts() == {"notifications_created": 2, "notifications_kept": 0, "notifications_closed": 0}


def test_a_second_run_the_same_day_updates_the_message_and_adds_nothing(build):
    coordinator = build.user(roles=["coordinator"])
    run(low_stock(message="Item type 4 is low: 1 left."))
    delivered = run(low_stock(message="Item type 4 is low: none left."), now=MORNING + timedelta(hours=6))
    (row,) = notifications(coordinator)
    assert row.message == "Item type 4 is low: none left." and row.closed_at is None
    assert (delivered.created, delivered.kept, delivered.closed) == (0, 1, 0)


def test_the_next_day_a_condition_still_there_is_a_new_notification_and_replaces_yesterdays(build):
    coordinator = build.user(roles=["coordinator"])
    run(low_stock())
    delivered = run(low_stock(), now=MORNING + timedelta(days=1))
    yesterday, today = notifications(coordinator)
    assert (yesterday.day, today.day) == (MORNING.date(), MORNING.date() + timedelta(days=1))
    assert yesterday.closed_at == MORNING + timedelta(days=1) and today.closed_at is None
    assert (delivered.created, delivered.closed) == (1, 1)


def test_a_condition_the_next_run_no_longer_finds_is_closed_and_others_stay(build):
    coordinator = build.user(roles=["coordinator"])
    run(low_stock(4), low_stock(5))
    later = MORNING + timedelta(hours=1)
    delivered = run(low_stock(5), now=later)
    gone, still = notifications(coordinator)
    assert (gone.subject, gone.closed_at) == ("item_type:4", later)
    assert (still.subject, still.closed_at) == ("item_type:5", None)
    assert (delivered.created, delivered.kept, delivered.closed) == (0, 1, 1)


def test_a_run_that_finds_nothing_closes_every_open_notification_of_the_kinds_the_job_declares(build):
    coordinator = build.user(roles=["coordinator"])
    run(low_stock(4), Notice("low_stock_summary", "", "2 item types are low on stock.", "/stock",
                             roles=("coordinator",)))
    deliver("loans_due", JobOutcome(notices=[Notice("loan_due", "item:9", "A loan is due back.", "/loans",
                                                    roles=("coordinator",))]), kinds=["loan_due"], now=MORNING)
    run(now=MORNING + timedelta(hours=1))
    assert [row.kind for row in notifications(coordinator, open_only=True)] == ["loan_due"]


def test_a_condition_that_comes_back_the_same_day_reopens_its_notification(build):
    coordinator = build.user(roles=["coordinator"])
    run(low_stock())
    run(now=MORNING + timedelta(hours=1))
    delivered = run(low_stock(), now=MORNING + timedelta(hours=2))
    (row,) = notifications(coordinator)
    assert row.closed_at is None
    assert (delivered.created, delivered.kept) == (0, 1)


def test_named_users_and_role_holders_get_one_notification_each(build):
    coordinator, caseworker = build.user(roles=["coordinator"]), build.user(roles=["caseworker"])
    bystander = build.user(roles=["caseworker"])
    run(low_stock(roles=("coordinator",), user_ids=(coordinator.id, caseworker.id)))
    assert sorted(row.user_id for row in notifications()) == [coordinator.id, caseworker.id]
    assert notifications(bystander) == []


def test_a_deactivated_user_gets_nothing_and_their_open_notifications_close(build):
    active = build.user(roles=["coordinator"])
    leaver = build.user(roles=["coordinator"])
    inactive_caseworker = build.user(roles=["caseworker"], active=False)
    run(low_stock(user_ids=(inactive_caseworker.id,)))
    assert notifications(inactive_caseworker) == []
    leaver.active = False
    db.session.commit()
    run(low_stock(), now=MORNING + timedelta(hours=1))
    assert [row.user_id for row in notifications(open_only=True)] == [active.id]


def test_a_notice_of_a_kind_the_job_does_not_declare_is_refused(build):
    build.user(roles=["coordinator"])
    with pytest.raises(ValueError, match="does not declare"):
        run(low_stock(), kinds=["low_stock_summary"])


@pytest.mark.parametrize("link", ["https://elsewhere.example/", "//elsewhere.example/x", "stock"])
def test_a_notice_must_link_to_a_page_of_safehold(build, link):
    with pytest.raises(ValueError, match="path in SafeHold"):
        run(Notice("low_stock", "item_type:4", "Low.", link, roles=("coordinator",)))
