"""The ledger's service API against a real database."""
from datetime import date, datetime

import pytest
from sqlalchemy import select

from inventory import clock
from inventory.budget import ledger, operations as budget
from inventory.budget.ledger import BudgetExceeded, NoBudgetPeriod, PeriodClosed
from inventory.budget.models import LedgerEntry, OverspendAlert
from inventory.errors import Conflict, InvalidInput, NotAllowed
from inventory.extensions import db

TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def frozen_today():
    with clock.frozen_at(datetime(2026, 6, 15, 10, 0)):
        yield


@pytest.fixture
def finance(build):
    return build.user(roles=["finance"])


@pytest.fixture
def period(build, finance):
    return build.budget_period(allocated_pence=100_000, actor=finance)


def commit(amount, actor, *, on=TODAY, source_id=1):
    return ledger.commit(amount, on=on, actor=actor, memo="Doorbell", source_type="request", source_id=source_id,
                         category="Camera doorbell")


def actual(gross, actor, *, releasing=None, on=TODAY, net=None, vat=None):
    net = gross if net is None else net
    vat = 0 if vat is None else vat
    return ledger.post_actual(gross, on=on, actor=actor, memo="Invoice", source_type="invoice", source_id=7,
                              net_pence=net, vat_pence=vat, releasing=releasing)


def test_a_new_period_defaults_to_the_financial_year_containing_today(app):
    period = budget.create_period()
    assert (period.starts_on, period.ends_on, period.name) == (date(2026, 4, 1), date(2027, 3, 31), "2026-27")


def test_periods_may_not_overlap(app, period):
    with pytest.raises(InvalidInput) as error:
        budget.create_period(starts_on=date(2027, 1, 1), ends_on=date(2027, 12, 31), name="Calendar 2027")
    assert "starts_on" in error.value.fields


def test_available_is_allocated_less_actual_less_open_commitments_plus_credits(app, period, finance):
    commitment = commit(30_000, finance)
    actual(10_000, finance)
    ledger.credit(2_000, on=TODAY, actor=finance, memo="Refund", source_type="invoice", source_id=8,
                  net_pence=2_000, vat_pence=0)
    ledger.release(commitment, 5_000, on=TODAY, actor=finance, memo="Cheaper model")
    totals = ledger.summary(period)
    assert (totals.allocated_pence, totals.committed_pence, totals.actual_pence, totals.credits_pence) == (
        100_000, 25_000, 10_000, 2_000)
    assert totals.available_pence == 100_000 - 10_000 - 25_000 + 2_000
    assert totals.used_percent == 33


def test_a_commitment_that_would_take_available_below_zero_is_refused_with_the_shortfall(app, period, finance):
    commit(80_000, finance)
    with pytest.raises(BudgetExceeded) as error:
        commit(30_000, finance)
    assert error.value.code == "budget_exceeded"
    assert error.value.details == {"available_pence": 20_000, "needed_pence": 30_000, "shortfall_pence": 10_000}


def test_a_commitment_may_use_exactly_what_is_available(app, period, finance):
    commit(100_000, finance)
    assert ledger.available_pence(period) == 0


def test_release_defaults_to_all_that_is_open_and_never_more(app, period, finance):
    commitment = commit(10_000, finance)
    ledger.release(commitment, 4_000, on=TODAY, actor=finance, memo="Part")
    with pytest.raises(InvalidInput) as error:
        ledger.release(commitment, 6_001, on=TODAY, actor=finance, memo="Too much")
    assert error.value.details["open_pence"] == 6_000
    rest = ledger.release(commitment, on=TODAY, actor=finance, memo="Rest")
    assert rest.amount_pence == 6_000
    assert ledger.open_amount_pence(commitment) == 0
    with pytest.raises(Conflict) as nothing:
        ledger.release(commitment, on=TODAY, actor=finance, memo="Again")
    assert nothing.value.code == "nothing_open"


def test_an_actual_releases_its_commitment_in_the_same_transaction(app, period, finance):
    commitment = commit(10_000, finance)
    spent = actual(9_000, finance, releasing=commitment)
    assert ledger.open_amount_pence(commitment) == 1_000
    assert spent.commitment_id == commitment.id
    totals = ledger.summary(period)
    assert (totals.committed_pence, totals.actual_pence, totals.available_pence) == (1_000, 9_000, 90_000)
    assert db.session.scalar(select(OverspendAlert)) is None


def test_an_actual_above_its_commitment_posts_raises_an_alert_and_blocks_commitments(app, period, finance):
    commitment = commit(10_000, finance)
    actual(12_000, finance, releasing=commitment)
    alert = db.session.scalar(select(OverspendAlert))
    assert alert.over_by_pence == 2_000
    assert ledger.summary(period).actual_pence == 12_000
    with pytest.raises(BudgetExceeded) as error:
        commit(100, finance)
    assert error.value.details["overspend_alert_id"] == alert.id
    budget.resolve_overspend(alert, actor=finance, resolution="Supplier price rise agreed")
    assert commit(100, finance).amount_pence == -100


