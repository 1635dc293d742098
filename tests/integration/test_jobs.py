"""Jobs without HTTP: scheduling, issuing by scan (and swapping units), every refusal,
the handover checklist, completion, and returns."""
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select

from inventory import clock
from inventory.audit.models import AccessLogEntry
from inventory.errors import Conflict, InvalidInput, NotAllowed, NotFound
from inventory.extensions import db
from inventory.jobs.booking import InstallBooking, Visit, schedule_job
from inventory.jobs.completion import Completion, NotDone, complete_job
from inventory.jobs.contact import reveal_contact
from inventory.jobs.inputs import read_completion, read_install_booking, read_scan
from inventory.jobs.issuing import record_checklist
from inventory.jobs.models import (
    CHECKLIST_KEYS,
    CHECKS_BEFORE_ISSUE,
    ItemReturn,
    JobItem,
    JobStatus,
    NotIssuedReason,
    ReturnCondition,
)
from inventory.jobs.queries import expected_items, get_job
from inventory.jobs.scanning import ScanAction, ScanInput, scan
from inventory.parsing import Fields
from inventory.requests.models import EquipmentRequest, RequestState
from inventory.stock import operations as stock
from inventory.stock.models import Item, ItemEvent, ItemState
from tests.support import booking_day


def reserved_units(request_id):
    return list(db.session.scalars(select(Item).where(Item.reserved_for_request_id == request_id)
                                   .order_by(Item.id)))


def issue(job, item, actor):
    result = scan(ScanInput(ScanAction.ISSUE, item.code, job_id=job.id), actor=actor)
    db.session.commit()
    return result


GOOD = ReturnCondition.GOOD


def event_count():
    return db.session.scalar(select(func.count()).select_from(ItemEvent))


# Scheduling ------------------------------------------------------------------------------

def test_scheduling_an_approved_request_books_the_fitter_and_moves_the_request_on(build):
    coordinator, fitter = build.user(roles=["coordinator"]), build.user(roles=["fitter"])
    request = build.approved_request(coordinator=coordinator)
    job = schedule_job(InstallBooking(request.id, Visit(fitter.id, clock.today(), time(13), time(15))),
                       actor=coordinator)
    db.session.commit()
    assert job.status == JobStatus.SCHEDULED and job.fitter_id == fitter.id
    assert (job.window_starts, job.window_ends) == (time(13), time(15))
    assert db.session.get(EquipmentRequest, request.id).state == RequestState.SCHEDULED
    assert [item.id for item in expected_items(job)] == [u.id for u in reserved_units(request.id)]


@pytest.mark.parametrize(("change", "field"), [
    ({"fitter_id": "coordinator"}, "fitter_id"),
    ({"fitter_id": 99999}, "fitter_id"),
    ({"scheduled_for": "2020-01-01"}, "scheduled_for"),
    ({"scheduled_for": "tomorrowish"}, "scheduled_for"),
    ({"window_starts": "15:00", "window_ends": "13:00"}, "window_ends"),
    ({"window_starts": "25:99"}, "window_starts"),
    ({"request_id": None}, "request_id"),
    ({"request_id": 99999}, "request_id"),
])
def test_scheduling_refuses_bad_input_naming_the_field(build, change, field):
    coordinator, fitter = build.user(roles=["coordinator"]), build.user(roles=["fitter"])
    request = build.approved_request(coordinator=coordinator)
    data = {"request_id": request.id, "fitter_id": fitter.id, "scheduled_for": booking_day(), **change}
    if data["fitter_id"] == "coordinator":
        data["fitter_id"] = coordinator.id
    with pytest.raises(InvalidInput) as refused:
        schedule_job(read_install_booking(Fields(data)), actor=coordinator)
    assert field in refused.value.fields


def test_a_request_not_yet_approved_or_already_booked_cannot_be_scheduled(build):
    coordinator, fitter = build.user(roles=["coordinator"]), build.user(roles=["fitter"])
    waiting = build.equipment_request()
    visit = Visit(fitter.id, clock.today(), time(9), time(12))
    with pytest.raises(Conflict) as refused:
        schedule_job(InstallBooking(waiting.id, visit), actor=coordinator)
    assert refused.value.code == "wrong_state"
    db.session.rollback()
    job = build.job(coordinator=coordinator, fitter=fitter)
    with pytest.raises(Conflict) as again:
        schedule_job(InstallBooking(job.request_id, visit), actor=coordinator)
    assert again.value.code == "wrong_state"


