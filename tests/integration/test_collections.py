"""Collection visits without HTTP: the loans due back, booking a visit to take items back
from a case, scanning them in on it, and closing it with a reason for what stayed out."""
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from inventory import clock
from inventory.audit.models import AccessLogEntry
from inventory.errors import Conflict, InvalidInput, NotAllowed, NotFound
from inventory.extensions import db
from inventory.jobs import queries
from inventory.jobs.booking import book_visit, schedule_collection
from inventory.jobs.completion import Completion, NotDone, complete_job
from inventory.jobs.contact import reveal_contact
from inventory.jobs.inputs import read_booking, read_collection_booking, read_completion
from inventory.jobs.models import (
    CollectionItem,
    ItemReturn,
    Job,
    JobKind,
    JobStatus,
    NotCollectedReason,
    NotIssuedReason,
    ReturnCondition,
)
from inventory.jobs.scanning import ScanAction, ScanInput, scan
from inventory.parsing import Fields
from inventory.stock.models import Item, ItemEvent, ItemState
from tests.support import booking_day


def give_back(job, item, actor, condition=ReturnCondition.GOOD):
    result = scan(ScanInput(ScanAction.RETURN, item.code, job_id=job.id, condition=condition), actor=actor)
    db.session.commit()
    return result


def fresh(item):
    return db.session.get(Item, item.id, populate_existing=True)


def booking(case, items, fitter, **change):
    """A collection booking as the API would send it, read at the edge."""
    return read_collection_booking(Fields(booking_body(case, items, fitter, **change)))


def booking_body(case, items, fitter, **change):
    return {"case_id": case.id, "item_ids": [item.id for item in items], "fitter_id": fitter.id,
            "scheduled_for": booking_day(), **change}


def office_return(item, coordinator):
    scan(ScanInput(ScanAction.RETURN, item.code, condition=ReturnCondition.GOOD), actor=coordinator)
    db.session.commit()


# Loans due back ----------------------------------------------------------------------------

def test_loans_out_lists_loaned_units_still_out_soonest_due_first(app, build):
    app.config["LOAN_PERIOD_DAYS"] = 28
    lock = build.item_type(name="Window lock", loaned=False)
    with clock.frozen_at(datetime(2026, 1, 5, 10, tzinfo=UTC)):
        early_case, (early, _gifted) = build.handed_over(lines=[(build.item_type(), 1), (lock, 1)])
    with clock.frozen_at(datetime(2026, 2, 1, 10, tzinfo=UTC)):
        late_case, (late,) = build.handed_over()
        _, (back,) = build.handed_over()
        office_return(back, build.user(roles=["coordinator"]))
    handovers = db.session.scalars(queries.loans_out_query(due_by=None)).all()
    assert [(row.item_id, row.return_due_on) for row in handovers] == [
        (early.id, date(2026, 2, 2)), (late.id, date(2026, 3, 1))]
    assert [row.job.case_id for row in handovers] == [early_case.id, late_case.id]
    due_soon = db.session.scalars(queries.loans_out_query(due_by=date(2026, 2, 10))).all()
    assert [row.item_id for row in due_soon] == [early.id]


def test_a_unit_returned_and_handed_over_again_counts_once_with_its_new_due_date(app, build):
    from inventory.requests.operations import approve_request

    alarm = build.item_type()
    coordinator, fitter = build.user(roles=["coordinator"]), build.user(roles=["fitter"])
    with clock.frozen_at(datetime(2026, 1, 5, 10, tzinfo=UTC)):
        case, (unit,) = build.handed_over(lines=[(alarm, 1)])
        office_return(unit, coordinator)
    with clock.frozen_at(datetime(2026, 3, 1, 10, tzinfo=UTC)):
        # The same survivor asks again; the only alarm on the shelf is the one that came back.
        again = build.equipment_request(case=case, lines=[(alarm, 1)])
        approve_request(again.id, actor=coordinator)
        db.session.commit()
        job = build.job(request=again, fitter=fitter, coordinator=coordinator)
        scan(ScanInput(ScanAction.ISSUE, unit.code, job_id=job.id), actor=fitter)
        complete_job(job.id, Completion(), actor=fitter)
        db.session.commit()
    rows = db.session.scalars(queries.loans_out_query(due_by=None)).all()
    assert [(row.item_id, row.recorded_at.date()) for row in rows] == [(unit.id, date(2026, 3, 1))]


