"""The scheduled jobs of stock and the queue (issue 12), driven at simulated dates: low stock
(and its one rule, shared with the stock page), requests past their decision target, and
reservations held too long without a booked visit."""
from datetime import UTC, datetime, timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select

from inventory import clock
from inventory.budget.models import LedgerEntry
from inventory.catalogue.operations import set_product_code
from inventory.extensions import db
from inventory.jobs.stale_reservations import stale_reservations
from inventory.notices import Notice
from inventory.procurement import reorder
from inventory.procurement.models import PurchaseOrderStatus
from inventory.requests.operations import approve_request
from inventory.requests.overdue import requests_overdue
from inventory.stock.queries import stock_levels
from tests.support import recorded_selects

NOW = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # a Friday, 07:00


def endpoint_of(link: str) -> str:
    """The endpoint a notice's link leads to (so a renamed route cannot leave links dead)."""
    path = link.split("?")[0]
    return current_app.url_map.bind("localhost").match(path)[0]


def assert_no_personal_data(notices: list[Notice], *cases) -> None:
    for notice in notices:
        for case in cases:
            for secret in (case.name, case.address, case.phone, case.reference):
                assert secret not in notice.message


def level_of(item_type):
    return next(level for level in stock_levels() if level.item_type_id == item_type.id)


# Low stock ---------------------------------------------------------------------------------

def test_units_on_order_count_towards_the_reorder_level(build):
    alarm = build.item_type(name="Alarm", reorder_level=3)
    build.items(1, item_type=alarm)
    build.purchase_order(lines=[(alarm, 4, 1000, 0)])
    level = level_of(alarm)
    assert (level.in_stock, level.on_order, level.below_reorder) == (1, 4, False)
    assert reorder.low_stock(NOW).notices == []


def test_a_type_is_low_when_in_stock_plus_on_order_is_below_its_reorder_level(build):
    alarm = build.item_type(name="Alarm", reorder_level=3)
    build.items(1, item_type=alarm)
    build.purchase_order(lines=[(alarm, 1, 1000, 0)])
    level = level_of(alarm)
    assert (level.in_stock, level.on_order, level.below_reorder, level.to_order) == (1, 1, True, 4)


def test_reserved_units_do_not_keep_a_type_off_the_low_list(build):
    alarm = build.item_type(name="Alarm", reorder_level=2)
    build.approved_request(lines=[(alarm, 2)])  # both units received, then reserved to it
    level = level_of(alarm)
    assert (level.in_stock, level.reserved, level.below_reorder) == (0, 2, True)


def test_the_low_stock_job_tells_coordinators_once_per_low_type(build):
    alarm = build.item_type(name="Personal alarm", reorder_level=3)
    lock = build.item_type(name="Door lock", reorder_level=2, loaned=False)
    build.items(1, item_type=alarm)
    build.items(2, item_type=lock)  # at its level: not low
    build.item_type(name="Doorbell", reorder_level=0)  # no level: never low
    build.item_type(name="Old alarm", reorder_level=5, active=False)  # retired: not reported
    outcome = reorder.low_stock(NOW)
    assert outcome.counts == {"low_types": 1}
    assert outcome.notices == [Notice(
        kind="low_stock", subject=f"item_type:{alarm.id}",
        message="Personal alarm is low: 1 in stock and 0 on order, below its reorder level of 3. Suggested order: 5.",
        link="/purchase-orders/reorder", roles=("coordinator",))]
    assert endpoint_of(outcome.notices[0].link) == "procurement.reorder"


def test_running_the_low_stock_job_twice_changes_nothing_and_finds_the_same(build):
    build.items(1, item_type=build.item_type(reorder_level=3))
    first = reorder.low_stock(NOW)
    second = reorder.low_stock(NOW + timedelta(hours=1))
    assert first == second


def test_the_target_level_follows_the_setting(app, build):
    alarm = build.item_type(reorder_level=3)
    app.config["REORDER_TARGET_FACTOR"] = 3
    assert level_of(alarm).to_order == 9


def test_a_suggestion_is_priced_at_standard_cost_from_the_supplier_with_the_product_code(build):
    alarm = build.item_type(name="Alarm", reorder_level=2, standard_cost_pence=1500)
    build.supplier(name="Unrelated")
    maker = build.supplier(name="Alarm maker")
    set_product_code(alarm, maker, "AL-1")
    db.session.commit()
    [suggestion] = reorder.suggestions()
    assert (suggestion.level.item_type_id, suggestion.supplier_id, suggestion.quantity, suggestion.unit_net_pence,
            suggestion.net_pence) == (alarm.id, maker.id, 4, 1500, 6000)


def test_a_type_no_supplier_has_a_code_for_has_no_supplier_suggested(build):
    build.item_type(reorder_level=1)
    [suggestion] = reorder.suggestions()
    assert suggestion.supplier_id is None


def test_drafting_the_suggestions_makes_a_draft_order_and_commits_no_money(build):
    alarm = build.item_type(name="Alarm", reorder_level=2, standard_cost_pence=1500)
    lock = build.item_type(name="Lock", reorder_level=1, standard_cost_pence=900, loaned=False)
    supplier = build.supplier()
    coordinator = build.user(roles=["coordinator"])
    entries = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    order = reorder.draft_reorder(supplier, [alarm.id, lock.id], actor=coordinator)
    assert order.status == PurchaseOrderStatus.DRAFT
    assert sorted((line.item_type_id, line.quantity_ordered, line.unit_net_pence, line.unit_vat_pence)
                  for line in order.lines) == sorted([(alarm.id, 4, 1500, 0), (lock.id, 2, 900, 0)])
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == entries


