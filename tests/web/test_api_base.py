import re

from jsonschema import Draft202012Validator

from inventory.accounts.operations import user_for_api_token
from inventory.api import OPERATIONS


def test_me_tells_a_program_who_it_is(api, build):
    partner = build.organisation(name="Riverside")
    caller = api(user=build.user(roles=["caseworker"], organisation=partner, name="Kim"))
    body = caller.get("/me").get_json()
    assert body["name"] == "Kim" and body["roles"] == ["caseworker"]
    assert body["organisation"] == {"id": partner.id, "name": "Riverside", "kind": "partner"}


def test_users_lists_fitters_for_a_coordinator(api, build):
    build.user(roles=["fitter"], name="Fay Fitter")
    build.user(roles=["finance"], name="Finn Finance")
    build.user(roles=["fitter"], name="Gone Fitter", active=False)
    body = api(roles=["coordinator"]).get("/users?role=fitter").get_json()
    assert [u["name"] for u in body["items"]] == ["Fay Fitter"]
    assert body["total"] == 1 and body["page"] == 1


def test_users_refuses_an_unknown_role_by_name(api):
    response = api(roles=["coordinator"]).get("/users?role=overlord")
    assert response.status_code == 422
    assert "role" in response.get_json()["error"]["details"]["fields"]


def test_the_openapi_document_describes_every_api_route(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1"):])
            routed |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == documented
    assert len(OPERATIONS) == len(documented)


def test_every_schema_in_the_openapi_document_is_valid_json_schema(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for name, schema in document["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)


def test_a_user_creates_and_revokes_a_token_in_the_ui(client, login):
    login(roles=["finance"])
    page = client.post("/account/tokens", data={"name": "Xero sync"}).get_data(as_text=True)
    plain = re.search(r'<code class="token" id="new-token">([^<]+)</code>', page).group(1)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    token_id = re.search(r"/account/tokens/(\d+)/revoke", page).group(1)
    client.post(f"/account/tokens/{token_id}/revoke")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 401
    assert plain not in client.get("/account/tokens").get_data(as_text=True)


def test_a_token_needs_a_name(client, login):
    login()
    response = client.post("/account/tokens", data={"name": ""})
    assert "This field is required." in response.get_data(as_text=True)


def test_nobody_can_revoke_someone_elses_token(client, login, build):
    other = build.user(roles=["finance"])
    plain = build.token(other)
    login(roles=["admin"])
    assert client.post("/account/tokens/1/revoke").status_code == 404
    assert user_for_api_token(plain) == other


def test_the_cli_creates_a_token_and_prints_it_once(runner, build, client):
    user = build.user(email="ops@example.test", roles=["auditor"])
    result = runner.invoke(args=["create-token", "ops@example.test", "--name", "monitoring"])
    assert result.exit_code == 0
    plain = result.output.strip()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).get_json()["id"] == user.id


def test_the_cli_refuses_a_token_for_an_unknown_user(runner):
    result = runner.invoke(args=["create-token", "ghost@example.test"])
    assert result.exit_code != 0 and "No active user" in result.output


def test_the_cli_creates_the_first_admin_and_the_lead_provider(runner, client):
    result = runner.invoke(args=["create-admin", "--email", "first@example.test", "--name", "First Admin",
                                 "--organisation", "Northshire Lead", "--password", "a long admin passphrase"])
    assert result.exit_code == 0, result.output
    response = client.post("/login", data={"email": "first@example.test", "password": "a long admin passphrase"})
    assert response.status_code == 302


def test_the_cli_refuses_a_weak_admin_password_with_a_message(runner):
    result = runner.invoke(args=["create-admin", "--email", "first@example.test", "--name", "First Admin",
                                 "--organisation", "Northshire Lead", "--password", "short"])
    assert result.exit_code != 0 and "at least 12" in result.output
