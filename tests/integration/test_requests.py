from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from inventory import clock
from inventory.cases import operations as cases
from inventory.cases.details import read_case_details
from inventory.errors import Conflict, InvalidInput, NotAllowed, NotFound
from inventory.extensions import db
from inventory.parsing import Fields
from inventory.requests import operations
from inventory.requests.models import DeclinedAs, EquipmentRequest, RequestEvent
from inventory.requests.operations import RequestDetails, WantedLine
from inventory.requests.transitions import Action, available_actions

THURSDAY = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def wanted(item_type, quantity=1, **overrides):
    return RequestDetails(lines=(WantedLine(item_type.id, quantity),), reason="Needs it", **overrides)


def test_a_caseworker_raises_a_request_for_an_open_case_of_their_organisation(build):
    caseworker = build.caseworker()
    case = build.case(caseworker=caseworker, risk_level="high", flags=["children", "lives_alone"])
    alarm = build.item_type(name="Personal alarm", standard_cost_pence=2500)
    with clock.frozen_at(THURSDAY):
        raised = operations.raise_request(case.id, wanted(alarm, 2, needed_by=date(2026, 12, 1)), actor=caseworker)
    assert raised.state == "submitted"
    assert raised.need_points == 1000 + 60 + 40
    assert raised.decide_by == date(2026, 11, 27) and raised.install_by == date(2026, 11, 29)
    assert [(line.item_type_id, line.quantity) for line in raised.lines] == [(alarm.id, 2)]
    assert [(e.action, e.from_state, e.to_state) for e in db.session.scalars(select(RequestEvent))] == [
        ("submit", None, "submitted")]


@pytest.mark.parametrize("quantity", [0, -1, 21, 10**9])
def test_a_quantity_that_is_zero_negative_or_absurd_is_refused(build, quantity):
    caseworker = build.caseworker()
    case = build.case(caseworker=caseworker)
    with pytest.raises(InvalidInput) as error:
        operations.raise_request(case.id, wanted(build.item_type(), quantity), actor=caseworker)
    assert "lines[0].quantity" in error.value.fields
    assert db.session.scalar(select(EquipmentRequest.id)) is None


def test_an_inactive_item_type_cannot_be_requested(build):
    caseworker = build.caseworker()
    case = build.case(caseworker=caseworker)
    retired = build.item_type(active=False)
    with pytest.raises(InvalidInput) as error:
        operations.raise_request(case.id, wanted(retired), actor=caseworker)
    assert error.value.fields == {"lines[0].item_type_id": "This item type is no longer offered."}


def test_the_same_item_twice_unknown_items_and_no_items_are_refused(build):
    caseworker = build.caseworker()
    case = build.case(caseworker=caseworker)
    alarm = build.item_type()
    details = RequestDetails(reason="x", lines=(WantedLine(alarm.id, 1), WantedLine(alarm.id, 2),
                                                WantedLine(99999, 1)))
    with pytest.raises(InvalidInput) as error:
        operations.raise_request(case.id, details, actor=caseworker)
    assert set(error.value.fields) == {"lines[1].item_type_id", "lines[2].item_type_id"}
    with pytest.raises(InvalidInput) as error:
        operations.raise_request(case.id, RequestDetails(reason="x", lines=()), actor=caseworker)
    assert "lines" in error.value.fields


def test_a_closed_case_cannot_have_a_new_request(build):
    caseworker = build.caseworker()
    case = build.case(caseworker=caseworker, closed=True)
    with pytest.raises(InvalidInput) as error:
        operations.raise_request(case.id, wanted(build.item_type()), actor=caseworker)
    assert error.value.code == "case_closed"
    assert error.value.fields == {"case_id": "This case is closed."}


def test_another_organisations_case_is_indistinguishable_from_no_case(build):
    theirs = build.case(organisation=build.organisation())
    caseworker = build.caseworker()
    alarm = build.item_type()
    with pytest.raises(InvalidInput) as other:
        operations.raise_request(theirs.id, wanted(alarm), actor=caseworker)
    with pytest.raises(InvalidInput) as missing:
        operations.raise_request(424242, wanted(alarm), actor=caseworker)
    assert other.value.fields == missing.value.fields


def test_a_coordinator_cannot_raise_requests(build):
    case = build.case()
    with pytest.raises(NotAllowed):
        operations.raise_request(case.id, wanted(build.item_type()), actor=build.user(roles=["coordinator"]))


def test_the_state_machine_offers_each_party_only_its_own_moves(build):
    raised = build.equipment_request()
    caseworker = raised.raised_by
    coordinator = build.user(roles=["coordinator"])
    assert available_actions(caseworker, raised) == [Action.WITHDRAW]
    assert available_actions(coordinator, raised) == [Action.REQUEST_INFO, Action.REJECT, Action.APPROVE,
                                                      Action.APPROVE_PART]
    outsider = build.caseworker(build.organisation())
    assert available_actions(outsider, raised) == []


def test_request_info_goes_back_to_the_caseworker_who_answers_and_resubmits(build):
    raised = build.equipment_request()
    caseworker, coordinator = raised.raised_by, build.user(roles=["coordinator"])
    operations.take_action(raised.id, Action.REQUEST_INFO, note="Is the landlord happy with a doorbell?",
                           actor=coordinator)
    assert raised.state == "info_requested" and raised.decided_at is None
    operations.take_action(raised.id, Action.RESUBMIT, note="Yes, written consent on file.", actor=caseworker)
    db.session.commit()
    assert raised.state == "submitted"
    history = [(e.action, e.from_state, e.to_state, e.note, e.actor_id) for e in raised.events]
    assert history[1:] == [
        ("request_info", "submitted", "info_requested", "Is the landlord happy with a doorbell?", coordinator.id),
        ("resubmit", "info_requested", "submitted", "Yes, written consent on file.", caseworker.id),
    ]