def test_each_loan_shows_the_open_collection_that_will_fetch_it(build):
    case, (alarm,) = build.handed_over()
    job = build.collection(case=case, items=[alarm])
    [loan] = queries.loans_out(db.session.scalars(queries.loans_out_query(due_by=None)).all())
    assert loan.collection_job_id == job.id and loan.case.id == case.id and not loan.overdue


# Booking -------------------------------------------------------------------------------------

def test_a_coordinator_books_a_collection_of_chosen_items_from_a_case(build):
    case, (alarm, camera) = build.handed_over(lines=[(build.item_type(), 1), (build.item_type(name="Camera"), 1)])
    fitter = build.user(roles=["fitter"])
    job = schedule_collection(booking(case, [alarm], fitter, window_starts="14:00", window_ends="16:00"),
                              actor=build.user(roles=["coordinator"]))
    db.session.commit()
    assert (job.kind, job.case_id, job.request_id, job.fitter_id) == (JobKind.COLLECTION, case.id, None, fitter.id)
    assert job.window_starts.hour == 14 and job.status == JobStatus.SCHEDULED
    assert [item.id for item in queries.expected_items(job)] == [alarm.id]
    assert fresh(camera).state == ItemState.ISSUED  # not on the list, not touched


@pytest.mark.parametrize(("change", "field"), [
    ({"item_ids": []}, "item_ids"),
    ({"item_ids": "all"}, "item_ids"),
    ({"item_ids": ["one"]}, "item_ids"),
    ({"case_id": None}, "case_id"),
    ({"case_id": 99999}, "case_id"),
    ({"fitter_id": 99999}, "fitter_id"),
    ({"scheduled_for": "2020-01-01"}, "scheduled_for"),
    ({"window_starts": "15:00", "window_ends": "13:00"}, "window_ends"),
])
def test_booking_a_collection_refuses_bad_input_naming_the_field(build, change, field):
    case, items = build.handed_over()
    with pytest.raises(InvalidInput) as refused:
        schedule_collection(booking(case, items, build.user(roles=["fitter"]), **change),
                            actor=build.user(roles=["coordinator"]))
    assert field in refused.value.fields
    assert db.session.scalar(select(func.count()).select_from(Job).where(Job.kind == JobKind.COLLECTION)) == 0


def test_only_items_out_with_that_case_can_be_booked_for_collection(build):
    case, items = build.handed_over()
    _, others = build.handed_over()
    on_the_shelf = build.item()
    for stray in (others[0], on_the_shelf):
        with pytest.raises(InvalidInput) as refused:
            schedule_collection(booking(case, [*items, stray], build.user(roles=["fitter"])),
                                actor=build.user(roles=["coordinator"]))
        assert f"item {stray.id}" in refused.value.fields["item_ids"]
        db.session.rollback()


def test_a_second_collection_for_the_same_case_is_refused_while_one_is_open(build):
    case, items = build.handed_over()
    first = build.collection(case=case, items=items)
    with pytest.raises(Conflict) as refused:
        schedule_collection(booking(case, items, build.user(roles=["fitter"])), actor=build.user(roles=["coordinator"]))
    assert refused.value.code == "collection_already_booked"
    assert refused.value.details == {"job_id": first.id}


@pytest.mark.parametrize("role", ["fitter", "caseworker", "finance", "admin"])
def test_only_coordinators_book_collections(build, role):
    case, items = build.handed_over()
    with pytest.raises(NotAllowed):
        schedule_collection(booking(case, items, build.user(roles=["fitter"])), actor=build.user(roles=[role]))


def test_booking_chooses_the_kind_of_visit_from_the_body(build):
    case, items = build.handed_over()
    coordinator = build.user(roles=["coordinator"])
    body = {"kind": "collection", **booking_body(case, items, build.user(roles=["fitter"]))}
    job = book_visit(read_booking(Fields(body)), actor=coordinator)
    assert job.is_collection
    with pytest.raises(InvalidInput) as refused:
        read_booking(Fields({"kind": "picnic"}))
    assert set(refused.value.fields) == {"kind"}