def test_a_request_with_nothing_reserved_has_nothing_to_hand_over(build):
    from inventory.requests.operations import approve_request

    build.budget_period(allocated_pence=100_000)
    coordinator, fitter = build.user(roles=["coordinator"]), build.user(roles=["fitter"])
    request = build.equipment_request()  # no units in stock: the whole cost is committed instead
    approve_request(request.id, actor=coordinator)
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        schedule_job(InstallBooking(request.id, Visit(fitter.id, clock.today(), time(9), time(12))),
                     actor=coordinator)
    assert refused.value.code == "nothing_reserved"


@pytest.mark.parametrize("role", ["fitter", "caseworker", "finance", "admin"])
def test_only_coordinators_schedule_jobs(build, role):
    request = build.approved_request()
    with pytest.raises(NotAllowed):
        schedule_job(InstallBooking(request.id, Visit(build.user(roles=["fitter"]).id, clock.today(), time(9),
                                                      time(12))), actor=build.user(roles=[role]))


# Seeing a job and the address --------------------------------------------------------------

def test_another_fitter_cannot_find_the_job_at_all(build):
    job = build.job()
    with pytest.raises(NotFound):
        get_job(build.user(roles=["fitter"]), job.id)


def test_the_assigned_fitter_reveals_the_address_and_the_view_is_logged(build):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter)
    case = reveal_contact(job, actor=fitter)
    db.session.commit()
    assert case.address.startswith("1 Example Row")
    entry = db.session.scalar(select(AccessLogEntry))
    assert (entry.user_id, entry.case_id, entry.what) == (fitter.id, case.id, "address and phone")


def test_a_coordinator_does_not_get_the_address_through_the_job(build):
    coordinator = build.user(roles=["coordinator"])
    job = build.job(coordinator=coordinator)
    with pytest.raises(NotAllowed):
        reveal_contact(job, actor=coordinator)


# Issuing by scan ---------------------------------------------------------------------------

def test_scanning_a_reserved_unit_issues_it_to_the_case_with_its_loan_and_review_dates(build):
    fitter = build.user(roles=["fitter"])
    loaned = build.item_type(loaned=True)
    with clock.frozen_at(datetime(2026, 11, 30, 10, tzinfo=UTC)):
        job = build.job(fitter=fitter, lines=[(loaned, 1)])
        unit = reserved_units(job.request_id)[0]
        result = issue(job, unit, fitter)
    assert result.result == "issued"
    unit = db.session.get(Item, unit.id)
    assert unit.state == ItemState.ISSUED and unit.issued_case_id == job.request.case_id
    row = db.session.scalar(select(JobItem))
    assert row.loaned and row.return_due_on == date(2027, 11, 30)
    assert (row.first_review_on, row.second_review_on) == (date(2027, 2, 28), date(2027, 5, 30))


def test_a_gifted_item_has_reviews_but_no_return_date(build):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter, lines=[(build.item_type(loaned=False, category="lock"), 1)])
    issue(job, reserved_units(job.request_id)[0], fitter)
    row = db.session.scalar(select(JobItem))
    assert not row.loaned and row.return_due_on is None and row.second_review_on is not None


def test_scanning_another_unit_of_the_same_type_swaps_the_reservation_to_it(build):
    fitter = build.user(roles=["fitter"])
    alarm = build.item_type()
    job = build.job(fitter=fitter, lines=[(alarm, 1)])
    reserved = reserved_units(job.request_id)[0]
    other = build.item(item_type=alarm)
    result = issue(job, other, fitter)
    assert result.extra["swapped_for"] == reserved.code
    assert db.session.get(Item, other.id).state == ItemState.ISSUED
    back = db.session.get(Item, reserved.id)
    assert back.state == ItemState.IN_STOCK and back.reserved_for_request_id is None


def _refusal_setups(build, job, alarm):
    """Each refusal's item: what the fitter scanned."""
    return {
        "wrong_item_type": lambda: build.item(),
        "reserved_for_another_case": lambda: reserved_units(build.approved_request(lines=[(alarm, 1)]).id)[0],
        "already_issued": lambda: _issued_elsewhere(build, alarm),
        "in_quarantine": lambda: _returned(build, alarm),
        "written_off": lambda: _written_off(build, alarm),
        "not_expected": lambda: _everything_issued_then_another(build, job, alarm),
    }


