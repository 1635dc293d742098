"""The charts where people look: the finance home, the performance report and the stock
page. Each chart is an SVG with a title and a description in words, its numbers a click away
in a table with header cells, and nothing a strict Content-Security-Policy would block."""
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from inventory import clock
from inventory.budget import ledger
from inventory.extensions import db
from tests.support import recorded_selects

CHART = re.compile(r'<svg class="chart__svg" viewBox="0 0 \d+ \d+" role="img"[^>]*?'
                   r'aria-labelledby="([\w-]+)-title" aria-describedby="\1-desc">\s*'
                   r'<title id="\1-title">(.*?)</title>\s*<desc id="\1-desc">(.*?)</desc>', re.S)


@pytest.fixture(autouse=True)
def mid_june():
    with clock.frozen_at(datetime(2026, 6, 15, 10, tzinfo=UTC)):
        yield


def charts(page: str) -> dict[str, str]:
    """{title: description} of every chart drawn on the page."""
    return {title: description for _, title, description in CHART.findall(page)}


def numbers_tables(page: str) -> list[str]:
    return re.findall(r'<details class="chart__numbers">\s*<summary>Show the numbers.*?</details>', page, re.S)


def assert_allowed_by_a_strict_policy(response):
    page = response.get_data(as_text=True)
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert not re.search(r"\sstyle\s*=", page), "inline style attribute"
    assert not re.search(r"<style", page), "inline <style> block"
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline script"
    assert not re.search(r"\son[a-z]+\s*=", page), "inline event handler"


# The finance home

@pytest.fixture
def funded(build):
    return build.budget_period(allocated_pence=1_500_000, starts_on=date(2026, 4, 1), ends_on=date(2027, 3, 31))


def test_the_budget_page_draws_the_burn_down_spend_by_category_and_by_month(client, login, build, funded):
    finance = build.user(roles=["finance"])
    for day, pence in ((date(2026, 4, 20), 120_000), (date(2026, 5, 12), 45_000), (date(2026, 6, 1), 30_000)):
        ledger.post_actual(pence, on=day, actor=finance, memo="Invoice", source_type="invoice", source_id=1,
                           net_pence=pence, vat_pence=0, category="Lock")
    db.session.commit()
    login(finance)
    response = client.get("/budget")
    page = response.get_data(as_text=True)
    drawn = charts(page)
    assert list(drawn) == ["Burn-down: money available", "Spend by category", "Spend by month"]
    # £1,950 in the 76 days since 1 April; the 289 days to 31 March at that rate spend £7,415.13.
    assert drawn["Burn-down: money available"] == (
        "Available went from £15,000.00 on 1 April 2026 to £13,050.00 on 15 June 2026. At the last 90 days&#39; rate "
        "about £5,634.87 would be left when the period ends on 31 March 2027. An even spend reaches zero on "
        "31 March 2027.")
    assert "The most is in Lock: £1,950.00 spent and £0.00 committed." in drawn["Spend by category"]
    assert "The most in one month was £1,200.00, in Apr 2026." in drawn["Spend by month"]
    burn_down, by_month = numbers_tables(page)
    assert '<th scope="col">Month</th>' in burn_down and '<th scope="row">March 2027</th>' in burn_down
    assert '<th scope="row">May 2026</th><td class="num">£450.00</td>' in by_month
    # The category chart's numbers are the page's own table, one link away.
    assert '<a href="#by-category-table">' in page and '<table id="by-category-table">' in page
    assert_allowed_by_a_strict_policy(response)


def test_the_budget_page_says_when_nothing_has_been_spent_yet(client, login, funded):
    login(roles=["auditor"])
    page = client.get("/budget").get_data(as_text=True)
    assert list(charts(page)) == ["Burn-down: money available"]
    assert "Nothing was spent in the last 90 days, so there is no forecast." in page
    assert "Spend by month: Nothing spent yet." in page


def test_an_overspent_budget_still_draws_its_burn_down(client, login, build):
    period = build.budget_period(allocated_pence=10_000, starts_on=date(2026, 4, 1), ends_on=date(2027, 3, 31))
    ledger.post_actual(15_000, on=date(2026, 6, 1), actor=build.user(roles=["finance"]), memo="Invoice",
                       source_type="invoice", source_id=1, net_pence=15_000, vat_pence=0, category="Lock")
    db.session.commit()
    login(roles=["finance"])
    response = client.get(f"/budget?period_id={period.id}")
    assert response.status_code == 200
    assert "Nothing is available, so there is no forecast." in charts(response.get_data(as_text=True))[
        "Burn-down: money available"]


