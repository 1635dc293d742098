"""The budget forecast and its scheduled check, driven at simulated dates: the last 90 days'
spending (actuals net of credits and reversals) projected to the day the money must be
spent by; finance and coordinators told when it runs out early, or, ahead of the contract's
end, when some would be left unspent."""
from datetime import UTC, date, datetime

import pytest

from inventory import clock
from inventory.budget import ledger
from inventory.budget.forecast import check_budget_forecast, forecast
from inventory.extensions import db
from inventory.notices import Notice

AUDIENCE = ("finance", "coordinator")


def at(year, month, day):
    return datetime(year, month, day, 5, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def first_of_december():
    with clock.frozen_at(datetime(2026, 12, 1, 10, tzinfo=UTC)):
        yield


@pytest.fixture
def period(build):
    return build.budget_period(allocated_pence=1_500_000, starts_on=date(2026, 4, 1), ends_on=date(2027, 3, 31))


@pytest.fixture
def finance(build):
    return build.user(roles=["finance"])


def spend(finance, pence, on):
    ledger.post_actual(pence, on=on, actor=finance, memo="Invoice", source_type="invoice", source_id=1,
                       net_pence=pence, vat_pence=0)
    db.session.commit()


@pytest.fixture
def steady(period, finance, build):
    """£3,000 spent in June (before the window), then in the 90 days to 1 December: £900
    spent, £90 credited, and £180 spent and reversed. £11,190 is available."""
    spend(finance, 300_000, date(2026, 6, 1))
    spend(finance, 90_000, date(2026, 10, 1))
    ledger.credit(9_000, on=date(2026, 11, 1), actor=finance, memo="Refund", source_type="invoice", source_id=1,
                  net_pence=9_000, vat_pence=0)
    mistake = build.direct_purchase(gross_pence=18_000, on=date(2026, 11, 15), actor=finance)
    ledger.reverse(mistake, reason="Charged twice", actor=finance, on=date(2026, 11, 20))
    db.session.commit()
    return period


def test_the_rate_is_the_last_90_days_spending_net_of_credits_and_reversals(steady):
    outlook = forecast(steady, date(2026, 12, 1))
    assert (outlook.available_pence, outlook.spent_pence, outlook.window_days) == (1_119_000, 81_000, 90)
    # £9 a day: £11,190 lasts 1,243 days, well beyond 31 March.
    assert outlook.runs_out_on == date(2030, 4, 27) and outlook.spend_by == date(2027, 3, 31)
    early = forecast(steady, date(2026, 4, 30))  # a period's first days are all its window
    assert (early.spent_pence, early.window_days) == (0, 30)


def test_an_underspend_is_warned_from_the_configured_days_before_the_contract_end(app, steady):
    app.config.update(CONTRACT_END_DATE="2027-03-31", UNDERSPEND_WARNING_DAYS=120)
    assert check_budget_forecast(at(2026, 11, 30)).notices == []
    outcome = check_budget_forecast(at(2026, 12, 1))
    # £9 a day for the 120 days left spends £1,080 of £11,190.
    assert outcome.notices == [Notice(
        "budget_underspend", f"period:{steady.id}",
        "At the last 90 days' rate, about £10,110.00 of the 2026-27 budget would be unspent on 31 Mar 2027."
        " The contract ends on 31 Mar 2027: money must be spent on eligible items before then.",
        "/budget", roles=AUDIENCE)]
    assert outcome.counts == {"periods": 1, "runs_out": 0, "underspend": 1}
    assert check_budget_forecast(at(2026, 12, 1)) == outcome  # safe to run twice


def test_without_a_contract_end_there_is_no_underspend_warning(steady):
    outcome = check_budget_forecast(at(2026, 12, 1))
    assert outcome.notices == [] and outcome.counts == {"periods": 1, "runs_out": 0, "underspend": 0}


def test_a_contract_ending_inside_the_period_is_the_day_the_money_must_be_spent_by(app, steady):
    app.config.update(CONTRACT_END_DATE="2027-01-30", UNDERSPEND_WARNING_DAYS=30)
    assert check_budget_forecast(at(2026, 12, 30)).notices == []
    [notice] = check_budget_forecast(at(2026, 12, 31)).notices
    assert "would be unspent on 30 Jan 2027" in notice.message
    assert check_budget_forecast(at(2027, 1, 31)).notices == []  # the contract has ended


def test_money_running_out_before_the_period_ends_is_told_to_finance_and_coordinators(period, finance):
    spend(finance, 1_000_000, date(2026, 11, 1))
    outcome = check_budget_forecast(at(2026, 12, 1))
    # £10,000 in 90 days; £5,000 lasts 45 days.
    assert outcome.notices == [Notice(
        "budget_runs_out", f"period:{period.id}",
        "At the last 90 days' rate, the 2026-27 budget runs out on 15 Jan 2027, before 31 Mar 2027.",
        "/budget", roles=AUDIENCE)]
    assert outcome.counts == {"periods": 1, "runs_out": 1, "underspend": 0}


def test_a_budget_with_nothing_available_has_run_out(period, finance):
    spend(finance, 1_600_000, date(2026, 11, 1))
    [notice] = check_budget_forecast(at(2026, 12, 1)).notices
    assert notice.kind == "budget_runs_out"
    assert notice.message == ("Nothing is available in the 2026-27 budget (−£1,000.00), which must last until"
                              " 31 Mar 2027.")


def test_without_a_running_period_there_is_nothing_to_forecast(period):
    assert check_budget_forecast(at(2027, 4, 2)).counts == {"periods": 0}
    assert check_budget_forecast(at(2027, 4, 2)).notices == []
