"""The part of a request that the budget can cover, chosen by need. A plain function of
plain values, so the rule can be read and tested without a database.

Units reserved from stock are paid for already and are always in. Units the budget must
pay for are funded one at a time, in this order, each if it still fits in what is left:

1. the lines the caseworker marked most urgent before the others;
2. within those, every line's first unit before any line's second, its second before any
   third, and so on (a line is useful once it has one unit, counting stock);
3. at each such step the cheapest first, so the money makes as many lines useful as it can;
   ties in the request's own order.

What comes out is maximal in two senses: nothing left out would fit in the money left over,
and no unit that was funded could be given up to fund a left-out unit that comes before it
in that order (the money freed with what is left over is still too little).
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class LineNeed:
    """A request line as approving it would have it: units reserved from stock, units the
    budget would pay for, at the item type's standard cost."""

    line_id: int
    unit_cost_pence: int
    from_stock: int
    from_budget: int
    urgent: bool = False


@dataclass(frozen=True)
class Unit:
    """One unit the budget would pay for, ranked by need."""

    line_index: int
    number: int  # its place in its line, counting stock units: 1 makes the line useful
    cost_pence: int
    urgent: bool

    @property
    def rank(self) -> tuple:
        return (not self.urgent, self.number, self.cost_pence, self.line_index)


def units_by_need(lines: list[LineNeed]) -> list[Unit]:
    """Every unit the budget would pay for, most needed first."""
    units = [Unit(index, line.from_stock + k, line.unit_cost_pence, line.urgent)
             for index, line in enumerate(lines) for k in range(1, line.from_budget + 1)]
    return sorted(units, key=lambda unit: unit.rank)


def part_that_fits(lines: list[LineNeed], available_pence: int) -> list[int]:
    """How many units of each line (stock included) approving can give within `available_pence`."""
    funded = [line.from_stock for line in lines]
    left = max(available_pence, 0)
    for unit in units_by_need(lines):
        if unit.cost_pence <= left:
            funded[unit.line_index] += 1
            left -= unit.cost_pence
    return funded
