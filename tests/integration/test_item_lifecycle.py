import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from inventory.errors import InvalidInput, NotAllowed
from inventory.extensions import db
from inventory.stock import locations, operations, queries
from inventory.stock.codes import CodeTypo, InvalidCode
from inventory.stock.models import Item, ItemCode, ItemEvent, ItemState, QrImage
from tests.support import recorded_selects


def states(item):
    return [(e.kind, e.from_state, e.to_state) for e in
            db.session.scalars(select(ItemEvent).where(ItemEvent.item_id == item.id).order_by(ItemEvent.id))]


def test_a_received_unit_is_in_stock_with_a_code_a_cached_qr_and_a_received_event(build):
    item = build.item()
    assert item.state == ItemState.IN_STOCK
    assert db.session.scalar(select(ItemCode.code).where(ItemCode.item_id == item.id)) == item.code
    assert db.session.scalar(select(QrImage.id).where(QrImage.payload == item.code)) is not None
    assert states(item) == [("received", "on_order", "in_stock")]


def test_an_item_goes_round_the_whole_cycle_and_the_timeline_records_every_step(build):
    coordinator = build.user(roles=["coordinator"])
    item = build.item()
    raised = build.equipment_request()
    operations.reserve_item(item, for_request_id=raised.id, actor=coordinator)
    operations.issue_item(item, case_id=raised.case_id, actor=coordinator, request_id=raised.id)
    assert (item.state, item.issued_case_id, item.location_id) == ("issued", raised.case_id, None)
    operations.return_item(item, condition="good", actor=coordinator)
    operations.release_from_quarantine(item, actor=coordinator)
    db.session.commit()
    assert item.state == ItemState.IN_STOCK
    assert states(item) == [
        ("received", "on_order", "in_stock"),
        ("reserved", "in_stock", "reserved"),
        ("issued", "reserved", "issued"),
        ("returned", "issued", "returned"),
        ("quarantined", "returned", "quarantine"),
        ("released_from_quarantine", "quarantine", "in_stock"),
    ]
    issued = db.session.scalar(select(ItemEvent).where(ItemEvent.item_id == item.id, ItemEvent.kind == "issued"))
    assert (issued.case_id, issued.request_id, issued.actor_id) == (raised.case_id, raised.id, coordinator.id)


@pytest.mark.parametrize("action", [
    lambda item, user: operations.release_reservation(item, actor=user),
    lambda item, user: operations.return_item(item, condition="good", actor=user),
    lambda item, user: operations.release_from_quarantine(item, actor=user),
    lambda item, user: operations.mark_found(item, location=item.location, actor=user),
], ids=["release", "return", "release-quarantine", "found"])
def test_moves_off_the_state_machine_are_refused_with_item_not_available(build, action):
    user = build.user(roles=["coordinator"])
    item = build.item()
    with pytest.raises(operations.ItemNotAvailable) as caught:
        action(item, user)
    assert caught.value.code == "item_not_available"
    db.session.rollback()
    assert db.session.get(Item, item.id).state == "in_stock"


def test_an_issued_item_cannot_be_issued_again(build):
    user = build.user(roles=["coordinator"])
    item = build.item()
    operations.issue_item(item, case_id=build.case().id, actor=user)
    with pytest.raises(operations.ItemNotAvailable):
        operations.issue_item(item, case_id=build.case().id, actor=user)


def test_an_item_reserved_for_one_request_is_not_issued_for_another(build):
    user = build.user(roles=["coordinator"])
    item = build.item()
    first, second = build.equipment_request(), build.equipment_request()
    operations.reserve_item(item, for_request_id=first.id, actor=user)
    with pytest.raises(operations.ItemNotAvailable):
        operations.issue_item(item, case_id=second.case_id, actor=user, request_id=second.id)


def test_a_returned_connected_device_stays_in_quarantine_until_a_named_user_confirms_the_wipe(build):
    coordinator = build.user(roles=["coordinator"])
    doorbell = build.item(item_type=build.item_type(category="camera_doorbell", connected_device=True))
    operations.issue_item(doorbell, case_id=build.case().id, actor=coordinator)
    operations.return_item(doorbell, condition="good", actor=coordinator)
    assert doorbell.awaiting_wipe
    with pytest.raises(operations.ItemNotAvailable) as caught:
        operations.release_from_quarantine(doorbell, actor=coordinator)
    assert caught.value.code == "wipe_required"
    operations.confirm_wipe(doorbell, coordinator)
    operations.release_from_quarantine(doorbell, actor=coordinator)
    db.session.commit()
    wipe = db.session.scalar(select(ItemEvent).where(ItemEvent.item_id == doorbell.id,
                                                     ItemEvent.kind == "wipe_confirmed"))
    assert wipe.actor_id == coordinator.id
    assert doorbell.state == "in_stock" and not doorbell.awaiting_wipe


