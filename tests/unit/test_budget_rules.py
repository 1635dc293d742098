"""Budget rules that need no database or Flask."""
from datetime import UTC, date, datetime, timedelta

import pytest

from inventory.budget.forecast import Forecast
from inventory.budget.models import BUCKETS, EntryKind, LedgerEntry, PeriodBalance
from inventory.budget.operations import financial_year


@pytest.mark.parametrize("day, expected", [
    (date(2026, 4, 1), (date(2026, 4, 1), date(2027, 3, 31), "2026-27")),
    (date(2027, 3, 31), (date(2026, 4, 1), date(2027, 3, 31), "2026-27")),
    (date(2027, 1, 15), (date(2026, 4, 1), date(2027, 3, 31), "2026-27")),
    (date(2099, 12, 31), (date(2099, 4, 1), date(2100, 3, 31), "2099-00")),
])
def test_a_financial_year_runs_april_to_march(day, expected):
    assert financial_year(day) == expected


def test_every_kind_but_reversal_moves_exactly_one_total():
    assert set(BUCKETS) == set(EntryKind) - {EntryKind.REVERSAL}


def test_available_is_allocated_less_actual_less_open_commitments_plus_credits_and_adjustments():
    balance = PeriodBalance(allocated_pence=0, committed_pence=0, actual_pence=0, credits_pence=0,
                            adjustments_pence=0, entry_count=0)
    for kind, amount in [(EntryKind.ALLOCATION, 10_000), (EntryKind.COMMITMENT, -3_000),
                         (EntryKind.RELEASE, 1_000), (EntryKind.ACTUAL, -2_500), (EntryKind.CREDIT, 500),
                         (EntryKind.ADJUSTMENT, -100)]:
        balance.apply(kind, amount)
    assert (balance.allocated_pence, balance.committed_pence, balance.actual_pence, balance.credits_pence,
            balance.adjustments_pence) == (10_000, 2_000, 2_500, 500, -100)
    assert balance.available_pence == 10_000 - 2_500 - 2_000 + 500 - 100 == 10_000 - 3_000 + 1_000 - 2_500 + 500 - 100
    assert balance.entry_count == 6


def entry(**changes):
    fields = dict(previous_hash="0" * 64, position=1, period_id=1, kind="actual", entry_date=date(2026, 5, 1),
                  amount_pence=-1_200, net_pence=1_000, vat_pence=200, gross_pence=1_200, category="locks",
                  case_reference=None, memo="Lock", source_type="invoice", source_id=3, commitment_id=None,
                  reverses_id=None, settled_by_id=None, posted_at=datetime(2026, 5, 1, 9, tzinfo=UTC),
                  posted_by_id=2)
    return LedgerEntry(**(fields | changes))


def test_an_entrys_hash_covers_its_content_and_the_previous_hash():
    original = entry().compute_hash()
    assert len(original) == 64 and original == entry().compute_hash()
    for change in ({"amount_pence": -1_201}, {"previous_hash": "1" * 64}, {"memo": "Lock!"}, {"position": 2},
                   {"entry_date": date(2026, 5, 2)}, {"posted_by_id": 3}):
        assert entry(**change).compute_hash() != original, change


def outlook(available, spent, *, days=90, spend_by=date(2027, 3, 31)):
    return Forecast(today=date(2026, 12, 1), available_pence=available, spent_pence=spent, window_days=days,
                    spend_by=spend_by)


@pytest.mark.parametrize("available, spent, days, expected", [
    (9_000, 900, 90, date(2026, 12, 1) + timedelta(days=900)),  # £10 a day; £90 left lasts 900 days
    (9_000, 900, 9, date(2026, 12, 1) + timedelta(days=90)),  # early in a period: the days so far
    (10_000, 0, 90, None),  # nothing spent: no rate to project
    (10_000, -500, 90, None),  # more credited than spent
    (0, 10_000, 90, date(2026, 12, 1)),
    (-50, 10_050, 90, date(2026, 12, 1)),
])
def test_the_money_runs_out_at_the_rate_of_the_last_90_days(available, spent, days, expected):
    assert outlook(available, spent, days=days).runs_out_on == expected


def test_money_running_out_before_it_must_be_spent_by_is_early_and_not_underspent():
    # £100 a day; £5,000 lasts 50 days, to 20 January, before 31 March.
    forecast = outlook(500_000, 900_000)
    assert forecast.runs_out_on == date(2027, 1, 20)
    assert forecast.runs_out_early and not forecast.underspent and forecast.unspent_pence == 0


def test_money_lasting_beyond_the_day_it_must_be_spent_by_is_underspent_by_what_would_be_left():
    # £10 a day for the 120 days to 31 March spends £1,200 of £5,000.
    forecast = outlook(500_000, 90_000)
    assert not forecast.runs_out_early and forecast.underspent
    assert forecast.unspent_pence == 500_000 - 120 * 1_000
    idle = outlook(500_000, 0)
    assert idle.underspent and idle.unspent_pence == 500_000
    assert not outlook(0, 90_000).underspent
