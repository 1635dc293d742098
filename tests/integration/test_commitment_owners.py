"""verify-ledger: every pound still committed belongs to an open purchase order or a request
line still awaiting stock; a closed or cancelled order commits nothing. Each rule is broken
by hand, behind the app's back, and must be reported."""
import pytest
from sqlalchemy import text

from inventory import clock
from inventory.budget import ledger
from inventory.budget.verification import open_commitments_by_source, verify_ledger
from inventory.extensions import db
from inventory.procurement import orders
from inventory.requests.operations import approve_request


@pytest.fixture
def world(build):
    """An open order, a closed one, and a request approved while stock was short."""
    build.budget_period(allocated_pence=1_000_000)
    open_order = build.purchase_order(lines=[(build.item_type(), 2, 1000, 200)])
    closed = build.purchase_order(lines=[(build.item_type(), 1, 3000, 600)])
    build.receipt(closed)
    build.invoice(closed)
    orders.close_purchase_order(closed, actor=build.user())
    alarm = build.item_type(name="Alarm", standard_cost_pence=2500)
    request = build.equipment_request(lines=[(alarm, 2)])
    approve_request(request.id, actor=build.user(roles=["coordinator"]))
    db.session.commit()
    return open_order, closed, request


def test_a_ledger_whose_commitments_all_belong_to_open_orders_and_waiting_requests_verifies(world):
    open_order, _, request = world
    assert open_commitments_by_source() == {("purchase_order", open_order.id): 2400, ("request", request.id): 5000}
    assert verify_ledger().problems == []


def test_the_grouped_query_agrees_with_each_commitments_open_amount_through_releases_and_reversals(build):
    build.budget_period(allocated_pence=100_000)
    finance = build.user(roles=["finance"])
    first = ledger.commit(10_000, on=clock.today(), actor=finance, memo="a", source_type="request", source_id=7)
    second = ledger.commit(3_000, on=clock.today(), actor=finance, memo="b", source_type="request", source_id=7)
    gone = ledger.commit(4_000, on=clock.today(), actor=finance, memo="c", source_type="request", source_id=8)
    part = ledger.release(first, 2_500, on=clock.today(), actor=finance, memo="part")
    ledger.release(second, None, on=clock.today(), actor=finance, memo="all")
    ledger.reverse(part, reason="Released by mistake", actor=finance)
    ledger.post_actual(1_000, on=clock.today(), actor=finance, memo="spent", source_type="invoice", source_id=1,
                       net_pence=1_000, vat_pence=0, releasing=first)
    ledger.reverse(gone, reason="Never needed", actor=finance)
    db.session.commit()
    assert open_commitments_by_source() == {("request", 7): ledger.open_amount_pence(first)} == {("request", 7): 9_000}


@pytest.mark.parametrize("status", ["closed", "cancelled"])
def test_a_closed_or_cancelled_order_that_still_commits_money_is_reported(world, status):
    open_order, _, _ = world
    db.session.execute(text("UPDATE purchase_orders SET status = :status, closed_at = :now, cancelled_at = :now, "
                            "cancel_reason = 'by hand' WHERE id = :id"),
                       {"status": status, "now": clock.now(), "id": open_order.id})
    db.session.commit()
    problems = verify_ledger().problems
    assert problems == [f"Purchase order {open_order.id} still commits £24.00, but is not open: no open purchase "
                        "order or request awaiting stock will ever spend or release it."]


def test_a_request_no_longer_awaiting_stock_that_still_commits_money_is_reported(world):
    _, _, request = world
    db.session.execute(text("UPDATE requests SET state = 'fulfilled' WHERE id = :id"), {"id": request.id})
    db.session.commit()
    assert [p for p in verify_ledger().problems if p.startswith(f"Request {request.id} still commits £50.00")]


def test_a_commitment_whose_source_is_nothing_is_reported(build):
    build.budget_period(allocated_pence=100_000)
    ledger.commit(1_500, on=clock.today(), actor=build.user(roles=["finance"]), memo="Orphan",
                  source_type="purchase_order", source_id=999_999)
    db.session.commit()
    assert verify_ledger().problems == [
        "Purchase order 999999 still commits £15.00, but is not open: no open purchase order or request awaiting "
        "stock will ever spend or release it."]


def test_the_cli_fails_on_an_orphan_commitment(runner, world):
    open_order, _, _ = world
    db.session.execute(text("UPDATE purchase_orders SET status = 'closed', closed_at = :now WHERE id = :id"),
                       {"now": clock.now(), "id": open_order.id})
    db.session.commit()
    result = runner.invoke(args=["verify-ledger"])
    assert result.exit_code != 0 and f"Purchase order {open_order.id} still commits" in result.output
