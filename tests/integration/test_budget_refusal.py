"""The over-budget refusal of a request: one figure needed and one available for the request
as a whole, and the part that fits chosen by need, naming what it leaves out."""
from datetime import date, datetime

import pytest

from inventory import clock
from inventory.budget import ledger
from inventory.errors import Conflict
from inventory.extensions import db
from inventory.requests import operations
from inventory.requests.operations import ApprovedLine, RequestDetails, WantedLine


@pytest.fixture(autouse=True)
def frozen_today():
    with clock.frozen_at(datetime(2026, 6, 15, 10, 0)):
        yield


def raise_request(build, lines):
    """A submitted request; `lines` is [(item_type, quantity, urgent)]."""
    caseworker = build.caseworker()
    case = build.case(caseworker=caseworker)
    raised = operations.raise_request(case.id, RequestDetails(
        lines=tuple(WantedLine(item_type.id, quantity, urgent) for item_type, quantity, urgent in lines),
        reason="Followed home twice this week."), actor=caseworker)
    db.session.commit()
    return raised


def refusal(build, raised) -> Conflict:
    with pytest.raises(Conflict) as refused:
        operations.approve_request(raised.id, actor=build.user(roles=["coordinator"]))
    db.session.rollback()
    assert refused.value.code == "budget_exceeded"
    return refused.value


def test_the_refusal_states_one_needed_and_one_available_figure_for_the_whole_request(build):
    period = build.budget_period(allocated_pence=8_000)
    alarm = build.item_type(name="Personal alarm", standard_cost_pence=2_500)
    doorbell = build.item_type(name="Camera doorbell", standard_cost_pence=9_000)
    light = build.item_type(name="PIR light", standard_cost_pence=4_000)
    build.items(1, item_type=alarm)
    raised = raise_request(build, [(alarm, 2, False), (doorbell, 1, False), (light, 1, False)])
    refused = refusal(build, raised)
    # The alarm line commits before the doorbell's is refused: the ledger's own figures for
    # that one line (£90.00 needed, £55.00 available) must not be shown beside the request's.
    assert refused.message == (
        "Not enough budget for this request: £155.00 needed for what stock does not cover, £80.00 available. "
        "The part that fits: 2 × Personal alarm, 1 × PIR light. It leaves out 1 × Camera doorbell.")
    alarm_line, doorbell_line, light_line = raised.lines
    assert refused.details == {
        "available_pence": 8_000, "needed_pence": 15_500, "shortfall_pence": 7_500,
        "suggested_lines": [{"line_id": alarm_line.id, "item_type": "Personal alarm", "quantity": 2},
                            {"line_id": doorbell_line.id, "item_type": "Camera doorbell", "quantity": 0},
                            {"line_id": light_line.id, "item_type": "PIR light", "quantity": 1}],
        "left_out_lines": [{"line_id": doorbell_line.id, "item_type": "Camera doorbell", "quantity": 1}]}
    operations.approve_request(raised.id, lines=[ApprovedLine(line["line_id"], line["quantity"])
                                                 for line in refused.details["suggested_lines"]],
                               note="What the budget covers now.", actor=build.user(roles=["coordinator"]))
    assert ledger.available_pence(period) == 8_000 - 2_500 - 4_000


def test_the_lines_marked_most_urgent_are_funded_first(build):
    build.budget_period(allocated_pence=10_000)
    alarm = build.item_type(name="Personal alarm", standard_cost_pence=2_500)
    doorbell = build.item_type(name="Camera doorbell", standard_cost_pence=9_000)
    raised = raise_request(build, [(alarm, 2, False), (doorbell, 1, True)])
    refused = refusal(build, raised)
    assert [line["quantity"] for line in refused.details["suggested_lines"]] == [0, 1]
    assert refused.details["left_out_lines"] == [
        {"line_id": raised.lines[0].id, "item_type": "Personal alarm", "quantity": 2}]
    assert refused.message.endswith("The part that fits: 1 × Camera doorbell. It leaves out 2 × Personal alarm.")