def _issued_elsewhere(build, alarm):
    unit = build.item(item_type=alarm)
    stock.issue_item(unit, case_id=build.case().id, actor=None)
    db.session.commit()
    return unit


def _returned(build, alarm):
    unit = _issued_elsewhere(build, alarm)
    stock.return_item(unit, condition="good", actor=build.user(roles=["coordinator"]))
    db.session.commit()
    return unit


def _written_off(build, alarm):
    unit = build.item(item_type=alarm)
    stock.write_off(unit, "lost", None)
    db.session.commit()
    return unit


def _everything_issued_then_another(build, job, alarm):
    issue(job, reserved_units(job.request_id)[0], job.fitter)
    return build.item(item_type=alarm)


@pytest.mark.parametrize("code", ["wrong_item_type", "reserved_for_another_case", "already_issued",
                                  "in_quarantine", "written_off", "not_expected"])
def test_a_refused_scan_says_why_and_changes_nothing(build, code):
    fitter = build.user(roles=["fitter"])
    alarm = build.item_type()
    job = build.job(fitter=fitter, lines=[(alarm, 1)])
    scanned = _refusal_setups(build, job, alarm)[code]()
    before = (event_count(), db.session.scalar(select(func.count()).select_from(JobItem)),
              db.session.get(Item, scanned.id).state)
    with pytest.raises(Conflict) as refused:
        scan(ScanInput(ScanAction.ISSUE, scanned.code, job_id=job.id), actor=fitter)
    db.session.rollback()
    assert refused.value.code == code
    assert refused.value.message
    assert (event_count(), db.session.scalar(select(func.count()).select_from(JobItem)),
            db.session.get(Item, scanned.id).state) == before


@pytest.mark.parametrize(("data", "field"), [
    ({"action": "issue", "code": ""}, "code"),
    ({"action": "issue", "code": 12}, "code"),
    ({"action": "launch", "code": "X"}, "action"),
    ({"action": "issue", "job_id": "one"}, "job_id"),
    ({"action": "return", "condition": "sparkling"}, "condition"),
])
def test_bad_scans_are_named_at_the_field(build, data, field):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter)
    unit = reserved_units(job.request_id)[0]
    payload = {"code": unit.code, "job_id": job.id, **data}
    with pytest.raises(InvalidInput) as refused:
        scan(read_scan(Fields(payload)), actor=fitter)
    assert field in refused.value.fields


def test_a_fitter_cannot_scan_for_someone_elses_job(build):
    job = build.job()
    with pytest.raises(NotFound):
        scan(ScanInput(ScanAction.ISSUE, reserved_units(job.request_id)[0].code, job_id=job.id),
             actor=build.user(roles=["fitter"]))


def test_a_fitter_looking_up_an_item_on_their_job_sees_its_type_and_state_only(build):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter)
    result = scan(ScanInput(ScanAction.LOOKUP, reserved_units(job.request_id)[0].code), actor=fitter)
    assert result.result == "found" and result.extra == {}


def test_an_item_on_another_fitters_job_is_unknown_to_a_fitter(build):
    job = build.job()
    with pytest.raises(NotFound) as refused:
        scan(ScanInput(ScanAction.LOOKUP, reserved_units(job.request_id)[0].code), actor=build.user(roles=["fitter"]))
    assert refused.value.code == "unknown_code"


def test_a_coordinator_looking_up_an_item_sees_what_its_state_allows(build):
    coordinator = build.user(roles=["coordinator"])
    unit = _returned(build, build.item_type(connected_device=True))
    result = scan(ScanInput(ScanAction.LOOKUP, unit.code), actor=coordinator)
    assert "wipe_confirmed" in result.extra["actions"]
    assert "released_from_quarantine" not in result.extra["actions"]


# Checklist and completion ------------------------------------------------------------------

def test_a_connected_device_needs_its_whole_checklist_before_the_job_closes(build):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter, lines=[(build.item_type(connected_device=True, category="cctv_camera"), 1)])
    build.handover_checks(job, fitter)
    issue(job, reserved_units(job.request_id)[0], fitter)
    with pytest.raises(Conflict) as refused:
        complete_job(job.id, Completion(), actor=fitter)
    assert refused.value.code == "checklist_incomplete"
    db.session.rollback()
    row = db.session.scalar(select(JobItem))
    with pytest.raises(InvalidInput) as half:
        record_checklist(job.id, row.id, {"account_in_own_name"}, actor=fitter)
    assert set(half.value.fields) == {"default_passwords_changed", "shared_users_removed", "two_factor_enabled",
                                      "survivor_shown_how"}
    db.session.rollback()
    record_checklist(job.id, row.id, CHECKLIST_KEYS, actor=fitter)
    complete_job(job.id, Completion(), actor=fitter)
    db.session.commit()
    assert db.session.get(EquipmentRequest, job.request_id).state == RequestState.FULFILLED


