"""The finance home's charts: the burn-down of what is available with its forecast to the
period's end, and spending by category and by month. What is drawn is decided here; the
geometry is `inventory.charts`' (server-side SVG, no JavaScript). The builders are pure
functions of figures, tested without Flask; `for_period` gathers the figures (SQL aggregates
in `queries`) for the page."""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from inventory.budget import queries
from inventory.budget.forecast import RATE_DAYS, Forecast
from inventory.budget.models import BudgetPeriod
from inventory.charts import (
    BarChart,
    DayMarker,
    Line,
    LineChart,
    Row,
    Table,
    bar_chart,
    line_chart,
    money,
    spoken_date,
    whole_pounds,
)
from inventory.money import format_pence

MONTH_SERIES = 5  # categories drawn apart on the monthly chart; the rest are "Other categories"


def projected(outlook: Forecast, day: date) -> int | None:
    """Available on `day` (after the forecast's today) at the forecast's rate, never below
    zero; None where there is no projection (nothing available, or nothing spent lately)."""
    if outlook.available_pence <= 0 or outlook.spent_pence <= 0:
        return None
    if outlook.runs_out_on is not None and day >= outlook.runs_out_on:
        return 0
    spent = outlook.spent_pence * max(0, (day - outlook.today).days) // outlook.window_days
    return max(0, outlook.available_pence - spent)


def plan_on(day: date, *, starts_on: date, spend_by: date, allocated_pence: int) -> int:
    """The even-spend plan: the allocation falling in a straight line to zero on `spend_by`."""
    span = (spend_by - starts_on).days
    if span <= 0 or day >= spend_by:
        return 0
    return allocated_pence * min(span, (spend_by - day).days) // span


def _forecast_points(outlook: Forecast | None, ends_on: date) -> list[tuple[date, int]]:
    if outlook is None or projected(outlook, outlook.today) is None or outlook.today >= ends_on:
        return []
    end = min(outlook.runs_out_on or ends_on, ends_on)
    return [(outlook.today, outlook.available_pence), (end, projected(outlook, end))]


def _forecast_words(outlook: Forecast | None, ends_on: date) -> str:
    if outlook is None:
        return ""
    if outlook.available_pence <= 0:
        return "Nothing is available, so there is no forecast."
    if outlook.spent_pence <= 0:
        return f"Nothing was spent in the last {RATE_DAYS} days, so there is no forecast."
    if outlook.runs_out_on <= ends_on:
        return f"At the last {RATE_DAYS} days' rate it runs out on {spoken_date(outlook.runs_out_on)}."
    return (f"At the last {RATE_DAYS} days' rate about {format_pence(projected(outlook, ends_on))} would be left "
            f"when the period ends on {spoken_date(ends_on)}.")


def _month_ends(starts_on: date, ends_on: date) -> list[tuple[date, date]]:
    """(first day, last day) of each month from `starts_on` to `ends_on`, clipped to them."""
    months, first = [], starts_on
    while first <= ends_on:
        following = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
        months.append((first, min(following - timedelta(days=1), ends_on)))
        first = following
    return months


def burn_down(series: list[tuple[date, int]], *, starts_on: date, ends_on: date, spend_by: date,
              allocated_pence: int, outlook: Forecast | None = None) -> LineChart:
    """`series`: available at the end of each day so far. The forecast (dashed) carries on from
    today at the rate of the last 90 days to the period's end or the day the money runs out;
    the plan (dotted) is an even spend of the allocation from `starts_on` to `spend_by` (the
    period's end, or the contract's if sooner)."""
    plan = [(starts_on, allocated_pence), (spend_by, 0)]
    forecast = _forecast_points(outlook, ends_on)
    words = []
    if series:
        words.append(f"Available went from {format_pence(series[0][1])} on {spoken_date(series[0][0])} to "
                     f"{format_pence(series[-1][1])} on {spoken_date(series[-1][0])}.")
    words += [_forecast_words(outlook, ends_on), f"An even spend reaches zero on {spoken_date(spend_by)}."]
    available_on = dict(series)
    last_day = series[-1][0] if series else None
    rows = []
    for first, last in _month_ends(starts_on, ends_on):
        so_far = last_day is not None and first <= last_day
        ahead = outlook is not None and last > outlook.today and projected(outlook, last) is not None
        rows.append((f"{first:%B %Y}",
                     money(available_on[min(last, last_day)]) if so_far else "—",
                     money(projected(outlook, last)) if ahead else "—",
                     money(plan_on(last, starts_on=starts_on, spend_by=spend_by, allocated_pence=allocated_pence))))
    table = Table("Available at each month's end (this month: today), the forecast and the even-spend plan",
                  ("Month", "Available", "Forecast", "Even spend"), tuple(rows))
    return line_chart(
        "burn-down", "Burn-down: money available", " ".join(w for w in words if w),
        lines=[Line("Available", series), Line(f"Forecast at the last {RATE_DAYS} days' rate", forecast, "dashed"),
               Line(f"Even spend to {spend_by:%d %b %Y}", plan, "dotted")],
        starts_on=starts_on, ends_on=ends_on, table=table, axis_fmt=whole_pounds,
        markers=[DayMarker(spend_by, "Contract ends")] if spend_by < ends_on else [])


