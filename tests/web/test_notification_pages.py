"""The notification centre: a person's own open notifications, newest first, each opening
the page where it is dealt with; the unread count in the navigation."""
import re
from datetime import timedelta

from sqlalchemy import select

from inventory import clock
from inventory.extensions import db
from inventory.notices import JobOutcome, Notice
from inventory.notifications.delivery import deliver
from inventory.notifications.models import Notification
from tests.support import recorded_selects

KINDS = ("low_stock", "loan_due")


def low_stock(type_id: int, **audience) -> Notice:
    return Notice("low_stock", f"item_type:{type_id}", f"Item type {type_id} is low on stock.",
                  f"/stock/types/{type_id}", **audience)


def run(*notices, now=None):
    deliver("checks", JobOutcome(notices=list(notices)), kinds=KINDS, now=now or clock.now())
    db.session.commit()


def notification(user, subject) -> Notification:
    return db.session.scalar(select(Notification).where(Notification.user_id == user.id,
                                                        Notification.subject == subject))


def nav_link(html: str) -> str:
    return " ".join(re.search(r'<a href="/notifications"[^>]*>[^<]*</a>', html).group(0).split())


def test_the_centre_lists_only_the_signed_in_persons_open_notifications_newest_first(client, login, build):
    me, other = build.user(roles=["caseworker"]), build.user(roles=["caseworker"])
    run(low_stock(1, user_ids=(me.id,)), now=clock.now() - timedelta(hours=2))
    run(low_stock(1, user_ids=(me.id,)), low_stock(2, user_ids=(me.id,)), low_stock(3, user_ids=(other.id,)),
        Notice("loan_due", "item:7", "A loan is due back.", "/jobs", user_ids=(me.id,)))
    run(low_stock(1, user_ids=(me.id,)), low_stock(2, user_ids=(me.id,)), low_stock(3, user_ids=(other.id,)))
    login(me)
    html = client.get("/notifications").get_data(as_text=True)
    assert html.index("Item type 2 is low") < html.index("Item type 1 is low")
    assert "Item type 3" not in html  # someone else's
    assert "A loan is due back." not in html  # its condition is over


def test_opening_a_notification_marks_it_read_and_goes_where_it_is_dealt_with(client, login, build):
    me = build.user(roles=["coordinator"])
    run(low_stock(4, roles=("coordinator",)))
    login(me)
    mine = notification(me, "item_type:4")
    response = client.post(f"/notifications/{mine.id}/open")
    assert response.status_code == 302 and response.location == "/stock/types/4"
    assert notification(me, "item_type:4").read_at is not None


def test_nobody_can_open_or_even_find_someone_elses_notification(client, login, build):
    me, other = build.user(roles=["coordinator"]), build.user(roles=["finance"])
    run(low_stock(4, user_ids=(other.id,)))
    login(me)
    theirs = notification(other, "item_type:4")
    assert client.post(f"/notifications/{theirs.id}/open").status_code == 404
    assert notification(other, "item_type:4").read_at is None


def test_the_navigation_shows_the_unread_count_with_a_label_and_no_count_at_zero(client, login, build):
    me = build.user(roles=["coordinator"])
    login(me)
    assert nav_link(client.get("/").get_data(as_text=True)) == '<a href="/notifications" >Notifications</a>'
    run(low_stock(1, roles=("coordinator",)), low_stock(2, roles=("coordinator",)),
        low_stock(3, roles=("coordinator",)))
    link = nav_link(client.get("/").get_data(as_text=True))
    assert 'aria-label="Notifications, 3 unread"' in link and ">Notifications (3)</a>" in link
    client.post(f"/notifications/{notification(me, 'item_type:2').id}/open")
    assert ">Notifications (2)</a>" in nav_link(client.get("/").get_data(as_text=True))


def test_mark_all_read_clears_the_count_for_this_person_only(client, login, build):
    me, colleague = build.user(roles=["coordinator"]), build.user(roles=["coordinator"])
    run(low_stock(1, roles=("coordinator",)), low_stock(2, roles=("coordinator",)))
    login(me)
    response = client.post("/notifications/read", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "2 notifications marked read." in html
    assert ">Notifications</a>" in nav_link(html)
    assert notification(colleague, "item_type:1").read_at is None


def test_the_centre_is_paginated(client, login, build):
    me = build.user(roles=["coordinator"])
    run(*(low_stock(n, roles=("coordinator",)) for n in range(1, 6)))
    login(me)
    html = client.get("/notifications?per_page=2&page=3").get_data(as_text=True)
    assert "Page 3 of 3 (5)" in html and html.count("is low on stock.") == 1


def test_the_unread_count_is_one_query_on_any_page(client, login, build):
    me = build.user(roles=["coordinator"])
    login(me)
    with recorded_selects() as none:
        client.get("/")
    run(*(low_stock(n, roles=("coordinator",)) for n in range(1, 20)))
    with recorded_selects() as many:
        client.get("/")
    counts = [statement for statement in many if "FROM notifications" in statement]
    assert len(none) == len(many) and len(counts) == 1


def test_signing_in_is_needed_to_see_notifications(client):
    response = client.get("/notifications")
    assert response.status_code == 302 and "/login" in response.location