def test_completing_needs_a_reason_for_each_item_not_handed_over(build):
    fitter = build.user(roles=["fitter"])
    alarm, lock = build.item_type(), build.item_type(loaned=False, category="lock")
    job = build.job(fitter=fitter, lines=[(alarm, 1), (lock, 2)])
    units = reserved_units(job.request_id)
    issue(job, units[0], fitter)
    with pytest.raises(InvalidInput) as refused:
        complete_job(job.id, Completion(not_issued=(NotDone(units[1].id, NotIssuedReason.DECLINED),)), actor=fitter)
    assert set(refused.value.fields) == {f"item_{units[2].id}"}
    db.session.rollback()
    with pytest.raises(InvalidInput) as twice:
        complete_job(job.id, Completion(not_issued=(NotDone(units[1].id, NotIssuedReason.DECLINED),
                                                    NotDone(units[1].id, NotIssuedReason.FAULTY))), actor=fitter)
    assert set(twice.value.fields) == {"not_issued[1].item_id", f"item_{units[2].id}"}
    db.session.rollback()
    with pytest.raises(InvalidInput) as bad_reason:
        read_completion(Fields({"not_issued": [{"item_id": units[1].id, "reason": "bored"},
                                               {"item_id": units[2].id, "reason": "faulty"}]}))
    assert set(bad_reason.value.fields) == {"not_issued[0].reason"}


def test_completing_with_reasons_releases_or_writes_off_the_rest_and_part_fulfils_the_request(build):
    fitter = build.user(roles=["fitter"])
    alarm = build.item_type()
    job = build.job(fitter=fitter, lines=[(alarm, 3)])
    first, declined, faulty = reserved_units(job.request_id)
    issue(job, first, fitter)
    complete_job(job.id, Completion(not_issued=(NotDone(declined.id, NotIssuedReason.DECLINED),
                                                NotDone(faulty.id, NotIssuedReason.FAULTY))), actor=fitter)
    db.session.commit()
    assert db.session.get(Item, faulty.id).state == ItemState.WRITTEN_OFF
    request = db.session.get(EquipmentRequest, job.request_id)
    assert request.state == RequestState.PARTLY_FULFILLED
    [line] = request.lines
    # The declined alarm is no longer wanted; the faulty one still is, and the alarm the
    # survivor declined, back on the shelf, is the one in stock to replace it.
    assert (line.approved_quantity, line.reserved_quantity, line.awaiting_quantity) == (2, 2, 0)
    assert db.session.get(Item, declined.id).reserved_for_request_id == request.id
    outcomes = dict(db.session.execute(select(JobItem.item_id, JobItem.reason)).all())
    assert outcomes == {first.id: None, declined.id: "declined", faulty.id: "faulty"}
    with pytest.raises(Conflict) as closed:
        complete_job(job.id, Completion(), actor=fitter)
    assert closed.value.code == "job_closed"


def test_completing_records_who_closed_the_visit_and_when_and_then_refuses_any_more_work(build):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter)
    [unit] = reserved_units(job.request_id)
    with clock.frozen_at(datetime(2026, 6, 1, 15, 30, tzinfo=UTC)) as moment:
        issue(job, unit, fitter)
        complete_job(job.id, Completion(), actor=fitter)
        db.session.commit()
    job = db.session.get(type(job), job.id)
    assert (job.status, job.completed_by_id, job.completed_at) == (JobStatus.COMPLETED, fitter.id, moment)
    row = db.session.scalar(select(JobItem))
    for work in (lambda: scan(ScanInput(ScanAction.RETURN, unit.code, job_id=job.id, condition=GOOD), actor=fitter),
                 lambda: record_checklist(job.id, row.id, CHECKLIST_KEYS, actor=fitter)):
        with pytest.raises(Conflict) as refused:
            work()
        assert refused.value.code == "job_closed"
        db.session.rollback()