def category_chart(lines: list[queries.CategoryLine]) -> BarChart:
    """Spent (net of credits) and still committed, per budget category, biggest first."""
    rows = [Row(line.category, (line.actual_pence - line.credits_pence, line.committed_pence)) for line in lines]
    words = "Spent (net of credits) and committed in each budget category this period"
    if lines:
        top = lines[0]
        words += (f". The most is in {top.category}: {format_pence(top.actual_pence - top.credits_pence)} spent and "
                  f"{format_pence(top.committed_pence)} committed")
        if len(lines) > 1:
            words += f"; {len(lines)} categories in all"
    return bar_chart("spend-by-category", "Spend by category", words + ".",
                     series=("Spent (net of credits)", "Committed"), rows=rows, row_heading="Category", fmt=money,
                     empty_text="Nothing committed or spent yet.")


def monthly_chart(spend: list[queries.MonthSpend], months: list[date]) -> BarChart:
    """Spending in each month (rows), split by category (stacked): the biggest categories apart,
    the rest together. No spending at all is "nothing spent yet", not a chart of zeros."""
    totals: dict[str, int] = defaultdict(int)
    for line in spend:
        totals[line.category] += line.spent_pence
    ranked = sorted(totals, key=lambda name: (-abs(totals[name]), name))
    kept = ranked if len(ranked) <= MONTH_SERIES + 1 else ranked[:MONTH_SERIES]
    series = kept + (["Other categories"] if len(kept) < len(ranked) else [])
    cells: dict[tuple[date, str], int] = defaultdict(int)
    for line in spend:
        cells[line.month, line.category if line.category in kept else "Other categories"] += line.spent_pence
    rows = [Row(f"{month:%b %Y}", tuple(cells[month, name] for name in series)) for month in months] if spend else []
    words = "Money spent each month (actuals less credits), by budget category"
    if rows:
        busiest = max(rows, key=lambda row: sum(row.values))
        words += (f", {rows[0].label} to {rows[-1].label}. The most in one month was "
                  f"{format_pence(sum(busiest.values))}, in {busiest.label}")
    return bar_chart("spend-by-month", "Spend by month", words + ".", series=series, rows=rows, row_heading="Month",
                     fmt=money, empty_text="Nothing spent yet.")


@dataclass(frozen=True)
class BudgetCharts:
    burn_down: LineChart
    by_category: BarChart
    by_month: BarChart


def for_period(period: BudgetPeriod, *, allocated_pence: int, outlook: Forecast, today: date,
               categories: list[queries.CategoryLine]) -> BudgetCharts:
    """The finance home's three charts for `period` as of `today` (a day inside it), with the
    page's own lines by category: two more grouped queries, however long the ledger."""
    months = [first.replace(day=1) for first, _ in _month_ends(period.starts_on, today)]
    return BudgetCharts(
        burn_down=burn_down(queries.available_by_day(period, today), starts_on=period.starts_on,
                            ends_on=period.ends_on, spend_by=outlook.spend_by, allocated_pence=allocated_pence,
                            outlook=outlook),
        by_category=category_chart(categories),
        by_month=monthly_chart(queries.spend_by_month(period, today), months))
