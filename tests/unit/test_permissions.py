import pytest

from inventory.accounts.views import safe_next_url
from inventory.permissions import LEAD_ONLY_ROLES, ROLE_PERMISSIONS, Permission, Role, permissions_of


class FakeUser:
    is_authenticated = True

    def __init__(self, *roles, active=True):
        self.role_set = set(roles)
        self.is_active = active


def test_every_role_has_an_entry_in_the_permission_table():
    assert set(ROLE_PERMISSIONS) == set(Role)


@pytest.mark.parametrize("role", list(Role))
def test_only_admins_manage_users_and_read_the_logs(role):
    granted = permissions_of(FakeUser(role))
    admin_only = {Permission.MANAGE_USERS, Permission.MANAGE_ORGANISATIONS, Permission.VIEW_AUDIT_LOG,
                  Permission.VIEW_ACCESS_LOG}
    assert (granted >= admin_only) == (role is Role.ADMIN)
    assert not (granted & admin_only) or role is Role.ADMIN


def test_permissions_of_several_roles_add_up():
    both = permissions_of(FakeUser(Role.COORDINATOR, Role.FINANCE))
    assert Permission.DECIDE_REQUESTS in both and Permission.MANAGE_LEDGER in both


def test_a_deactivated_user_has_no_permissions():
    assert permissions_of(FakeUser(Role.ADMIN, active=False)) == frozenset()


def test_auditors_only_read_aggregates_and_the_ledger():
    assert permissions_of(FakeUser(Role.AUDITOR)) == {Permission.VIEW_BUDGET_SUMMARY, Permission.VIEW_LEDGER,
                                                      Permission.VIEW_AGGREGATE_REPORTS}


@pytest.mark.parametrize("role", list(Role))
def test_whoever_writes_to_the_ledger_may_read_it(role):
    granted = permissions_of(FakeUser(role))
    assert Permission.MANAGE_LEDGER not in granted or Permission.VIEW_LEDGER in granted


def test_caseworkers_are_the_only_role_allowed_at_a_partner_agency_besides_auditors():
    assert Role.CASEWORKER not in LEAD_ONLY_ROLES
    assert {Role.COORDINATOR, Role.FITTER, Role.FINANCE, Role.ADMIN} <= LEAD_ONLY_ROLES


@pytest.mark.parametrize("target, expected", [
    ("/admin/users?page=2", "/admin/users?page=2"),
    ("https://evil.example/", None),
    ("//evil.example/path", None),
    ("javascript:alert(1)", None),
    ("admin/users", None),
    ("", None),
    (None, None),
])
def test_next_urls_stay_on_this_site(target, expected):
    assert safe_next_url(target) == expected