def test_items_out_with_a_case_put_loans_due_soonest_first_then_gifts(build):
    lock = build.item_type(name="Door lock", loaned=False)
    case, (gift, alarm) = build.handed_over(lines=[(lock, 1), (build.item_type(), 1)])
    listed = queries.items_out_with(case.id)
    assert [item.id for item, _ in listed] == [alarm.id, gift.id]
    assert listed[0][1].loaned and not listed[1][1].loaned


# On the visit -------------------------------------------------------------------------------

def test_only_the_assigned_fitter_sees_the_collection_and_the_address_view_is_logged(build):
    case, items = build.handed_over()
    fitter = build.user(roles=["fitter"])
    job = build.collection(case=case, items=items, fitter=fitter)
    with pytest.raises(NotFound):
        queries.get_job(build.user(roles=["fitter"]), job.id)
    assert reveal_contact(job, actor=fitter).id == case.id
    db.session.commit()
    entry = db.session.scalar(select(AccessLogEntry).order_by(AccessLogEntry.id.desc()))
    assert entry.case_id == case.id and entry.reason == f"Collection visit, job {job.id}"


def test_scanning_a_listed_item_back_settles_it_and_puts_it_back_in_stock(build):
    case, (alarm,) = build.handed_over()
    fitter = build.user(roles=["fitter"])
    job = build.collection(case=case, items=[alarm], fitter=fitter)
    result = give_back(job, alarm, fitter)
    assert result.result == "returned" and result.extra["value_reused_pence"] == 2500
    assert fresh(alarm).state == ItemState.IN_STOCK
    row = db.session.scalar(select(CollectionItem))
    assert (row.outcome, row.reason, row.recorded_by_id) == ("collected", None, fitter.id)
    assert db.session.scalar(select(ItemReturn.job_id)) == job.id
    view = queries.job_view(job)
    assert view.expected == [] and [r.item_id for r in view.settled] == [alarm.id]


def test_an_item_handed_back_that_was_not_on_the_list_is_added_to_the_visit(build):
    case, (alarm, lock) = build.handed_over(lines=[(build.item_type(), 1), (build.item_type(loaned=False), 1)])
    fitter = build.user(roles=["fitter"])
    job = build.collection(case=case, items=[alarm], fitter=fitter)
    give_back(job, lock, fitter, ReturnCondition.DAMAGED)
    assert fresh(lock).state == ItemState.QUARANTINE
    assert [(r.item_id, r.outcome) for r in queries.job_view(job).settled] == [(lock.id, "collected")]
    assert [item.id for item in queries.expected_items(job)] == [alarm.id]


def test_a_collection_hands_nothing_over_and_refuses_another_cases_item(build):
    case, items = build.handed_over()
    _, (elsewhere,) = build.handed_over()
    on_the_shelf = build.item()
    fitter = build.user(roles=["fitter"])
    job = build.collection(case=case, items=items, fitter=fitter)
    before = db.session.scalar(select(func.count()).select_from(ItemEvent))
    with pytest.raises(Conflict) as refused:
        scan(ScanInput(ScanAction.ISSUE, on_the_shelf.code, job_id=job.id), actor=fitter)
    assert refused.value.code == "collection_visit"
    db.session.rollback()
    with pytest.raises(Conflict) as other_case:
        scan(ScanInput(ScanAction.RETURN, elsewhere.code, job_id=job.id, condition=ReturnCondition.GOOD),
             actor=fitter)
    assert other_case.value.code == "not_from_this_case"
    db.session.rollback()
    assert fresh(on_the_shelf).state == ItemState.IN_STOCK and fresh(elsewhere).state == ItemState.ISSUED
    assert db.session.scalar(select(func.count()).select_from(ItemEvent)) == before
    assert db.session.scalar(select(func.count()).select_from(CollectionItem)) == 1


def test_an_item_dropped_at_the_office_first_is_no_longer_expected_on_the_visit(build):
    case, (alarm, other) = build.handed_over(lines=[(build.item_type(), 2)])
    fitter = build.user(roles=["fitter"])
    job = build.collection(case=case, items=[alarm, other], fitter=fitter)
    office_return(alarm, build.user(roles=["coordinator"]))
    assert [item.id for item in queries.expected_items(job)] == [other.id]
    row = db.session.scalar(select(CollectionItem).where(CollectionItem.item_id == alarm.id))
    assert row.outcome == "collected" and row.recorded_by_id != fitter.id  # settled by the office
    give_back(job, other, fitter)
    complete_job(job.id, Completion(), actor=fitter)  # nothing left to explain
    db.session.commit()
    assert db.session.get(Job, job.id).status == JobStatus.COMPLETED
    assert db.session.scalar(select(ItemReturn.job_id).where(ItemReturn.item_id == alarm.id)) is None


