"""Every role against every sensitive route: the server decides, whatever the page shows."""
import pytest

ROLES = ["admin", "coordinator", "caseworker", "fitter", "finance", "auditor"]

PAGES = {
    "/": set(ROLES),
    "/account/tokens": set(ROLES),
    "/account/password": set(ROLES),
    "/admin/users": {"admin"},
    "/admin/users/new": {"admin"},
    "/admin/organisations": {"admin"},
    "/admin/organisations/new": {"admin"},
    "/admin/audit": {"admin"},
    "/admin/access-log": {"admin"},
}

API = {
    "/me": set(ROLES),
    "/users": {"admin", "coordinator"},
}


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("role", ROLES)
def test_pages_are_open_only_to_the_roles_that_need_them(client, login, role, path):
    login(roles=[role])
    response = client.get(path)
    assert response.status_code == (200 if role in PAGES[path] else 403)


@pytest.mark.parametrize("path", API)
@pytest.mark.parametrize("role", ROLES)
def test_api_endpoints_apply_the_same_rules(api, role, path):
    response = api(roles=[role]).get(path)
    assert response.status_code == (200 if role in API[path] else 403)
    if response.status_code == 403:
        assert response.get_json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("path", [*PAGES, "/admin/users/1", "/admin/organisations/1"])
def test_every_page_sends_strangers_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("path", ["/admin/users/1/deactivate", "/admin/users/1/reactivate",
                                  "/admin/users/1/password", "/admin/users/1", "/admin/organisations/1"])
@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_admin_actions_are_refused_to_other_roles(client, login, build, role, path):
    build.user(roles=["caseworker"])
    login(roles=[role])
    assert client.post(path, data={}).status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_only_its_own_navigation(client, login, role):
    login(roles=[role])
    page = client.get("/").get_data(as_text=True)
    assert ('href="/admin/users"' in page) == (role == "admin")
    assert ('href="/admin/audit"' in page) == (role == "admin")
    assert 'href="/account/tokens"' in page
