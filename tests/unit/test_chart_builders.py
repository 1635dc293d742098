"""What each page's charts draw from their figures: the finance home's burn-down, spend by
category and by month, the performance report's requests by risk level and days to install,
and stock against reorder levels. Pure functions: no Flask, no database."""
from datetime import date

import pytest

from inventory.budget.charts import burn_down, category_chart, monthly_chart, plan_on, projected
from inventory.budget.forecast import Forecast
from inventory.budget.queries import CategoryLine, MonthSpend
from inventory.cases.models import RiskLevel
from inventory.reports.performance import days, install_times_chart, open_requests_chart
from inventory.requests.performance import InstallTimes, OpenRequests
from inventory.stock.charts import levels_chart
from inventory.stock.queries import StockLevel

START, END = date(2026, 4, 1), date(2026, 6, 30)


def outlook(available, spent, *, today=date(2026, 4, 30), window=30, spend_by=END):
    return Forecast(today=today, available_pence=available, spent_pence=spent, window_days=window, spend_by=spend_by)


def points(line):
    return [tuple(map(float, point.split(","))) for point in line.points.split()]


# The burn-down

def test_the_forecast_projects_the_recent_rate_and_stops_at_zero():
    rate = outlook(60_000, 30_000)  # £10 a day
    assert projected(rate, date(2026, 5, 10)) == 50_000
    assert rate.runs_out_on == date(2026, 6, 29)
    assert projected(rate, date(2026, 6, 29)) == projected(rate, date(2026, 6, 30)) == 0


@pytest.mark.parametrize("available, spent", [(0, 30_000), (-500, 30_000), (60_000, 0), (60_000, -100)])
def test_there_is_no_projection_without_money_or_without_a_rate(available, spent):
    assert projected(outlook(available, spent), date(2026, 5, 10)) is None


def test_the_plan_spends_the_allocation_evenly_to_the_spend_by_day():
    assert plan_on(START, starts_on=START, spend_by=date(2026, 4, 11), allocated_pence=10_000) == 10_000
    assert plan_on(date(2026, 4, 6), starts_on=START, spend_by=date(2026, 4, 11), allocated_pence=10_000) == 5_000
    assert plan_on(date(2026, 4, 20), starts_on=START, spend_by=date(2026, 4, 11), allocated_pence=10_000) == 0
    assert plan_on(START, starts_on=START, spend_by=START, allocated_pence=10_000) == 0


def april_series(end_value=60_000):
    return [(START, 90_000), (date(2026, 4, 15), 75_000), (date(2026, 4, 30), end_value)]


def test_the_burn_down_draws_available_the_forecast_dashed_and_the_plan_dotted():
    chart = burn_down(april_series(), starts_on=START, ends_on=END, spend_by=END, allocated_pence=90_000,
                      outlook=outlook(60_000, 30_000))
    available, forecast, plan = chart.lines
    assert (available.style, forecast.style, plan.style) == ("solid", "dashed", "dotted")
    assert points(forecast)[0] == points(available)[-1]  # the forecast carries on from today
    assert points(forecast)[-1][1] == chart.zero_y  # ... down to zero, on the day it runs out
    assert points(plan)[0] == (chart.plot_left, chart.plot_top) and points(plan)[-1] == (chart.plot_right,
                                                                                           chart.zero_y)
    assert chart.description == (
        "Available went from £900.00 on 1 April 2026 to £600.00 on 30 April 2026. At the last 90 days' rate it "
        "runs out on 29 June 2026. An even spend reaches zero on 30 June 2026.")


def test_a_forecast_that_outlasts_the_period_stops_at_its_end_with_what_would_be_left():
    chart = burn_down(april_series(), starts_on=START, ends_on=END, spend_by=END, allocated_pence=90_000,
                      outlook=outlook(60_000, 3_000))  # £1 a day: £600 lasts well past June
    forecast = chart.lines[1]
    assert points(forecast)[-1][0] == chart.plot_right and points(forecast)[-1][1] < chart.zero_y
    assert "about £539.00 would be left when the period ends on 30 June 2026" in chart.description


