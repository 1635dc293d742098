"""The benchmark's generated dataset (bench/dataset.py) keeps the rules the app relies on:
a small one is written into the test database and checked here as the app would read it."""
from datetime import date

import pytest
from sqlalchemy import func, select, text

from bench.dataset import NATIONAL, DatasetError, Plan, generate, seeded_categories, simulate
from inventory.budget.verification import verify_ledger
from inventory.cases.models import Case, CaseReview
from inventory.extensions import db
from inventory.jobs.models import JobItem
from inventory.requests.holdings import HOLDING_STATES
from inventory.requests.models import EquipmentRequest, RequestLine
from inventory.stock.codes import parse_code
from inventory.stock.models import Item, ItemCode, ItemEvent
from inventory.budget.models import LedgerEntry

TINY = Plan(scale=0.0005)  # 50 cases, 25 open requests


@pytest.fixture
def generated(app):
    report = generate(TINY, echo=lambda _line: None)
    db.session.rollback()  # see what the bulk load committed
    return report


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def test_the_generated_ledger_passes_verify_ledger(generated, runner):
    assert verify_ledger().problems == []
    result = runner.invoke(args=["verify-ledger"])
    assert result.exit_code == 0, result.output
    assert f"{count(LedgerEntry)} entries in an unbroken chain" in result.output


def test_volumes_follow_the_scale(generated):
    cases = count(Case)
    assert cases == TINY.cases == round(NATIONAL["cases"] * 0.0005)
    open_requests = count(EquipmentRequest, EquipmentRequest.state.not_in(["rejected", "withdrawn", "fulfilled"]))
    assert generated.counts["open_requests"] == open_requests
    assert 0.6 * TINY.open_requests <= open_requests <= 1.3 * TINY.open_requests
    # Per case about 5 items and 10 ledger entries, as at national scale; so few cases add the
    # fixed monthly entries (stock orders, bank charges) on top.
    assert 3 * cases <= count(Item) <= 7 * cases
    assert 6 * cases <= count(LedgerEntry) <= 20 * cases


def test_every_item_is_where_its_last_event_left_it(generated):
    last_event = (select(ItemEvent.item_id, func.max(ItemEvent.id).label("event_id"))
                  .group_by(ItemEvent.item_id).subquery())
    mismatched = db.session.scalar(
        select(func.count()).select_from(Item).join(last_event, last_event.c.item_id == Item.id)
        .join(ItemEvent, ItemEvent.id == last_event.c.event_id).where(ItemEvent.to_state != Item.state))
    assert count(Item) > 0
    assert mismatched == 0
    assert count(ItemEvent, ItemEvent.kind == "received") == count(Item)


def test_item_codes_are_valid_unique_and_each_items_live_code(generated):
    codes = db.session.execute(select(Item.code, ItemCode.code).join(ItemCode, ItemCode.item_id == Item.id)
                               .where(ItemCode.retired_at.is_(None))).all()
    assert len(codes) == count(Item)
    assert all(live == listed and parse_code(live.replace("-", "").lower()) == live for live, listed in codes)


def test_reserved_and_issued_items_match_requests_and_visits(generated):
    reserved_to_waiting = count(Item, Item.state == "reserved", Item.reserved_for_request_id.in_(
        select(EquipmentRequest.id).where(EquipmentRequest.state.in_([str(s) for s in HOLDING_STATES]))))
    assert reserved_to_waiting == count(Item, Item.state == "reserved")
    handed_over = select(JobItem.item_id).where(JobItem.outcome == "issued")
    assert count(Item, Item.state == "issued", Item.id.not_in(handed_over)) == 0
    assert count(RequestLine, RequestLine.reserved_quantity > func.coalesce(RequestLine.approved_quantity, 0)) == 0


def test_decided_requests_and_reviews_carry_what_reports_count(generated):
    assert count(EquipmentRequest, EquipmentRequest.declined_as.is_not(None)) > 0
    assert count(Case, Case.referral_source == "agency", Case.sealed_referral_agency.is_(None)) == 0
    closed = count(Case, Case.status == "closed")
    assert closed > 0
    assert count(CaseReview, CaseReview.kind == "closing") == closed


def test_personal_fields_are_sealed_with_the_apps_key(generated):
    case = db.session.scalar(select(Case).order_by(Case.id).limit(1))
    stored = db.session.execute(text("SELECT name FROM cases WHERE id = :id"), {"id": case.id}).scalar_one()
    assert case.name and case.name not in stored  # opened through its SealedText, never stored as typed
    assert case.phone.startswith("07700 900")


def test_the_same_seed_gives_the_same_dataset(app):
    categories = seeded_categories()
    first, second = simulate(TINY, categories), simulate(TINY, categories)
    assert [e["hash"] for e in first.ledger] == [e["hash"] for e in second.ledger]
    assert [i["code"] for i in first.rows["items"]] == [i["code"] for i in second.rows["items"]]
    other = simulate(Plan(scale=TINY.scale, seed=TINY.seed + 1), categories)
    assert [i["code"] for i in other.rows["items"]] != [i["code"] for i in first.rows["items"]]


def test_a_database_with_data_is_refused(generated):
    with pytest.raises(DatasetError, match="not empty"):
        generate(Plan(scale=0.0005, as_of=date(2027, 3, 31)), echo=lambda _line: None)