# Closing -------------------------------------------------------------------------------------

def test_closing_a_collection_needs_a_reason_for_each_item_still_out(build):
    case, (alarm, camera) = build.handed_over(lines=[(build.item_type(), 1), (build.item_type(name="Camera"), 1)])
    fitter = build.user(roles=["fitter"])
    job = build.collection(case=case, items=[alarm, camera], fitter=fitter)
    with pytest.raises(InvalidInput) as unknown_reason:
        read_completion(Fields({"not_collected": [{"item_id": alarm.id, "reason": "on holiday"}]}))
    assert set(unknown_reason.value.fields) == {"not_collected[0].reason"}
    with pytest.raises(InvalidInput) as refused:
        complete_job(job.id, Completion(not_collected=(NotDone(alarm.id, NotCollectedReason.NOT_HOME),)),
                     actor=fitter)
    assert refused.value.code == "reasons_missing"
    assert set(refused.value.fields) == {f"item_{camera.id}"}
    db.session.rollback()
    with pytest.raises(InvalidInput) as wrong_list:
        complete_job(job.id, Completion(not_issued=(NotDone(alarm.id, NotIssuedReason.NOT_HOME),
                                                    NotDone(camera.id, NotIssuedReason.NOT_HOME))), actor=fitter)
    assert {f"item_{alarm.id}", f"item_{camera.id}"} <= set(wrong_list.value.fields)
    db.session.rollback()
    assert db.session.get(Job, job.id).status == JobStatus.SCHEDULED


def test_closing_records_why_items_stayed_out_and_writes_off_those_not_recovered(build):
    kinds = [build.item_type(name=f"Alarm {n}") for n in range(3)]
    case, (home, keeps, lost) = build.handed_over(lines=[(kind, 1) for kind in kinds])
    fitter = build.user(roles=["fitter"])
    job = build.collection(case=case, items=[home, keeps, lost], fitter=fitter)
    complete_job(job.id, Completion(not_collected=(
        NotDone(home.id, NotCollectedReason.NOT_HOME), NotDone(keeps.id, NotCollectedReason.DECLINED),
        NotDone(lost.id, NotCollectedReason.LOST))), actor=fitter)
    db.session.commit()
    assert db.session.get(Job, job.id).status == JobStatus.COMPLETED
    rows = {row.item_id: row for row in db.session.scalars(select(CollectionItem))}
    assert {item_id: row.reason for item_id, row in rows.items()} == {
        home.id: "not_home", keeps.id: "declined", lost.id: "lost"}
    assert all(row.outcome == "not_collected" and row.recorded_by_id == fitter.id for row in rows.values())
    assert fresh(home).state == fresh(keeps).state == ItemState.ISSUED
    assert fresh(lost).state == ItemState.WRITTEN_OFF and fresh(lost).write_off_reason == "not_recovered"
    assert db.session.scalar(select(ItemReturn.condition).where(ItemReturn.item_id == lost.id)) == "lost"
    # Still out, so still on the loans list, and free to be booked again.
    assert {row.item_id for row in db.session.scalars(queries.loans_out_query(due_by=None))} == {
        home.id, keeps.id}
    again = build.collection(case=case, items=[home], scheduled_for=clock.today() + timedelta(days=7))
    assert again.is_open


def test_a_completed_collection_takes_nothing_more(build):
    case, (alarm, other) = build.handed_over(lines=[(build.item_type(), 2)])
    fitter = build.user(roles=["fitter"])
    job = build.collection(case=case, items=[alarm], fitter=fitter)
    give_back(job, alarm, fitter)
    complete_job(job.id, Completion(), actor=fitter)
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        scan(ScanInput(ScanAction.RETURN, other.code, job_id=job.id, condition=ReturnCondition.GOOD), actor=fitter)
    assert refused.value.code == "job_closed"