def test_drafting_again_orders_only_what_drafts_do_not_already_hold(build):
    alarm = build.item_type(reorder_level=2)
    supplier, coordinator = build.supplier(), build.user(roles=["coordinator"])
    reorder.draft_reorder(supplier, [alarm.id], actor=coordinator)
    db.session.commit()
    [suggestion] = reorder.suggestions()
    assert (suggestion.on_drafts, suggestion.quantity) == (4, 0)
    with pytest.raises(reorder.NothingToReorder):
        reorder.draft_reorder(supplier, [alarm.id], actor=coordinator)


def test_drafting_a_type_that_is_not_low_is_refused(build):
    alarm = build.item_type(reorder_level=1)
    build.items(1, item_type=alarm)
    with pytest.raises(reorder.NothingToReorder):
        reorder.draft_reorder(build.supplier(), [alarm.id], actor=build.user(roles=["coordinator"]))


def test_the_low_stock_job_costs_the_same_statements_at_any_catalogue_size(build):
    def low_types(n):
        for _ in range(n):
            kind = build.item_type(reorder_level=3)
            build.items(1, item_type=kind)
            build.purchase_order(lines=[(kind, 1, 1000, 0)])

    low_types(1)
    with recorded_selects() as few:
        assert len(reorder.low_stock(NOW).notices) == 1
    low_types(4)
    with recorded_selects() as many:
        assert len(reorder.low_stock(NOW).notices) == 5
        assert len(reorder.suggestions()) == 5
    assert len(few) == 1 and len(many) == 3


# Requests past their target -----------------------------------------------------------------

def raised_on(build, day, **case_details):
    with clock.frozen_at(datetime.combine(day, datetime.min.time(), UTC)):
        caseworker = build.caseworker()
        case = build.case(caseworker=caseworker, **case_details)
        return build.equipment_request(case=case, caseworker=caseworker), case


def test_requests_past_their_decision_target_are_counted_per_risk_level(build):
    today = NOW.date()
    _, high_case = raised_on(build, today - timedelta(days=3), risk_level="high")  # target: next working day
    raised_on(build, today - timedelta(days=4), risk_level="high")
    raised_on(build, today, risk_level="high")  # still within target
    _, medium_case = raised_on(build, today - timedelta(days=8), risk_level="medium")
    raised_on(build, today - timedelta(days=7), risk_level="medium")  # due today: not yet past
    raised_on(build, today - timedelta(days=10), risk_level="standard")
    outcome = requests_overdue(NOW)
    assert outcome.counts == {"overdue_standard": 0, "overdue_medium": 1, "overdue_high": 2}
    assert outcome.notices == [
        Notice(kind="requests_overdue", subject="risk:high",
               message="2 high-risk requests are past the target for a decision.",
               link="/queue?overdue=1&risk_level=high", roles=("coordinator",)),
        Notice(kind="requests_overdue", subject="risk:medium",
               message="1 medium-risk request is past the target for a decision.",
               link="/queue?overdue=1&risk_level=medium", roles=("coordinator",)),
    ]
    assert endpoint_of(outcome.notices[0].link) == "requests.queue"
    assert_no_personal_data(outcome.notices, high_case, medium_case)


def test_a_decided_request_is_no_longer_past_its_target(build):
    request, _ = raised_on(build, NOW.date() - timedelta(days=20))
    assert requests_overdue(NOW).counts["overdue_standard"] == 1
    build.items(1, item_type=request.lines[0].item_type)
    approve_request(request.id, actor=build.user(roles=["coordinator"]))
    db.session.commit()
    outcome = requests_overdue(NOW)
    assert (outcome.counts["overdue_standard"], outcome.notices) == (0, [])


def test_the_same_requests_are_overdue_later_and_not_earlier(build):
    raised_on(build, NOW.date(), risk_level="medium")
    assert requests_overdue(NOW + timedelta(days=7)).notices == []
    assert requests_overdue(NOW + timedelta(days=8)).counts["overdue_medium"] == 1


# Reservations held too long -----------------------------------------------------------------

def approved_on(build, day):
    with clock.frozen_at(datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=10)):
        return build.approved_request(lines=[(build.item_type(), 2)])


def test_units_reserved_longer_than_the_setting_without_a_visit_are_reported_per_request(build):
    request = approved_on(build, NOW.date() - timedelta(days=20))
    approved_on(build, NOW.date() - timedelta(days=3))  # recent: fine
    outcome = stale_reservations(NOW)
    assert outcome.counts == {"requests": 1, "units": 2}
    assert outcome.notices == [Notice(
        kind="reservation_stale", subject=f"request:{request.id}",
        message=(f"Request {request.id} has held 2 reserved units for more than 14 days with no visit booked: "
                 "book the visit or release the units."),
        link=f"/requests/{request.id}", roles=("coordinator",))]
    assert endpoint_of(outcome.notices[0].link) == "requests.show"
    assert_no_personal_data(outcome.notices, request.case)


def test_a_reservation_becomes_stale_only_after_the_set_number_of_days(app, build):
    approved_on(build, NOW.date())
    held_since = NOW.replace(hour=10)
    assert stale_reservations(held_since + timedelta(days=14)).notices == []
    assert stale_reservations(held_since + timedelta(days=14, minutes=1)).counts["units"] == 2
    app.config["RESERVATION_STALE_DAYS"] = 30
    assert stale_reservations(held_since + timedelta(days=20)).notices == []


def test_a_booked_visit_takes_the_request_off_the_stale_list(build):
    with clock.frozen_at(NOW - timedelta(days=30)):
        build.job()
    assert stale_reservations(NOW).counts == {"requests": 0, "units": 0}