def test_units_declined_or_wrong_go_back_to_stock_and_are_no_longer_wanted(build):
    fitter = build.user(roles=["fitter"])
    alarm, lock = build.item_type(), build.item_type(loaned=False, category="lock")
    job = build.job(fitter=fitter, lines=[(alarm, 1), (lock, 1)])
    units = {unit.item_type_id: unit for unit in reserved_units(job.request_id)}
    complete_job(job.id, Completion(not_issued=(NotDone(units[alarm.id].id, NotIssuedReason.DECLINED),
                                                NotDone(units[lock.id].id, NotIssuedReason.WRONG_ITEM))),
                 actor=fitter)
    db.session.commit()
    assert {db.session.get(Item, unit.id).state for unit in units.values()} == {ItemState.IN_STOCK}
    lines = db.session.get(EquipmentRequest, job.request_id).lines
    assert [(line.approved_quantity, line.reserved_quantity) for line in lines] == [(0, 0), (0, 0)]


def test_a_faulty_unit_with_none_left_in_stock_waits_for_the_next_arrival(build):
    from inventory.stock.receiving import NewUnits, receive_units

    coordinator, fitter = build.user(roles=["coordinator"]), build.user(roles=["fitter"])
    alarm = build.item_type()
    job = build.job(fitter=fitter, coordinator=coordinator, lines=[(alarm, 1)])
    [unit] = reserved_units(job.request_id)
    complete_job(job.id, Completion(not_issued=(NotDone(unit.id, NotIssuedReason.FAULTY),)), actor=fitter)
    db.session.commit()
    [line] = db.session.get(EquipmentRequest, job.request_id).lines
    assert line.awaiting_quantity == 1
    [arrived] = receive_units(NewUnits(item_type=alarm, quantity=1, location=build.location(),
                                       purchase_cost_pence=2500), actor=coordinator)
    db.session.commit()
    assert db.session.get(Item, arrived.id).reserved_for_request_id == job.request_id


def test_a_partly_fulfilled_request_can_be_booked_again(build):
    coordinator, fitter = build.user(roles=["coordinator"]), build.user(roles=["fitter"])
    alarm = build.item_type()
    job = build.job(fitter=fitter, coordinator=coordinator, lines=[(alarm, 1)])
    unit = reserved_units(job.request_id)[0]
    complete_job(job.id, Completion(not_issued=(NotDone(unit.id, NotIssuedReason.NOT_HOME),)), actor=fitter)
    db.session.commit()
    # Nobody was home: the survivor still wants it, so the unit is held for them again.
    assert db.session.get(Item, unit.id).reserved_for_request_id == job.request_id
    again = build.job(request=db.session.get(EquipmentRequest, job.request_id), fitter=fitter,
                      coordinator=coordinator)
    assert again.id != job.id and again.is_open
    assert [item.id for item in expected_items(again)] == [unit.id]


# Returns -----------------------------------------------------------------------------------

def _issued_on_job(build, *, connected=False):
    fitter = build.user(roles=["fitter"])
    kind = build.item_type(connected_device=connected, category="cctv_camera" if connected else "personal_alarm")
    job = build.job(fitter=fitter, lines=[(kind, 1), (build.item_type(), 1)])
    unit = next(u for u in reserved_units(job.request_id) if u.item_type_id == kind.id)
    if connected:
        build.handover_checks(job, fitter, CHECKS_BEFORE_ISSUE)
    issue(job, unit, fitter)
    return job, unit, fitter


def _give_back(job, unit, fitter, condition):
    result = scan(ScanInput(ScanAction.RETURN, unit.code, job_id=job.id, condition=ReturnCondition(condition)),
                  actor=fitter)
    db.session.commit()
    return result, db.session.get(Item, unit.id)


def test_a_good_item_goes_straight_back_into_stock_and_its_value_counts_as_reused(build):
    job, unit, fitter = _issued_on_job(build)
    result, unit = _give_back(job, unit, fitter, "good")
    assert unit.state == ItemState.IN_STOCK
    assert result.extra["value_reused_pence"] == 2500
    assert db.session.scalar(select(ItemReturn.value_reused_pence)) == 2500


def test_a_returned_connected_device_waits_in_quarantine_for_its_wipe(build):
    job, unit, fitter = _issued_on_job(build, connected=True)
    result, unit = _give_back(job, unit, fitter, "good")
    assert unit.state == ItemState.QUARANTINE and unit.awaiting_wipe
    assert result.extra["value_reused_pence"] == 0


