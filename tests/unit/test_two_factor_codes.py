"""The rules for accepting second-factor codes, without a database: a code is good for its
time step and one either side, never for a step at or before the last one accepted; recovery
codes are random, and typed loosely."""
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from inventory.accounts.two_factor import (
    key_in_groups,
    matching_step,
    new_recovery_code,
    parse_code,
    recovery_code_hash,
)
from inventory.errors import InvalidInput

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = datetime(2026, 6, 20, 10, 0, 15, tzinfo=UTC)  # 15 s into a time step
STEP = pyotp.TOTP(SECRET).timecode(NOW)


def code_at(moment: datetime) -> str:
    return pyotp.TOTP(SECRET).at(moment)


def test_the_current_code_is_accepted_at_its_step():
    assert matching_step(SECRET, code_at(NOW), NOW, after_step=None) == STEP


@pytest.mark.parametrize("seconds", [-30, 30])
def test_a_code_one_step_early_or_late_is_accepted_for_its_own_step(seconds):
    moment = NOW + timedelta(seconds=seconds)
    assert matching_step(SECRET, code_at(moment), NOW, after_step=None) == STEP + seconds // 30


@pytest.mark.parametrize("seconds", [-60, 60, -3600])
def test_a_code_two_or_more_steps_away_is_refused(seconds):
    assert matching_step(SECRET, code_at(NOW + timedelta(seconds=seconds)), NOW, after_step=None) is None


def test_a_code_is_not_accepted_again_for_the_step_already_used():
    assert matching_step(SECRET, code_at(NOW), NOW, after_step=STEP) is None


def test_an_earlier_code_is_refused_once_a_later_one_was_accepted():
    assert matching_step(SECRET, code_at(NOW - timedelta(seconds=30)), NOW, after_step=STEP) is None


def test_the_next_steps_code_is_accepted_after_this_ones():
    assert matching_step(SECRET, code_at(NOW + timedelta(seconds=30)), NOW, after_step=STEP) == STEP + 1


def test_a_wrong_code_is_refused():
    wrong = f"{(int(code_at(NOW)) + 1) % 1_000_000:06d}"
    assert matching_step(SECRET, wrong, NOW, after_step=None) is None


def test_a_code_may_be_typed_with_spaces_as_apps_show_it():
    assert parse_code(" 123 456 ") == "123456"


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "12345a", "١٢٣٤٥٦", None])
def test_anything_but_six_digits_is_refused_with_a_message_at_the_field(typed):
    with pytest.raises(InvalidInput) as refused:
        parse_code(typed)
    assert refused.value.fields == {"code": "Type the 6 digits your authenticator app shows."}


def test_recovery_codes_are_ten_random_characters_in_two_groups_and_differ():
    codes = {new_recovery_code() for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        first, second = code.split("-")
        assert len(first) == len(second) == 5 and (first + second).isalnum()


def test_a_recovery_code_matches_whatever_its_case_spaces_or_dashes():
    assert recovery_code_hash("abcde-fghjk") == recovery_code_hash(" ABCDE fghjk ") == recovery_code_hash("abcdefghjk")
    assert recovery_code_hash("abcde-fghjk") != recovery_code_hash("abcde-fghjm")


def test_the_key_is_shown_in_groups_of_four_for_typing():
    assert key_in_groups("ABCDEFGHIJ") == "ABCD EFGH IJ"
