"""The part of a request the budget can cover, chosen by need: examples, then properties
over any request and any budget (Hypothesis)."""
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inventory.requests.part_that_fits import LineNeed, part_that_fits

ALARM, LIGHT, LOCK, DOORBELL = 2_500, 4_000, 3_000, 9_000


def need(cost, from_budget, *, from_stock=0, urgent=False, line_id=0) -> LineNeed:
    return LineNeed(line_id, cost, from_stock, from_budget, urgent)


@pytest.mark.parametrize("lines, available, expected", [
    # A line marked urgent comes first, even when dearer.
    ([need(ALARM, 1), need(DOORBELL, 1, urgent=True)], 10_000, [0, 1]),
    # All of an urgent line before another line's first unit.
    ([need(LOCK, 3, urgent=True), need(ALARM, 1)], 9_000, [3, 0]),
    # One of each before a second of any (filling in order would give two alarms and no light).
    ([need(ALARM, 2), need(LIGHT, 1)], 6_500, [1, 1]),
    # The cheapest first, so the money makes as many lines useful as it can.
    ([need(DOORBELL, 1), need(ALARM, 1), need(LOCK, 1)], 6_000, [0, 1, 1]),
    # A unit from stock already makes its line useful, and costs nothing.
    ([need(ALARM, 1, from_stock=1), need(LIGHT, 1)], 4_000, [1, 1]),
    # What is left over still buys a cheaper unit further down the order.
    ([need(DOORBELL, 1, urgent=True), need(ALARM, 1)], 3_000, [0, 1]),
    # Nothing available (or less than nothing): what stock covers, and items that cost nothing.
    ([need(ALARM, 2, from_stock=1), need(0, 2)], -500, [1, 2]),
    # Enough for everything: everything.
    ([need(ALARM, 2), need(LIGHT, 1, urgent=True)], 9_000, [2, 1]),
])
def test_the_part_that_fits_is_chosen_by_need(lines, available, expected):
    assert part_that_fits(lines, available) == expected


def test_equal_costs_are_funded_in_the_requests_order():
    assert part_that_fits([need(ALARM, 1), need(ALARM, 1), need(ALARM, 1)], 5_000) == [1, 1, 0]


# Catalogue-like costs (ties included, and free items) and any others.
COSTS = st.one_of(st.sampled_from([0, 1_000, 2_500, 3_000, 4_000, 5_000, 9_000]), st.integers(1, 12_000))
LINES = st.lists(st.builds(
    LineNeed, line_id=st.just(0), unit_cost_pence=COSTS, from_stock=st.one_of(st.just(0), st.integers(0, 2)),
    from_budget=st.integers(0, 4), urgent=st.booleans()), min_size=1, max_size=7)


@st.composite
def requests_and_budgets(draw):
    """Lines, and a budget mostly short of what they need (where the choice matters)."""
    lines = draw(LINES)
    needed = sum(line.unit_cost_pence * line.from_budget for line in lines)
    return lines, draw(st.one_of(st.integers(0, needed), st.integers(-5_000, needed + 5_000)))


def spent(lines, fits, which=lambda line: True) -> int:
    return sum((n - line.from_stock) * line.unit_cost_pence for line, n in zip(lines, fits) if which(line))


def funded_units(lines, fits):
    """(need order, cost) of each unit the budget pays for: urgent lines first, then by its
    place in its line (1 = the unit that makes the line useful)."""
    return [((not line.urgent, k), line.unit_cost_pence)
            for line, n in zip(lines, fits) for k in range(line.from_stock + 1, n + 1)]


def left_out_units(lines, fits):
    return [((not line.urgent, k), line.unit_cost_pence)
            for line, n in zip(lines, fits) for k in range(n + 1, line.from_stock + line.from_budget + 1)]


@settings(max_examples=400, deadline=None)
@given(case=requests_and_budgets())
def test_the_suggestion_never_exceeds_what_is_available_and_keeps_what_stock_covers(case):
    lines, available = case
    fits = part_that_fits(lines, available)
    assert spent(lines, fits) <= max(available, 0)
    assert all(line.from_stock <= n <= line.from_stock + line.from_budget for line, n in zip(lines, fits))
    if available >= spent(lines, [line.from_stock + line.from_budget for line in lines]):
        assert fits == [line.from_stock + line.from_budget for line in lines]


@settings(max_examples=400, deadline=None)
@given(case=requests_and_budgets())
def test_nothing_left_out_would_fit_in_what_is_left_over(case):
    lines, available = case
    fits = part_that_fits(lines, available)
    left_over = max(available, 0) - spent(lines, fits)
    assert all(cost > left_over for _, cost in left_out_units(lines, fits))


@settings(max_examples=400, deadline=None)
@given(case=requests_and_budgets())
def test_no_funded_unit_could_be_given_up_for_a_left_out_unit_that_is_needed_more(case):
    """Maximal by need: giving up a unit that comes later in the need order (a non-urgent
    line's, or a second unit while another line has none) never frees enough, with what is
    left over, to buy a left-out unit that comes earlier."""
    lines, available = case
    fits = part_that_fits(lines, available)
    left_over = max(available, 0) - spent(lines, fits)
    for order_out, cost_out in left_out_units(lines, fits):
        for order_in, cost_in in funded_units(lines, fits):
            if order_in > order_out:
                assert left_over + cost_in < cost_out


@settings(max_examples=400, deadline=None)
@given(case=requests_and_budgets())
def test_an_urgent_unit_is_left_out_only_if_the_money_not_spent_on_urgent_lines_could_not_buy_it(case):
    lines, available = case
    fits = part_that_fits(lines, available)
    not_on_urgent = max(available, 0) - spent(lines, fits, lambda line: line.urgent)
    for (not_urgent, _), cost in left_out_units(lines, fits):
        if not not_urgent:
            assert cost > not_on_urgent


@settings(max_examples=1000, deadline=None)
@given(case=requests_and_budgets())
def test_the_money_makes_as_many_lines_useful_as_any_choice_could(case):
    """Among the urgent lines with the whole budget, then among the others with what the urgent
    lines left: no choice of lines to give a first unit makes more of them useful (brute force)."""
    lines, available = case
    fits = part_that_fits(lines, available)
    for urgent, money in ((True, max(available, 0)),
                          (False, max(available, 0) - spent(lines, fits, lambda line: line.urgent))):
        tier = [line for line in lines if line.urgent is urgent]
        wanting = [line.unit_cost_pence for line in tier if line.from_stock == 0 and line.from_budget > 0]
        best = max(size for size in range(len(wanting) + 1)
                   for chosen in combinations(wanting, size) if sum(chosen) <= money)
        useful = sum(1 for line, n in zip(lines, fits) if line.urgent is urgent and line.from_stock == 0 and n > 0)
        assert useful == best