# The performance report

@pytest.mark.parametrize("role, status", [
    ("coordinator", 200), ("finance", 200), ("auditor", 200), ("admin", 403), ("caseworker", 403), ("fitter", 403),
])
def test_the_performance_report_is_for_those_who_see_aggregate_reports(client, login, role, status):
    login(roles=[role])
    assert client.get("/reports/performance").status_code == status


def test_the_reports_page_links_to_the_performance_report(client, login):
    login(roles=["auditor"])
    assert 'href="/reports/performance"' in client.get("/reports").get_data(as_text=True)


def installed(build, risk, submitted_on, days_to_install):
    with clock.frozen_at(datetime.combine(submitted_on, datetime.min.time(), UTC)):
        case = build.case(risk_level=risk, name="Jo Secretname")
        request = build.approved_request(case=case)
    with clock.frozen_at(datetime.combine(submitted_on + timedelta(days=days_to_install), datetime.min.time(), UTC)):
        build.handed_over(request=request)
    return case


def test_the_performance_report_draws_open_requests_and_days_to_install_without_naming_a_case(client, login, build):
    cases = [installed(build, "high", date(2026, 5, 1), days) for days in (1, 5)]
    with clock.frozen_at(datetime(2026, 6, 1, 10, tzinfo=UTC)):
        waiting = build.equipment_request(case=build.case(risk_level="medium", name="Jo Secretname"))
    login(roles=["auditor"])
    response = client.get("/reports/performance")
    page = response.get_data(as_text=True)
    drawn = charts(page)
    assert list(drawn) == ["Open requests by risk level", "Days from referral to install"]
    assert drawn["Open requests by risk level"].startswith("1 open request, 1 of them overdue")
    assert "High risk: median 1 day, 90th percentile 5 days, target 3 days; 1 of 2 within it." \
        in drawn["Days from referral to install"]
    open_numbers, install_numbers = numbers_tables(page)
    assert '<th scope="row">Medium risk</th><td class="num">1</td><td class="num">0</td>' in open_numbers
    assert '<th scope="col" class="num">Within target</th>' in install_numbers
    assert '<th scope="row">High risk</th><td class="num">1 day</td><td class="num">5 days</td>' in install_numbers
    for case in [*cases, waiting.case]:
        assert case.reference not in page
    assert "Secretname" not in page
    assert_allowed_by_a_strict_policy(response)


def test_the_performance_report_with_nothing_to_show_says_so(client, login):
    login(roles=["coordinator"])
    page = client.get("/reports/performance").get_data(as_text=True)
    assert charts(page) == {}
    assert "Open requests by risk level: No open requests." in page
    assert "Days from referral to install: No requests installed in the last 12 months" in page


def test_the_performance_report_costs_the_same_statements_however_many_requests(client, login, build):
    user = build.user(roles=["coordinator"])
    login(user)
    costs = []
    for count in (1, 4):
        for _ in range(count):
            installed(build, "standard", date(2026, 5, 1), 3)
        with recorded_selects() as statements:
            assert client.get("/reports/performance").status_code == 200
        costs.append(len(statements))
    assert costs[0] == costs[1]


# Stock against reorder levels

def test_the_stock_page_draws_units_against_reorder_levels_with_its_table_as_the_numbers(client, login, build):
    alarm = build.item_type(name="Personal alarm", reorder_level=5)
    build.items(2, item_type=alarm)
    build.item_type(name="Door lock", reorder_level=1)
    login(roles=["coordinator"])
    response = client.get("/stock/")
    page = response.get_data(as_text=True)
    assert charts(page) == {"Stock against reorder levels": (
        "Units in stock, on order and reserved for each of 2 item types, against each type&#39;s reorder level. "
        "Low (in stock plus on order below the reorder level): Door lock, Personal alarm.")}
    assert "Personal alarm<tspan class=\"chart__note\"> · low; reorder level 5</tspan>" in page
    assert '<a href="#stock-levels-table">' in page and '<table id="stock-levels-table">' in page
    assert_allowed_by_a_strict_policy(response)


def test_the_stock_page_with_an_empty_catalogue_draws_no_chart(client, login):
    login(roles=["coordinator"])
    page = client.get("/stock/").get_data(as_text=True)
    assert charts(page) == {} and "No item types in the catalogue yet." in page