@pytest.mark.parametrize(("condition", "state"), [
    ("needs_wipe", ItemState.QUARANTINE), ("faulty", ItemState.QUARANTINE), ("damaged", ItemState.QUARANTINE),
    ("lost", ItemState.WRITTEN_OFF),
])
def test_other_returns_go_to_quarantine_and_lost_items_are_written_off(build, condition, state):
    job, unit, fitter = _issued_on_job(build)
    _, unit = _give_back(job, unit, fitter, condition)
    assert unit.state == state
    assert db.session.scalar(select(ItemReturn.condition)) == condition


def test_returning_an_item_that_is_not_out_or_not_from_this_case_is_refused(build):
    job, _, fitter = _issued_on_job(build)
    in_stock = build.item()
    with pytest.raises(Conflict) as refused:
        scan(ScanInput(ScanAction.RETURN, in_stock.code, job_id=job.id, condition=GOOD), actor=fitter)
    assert refused.value.code == "not_issued"
    db.session.rollback()
    elsewhere = _issued_elsewhere(build, build.item_type())
    with pytest.raises(Conflict) as other_case:
        scan(ScanInput(ScanAction.RETURN, elsewhere.code, job_id=job.id, condition=GOOD), actor=fitter)
    assert other_case.value.code == "not_from_this_case"


def test_an_office_drop_off_needs_no_job_but_a_fitter_must_name_theirs(build):
    job, unit, fitter = _issued_on_job(build)
    with pytest.raises(InvalidInput):
        scan(ScanInput(ScanAction.RETURN, unit.code, condition=GOOD), actor=fitter)
    db.session.rollback()
    scan(ScanInput(ScanAction.RETURN, unit.code, condition=GOOD), actor=build.user(roles=["coordinator"]))
    db.session.commit()
    assert db.session.get(Item, unit.id).state == ItemState.IN_STOCK


def test_the_loan_period_and_review_months_are_settings(app, build):
    app.config.update(LOAN_PERIOD_DAYS=28, REVIEW_AFTER_MONTHS=(1, 2))
    fitter = build.user(roles=["fitter"])
    with clock.frozen_at(datetime(2026, 12, 1, 9, tzinfo=UTC)):
        job = build.job(fitter=fitter)
        issue(job, reserved_units(job.request_id)[0], fitter)
    row = db.session.scalar(select(JobItem))
    assert (row.return_due_on, row.first_review_on, row.second_review_on) == (
        date(2026, 12, 29), date(2027, 1, 1), date(2027, 2, 1))


def test_stock_that_arrived_while_the_visit_was_booked_is_reserved_when_it_closes(build):
    from inventory.budget.ledger import open_amount_pence
    from inventory.budget.models import EntryKind, LedgerEntry, SourceType
    from inventory.requests.operations import approve_request
    from inventory.stock.receiving import NewUnits, receive_units

    build.budget_period(allocated_pence=100_000)
    coordinator, fitter = build.user(roles=["coordinator"]), build.user(roles=["fitter"])
    alarm = build.item_type()
    receive_units(NewUnits(item_type=alarm, quantity=1, location=build.location(), purchase_cost_pence=2500),
                  actor=coordinator)
    request = build.equipment_request(lines=[(alarm, 2)])
    approve_request(request.id, actor=coordinator)  # one from stock, one committed
    db.session.commit()
    job = build.job(request=request, fitter=fitter, coordinator=coordinator)
    [arrived] = receive_units(NewUnits(item_type=alarm, quantity=1, location=build.location(),
                                       purchase_cost_pence=2500), actor=coordinator)
    db.session.commit()
    assert db.session.get(Item, arrived.id).state == ItemState.IN_STOCK  # the booked visit's units stay as they are
    [unit] = reserved_units(request.id)
    issue(job, unit, fitter)
    complete_job(job.id, Completion(), actor=fitter)
    db.session.commit()
    assert db.session.get(Item, arrived.id).reserved_for_request_id == request.id
    [line] = db.session.get(EquipmentRequest, request.id).lines
    assert line.awaiting_quantity == 0
    commitments = db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.source_type == SourceType.REQUEST, LedgerEntry.source_id == request.id,
        LedgerEntry.kind == EntryKind.COMMITMENT)).all()
    assert sum(open_amount_pence(entry) for entry in commitments) == 0  # the stock covers it: money released
