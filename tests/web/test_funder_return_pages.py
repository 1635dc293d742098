"""The funder's return on the web and in the API: who may see it, the periods it is asked
for and their bad input, the CSV, and that no survivor's personal data is in any of it."""
import csv
import io
from datetime import UTC, date, datetime

import pytest

from inventory import clock
from inventory.extensions import db

TODAY = datetime(2026, 11, 16, 10, tzinfo=UTC)  # in 2026Q3; the last complete quarter is 2026Q2
ROLES = [("coordinator", 200), ("finance", 200), ("auditor", 200), ("admin", 403), ("caseworker", 403),
         ("fitter", 403)]
PERSONAL = {"name": "Zelda Quintessa Marchbanks", "address": "17 Larkspur Crescent\nWhitby YO21 9ZZ",
            "phone": "07700 912345"}


@pytest.fixture(autouse=True)
def frozen_today():
    with clock.frozen_at(TODAY):
        yield


@pytest.fixture
def supported(build):
    """Two survivors with distinctive personal details, each handed an alarm in July 2026 (2026Q2)."""
    cases = []
    with clock.frozen_at(datetime(2026, 7, 6, 10, tzinfo=UTC)):
        for n in range(2):
            case = build.case(**{**PERSONAL, "name": f"{PERSONAL['name']} {n}"}, reference=f"NS-2026-077{n}")
            build.handed_over(case=case)
            cases.append(case)
    return cases


@pytest.mark.parametrize("role, status", ROLES)
def test_the_funder_return_page_is_for_coordinators_finance_and_auditors(client, login, role, status):
    login(roles=[role])
    assert client.get("/reports/funder-return?quarter=2026Q2").status_code == status
    assert client.get("/reports/funder-return?quarter=2026Q2&format=csv").status_code == status


@pytest.mark.parametrize("role, status", ROLES)
def test_the_funder_return_api_is_for_coordinators_finance_and_auditors(api, role, status):
    response = api(roles=[role]).get("/reports/funder-return?quarter=2026Q2")
    assert response.status_code == status
    if status == 403:
        assert response.get_json()["error"]["code"] == "forbidden"


def test_without_signing_in_there_is_no_return(client):
    assert client.get("/api/v1/reports/funder-return").status_code == 401
    response = client.get("/reports/funder-return")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_page_shows_the_last_complete_quarter_by_default_with_a_picker(client, login, supported):
    login(roles=["auditor"])
    page = client.get("/reports/funder-return").get_data(as_text=True)
    assert "Q2 2026-27 (July to September 2026)" in page
    assert '<option value="2026Q2" selected>' in page and '<option value="2026Q3"' in page
    assert '<label for="quarter">Quarter</label>' in page and '<label for="year">Financial year</label>' in page
    assert "<caption>Survivors supported — All organisations<br><span class=\"hint\">Cases with at least" in page
    assert "<caption>Survivors supported — Lead Provider</caption>" in page
    assert '<th scope="row">Survivors supported (cases with an item issued)</th>' in page
    assert 'media="print"' in page and "css/print.css" in page
    assert "fewer than 5" in page  # two survivors
    assert "<script>" not in page and "onclick" not in page


def test_a_period_that_has_not_ended_says_so(client, login):
    login(roles=["finance"])
    page = client.get("/reports/funder-return?year=2026").get_data(as_text=True)
    assert "2026-27 (April 2026 to March 2027)" in page
    assert "This period has not ended: the figures are to 16 Nov 2026." in page


@pytest.mark.parametrize("query, fields, message", [
    ("quarter=2026Q5", {"quarter"}, "Give a financial quarter like 2026Q3"),
    ("quarter=Q3", {"quarter"}, "Give a financial quarter like 2026Q3"),
    ("quarter=1999Q1", {"quarter"}, "Give a financial quarter like 2026Q3"),
    ("year=26", {"year"}, "Give the year a financial year starts in"),
    ("quarter=2026Q4", {"quarter"}, "Q4 2026-27 (January to March 2027) has not begun yet"),
    ("year=2027", {"year"}, "2027-28 (April 2027 to March 2028) has not begun yet"),
    ("quarter=2026Q1&year=2026", {"quarter", "year"}, "Ask for a quarter or a year, not both."),
    ("quarter=2026Q1&format=xml", {"format"}, "One of: json, csv."),
    ("quarter=2027Q1&format=pdf", {"quarter", "format"}, "Check the period and format asked for."),
])
def test_a_bad_or_future_period_is_refused_naming_the_field(api, client, login, query, fields, message):
    response = api(roles=["auditor"]).get(f"/reports/funder-return?{query}")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_input" and set(error["details"]["fields"]) == fields
    assert error["message"].startswith(message)
    login(roles=["auditor"])
    page = client.get(f"/reports/funder-return?{query.replace('json', 'csv')}")
    assert page.status_code == 422
    assert '<label for="quarter">Quarter</label>' in page.get_data(as_text=True)