def test_only_someone_allowed_to_confirm_wipes_can(build):
    fitter = build.user(roles=["fitter"])
    doorbell = build.item(item_type=build.item_type(connected_device=True))
    operations.issue_item(doorbell, case_id=build.case().id, actor=fitter)
    operations.return_item(doorbell, condition="good", actor=fitter)
    with pytest.raises(NotAllowed):
        operations.confirm_wipe(doorbell, fitter)


def test_the_database_refuses_an_unwiped_device_back_in_stock(build):
    doorbell = build.item(item_type=build.item_type(connected_device=True))
    with pytest.raises((IntegrityError, DBAPIError)):
        db.session.execute(text("UPDATE items SET awaiting_wipe = :t WHERE id = :id"), {"t": True, "id": doorbell.id})
        db.session.flush()
    db.session.rollback()


def test_the_database_refuses_an_issued_item_without_a_case(build):
    item = build.item()
    with pytest.raises((IntegrityError, DBAPIError)):
        db.session.execute(text("UPDATE items SET state = 'issued' WHERE id = :id"), {"id": item.id})
    db.session.rollback()


def test_item_events_cannot_be_rewritten(build):
    item = build.item()
    with pytest.raises(DBAPIError):
        db.session.execute(text("UPDATE item_events SET note = 'edited' WHERE item_id = :id"), {"id": item.id})
    db.session.rollback()
    with pytest.raises(DBAPIError):
        db.session.execute(text("DELETE FROM item_events WHERE item_id = :id"), {"id": item.id})
    db.session.rollback()


@pytest.mark.parametrize("reason", ["faulty", "damaged", "lost", "end_of_life", "not_recovered"])
def test_a_write_off_records_its_reason(build, reason):
    user = build.user(roles=["coordinator"])
    item = build.item()
    operations.write_off(item, reason, user, note="checked")
    db.session.commit()
    assert (item.state, item.write_off_reason) == ("written_off", reason)


def test_a_write_off_without_a_known_reason_is_refused(build):
    item = build.item()
    with pytest.raises(InvalidInput) as caught:
        operations.write_off(item, "bored", build.user())
    assert "reason" in caught.value.fields


def test_an_issued_item_never_recovered_is_written_off_and_its_case_kept_on_the_event(build):
    user = build.user(roles=["coordinator"])
    item, case = build.item(), build.case()
    operations.issue_item(item, case_id=case.id, actor=user)
    event = operations.write_off(item, "not_recovered", user)
    assert (event.from_state, event.case_id, item.issued_case_id) == ("issued", case.id, None)


def test_a_lost_item_that_turns_up_goes_to_quarantine_but_a_faulty_one_stays_written_off(build):
    user = build.user(roles=["coordinator"])
    lost, faulty = build.items(2)
    operations.write_off(lost, "lost", user)
    operations.write_off(faulty, "faulty", user)
    operations.mark_found(lost, location=lost.location, actor=user)
    assert lost.state == "quarantine" and lost.write_off_reason is None
    with pytest.raises(operations.ItemNotAvailable):
        operations.mark_found(faulty, location=faulty.location, actor=user)


def test_find_by_code_forgives_how_the_code_was_typed(build):
    item = build.item()
    assert operations.find_by_code(item.code.lower().replace("-", " ")) is item


def test_find_by_code_reports_a_typo_an_unknown_code_and_a_retired_code_differently(build):
    from inventory.stock.codes import check_symbol, new_code

    item = build.item()
    data = item.code.replace("-", "")[:-1]
    wrong_check = next(c for c in "0123456789" if c != check_symbol(data))
    with pytest.raises(CodeTypo):
        operations.find_by_code(data + wrong_check)
    with pytest.raises(operations.UnknownCode) as unknown:
        operations.find_by_code(new_code())
    assert unknown.value.status == 404
    with pytest.raises(InvalidCode):
        operations.find_by_code("hello")
    old = item.code
    new = operations.replace_code(item, actor=build.user(), reason="Label damaged")
    db.session.commit()
    with pytest.raises(operations.RetiredCode) as retired:
        operations.find_by_code(old)
    assert retired.value.code == "code_retired"
    assert operations.find_by_code(new) is item