def test_without_urgent_lines_every_line_gets_one_before_any_gets_a_second(build):
    build.budget_period(allocated_pence=7_000)
    alarm = build.item_type(name="Personal alarm", standard_cost_pence=2_500)
    light = build.item_type(name="PIR light", standard_cost_pence=4_000)
    raised = raise_request(build, [(alarm, 3, False), (light, 2, False)])
    refused = refusal(build, raised)
    assert [line["quantity"] for line in refused.details["suggested_lines"]] == [1, 1]
    assert [line["quantity"] for line in refused.details["left_out_lines"]] == [2, 1]


def test_the_part_is_counted_within_the_quantities_being_approved(build):
    """A coordinator approving part of a request is refused on that part, and what is left
    out is counted from it, not from what was asked."""
    build.budget_period(allocated_pence=3_000)
    alarm = build.item_type(name="Personal alarm", standard_cost_pence=2_500)
    light = build.item_type(name="PIR light", standard_cost_pence=4_000)
    raised = raise_request(build, [(alarm, 3, False), (light, 1, False)])
    alarm_line, light_line = raised.lines
    with pytest.raises(Conflict) as refused:
        operations.approve_request(raised.id, lines=[ApprovedLine(alarm_line.id, 2), ApprovedLine(light_line.id, 0)],
                                   note="Alarms first.", actor=build.user(roles=["coordinator"]))
    assert refused.value.details["needed_pence"] == 5_000
    assert refused.value.details["left_out_lines"] == [
        {"line_id": alarm_line.id, "item_type": "Personal alarm", "quantity": 1}]


def test_while_an_overspend_alert_is_open_only_what_stock_covers_is_offered(build):
    period = build.budget_period(allocated_pence=100_000)
    finance = build.user(roles=["finance"])
    commitment = ledger.commit(1_000, on=date(2026, 6, 15), actor=finance, memo="PO", source_type="purchase_order",
                               source_id=1)
    ledger.post_actual(1_500, on=date(2026, 6, 15), actor=finance, memo="Invoice", source_type="invoice",
                       source_id=2, net_pence=1_500, vat_pence=0, releasing=commitment)
    db.session.commit()
    alert = ledger.open_overspend_alert(period)
    alarm = build.item_type(name="Personal alarm", standard_cost_pence=2_500)
    build.items(1, item_type=alarm)
    raised = raise_request(build, [(alarm, 2, True)])
    refused = refusal(build, raised)
    assert refused.message == (
        "No new commitments while an overspend alert is open: £25.00 needed for what stock does not cover, "
        "£0.00 available until finance resolves it. The part that fits: 1 × Personal alarm. "
        "It leaves out 1 × Personal alarm.")
    assert (refused.details["available_pence"], refused.details["overspend_alert_id"]) == (0, alert.id)
    assert [line["quantity"] for line in refused.details["suggested_lines"]] == [1]


def test_nothing_fitting_is_said_plainly(build):
    build.budget_period(allocated_pence=1_000)
    doorbell = build.item_type(name="Camera doorbell", standard_cost_pence=9_000)
    raised = raise_request(build, [(doorbell, 1, False)])
    refused = refusal(build, raised)
    assert refused.message == ("Not enough budget for this request: £90.00 needed for what stock does not cover, "
                               "£10.00 available. No part of it fits. It leaves out 1 × Camera doorbell.")


def test_urgent_marks_are_kept_when_a_request_is_raised_and_changed(build):
    alarm, light = build.item_type(), build.item_type()
    raised = raise_request(build, [(alarm, 1, True), (light, 1, False)])
    assert [line.urgent for line in raised.lines] == [True, False]
    operations.edit_request(raised.id, RequestDetails(
        lines=(WantedLine(alarm.id, 1), WantedLine(light.id, 2, urgent=True)), reason="Changed."),
        actor=raised.raised_by)
    assert [(line.quantity, line.urgent) for line in raised.lines] == [(1, False), (2, True)]