def test_the_api_answers_the_return_as_its_schema_says(api, supported):
    response = api(roles=["auditor"]).get("/reports/funder-return?quarter=2026Q2")
    body = response.get_json()
    assert body["period"] == {"key": "2026Q2", "label": "Q2 2026-27 (July to September 2026)",
                              "starts_on": "2026-07-01", "ends_on": "2026-09-30", "complete": True}
    assert body["suppression_threshold"] == 5
    overall = body["scopes"][0]
    assert overall["organisation"] is None and overall["name"] == "All organisations"
    survivors = overall["sections"][0]
    assert survivors["key"] == "survivors"
    assert survivors["rows"][0]["figures"][0] == {"column": "value", "unit": "count", "value": None,
                                                  "withheld": "fewer than 5", "shown": "fewer than 5"}
    spend = next(section for section in overall["sections"] if section["key"] == "spend_by_month")
    assert [row["key"] for row in spend["rows"]] == ["2026-07", "2026-08", "2026-09", "total"]


def test_a_whole_year_is_asked_for_by_the_year_it_starts_in(api):
    body = api(roles=["finance"]).get("/reports/funder-return?year=2025").get_json()
    assert body["period"]["starts_on"] == "2025-04-01" and body["period"]["ends_on"] == "2026-03-31"
    months = next(s for s in body["scopes"][0]["sections"] if s["key"] == "spend_by_month")["rows"]
    assert len(months) == 13  # twelve months and the total


def test_the_csv_has_one_line_per_figure_from_the_page_and_the_api(api, client, login, supported):
    from_api = api(roles=["coordinator"]).get("/reports/funder-return?quarter=2026Q2&format=csv")
    assert from_api.mimetype == "text/csv"
    assert from_api.headers["Content-Disposition"] == 'attachment; filename="funder-return-2026Q2.csv"'
    login(roles=["auditor"])
    from_page = client.get("/reports/funder-return?quarter=2026Q2&format=csv")
    assert from_page.get_data() == from_api.get_data()
    lines = list(csv.DictReader(io.StringIO(from_api.get_data(as_text=True))))
    survivors = next(line for line in lines if line["Organisation"] == "All organisations"
                     and line["Line"] == "Survivors supported (cases with an item issued)")
    assert survivors == {"Period from": "2026-07-01", "Period to": "2026-09-30", "Organisation": "All organisations",
                         "Section": "Survivors supported", "Line": "Survivors supported (cases with an item issued)",
                         "Measure": "Value", "Unit": "count", "Value": "", "Shown as": "fewer than 5"}


@pytest.mark.parametrize("threshold", [1, 5])
def test_no_name_address_phone_or_case_reference_is_in_the_page_the_csv_or_the_json(
        app, api, client, login, supported, threshold):
    app.config["REPORT_SUPPRESSION_THRESHOLD"] = threshold
    login(roles=["coordinator"])
    outputs = [client.get("/reports/funder-return?quarter=2026Q2").get_data(as_text=True),
               client.get("/reports/funder-return?quarter=2026Q2&format=csv").get_data(as_text=True),
               api(roles=["auditor"]).get("/reports/funder-return?quarter=2026Q2").get_data(as_text=True)]
    assert "Survivors supported" in outputs[0]
    for case in supported:
        db.session.refresh(case)
        secrets = [case.name, case.reference, "Larkspur", "YO21", "07700 912345", "07700912345"]
        for output in outputs:
            for secret in secrets:
                assert secret not in output


def test_the_reports_index_links_to_the_return(client, login):
    login(roles=["auditor"])
    assert 'href="/reports/funder-return"' in client.get("/reports").get_data(as_text=True)


def test_the_openapi_document_describes_the_return_in_json_and_csv(client):
    operation = client.get("/api/v1/openapi.json").get_json()["paths"]["/reports/funder-return"]["get"]
    content = operation["responses"]["200"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/FunderReturn"}
    assert "text/csv" in content
    assert {parameter["name"] for parameter in operation["parameters"]} == {"quarter", "year", "format"}


def test_the_threshold_setting_decides_what_is_small(app, api, supported):
    app.config["REPORT_SUPPRESSION_THRESHOLD"] = 2
    body = api(roles=["auditor"]).get("/reports/funder-return?quarter=2026Q2").get_json()
    figure = body["scopes"][0]["sections"][0]["rows"][0]["figures"][0]
    assert (figure["value"], figure["withheld"], figure["shown"]) == (2, None, "2")
    assert date.fromisoformat(body["period"]["ends_on"]) < TODAY.date()
