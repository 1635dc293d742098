"""Budget categories: a managed list that every categorised entry is filed under, by name and id."""
import pytest
from sqlalchemy import func, select, text

from inventory import clock
from inventory.accounts.models import User
from inventory.audit.models import AuditEvent
from inventory.budget import categories, ledger, operations as budget, queries
from inventory.budget.models import BudgetCategory, DirectPurchase, LedgerEntry
from inventory.budget.verification import verify_ledger
from inventory.catalogue.operations import update_item_type
from inventory.errors import Conflict, InvalidInput
from inventory.extensions import db
from inventory.requests.operations import approve_request
from tests.concurrency import run_at_once
from tests.integration.test_ledger_verification import append_only_guard_disabled

TODAY = clock.today


@pytest.fixture
def finance(build):
    return build.user(roles=["finance"])


@pytest.fixture
def period(build, finance):
    return build.budget_period(allocated_pence=100_000, actor=finance)


def named(name: str) -> BudgetCategory:
    return db.session.scalar(select(BudgetCategory).where(BudgetCategory.name == name))


def commit(amount, actor, category="PIR light"):
    return ledger.commit(amount, on=TODAY(), actor=actor, memo="Lights", source_type="request", source_id=1,
                         category=category)


def test_the_list_starts_with_one_category_per_kind_of_item_and_bank_charges(app):
    assert [c.name for c in categories.active_categories()] == [
        "Bank charges", "CCTV camera", "Camera doorbell", "Lock", "PIR light", "Personal alarm", "Window alarm"]


def test_an_entry_is_filed_under_the_active_category_it_names_exactly(app, period, finance):
    entry = commit(1_000, finance)
    assert (entry.category, entry.category_id) == ("PIR light", named("PIR light").id)
    assert commit(500, finance, category=None).category_id is None


@pytest.mark.parametrize("category", ["PIR lights", "pir light", "Sundries"])
def test_a_posting_naming_no_active_category_exactly_is_refused_with_the_choices(app, period, finance, category):
    with pytest.raises(InvalidInput) as caught:
        commit(1_000, finance, category=category)
    assert "PIR light" in caught.value.fields["category"] and "Bank charges" in caught.value.fields["category"]


def test_a_deactivated_category_takes_no_new_postings_but_its_releases_and_reversals_keep_it(
        app, period, finance, made_up_sources):
    commitment = commit(3_000, finance)
    categories.set_category_active(named("PIR light"), False, actor=finance)
    with pytest.raises(InvalidInput):
        commit(1_000, finance)
    release = ledger.release(commitment, 1_000, on=TODAY(), actor=finance, memo="Part arrived")
    reversal = ledger.reverse(release, reason="Arrived broken", actor=finance)
    light = named("PIR light")
    assert {(e.category, e.category_id) for e in (release, reversal)} == {("PIR light", light.id)}
    assert verify_ledger().ok


def test_spend_by_category_adds_up_by_category_and_keeps_deactivated_ones(app, period, finance):
    commit(3_000, finance)
    commit(2_000, finance, category="Lock")
    budget.record_direct_purchase(supplier_name="Shop", purchased_on=TODAY(), net_pence=1_000, vat_pence=0,
                                  gross_pence=1_000, receipt_reference="R-1", category="pir lights", actor=finance)
    categories.set_category_active(named("Lock"), False, actor=finance)
    lines = {line.category: line.used_pence for line in queries.by_category(period)}
    assert lines == {"PIR light": 4_000, "Lock": 2_000}


def test_a_direct_purchase_takes_its_category_by_name_whatever_the_case_or_plural(app, period, finance):
    purchase, entry = budget.record_direct_purchase(
        supplier_name="Shop", purchased_on=TODAY(), net_pence=1_000, vat_pence=0, gross_pence=1_000,
        receipt_reference="R-1", category="  pir   LIGHTS ", actor=finance)
    light = named("PIR light")
    assert (purchase.category, purchase.category_id) == ("PIR light", light.id)
    assert (entry.category, entry.category_id) == ("PIR light", light.id)


def test_a_direct_purchase_in_no_category_on_the_list_writes_nothing(app, period, finance):
    with pytest.raises(InvalidInput) as caught:
        budget.record_direct_purchase(supplier_name="Shop", purchased_on=TODAY(), net_pence=1_000, vat_pence=0,
                                      gross_pence=1_000, receipt_reference="R-1", category="Misc", actor=finance)
    assert "Choose one of" in caught.value.fields["category"]
    db.session.rollback()
    assert db.session.scalar(select(DirectPurchase.id)) is None


def test_an_unused_category_may_be_renamed_a_used_one_keeps_its_name(app, period, finance):
    doorbell = named("Camera doorbell")
    categories.rename_category(doorbell, "Video doorbell", actor=finance)
    assert doorbell.name == "Video doorbell" and doorbell.key == "video doorbell"
    commit(1_000, finance)
    with pytest.raises(Conflict) as caught:
        categories.rename_category(named("PIR light"), "Security light", actor=finance)
    assert caught.value.code == "category_in_use"


@pytest.mark.parametrize("name", ["PIR lights", "pir  light", " Bank Charge "])
def test_a_name_that_differs_from_another_only_by_case_spaces_or_a_plural_is_refused(app, finance, name):
    with pytest.raises(InvalidInput) as caught:
        categories.create_category(name, actor=finance)
    assert "name" in caught.value.fields


