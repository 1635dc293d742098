"""Which new passwords are refused (NIST SP 800-63B): too short or long, common or breached,
one part repeated, or made from who the person is; everywhere a password is set."""
import pytest

from inventory.accounts import operations
from inventory.accounts.passwords import COMMON_PASSWORDS_FILE, common_passwords, password_problem
from inventory.demo import DEMO_PASSWORD
from inventory.errors import InvalidInput
from tests.support import Builders

TOO_COMMON = "This password is too common: attackers try it first."
REPEATED = "This password repeats one short part"
OWN_NAME = "This password is made from your name, your email or the service's name"


@pytest.mark.parametrize("password, problem", [
    ("eleven char", "Use at least 12 characters."),
    ("x" * 257, "Use at most 256 characters."),
    ("1qaz2wsx3edc", TOO_COMMON),
    ("AvrilLavigne", TOO_COMMON),  # the list is compared whatever the case
    ("passwordpassword", REPEATED),
    ("abcabcabcabc", REPEATED),
    ("aaaaaaaaaaaaaaa", REPEATED),
    ("Sam.Jones@example.test", OWN_NAME),
    ("samjones1234!", OWN_NAME),
    ("Jones Sam 2026", OWN_NAME),
    ("SafeHold2026!!", OWN_NAME),
    ("safehold-sam-2026", OWN_NAME),
])
def test_a_weak_new_password_is_refused_with_the_reason(app, password, problem):
    assert password_problem(password, "sam.jones@example.test", "Sam Jones").startswith(problem)


@pytest.mark.parametrize("password", [
    "correct horse battery", "another long passphrase", "Sam's kettle sings at dawn", "8471029384756",
    " ".join(f"verse {n} of a long poem" for n in range(40))[:256], DEMO_PASSWORD, Builders.PASSWORD,
])
def test_a_long_uncommon_password_of_ones_own_passes(app, password):
    assert password_problem(password, "sam.jones@example.test", "Sam Jones") is None


def test_the_shipped_list_says_where_it_came_from_and_holds_thirty_thousand_passwords():
    import gzip

    with gzip.open(COMMON_PASSWORDS_FILE, "rt") as lines:
        header = lines.readline()
    assert header.startswith("# ") and "zxcvbn" in open(COMMON_PASSWORDS_FILE.parent / "README.md").read()
    assert len(common_passwords()) == 30_000 and "password" in common_passwords()


def test_creating_a_user_refuses_a_common_password(build):
    with pytest.raises(InvalidInput) as refused:
        build.user(password="1qaz2wsx3edc")
    assert refused.value.fields == {"password": TOO_COMMON}


def test_an_admins_reset_refuses_a_password_made_from_the_users_name(build):
    admin, user = build.user(), build.user(name="Robin Fitter")
    with pytest.raises(InvalidInput) as refused:
        operations.set_password(user, "RobinFitter2026", actor=admin)
    assert refused.value.fields["password"].startswith(OWN_NAME)


def test_changing_ones_own_password_refuses_a_repeated_one(build):
    user = build.user()
    with pytest.raises(InvalidInput) as refused:
        operations.change_own_password(user, current_password=build.PASSWORD, new_password="abcdabcdabcd")
    assert refused.value.fields["password"].startswith(REPEATED)


def test_the_cli_refuses_a_common_admin_password(runner):
    result = runner.invoke(args=["create-admin", "--email", "first@example.test", "--name", "First Admin",
                                 "--organisation", "Northshire Lead", "--password", "qwertyuiop123"])
    assert result.exit_code != 0 and "too common" in result.output
