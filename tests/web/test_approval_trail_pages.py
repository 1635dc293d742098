"""The approval trail's page and CSV: who may open them, what they show (case references,
never a survivor's details), their filters and bad input, and their cost."""
import pytest

from inventory import clock
from inventory.extensions import db
from inventory.requests.operations import adjust_priority
from inventory.stock import operations as stock
from tests.decisions import at, frozen_today, personal_strings, world  # noqa: F401 (fixtures)
from tests.support import recorded_statements




@pytest.mark.parametrize("role, status", [
    ("auditor", 200), ("finance", 200), ("coordinator", 200),
    ("admin", 403), ("caseworker", 403), ("fitter", 403),
])
@pytest.mark.parametrize("path", ["/reports/approvals", "/reports/approvals.csv"])
def test_the_trail_is_for_auditors_finance_and_coordinators(client, login, role, status, path):
    login(roles=[role])
    assert client.get(path).status_code == status


def test_someone_signed_out_is_sent_to_sign_in(client):
    response = client.get("/reports/approvals.csv")
    assert response.status_code == 302 and "/login?next=" in response.location


def test_an_auditors_navigation_offers_the_reports_and_the_ledger_and_no_case(client, login):
    login(roles=["auditor"])
    navigation = client.get("/").get_data(as_text=True).split('id="site-nav"', 1)[1].split("</ul>", 1)[0]
    assert 'href="/reports"' in navigation and 'href="/budget/ledger"' in navigation
    assert 'href="/cases"' not in navigation and 'href="/queue"' not in navigation


def test_the_reports_page_links_to_the_trail(client, login):
    login(roles=["auditor"])
    assert 'href="/reports/approvals"' in client.get("/reports").get_data(as_text=True)


def test_an_auditor_sees_every_decision_with_its_reason_and_amount_but_no_survivors_details(client, login, world):
    login(roles=["auditor"])
    page = client.get("/reports/approvals").get_data(as_text=True)
    for shown in ("Cora Lane", "Fin Marsh", "Ada Root", world.lead_case.reference, world.partner_case.reference,
                  "Landlord refused consent", "declined as ineligible", "£34.00", "£6.00", "£90.00", "£25.00",
                  "Reopened May 2026", "Top-up agreed with the PCC", "INV-77", "CN-9", "Siren failed on test",
                  "12 Jun 2026 10:00"):  # 09:00 UTC in June is 10:00 in London
        assert shown in page, shown
    assert [value for value in personal_strings() if value in page] == []
    assert "<script" not in page.split("<main", 1)[1] and 'scope="col"' in page


def test_the_page_filters_and_keeps_its_filters_in_the_csv_link(client, login, world):
    login(roles=["finance"])
    page = client.get(f"/reports/approvals?kind=rejected&organisation={world.lead_case.organisation_id}"
                      ).get_data(as_text=True)
    assert "Landlord refused consent" in page and "Perpetrator seen nearby" not in page
    assert "/reports/approvals.csv?kind=rejected&amp;organisation=" in page
    by_person = client.get(f"/reports/approvals?person={world.admin.id}").get_data(as_text=True)
    assert "Reopened May 2026" in by_person and "INV-77" not in by_person
    dated = client.get("/reports/approvals?from=2026-06-06&to=2026-06-06").get_data(as_text=True)
    assert "CN-9" in dated and "INV-77" not in dated


def test_the_csv_downloads_as_a_file_with_no_survivors_details_and_no_formulas(client, login, world):
    login(roles=["auditor"])
    response = client.get("/reports/approvals.csv")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="approval-trail.csv"'
    text = response.get_data(as_text=True)
    assert len(text.splitlines()) == 10
    assert "'=One unit returned" in text and ",=One" not in text
    assert [value for value in personal_strings() if value in text] == []


@pytest.mark.parametrize("query, field", [
    ("kind=bribe", "Kind"), ("person=Cora", "Person"), ("from=yesterday", "From"),
    ("from=2026-06-10&to=2026-06-01", "To"), ("organisation=-1", "Organisation"),
])
@pytest.mark.parametrize("path", ["/reports/approvals", "/reports/approvals.csv"])
def test_a_bad_filter_is_explained_on_the_page_not_a_500_nor_a_file(client, login, path, query, field):
    login(roles=["auditor"])
    response = client.get(f"{path}?{query}")
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert f"{field}: " in response.get_data(as_text=True)


def test_a_bad_page_number_is_a_clear_refusal(client, login):
    login(roles=["auditor"])
    response = client.get("/reports/approvals?page=0")
    assert response.status_code == 422


def test_the_page_pages(app, client, login, world):
    app.config["PER_PAGE_DEFAULT"] = 4
    login(roles=["auditor"])
    page = client.get("/reports/approvals?page=3").get_data(as_text=True)
    assert "Page 3 of 3 (9)" in page and "Perpetrator seen nearby" in page and "Siren failed" not in page


def _more_decisions(build, world, count: int) -> None:
    """`count` more priority moves and write-offs (with their people and cases) in the trail."""
    request = build.equipment_request(case=world.partner_case)
    for n in range(count):
        with clock.frozen_at(at(13, 9, n)):
            adjust_priority(request.id, 1 + n, f"Reason {n}", actor=build.user(roles=["coordinator"]))
            stock.write_off(build.item(), "lost", build.user(roles=["coordinator"]), note=f"Lost {n}")
            db.session.commit()


def test_the_page_costs_the_same_statements_however_many_decisions(client, login, build, world):
    login(roles=["auditor"])

    def statements() -> int:
        with recorded_statements(selects_only=True) as run:
            assert client.get("/reports/approvals?per_page=50").status_code == 200
        return len(run)

    few = statements()
    _more_decisions(build, world, 8)
    assert few > 0 and statements() == few