def test_the_budget_is_charged_gross_unless_vat_is_reclaimed(app, period, finance):
    entry = actual(1_200, finance, net=1_000, vat=200)
    assert (entry.amount_pence, entry.net_pence, entry.vat_pence, entry.gross_pence) == (-1_200, 1_000, 200, 1_200)
    app.config["VAT_RECLAIMED"] = True
    assert actual(1_200, finance, net=1_000, vat=200).amount_pence == -1_000


def test_gross_must_be_net_plus_vat(app, period, finance):
    with pytest.raises(InvalidInput) as error:
        actual(1_300, finance, net=1_000, vat=200)
    assert "gross_pence" in error.value.fields
    assert db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "actual")) is None


@pytest.mark.parametrize("amount, message", [
    (0, "zero"), (-5, "negative"), (1.5, "whole numbers"), ("100", "whole numbers"), (True, "whole numbers"),
    (100_000_001, "over £1,000,000"),
])
def test_commitment_amounts_must_be_positive_whole_pence_within_reason(app, period, finance, amount, message):
    with pytest.raises(InvalidInput) as error:
        commit(amount, finance)
    assert message in error.value.fields["amount_pence"]


def test_adjustments_need_a_written_reason_and_may_be_either_sign(app, period, finance):
    with pytest.raises(InvalidInput) as error:
        ledger.adjust(-500, on=TODAY, actor=finance, reason="  ")
    assert "reason" in error.value.fields
    ledger.adjust(-500, on=TODAY, actor=finance, reason="Bank charge")
    ledger.adjust(200, on=TODAY, actor=finance, reason="Rounding")
    assert ledger.summary(period).adjustments_pence == -300
    assert ledger.available_pence(period) == 99_700


def test_a_reversal_negates_its_entry_once(app, period, finance):
    commitment = commit(10_000, finance)
    reversal = ledger.reverse(commitment, reason="Raised twice", actor=finance)
    assert (reversal.kind, reversal.amount_pence, reversal.reverses_id) == ("reversal", 10_000, commitment.id)
    assert ledger.available_pence(period) == 100_000
    assert ledger.open_amount_pence(commitment) == 0
    with pytest.raises(Conflict) as again:
        ledger.reverse(commitment, reason="Again", actor=finance)
    assert again.value.code == "already_reversed"
    with pytest.raises(Conflict) as of_reversal:
        ledger.reverse(reversal, reason="Undo", actor=finance)
    assert of_reversal.value.code == "cannot_reverse_reversal"


def test_a_partly_used_commitment_cannot_be_reversed(app, period, finance):
    commitment = commit(10_000, finance)
    ledger.release(commitment, 1_000, on=TODAY, actor=finance, memo="Part")
    with pytest.raises(Conflict) as error:
        ledger.reverse(commitment, reason="Wrong", actor=finance)
    assert error.value.code == "commitment_in_use"


def test_reversing_an_actual_reopens_the_commitment_it_settled(app, period, finance):
    commitment = commit(10_000, finance)
    spent = actual(4_000, finance, releasing=commitment)
    ledger.reverse(spent, reason="Wrong invoice", actor=finance)
    assert ledger.open_amount_pence(commitment) == 10_000
    totals = ledger.summary(period)
    assert (totals.committed_pence, totals.actual_pence, totals.available_pence) == (10_000, 0, 90_000)
    settled = db.session.scalar(select(LedgerEntry).where(LedgerEntry.settled_by_id == spent.id))
    with pytest.raises(Conflict):
        ledger.reverse(settled, reason="Direct", actor=finance)


def test_a_reversal_hook_receiver_is_asked_about_an_actual_and_its_release_and_may_refuse(app, period, finance):
    asked = []

    def refuse_releases(entry):
        asked.append(entry.kind)
        if entry.kind == "release":
            raise Conflict("Frozen elsewhere.", code="frozen")

    ledger.entry_reversing.connect(app, refuse_releases)
    spent = actual(4_000, finance, releasing=commit(10_000, finance))
    before = (db.session.scalars(select(LedgerEntry.id)).all(), ledger.summary(period))
    with pytest.raises(Conflict) as refused:
        ledger.reverse(spent, reason="Wrong invoice", actor=finance)
    assert refused.value.code == "frozen"
    assert asked == ["actual", "release"]
    assert (db.session.scalars(select(LedgerEntry.id)).all(), ledger.summary(period)) == before


def test_reversing_a_release_recommits_only_if_the_budget_allows(app, period, finance):
    commitment = commit(50_000, finance)
    released = ledger.release(commitment, on=TODAY, actor=finance, memo="Cancelled")
    commit(60_000, finance, source_id=2)
    with pytest.raises(BudgetExceeded):
        ledger.reverse(released, reason="Not cancelled after all", actor=finance)