@pytest.mark.parametrize("available, spent, words", [
    (60_000, 0, "Nothing was spent in the last 90 days, so there is no forecast."),
    (-5_000, 30_000, "Nothing is available, so there is no forecast."),
])
def test_without_a_rate_or_money_there_is_no_forecast_line_and_the_words_say_why(available, spent, words):
    chart = burn_down(april_series(available), starts_on=START, ends_on=END, spend_by=END, allocated_pence=90_000,
                      outlook=outlook(available, spent))
    assert chart.lines[1].points == "" and words in chart.description
    assert [line.name for line in chart.legend] == ["Available", "Even spend to 30 Jun 2026"]


def test_an_overspend_is_drawn_below_the_zero_line():
    chart = burn_down([(START, -5_000)], starts_on=START, ends_on=date(2026, 4, 11), spend_by=date(2026, 4, 6),
                      allocated_pence=5_000)
    assert chart.plot_top < chart.zero_y < chart.plot_bottom
    assert [label.text for label in chart.y_labels] == ["−£50", "£0", "£50"]
    assert points(chart.lines[0])[0][1] == chart.plot_bottom


def test_a_contract_ending_before_the_period_is_marked_and_the_plan_aims_at_it():
    chart = burn_down(april_series(), starts_on=START, ends_on=END, spend_by=date(2026, 5, 31),
                      allocated_pence=90_000)
    assert [marker.label.text for marker in chart.markers] == ["Contract ends"]
    assert points(chart.lines[2])[-1][0] == chart.markers[0].x
    assert "An even spend reaches zero on 31 May 2026." in chart.description


def test_the_burn_down_numbers_give_each_month_end_then_the_forecast_ahead():
    chart = burn_down(april_series(), starts_on=START, ends_on=END, spend_by=END, allocated_pence=90_000,
                      outlook=outlook(60_000, 30_000))
    assert chart.table.columns == ("Month", "Available", "Forecast", "Even spend")
    assert chart.table.rows == (
        ("April 2026", "£600.00", "—", "£610.00"),  # 61 of the period's 90 days left: £900 × 61/90
        ("May 2026", "—", "£290.00", "£300.00"),  # 31 more days at £10; 30 of 90 days left
        ("June 2026", "—", "£0.00", "£0.00"),
    )


# Spend by category and by month

def test_spend_by_category_stacks_spent_net_of_credits_and_committed():
    chart = category_chart([CategoryLine("Lock", committed_pence=2_000, actual_pence=5_000, credits_pence=1_000),
                            CategoryLine("Personal alarm", committed_pence=0, actual_pence=1_500, credits_pence=0)])
    assert [s.name for s in chart.series] == ["Spent (net of credits)", "Committed"]
    assert chart.table.rows == (("Lock", "£40.00", "£20.00", "£60.00"),
                                ("Personal alarm", "£15.00", "£0.00", "£15.00"))
    assert "The most is in Lock: £40.00 spent and £20.00 committed; 2 categories in all." in chart.description


def test_spend_by_category_with_nothing_yet_says_so():
    chart = category_chart([])
    assert chart.empty and chart.empty_text == "Nothing committed or spent yet."


def test_spend_by_month_has_a_row_for_every_month_even_one_with_nothing_spent():
    may = date(2026, 5, 1)
    chart = monthly_chart([MonthSpend(START, "Lock", 4_500), MonthSpend(START, "Personal alarm", 1_000),
                           MonthSpend(date(2026, 6, 1), "Lock", -500)], [START, may, date(2026, 6, 1)])
    assert [s.name for s in chart.series] == ["Lock", "Personal alarm"]
    assert chart.table.rows == (("Apr 2026", "£45.00", "£10.00", "£55.00"), ("May 2026", "£0.00", "£0.00", "£0.00"),
                                ("Jun 2026", "−£5.00", "£0.00", "−£5.00"))
    assert "The most in one month was £55.00, in Apr 2026." in chart.description


def test_spend_by_month_keeps_the_five_biggest_categories_apart_and_groups_the_rest():
    spend = [MonthSpend(START, f"Category {n}", 1_000 * n) for n in range(1, 9)]
    chart = monthly_chart(spend, [START])
    assert [s.name for s in chart.series] == ["Category 8", "Category 7", "Category 6", "Category 5", "Category 4",
                                              "Other categories"]
    assert chart.table.rows[0][-2:] == ("£60.00", "£360.00")  # 1 + 2 + 3 together; the total of all eight


def test_spend_by_month_with_nothing_spent_says_so():
    chart = monthly_chart([], [START, date(2026, 5, 1)])
    assert chart.empty and chart.empty_text == "Nothing spent yet."