def test_replacing_a_code_keeps_the_history_and_the_old_code_is_never_reused(build):
    item = build.item()
    old = item.code
    operations.replace_code(item, actor=None, reason="Seen by the wrong person")
    db.session.commit()
    codes = db.session.execute(select(ItemCode.code, ItemCode.retired_at).where(ItemCode.item_id == item.id)
                               .order_by(ItemCode.id)).all()
    assert codes[0].code == old and codes[0].retired_at is not None
    assert codes[1].code == item.code and codes[1].retired_at is None
    assert [kind for kind, *_ in states(item)] == ["received", "code_replaced"]
    other = build.item()
    db.session.add(ItemCode(code=old, item_id=other.id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_moving_an_item_records_where_it_went(build):
    item = build.item()
    van = build.location(kind="van", name="Van 1", fitter=build.user(roles=["fitter"]))
    event = operations.move_item(item, van, actor=None)
    assert (event.location_id, item.location_id) == (van.id, van.id)
    with pytest.raises(operations.ItemNotAvailable):
        operations.move_item(item, van, actor=None)


def test_a_returned_doorbell_awaiting_its_wipe_moves_to_an_office_store_but_never_into_a_van(build):
    coordinator = build.user(roles=["coordinator"])
    fitter = build.user(roles=["fitter"])
    office, bench = build.location(name="Office"), build.location(name="Wipe bench")
    van, other_van = (build.location(kind="van", fitter=fitter),
                      build.location(kind="van", fitter=build.user(roles=["fitter"])))
    doorbell = build.item(item_type=build.item_type(category="camera_doorbell", connected_device=True),
                          location=office)
    operations.issue_item(doorbell, case_id=build.case().id, actor=coordinator)
    operations.return_item(doorbell, condition="good", actor=fitter)  # collected into the fitter's van
    assert (doorbell.state, doorbell.location_id, doorbell.awaiting_wipe) == ("quarantine", van.id, True)
    with pytest.raises(InvalidInput) as caught:
        operations.move_item(doorbell, other_van, actor=coordinator)
    assert caught.value.code == "quarantine_stays_in_store"
    assert list(caught.value.fields) == ["location_id"]
    assert "in quarantine" in caught.value.message and doorbell.location_id == van.id
    operations.move_item(doorbell, bench, actor=coordinator)
    with pytest.raises(InvalidInput):
        operations.move_item(doorbell, van, actor=coordinator)
    operations.move_item(doorbell, office, actor=coordinator)
    assert doorbell.location_id == office.id


def test_a_checked_item_out_of_quarantine_goes_into_a_van_again(build):
    coordinator = build.user(roles=["coordinator"])
    alarm = build.item()
    van = build.location(kind="van", fitter=build.user(roles=["fitter"]))
    operations.issue_item(alarm, case_id=build.case().id, actor=coordinator)
    operations.return_item(alarm, condition="good", actor=coordinator)
    assert not operations.may_move_to(alarm, van)
    operations.release_from_quarantine(alarm, actor=coordinator)
    assert operations.may_move_to(alarm, van)
    operations.move_item(alarm, van, actor=coordinator)
    assert alarm.location_id == van.id


def test_a_transfer_to_a_van_refuses_the_lot_if_one_item_is_in_quarantine(build):
    store = build.location()
    ready, returned = build.items(2, location=store)
    operations.issue_item(returned, case_id=build.case().id, actor=None)
    operations.return_item(returned, condition="good", actor=None, location=store)
    van = build.location(kind="van", fitter=build.user(roles=["fitter"]))
    with pytest.raises(InvalidInput) as caught:
        locations.transfer_codes([ready.code, returned.code], van, actor=None)
    assert caught.value.fields["codes"].startswith("Line 2: ") and "quarantine" in caught.value.fields["codes"]
    db.session.rollback()
    assert db.session.get(Item, ready.id).location_id == store.id


def test_a_transfer_of_many_codes_is_all_or_nothing_and_names_the_bad_line(build):
    store = build.location()
    first, second = build.items(2, location=store)
    van = build.location(kind="van", fitter=build.user(roles=["fitter"]))
    with pytest.raises(InvalidInput) as caught:
        locations.transfer_codes([first.code, "nonsense", second.code], van, actor=None)
    assert "Line 2" in caught.value.fields["codes"]
    db.session.rollback()
    assert db.session.get(Item, first.id).location_id == store.id
    moved = locations.transfer_codes([first.code, "", second.code.lower()], van, actor=None)
    assert {i.location_id for i in moved} == {van.id}


def test_stock_levels_count_each_state_per_type_in_one_query_and_flag_low_stock(build):
    alarm = build.item_type(name="Alarm", reorder_level=3)
    lock = build.item_type(name="Lock", category="lock", reorder_level=1)
    build.item_type(name="Unused")
    user = build.user(roles=["coordinator"])
    alarms = build.items(4, item_type=alarm)
    build.items(2, item_type=lock)
    raised = build.equipment_request(lines=[(alarm, 1)])
    operations.reserve_item(alarms[0], for_request_id=raised.id, actor=user)
    operations.issue_item(alarms[1], case_id=raised.case_id, actor=user)
    operations.issue_item(alarms[2], case_id=raised.case_id, actor=user)
    operations.return_item(alarms[2], condition="good", actor=user)
    db.session.commit()
    with recorded_selects() as statements:
        levels = {level.item_type: level for level in queries.stock_levels()}
    assert len(statements) == 1
    a = levels["Alarm"]
    assert (a.in_stock, a.reserved, a.issued, a.quarantine, a.on_order) == (1, 1, 1, 1, 0)
    assert a.below_reorder
    assert not levels["Lock"].below_reorder
    assert levels["Unused"].in_stock == 0