def test_nothing_may_be_dated_in_a_closed_month_until_an_admin_reopens_it(app, period, finance, build):
    may = date(2026, 5, 20)
    budget.close_month(may, actor=finance)
    for attempt in (
        lambda: commit(100, finance, on=may),
        lambda: actual(100, finance, on=may),
        lambda: ledger.adjust(100, on=may, actor=finance, reason="Late"),
        lambda: ledger.allocate(period, 100, actor=finance, on=may),
    ):
        with pytest.raises(PeriodClosed) as error:
            attempt()
        assert error.value.code == "period_closed"
    with pytest.raises(NotAllowed):
        budget.reopen_month(may, actor=finance, reason="Missed invoice")
    admin = build.user(roles=["admin"])
    with pytest.raises(InvalidInput):
        budget.reopen_month(may, actor=admin, reason="")
    budget.reopen_month(may, actor=admin, reason="Missed invoice")
    assert commit(100, finance, on=may).entry_date == may


def test_the_current_month_cannot_be_closed_yet(app, period, finance):
    with pytest.raises(Conflict) as error:
        budget.close_month(TODAY, actor=finance)
    assert error.value.code == "month_not_ended"


def test_an_entry_outside_every_period_is_refused(app, period, finance):
    with pytest.raises(NoBudgetPeriod):
        commit(100, finance, on=date(2020, 1, 1))


def test_commitments_after_the_contract_end_are_refused(app, period, finance):
    app.config["CONTRACT_END_DATE"] = "2026-06-14"
    with pytest.raises(Conflict) as error:
        commit(100, finance, on=date(2026, 6, 15))
    assert error.value.code == "after_contract_end"


def test_entries_form_a_hash_chain_in_order(app, period, finance):
    commit(1_000, finance)
    actual(500, finance)
    entries = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)).all()
    assert [e.position for e in entries] == [1, 2, 3]
    assert entries[0].previous_hash == "0" * 64
    for before, after in zip(entries, entries[1:]):
        assert after.previous_hash == before.hash
    assert all(e.hash == e.compute_hash() for e in entries)


def test_a_direct_purchase_is_recorded_and_posted_as_an_actual(app, period, finance):
    purchase, entry = budget.record_direct_purchase(
        supplier_name="Hardware Shop", purchased_on=TODAY, net_pence=2_500, vat_pence=500, gross_pence=3_000,
        receipt_reference="R-1", category="locks", actor=finance, case_reference="NS-2026-0001")
    assert (entry.kind, entry.amount_pence, entry.source_type, entry.source_id) == (
        "actual", -3_000, "direct_purchase", purchase.id)
    assert entry.case_reference == "NS-2026-0001"


def test_a_direct_purchase_with_wrong_sums_writes_nothing(app, period, finance):
    with pytest.raises(InvalidInput) as error:
        budget.record_direct_purchase(
            supplier_name="", purchased_on=TODAY, net_pence=2_500, vat_pence=500, gross_pence=3_001,
            receipt_reference="R-1", category="locks", actor=finance)
    assert set(error.value.fields) == {"supplier_name", "gross_pence"}


def test_an_entry_without_a_real_date_is_refused(app, period, finance):
    with pytest.raises(InvalidInput) as error:
        ledger.commit(100, on="2026-06-15", actor=finance, memo="m", source_type="request", source_id=1)
    assert "on" in error.value.fields


def test_spending_beyond_the_budget_without_a_commitment_posts_and_raises_an_alert(app, period, finance):
    commitment = commit(1_000, finance)
    ledger.adjust(-99_000, on=TODAY, actor=finance, reason="Returned to the funder")
    actual(1_000, finance, releasing=commitment)  # covered by its commitment: no alert
    assert db.session.scalar(select(OverspendAlert)) is None
    ledger.adjust(99_000, on=TODAY, actor=finance, reason="Funder changed their mind")
    actual(100_500, finance)
    ledger.adjust(-100, on=TODAY, actor=finance, reason="Bank charge")
    alerts = db.session.scalars(select(OverspendAlert).order_by(OverspendAlert.id)).all()
    assert [a.over_by_pence for a in alerts] == [1_500, 100]
    assert ledger.available_pence(period) == -1_600


def test_a_budget_above_the_32_bit_limit_keeps_exact_integer_totals(app, period, finance):
    """Money is 64-bit: thirty £1M allocations (£30M, past £21.47M) sum exactly, as int."""
    for _ in range(30):
        ledger.allocate(period, 100_000_000, actor=finance)
    db.session.commit()
    totals = ledger.summary(period)
    assert totals.allocated_pence == totals.available_pence == 3_000_100_000  # with the fixture's £1,000
    assert type(totals.available_pence) is int