def test_a_category_cannot_be_deactivated_while_an_active_item_type_is_charged_to_it(app, build, finance):
    alarm = build.item_type(name="Alarm")
    personal_alarm = named("Personal alarm")
    with pytest.raises(Conflict) as caught:
        categories.set_category_active(personal_alarm, False, actor=finance)
    assert caught.value.code == "category_in_use" and "Alarm" in caught.value.message
    update_item_type(alarm, name="Alarm", category="personal_alarm", other_category=None, description=None,
                     loaned=True, connected_device=False, standard_cost_pence=2_500, reorder_level=0, active=False,
                     budget_category_id=None)
    categories.set_category_active(personal_alarm, False, actor=finance)
    assert not personal_alarm.active


def test_an_active_item_type_needs_an_active_budget_category(app, build, finance):
    window = named("Window alarm")
    categories.set_category_active(window, False, actor=finance)
    with pytest.raises(InvalidInput) as caught:
        build.item_type(category="window_alarm")
    assert "budget_category_id" in caught.value.fields
    assert build.item_type(category="window_alarm", budget_category_id=named("Lock").id).budget_category.name == "Lock"


def test_an_order_line_is_charged_to_its_item_types_budget_category_when_drafted(app, build):
    light = build.item_type(category="pir_light")
    order = build.purchase_order(lines=[(light, 2, 1_000, 200)])
    assert order.lines[0].budget_category_id == named("PIR light").id


def test_an_approved_requests_commitment_is_in_its_item_types_budget_category(app, build, period):
    lock_kit = build.item_type(category="lock", budget_category_id=named("Window alarm").id, loaned=False)
    request = build.equipment_request(lines=[(lock_kit, 1)])
    approve_request(request.id, actor=build.user(roles=["coordinator"]))  # nothing in stock: money is committed
    committed = db.session.scalars(select(LedgerEntry).where(LedgerEntry.source_type == "request",
                                                             LedgerEntry.source_id == request.id)).all()
    assert [(e.kind, e.category, e.category_id) for e in committed] == [
        ("commitment", "Window alarm", named("Window alarm").id)]


def test_an_entry_refiled_under_another_category_behind_the_apps_back_fails_verification(
        app, period, finance, made_up_sources):
    commitment = commit(3_000, finance)
    ledger.release(commitment, 1_000, on=TODAY(), actor=finance, memo="Part arrived")
    db.session.commit()
    assert verify_ledger().ok
    with append_only_guard_disabled():
        db.session.execute(text("UPDATE ledger_entries SET category_id = :lock WHERE kind = 'commitment'"),
                           {"lock": named("Lock").id})
        db.session.commit()
        problems = verify_ledger().problems
    assert any("says category 'PIR light' but is filed under 'Lock'" in p for p in problems)
    assert any(f"is filed under another category than entry {commitment.id}" in p for p in problems)


def test_an_entry_stripped_of_its_category_behind_the_apps_back_fails_verification(app, period, finance):
    categories.create_category("Door security", actor=finance)
    commit(3_000, finance, category="Door security")
    db.session.commit()
    with append_only_guard_disabled():
        db.session.execute(text("UPDATE ledger_entries SET category_id = NULL WHERE kind = 'commitment'"))
        db.session.commit()
        problems = verify_ledger().problems
    assert any("filed under none, though 'Door security' existed when posted" in p for p in problems)


@pytest.mark.postgres_only
def test_a_posting_and_a_rename_of_its_category_at_once_never_leave_an_entry_naming_another_name(app, build):
    finance = build.user(roles=["finance"])
    build.budget_period(allocated_pence=100_000, actor=finance)
    doorbell_id = named("Camera doorbell").id

    def post():
        ledger.commit(1_000, on=TODAY(), actor=db.session.get(User, finance.id), memo="Doorbell",
                      source_type="request", source_id=1, category="Camera doorbell")

    def rename():
        categories.rename_category(db.session.get(BudgetCategory, doorbell_id), "Video doorbell", actor=None)

    outcomes = run_at_once(app, [post, rename])
    assert outcomes in (["ok", "category_in_use"], ["invalid_input", "ok"])
    db.session.expire_all()
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "commitment")).all()
    assert [e.category for e in entries] == ([db.session.get(BudgetCategory, doorbell_id).name]
                                             if outcomes[0] == "ok" else [])
    assert verify_ledger().ok


@pytest.mark.postgres_only
def test_two_names_too_close_added_at_once_make_one_category(app, build):
    finance = build.user(roles=["finance"])
    outcomes = run_at_once(app, [lambda: categories.create_category("Door chain", actor=finance),
                                 lambda: categories.create_category("door chains", actor=finance)])
    assert sorted(outcomes) == ["invalid_input", "ok"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(BudgetCategory).where(
        BudgetCategory.key == "door chain")) == 1


def test_changes_to_the_list_are_recorded_in_the_audit_log(app, finance):
    door = categories.create_category("Door chain", actor=finance)
    categories.rename_category(door, "Door security", actor=finance)
    categories.set_category_active(door, False, actor=finance)
    categories.set_category_active(door, False, actor=finance)  # already: nothing to record
    categories.set_category_active(door, True, actor=finance)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.kind.startswith("budget_category"))
                                .order_by(AuditEvent.id)).all()
    assert [(e.kind, e.actor_id, e.details.get("name")) for e in events] == [
        ("budget_category_added", finance.id, "Door chain"), ("budget_category_renamed", finance.id, "Door security"),
        ("budget_category_deactivated", finance.id, "Door security"),
        ("budget_category_reactivated", finance.id, "Door security")]
