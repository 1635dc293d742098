import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory.stock.codes import (
    ALPHABET,
    CHECK_ALPHABET,
    RANDOM_BITS,
    CodeTypo,
    InvalidCode,
    WebAddress,
    check_symbol,
    new_code,
    parse_code,
)

SHAPE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z*~$=U]$")


def test_a_new_code_carries_at_least_sixty_random_bits_in_readable_groups():
    assert RANDOM_BITS >= 60
    code = new_code()
    assert SHAPE.match(code), code


def test_new_codes_do_not_repeat():
    assert len({new_code() for _ in range(5000)}) == 5000


def test_the_check_symbol_is_crockfords_mod_37():
    # 0x1F = 31 -> "Z"; 31 % 37 = 31 -> "Z". 37 -> "15" in base 32; 37 % 37 = 0 -> "0".
    assert check_symbol("Z") == "Z"
    assert check_symbol("15") == "0"
    assert check_symbol("11") == CHECK_ALPHABET[33 % 37]  # 1*32+1 = 33 -> "$"


@pytest.mark.parametrize("typed", ["{c}", "{l}", "{s}", "  {c}  ", "{c_o}"])
def test_reading_forgives_case_spaces_hyphens_and_look_alikes(typed):
    code = "1O11-0000-0000-" + check_symbol("101100000000")
    code = code.replace("O", "0")
    variants = {
        "{c}": code,
        "{l}": code.lower(),
        "{s}": code.replace("-", " "),
        "  {c}  ": f"  {code.replace('-', '')}  ",
        "{c_o}": code.replace("1", "I", 1).replace("0", "O", 1).replace("1", "l", 1),
    }
    assert parse_code(variants[typed]) == code


BASE = "https://stock.example.org/s/"


@pytest.mark.parametrize("base", [BASE, BASE.rstrip("/")])
def test_an_office_label_under_the_installations_url_base_is_read_by_what_follows_the_base(base):
    code = new_code()
    assert parse_code(f"{BASE}{code}", url_base=base) == code
    assert parse_code(f"HTTPS://Stock.Example.org/s/{code.lower()}/", url_base=base) == code


@pytest.mark.parametrize("text", [
    "https://evil.example.com/s/{code}",  # another website, code-shaped ending
    "https://stock.example.org.evil.example.com/s/{code}",  # the base's host as a prefix of another
    "https://stock.example.org/other/{code}",  # the right site, not the label path
    "https://stock.example.org/s/x/{code}",  # deeper than a code under the base
    "http://stock.example.org/s/{code}",  # not the scheme the labels carry
    "stock.example.org/s/{code}",
    "{code}/",
    "tel:{code}",
])
def test_any_other_web_address_holding_a_code_is_refused_as_a_web_address(text):
    text = text.format(code=new_code())
    with pytest.raises(WebAddress) as caught:
        parse_code(text, url_base=BASE)
    assert caught.value.code == "web_address"
    assert caught.value.fields["code"] == "That is a web address, not a SafeHold label."


def test_without_a_url_base_no_web_address_is_a_code():
    with pytest.raises(WebAddress):
        parse_code(f"{BASE}{new_code()}")


@given(st.integers(min_value=0, max_value=11), st.sampled_from(ALPHABET))
def test_any_single_substituted_symbol_is_caught_as_a_typo(position, replacement):
    code = new_code()
    compact = code.replace("-", "")
    if compact[position] == replacement:
        return
    mistyped = compact[:position] + replacement + compact[position + 1:]
    with pytest.raises(CodeTypo) as caught:
        parse_code(mistyped)
    assert caught.value.code == "code_typo"


def test_two_swapped_neighbours_are_caught_as_a_typo():
    code = new_code().replace("-", "")
    for i in range(11):
        if code[i] != code[i + 1]:
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2:]
            with pytest.raises(CodeTypo):
                parse_code(swapped)
            return


@pytest.mark.parametrize("text", ["", "ABC", "7K3M-Q9XD-2HNB-RR", "7K3M-Q9XD-2HNB-!", "UUUU-UUUU-UUUU-0"])
def test_something_that_is_not_a_code_is_refused_as_such(text):
    with pytest.raises(InvalidCode) as caught:
        parse_code(text)
    assert caught.value.code == "invalid_code"
    assert "code" in caught.value.fields


def test_a_typo_anywhere_is_reported_without_blaming_a_character_and_shows_the_code_as_read():
    code = new_code()
    data = code.replace("-", "")[:-1]
    slipped = data[:4] + ("B" if data[4] != "B" else "C") + data[5:] + code[-1]  # character 5 mistyped
    with pytest.raises(CodeTypo) as caught:
        parse_code(slipped)
    read_as = f"{slipped[0:4]}-{slipped[4:8]}-{slipped[8:12]}-{slipped[12]}"
    assert caught.value.details["read_as"] == read_as
    assert read_as in caught.value.message and "last character" not in caught.value.message