# Requests: open by risk level, days to install

def test_open_requests_stack_overdue_before_on_time_for_each_risk_level():
    chart = open_requests_chart([OpenRequests(RiskLevel.HIGH, 3, 1), OpenRequests(RiskLevel.MEDIUM, 0, 0),
                                 OpenRequests(RiskLevel.STANDARD, 5, 2)])
    assert chart.table.rows == (("High risk", "1", "2", "3"), ("Medium risk", "0", "0", "0"),
                                ("Standard risk", "2", "3", "5"))
    assert chart.description == ("8 open requests, 3 of them overdue: high risk 3 open, 1 overdue; medium risk 0 "
                                 "open, 0 overdue; standard risk 5 open, 2 overdue.")


def test_no_open_requests_is_said_in_words():
    chart = open_requests_chart([OpenRequests(level, 0, 0) for level in (RiskLevel.HIGH, RiskLevel.STANDARD)])
    assert chart.empty and chart.empty_text == "No open requests."


SINCE, UNTIL = date(2025, 5, 1), date(2026, 4, 30)


def test_install_times_show_median_and_90th_percentile_against_each_target():
    chart = install_times_chart([InstallTimes(RiskLevel.HIGH, 3, 4, 3.0, 8.2, 3),
                                 InstallTimes(RiskLevel.MEDIUM, 7, 0, None, None, 0)], SINCE, UNTIL)
    high, medium = chart.rows
    assert chart.grouped and [s.text for s in high.segments] == ["Median: 3 days", "90th percentile: 8.2 days"]
    assert high.note == "target 3 days" and high.marker is not None
    assert medium.note == "none installed; target 7 days" and [s.width for s in medium.segments] == [0, 0]
    assert chart.table.columns == ("Risk level", "Median", "90th percentile", "Target", "Installed", "Within target")
    assert chart.table.rows == (("High risk", "3 days", "8.2 days", "3 days", "4", "3 (75%)"),
                                ("Medium risk", "—", "—", "7 days", "0", "—"))
    assert "from 1 May 2025 to 30 April 2026" in chart.description
    assert "High risk: median 3 days, 90th percentile 8.2 days, target 3 days; 3 of 4 within it." in chart.description
    assert "Medium risk: none installed (target 7 days)." in chart.description


def test_no_installs_in_the_year_is_said_in_words():
    chart = install_times_chart([InstallTimes(RiskLevel.HIGH, 3, 0, None, None, 0)], SINCE, UNTIL)
    assert chart.empty and chart.empty_text.startswith("No requests installed in the last 12 months")


@pytest.mark.parametrize("value, words", [(1, "1 day"), (1.0, "1 day"), (2.5, "2.5 days"), (0, "0 days")])
def test_days_read_naturally(value, words):
    assert days(value) == words


# Stock against reorder levels

def level(name, *, in_stock, reserved=0, on_order=0, reorder):
    return StockLevel(1, name, "Personal alarm", reorder, in_stock, reserved, 0, 0, on_order)


def test_stock_stacks_in_stock_on_order_and_reserved_against_the_reorder_level():
    chart = levels_chart([level("Alarm", in_stock=1, on_order=1, reserved=2, reorder=3),
                          level("Lock", in_stock=6, reorder=2)])
    alarm, lock = chart.rows
    assert [s.series.name for s in alarm.segments] == ["In stock", "On order", "Reserved"]
    assert alarm.note == "low; reorder level 3" and lock.note == "reorder level 2"
    reserved = alarm.segments[2]  # units 2 to 4: in stock and on order stop one short of the level, 3
    assert alarm.marker.x == pytest.approx(reserved.x + reserved.width / 2, abs=0.2)
    assert chart.description.endswith("Low (in stock plus on order below the reorder level): Alarm.")
    assert chart.table.rows[0] == ("Alarm", "1", "1", "2", "4", "3")


def test_stock_with_nothing_low_says_so():
    chart = levels_chart([level("Lock", in_stock=6, reorder=2)])
    assert chart.description.endswith("No type is below its reorder level.")


def test_a_type_without_a_reorder_level_has_no_mark():
    chart = levels_chart([level("Door wedge", in_stock=3, reorder=0)])
    assert chart.rows[0].marker is None and chart.rows[0].note == ""
