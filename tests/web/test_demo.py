import pytest

from inventory.demo import DEMO_PASSWORD, DEMO_USERS, DemoRefused, seed_demo


def test_seed_demo_is_refused_under_the_production_config(app):
    app.config["ALLOW_DEMO_DATA"] = False
    with pytest.raises(DemoRefused, match="production"):
        seed_demo()


def test_seed_demo_fills_an_empty_database_once(runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and "Demo data created." in first.output
    assert "caseworker@partner.demo.example" in first.output and DEMO_PASSWORD in first.output
    second = runner.invoke(args=["seed-demo"])
    assert "already has users" in second.output


@pytest.mark.parametrize("email, name, role, organisation", DEMO_USERS, ids=[u[0] for u in DEMO_USERS])
def test_every_demo_role_can_sign_in_and_sees_its_own_navigation(app, email, name, role, organisation):
    seed_demo()
    browser = app.test_client()
    response = browser.post("/login", data={"email": email, "password": DEMO_PASSWORD}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and f"Hello, {name}" in page and str(role) in page
    assert ('href="/admin/users"' in page) == (str(role) == "admin")
