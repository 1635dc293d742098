"""Bad input and failures give clear answers: friendly pages for people, JSON for the API,
never a traceback outside debug."""
import pytest
from flask import Blueprint, request


def test_an_unknown_page_gets_a_friendly_404(client, login):
    login()
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "We could not find that page" in response.get_data(as_text=True)


def test_an_unknown_api_path_gets_a_json_404(api):
    response = api().get("/no-such-thing")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_wrong_method_on_the_api_is_a_json_405(api):
    response = api().delete("/me")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_the_api_without_a_token_is_a_json_401(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"


def test_the_api_with_a_wrong_token_is_a_json_401(client):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer sh_not-a-real-token"})
    assert response.status_code == 401


class TestOversizedBodies:
    @pytest.fixture
    def app_overrides(self):
        return {"MAX_CONTENT_LENGTH": 1024}

    def test_an_oversized_form_post_gets_a_friendly_413(self, client):
        response = client.post("/login", data={"email": "x" * 4096, "password": "y"})
        assert response.status_code == 413
        assert "too large" in response.get_data(as_text=True)

    def test_an_oversized_api_body_gets_a_json_413(self, app, client, build):
        echo = Blueprint("echo", __name__)

        @echo.post("/api/v1/echo")
        def echo_body():
            return {"length": len(request.get_data())}

        app.register_blueprint(echo)
        response = client.post("/api/v1/echo", data="x" * 4096, content_type="application/json")
        assert response.status_code == 413
        assert response.get_json()["error"]["code"] == "too_large"


class TestUnexpectedErrors:
    @pytest.fixture
    def app_overrides(self):
        return {"PROPAGATE_EXCEPTIONS": False}

    @pytest.fixture
    def broken_app(self, app):
        broken = Blueprint("broken", __name__)

        @broken.get("/broken")
        def explode():
            raise RuntimeError("secret internals")

        @broken.get("/api/v1/broken")
        def explode_api():
            raise RuntimeError("secret internals")

        app.register_blueprint(broken)
        return app

    def test_a_crash_shows_a_friendly_page_without_the_traceback(self, broken_app, client, login):
        login()
        response = client.get("/broken")
        page = response.get_data(as_text=True)
        assert response.status_code == 500
        assert "Something went wrong on our side" in page
        assert "secret internals" not in page and "Traceback" not in page

    def test_a_crash_in_the_api_is_json(self, broken_app, client):
        response = client.get("/api/v1/broken")
        assert response.status_code == 500
        body = response.get_json()
        assert body["error"]["code"] == "internal_error" and "secret" not in body["error"]["message"]


def test_bad_paging_parameters_are_named_in_a_422(api):
    response = api(roles=["coordinator"]).get("/users?page=zero&per_page=500")
    assert response.status_code == 422
    assert set(response.get_json()["error"]["details"]["fields"]) == {"page", "per_page"}


def test_bad_paging_on_a_page_gives_a_message_not_a_crash(client, login):
    login()
    response = client.get("/admin/users?page=-1")
    assert response.status_code == 422
    assert "Invalid paging parameters." in response.get_data(as_text=True)


def test_a_bad_date_filter_is_explained(client, login):
    login()
    response = client.get("/admin/audit?from=31/12/2026")
    assert response.status_code == 422
    assert "YYYY-MM-DD" in response.get_data(as_text=True)


def test_health_check_reports_ok(client):
    assert client.get("/healthz").get_json()["status"] == "ok"


@pytest.mark.parametrize("path", ["/cases/9223372036854775808", "/stock/items/99999999999999999999999",
                                  "/api/v1/jobs/9223372036854775808", "/cases/0"])
def test_an_id_no_record_can_have_is_not_found_not_an_error(login, client, path):
    login(roles=["coordinator"])
    assert client.get(path).status_code == 404
