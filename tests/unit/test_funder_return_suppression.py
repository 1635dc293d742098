"""Small-number suppression of the funder's return, as a pure function of counts."""
import pytest

from inventory.reports.funder_return import ALL, WITHHELD, Figure, suppress

TOTAL, POLICE, SELF, OTHER = (("referrals", row) for row in ("total", "police", "self", "other"))
REFERRALS = [(TOTAL, (POLICE, SELF, OTHER))]


@pytest.mark.parametrize("count, hidden", [(0, False), (1, True), (4, True), (5, False), (6, False)])
def test_a_count_below_the_threshold_is_fewer_than_it_and_zero_is_shown(count, hidden):
    found = suppress({ALL: {("survivors", "supported"): count}}, [], threshold=5)
    assert found == ({(ALL, ("survivors", "supported")): "fewer than 5"} if hidden else {})


def test_a_threshold_of_one_hides_nothing():
    assert suppress({ALL: {POLICE: 1, SELF: 2, TOTAL: 3}}, REFERRALS, threshold=1) == {}


def test_one_small_part_of_a_shown_total_hides_the_smallest_other_part_too():
    found = suppress({ALL: {POLICE: 20, SELF: 3, OTHER: 7, TOTAL: 30}}, REFERRALS, threshold=5)
    assert found == {(ALL, SELF): "fewer than 5", (ALL, OTHER): WITHHELD}


def test_zero_parts_are_never_withheld_to_protect_another():
    found = suppress({ALL: {POLICE: 20, SELF: 3, OTHER: 0, TOTAL: 23}}, REFERRALS, threshold=5)
    assert found == {(ALL, SELF): "fewer than 5", (ALL, POLICE): WITHHELD}


def test_two_small_parts_protect_each_other():
    found = suppress({ALL: {POLICE: 20, SELF: 3, OTHER: 2, TOTAL: 25}}, REFERRALS, threshold=5)
    assert found == {(ALL, SELF): "fewer than 5", (ALL, OTHER): "fewer than 5"}


def test_parts_of_a_hidden_total_need_no_more_protection():
    found = suppress({ALL: {POLICE: 3, SELF: 0, OTHER: 0, TOTAL: 3}}, REFERRALS, threshold=5)
    assert found == {(ALL, POLICE): "fewer than 5", (ALL, TOTAL): "fewer than 5"}


def test_one_small_organisation_under_a_shown_total_hides_the_next_smallest_organisation():
    survivors = ("survivors", "supported")
    found = suppress({ALL: {survivors: 14}, 1: {survivors: 8}, 2: {survivors: 2}, 3: {survivors: 4},
                      4: {survivors: 0}}, [], threshold=3)
    assert found == {(2, survivors): "fewer than 3", (3, survivors): WITHHELD}


def test_a_count_withheld_for_one_reason_is_protected_in_turn():
    found = suppress({ALL: {POLICE: 16, SELF: 2, OTHER: 10, TOTAL: 28},
                      1: {POLICE: 10, SELF: 0, OTHER: 10, TOTAL: 20},
                      2: {POLICE: 6, SELF: 2, OTHER: 0, TOTAL: 8}}, REFERRALS, threshold=5)
    assert found == {
        (2, SELF): "fewer than 5", (ALL, SELF): "fewer than 5",
        (ALL, OTHER): WITHHELD,  # else ALL's self-referrals = 28 − 16 − 10
        (2, POLICE): WITHHELD,  # else the partner's self-referrals = 8 − 6
        (1, POLICE): WITHHELD,  # else the partner's police referrals = 16 − 10
        (1, OTHER): WITHHELD,  # else the lead's police referrals = 20 − 10
    }


@pytest.mark.parametrize("figure, shown", [
    (Figure(1234, "pence"), "£12.34"), (Figure(-50, "pence"), "−£0.50"), (Figure(75, "percent"), "75%"),
    (Figure(2.5, "days"), "2.5"), (Figure(3, "count"), "3"), (Figure(None, "days"), "—"),
    (Figure(None, "count", "fewer than 5"), "fewer than 5"), (Figure(None, "pence", WITHHELD), WITHHELD),
])
def test_a_figure_is_shown_in_its_unit_or_as_what_hides_it(figure, shown):
    assert figure.shown == shown