def test_a_rejection_needs_a_reason_and_is_kept_with_who_and_when(build):
    raised = build.equipment_request()
    coordinator = build.user(roles=["coordinator"])
    with pytest.raises(InvalidInput) as error:
        operations.reject_request(raised.id, DeclinedAs.OTHER, note="  ", actor=coordinator)
    assert error.value.fields == {"reason": "Required."}
    with clock.frozen_at(THURSDAY):
        operations.reject_request(raised.id, DeclinedAs.OTHER, note="Already fitted last month.", actor=coordinator)
    assert (raised.state, raised.decided_by_id, raised.decided_at, raised.decision_reason) == (
        "rejected", coordinator.id, THURSDAY, "Already fitted last month.")


def test_deciding_a_decided_request_is_already_decided(build):
    raised = build.equipment_request()
    coordinator = build.user(roles=["coordinator"])
    operations.reject_request(raised.id, DeclinedAs.OTHER, note="No", actor=coordinator)
    with pytest.raises(Conflict) as error:
        operations.reject_request(raised.id, DeclinedAs.INELIGIBLE, note="again", actor=coordinator)
    assert error.value.code == "already_decided"
    with pytest.raises(Conflict) as error:
        operations.take_action(raised.id, Action.REQUEST_INFO, note="again", actor=coordinator)
    assert error.value.code == "already_decided"
    with pytest.raises(Conflict) as error:
        operations.take_action(raised.id, Action.WITHDRAW, note=None, actor=raised.raised_by)
    assert error.value.code == "already_decided"


def test_a_caseworker_withdraws_but_a_coordinator_cannot(build):
    raised = build.equipment_request()
    with pytest.raises(NotAllowed):
        operations.take_action(raised.id, Action.WITHDRAW, note=None, actor=build.user(roles=["coordinator"]))
    operations.take_action(raised.id, Action.WITHDRAW, note=None, actor=raised.raised_by)
    assert raised.state == "withdrawn"


def test_editing_a_decided_request_is_refused(build):
    raised = build.equipment_request()
    operations.reject_request(raised.id, DeclinedAs.OTHER, note="No", actor=build.user(roles=["coordinator"]))
    with pytest.raises(Conflict) as error:
        operations.edit_request(raised.id, wanted(raised.lines[0].item_type, 3), actor=raised.raised_by)
    assert error.value.code == "already_decided"


def test_editing_a_waiting_request_changes_its_lines(build):
    raised = build.equipment_request()
    kept, added = raised.lines[0].item_type, build.item_type()
    operations.edit_request(raised.id, RequestDetails(reason="More", lines=(
        WantedLine(kept.id, 3), WantedLine(added.id, 1))), actor=raised.raised_by)
    db.session.commit()
    db.session.expire_all()
    again = db.session.get(EquipmentRequest, raised.id)
    assert sorted((line.item_type_id, line.quantity) for line in again.lines) == [(kept.id, 3), (added.id, 1)]
    assert [(e.action, e.from_state, e.to_state) for e in again.events][-1] == ("edit", "submitted", "submitted")


def test_requests_of_another_organisation_are_not_found(build):
    raised = build.equipment_request()
    for outsider in (build.caseworker(build.organisation()), build.user(roles=["finance"]),
                     build.user(roles=["auditor"])):
        with pytest.raises(NotFound):
            operations.get_request(outsider, raised.id)


def test_raising_the_risk_of_a_case_rescores_its_waiting_requests(build):
    raised = build.equipment_request()
    before = raised.priority_key
    caseworker = raised.raised_by
    details = read_case_details(Fields(build.case_details(risk_level="high", flags=["address_known"])))
    cases.update_case(raised.case, details, actor=caseworker)
    assert raised.priority_key == before + 1000 + 100
    assert raised.need_points == 1100


def test_a_coordinator_moves_a_request_with_a_written_reason_which_is_kept(build):
    raised = build.equipment_request()
    coordinator = build.user(roles=["coordinator"])
    before = raised.priority_key
    with pytest.raises(InvalidInput) as error:
        operations.adjust_priority(raised.id, 0, "", actor=coordinator)
    assert set(error.value.fields) == {"points", "reason"}
    operations.adjust_priority(raised.id, 200, "Perpetrator released from custody on Friday.", actor=coordinator)
    operations.adjust_priority(raised.id, -50, "Partly covered by a loaned alarm.", actor=coordinator)
    db.session.commit()
    assert raised.priority_key == before + 150 and raised.manual_adjustment == 150
    assert [(a.points, a.reason) for a in raised.adjustments] == [
        (200, "Perpetrator released from custody on Friday."), (-50, "Partly covered by a loaned alarm.")]
    with pytest.raises(NotAllowed):
        operations.adjust_priority(raised.id, 10, "mine first", actor=raised.raised_by)


def test_comments_are_kept_in_order(build):
    raised = build.equipment_request()
    coordinator = build.user(roles=["coordinator"])
    operations.add_comment(raised.id, "Is there a doorbell already?", actor=coordinator)
    operations.add_comment(raised.id, "No.", actor=raised.raised_by)
    db.session.commit()
    assert [c.body for c in raised.comments] == ["Is there a doorbell already?", "No."]
    with pytest.raises(InvalidInput):
        operations.add_comment(raised.id, "", actor=coordinator)
