def test_login_page_is_served(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert b"Sign in" in response.data


def test_api_me_describes_the_token_holder(api):
    caller = api(roles=["coordinator"])
    response = caller.get("/me")
    assert response.status_code == 200
    assert response.get_json()["roles"] == ["coordinator"]
