"""The commitments ageing, spend by organisation and CSV export pages: who may open them, what
bad input gets (a clear message, never a 500), no survivor's personal data on any page or in
any file, downloads streamed through the safe CSV writer, and pages that cost the same
statements however much data there is."""
import csv
import io
from datetime import timedelta

import pytest

from inventory import clock
from inventory.budget.operations import record_direct_purchase
from inventory.extensions import db
from tests.support import recorded_statements

SURVIVOR = dict(name="Zebediah Quarrington", address="77 Unmistakable Lane", phone="07700 900123",
                safe_contact_notes="Ring twice then hang up")
# Every page and download of these reports, bar none.
EVERY_URL = [
    "/reports", "/reports/commitments", "/reports/commitments?band=0-30", "/reports/commitments?format=csv",
    "/reports/spend", "/reports/spend?format=csv", "/reports/exports", "/reports/exports?what=items",
    "/reports/exports?what=requests", "/reports/exports?what=ledger_entries",
]


@pytest.fixture
def reported(build):
    """A case with a distinctive survivor, a request of theirs awaiting stock (committed), an
    order raised, and money spent on the case by a supplier whose name is a formula."""
    finance = build.user(roles=["finance"])
    build.budget_period(allocated_pence=1_000_000, around_today=True, actor=finance)
    case = build.case(**SURVIVOR)
    build.awaiting_request(case=case)
    build.purchase_order()
    spend(case.reference, finance)
    return case


def spend(case_reference, finance, *, supplier="=cmd|' /C calc'!A0", pence=4500):
    record_direct_purchase(supplier_name=supplier, purchased_on=clock.today(), net_pence=pence, vat_pence=0,
                           gross_pence=pence, receipt_reference="R-9", category="Lock", actor=finance,
                           case_reference=case_reference)
    db.session.commit()


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True), newline="")))


# Who may -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("role, organisation, status", [
    ("coordinator", "lead", 200), ("finance", "lead", 200), ("auditor", "lead", 200), ("admin", "lead", 403),
    ("caseworker", "lead", 403), ("caseworker", "partner", 403), ("fitter", "lead", 403),
])
def test_reports_are_for_coordinators_finance_and_auditors(client, login, build, role, organisation, status):
    place = build.lead() if organisation == "lead" else build.organisation()
    login(build.user(roles=[role], organisation=place))
    answers = {url: client.get(url).status_code for url in EVERY_URL}
    assert answers == dict.fromkeys(EVERY_URL, status)


def test_a_stranger_is_sent_to_sign_in(client):
    for url in EVERY_URL:
        response = client.get(url)
        assert response.status_code == 302 and "/login?next=" in response.location, url


def test_the_reports_page_links_to_each_report(client, login):
    login(roles=["auditor"])
    page = client.get("/reports").get_data(as_text=True)
    assert all(link in page for link in ('href="/reports/commitments"', 'href="/reports/spend"',
                                         'href="/reports/exports"'))


# Privacy ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["coordinator", "finance", "auditor"])
def test_no_page_or_file_shows_a_survivors_name_address_phone_or_notes(client, login, reported, role):
    login(roles=[role])
    for url in EVERY_URL:
        response = client.get(url)
        text = response.get_data(as_text=True)
        assert response.status_code == 200, url
        assert not [value for value in SURVIVOR.values() if value in text], url
    assert reported.reference in client.get("/reports/exports?what=ledger_entries").get_data(as_text=True)


# The pages ----------------------------------------------------------------------------------------

def test_the_ageing_page_shows_the_bands_and_who_holds_the_money(client, login, reported):
    login(roles=["auditor"])
    page = client.get("/reports/commitments").get_data(as_text=True)
    assert "0 to 30 days" in page and "Over 90 days" in page and '<th scope="row">' in page
    assert "Purchase orders" in page and "Requests awaiting stock" in page
    assert f"for {reported.reference}" in page and "PO-" in page


def test_the_spend_page_picks_a_year_and_shows_its_quarters(client, login, reported):
    login(roles=["finance"])
    page = client.get("/reports/spend").get_data(as_text=True)
    assert '<label for="year">Financial year</label>' in page and "Lead Provider" in page
    assert "£45.00" in page and "Not tied to a case" in page and '<th scope="col" class="num">Total</th>' in page


def test_the_exports_page_is_a_labelled_form(client, login):
    login(roles=["coordinator"])
    page = client.get("/reports/exports").get_data(as_text=True)
    for name in ("what", "quarter", "from", "to", "organisation"):
        assert f'<label for="{name}">' in page and f'id="{name}"' in page
    assert "<script" not in page.split("<main", 1)[1]


# Downloads --------------------------------------------------------------------------------------

def test_an_export_downloads_as_a_streamed_csv_with_formulas_neutralised(client, login, reported):
    login(roles=["finance"])
    quarter = f"{clock.today().year - (clock.today().month < 4)}Q{((clock.today().month - 4) % 12) // 3 + 1}"
    response = client.get(f"/reports/exports?what=ledger_entries&quarter={quarter}")
    assert response.status_code == 200 and response.mimetype == "text/csv" and response.is_streamed
    assert response.headers["Content-Disposition"] == f'attachment; filename="ledger-entries-{quarter}.csv"'
    memos = [row[14] for row in csv_rows(response)[1:]]
    assert "'=cmd|' /C calc'!A0, receipt R-9" in memos


def test_the_ageing_and_spend_tables_download_as_csv(client, login, reported):
    login(roles=["auditor"])
    ageing = client.get("/reports/commitments?format=csv")
    assert ageing.mimetype == "text/csv" and ageing.is_streamed
    assert ageing.headers["Content-Disposition"].startswith('attachment; filename="open-commitments-')
    assert [row[5] for row in csv_rows(ageing)[1:]] == ["Requests awaiting stock", "Purchase orders"]
    spent = csv_rows(client.get("/reports/spend?format=csv"))
    assert spent[0][0] == "organisation" and spent[-1][0] == "Total" and spent[-1][-1] == "4500"


# Bad input ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("query, message", [
    ("what=cases", "Must be one of: items, requests, ledger_entries."),
    ("what=items&quarter=2026Q5", "Give a financial quarter like 2026Q3"),
    ("what=items&from=2026-02-30", "A date like 2026-04-30."),
    ("what=items&from=2026-06-01&to=2026-05-31", "The end date is before the start date."),
    ("what=items&quarter=2026Q1&to=2026-05-31", "Give a financial quarter or dates from and to, not both."),
    ("what=items&organisation=424242", "No such organisation"),
    ("what=items&organisation=%27%3B--", "No such organisation"),
])
def test_an_export_that_cannot_be_made_shows_the_form_with_the_reason(client, login, query, message):
    login(roles=["auditor"])
    response = client.get(f"/reports/exports?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert message in page and 'aria-invalid="true"' in page and "<form" in page


@pytest.mark.parametrize("url, message", [
    ("/reports/commitments?band=old", "Choose an age band: 0-30, 31-60, 61-90, over-90."),
    ("/reports/commitments?band=over-91&format=csv", "Choose an age band"),
    ("/reports/commitments?page=0", "Invalid paging parameters."),
    ("/reports/spend?year=twenty", "Give the year a financial year starts in, like 2026"),
    ("/reports/spend?year=1999&format=csv", "Give the year a financial year starts in"),
    ("/reports/spend?year=99999999999999999999", "Give the year a financial year starts in"),
])
def test_a_bad_band_year_or_page_is_explained(client, login, url, message):
    login(roles=["coordinator"])
    response = client.get(url)
    assert response.status_code == 422 and message in response.get_data(as_text=True)


# Cost -------------------------------------------------------------------------------------------

def cost_of(client, url) -> int:
    db.session.expire_all()
    with recorded_statements() as seen:
        response = client.get(url)
        assert response.status_code == 200
        response.get_data()
    return len(seen)


@pytest.mark.parametrize("url", ["/reports/commitments", "/reports/commitments?format=csv", "/reports/spend",
                                 "/reports/spend?format=csv", "/reports/exports?what=requests"])
def test_a_report_costs_the_same_statements_for_a_little_or_more_data(client, login, build, reported, url):
    finance = login(roles=["finance"])
    before = cost_of(client, url)
    for n in range(3):
        case = build.case(organisation=build.organisation())
        build.awaiting_request(case=case)
        build.purchase_order()
        spend(case.reference, finance, supplier=f"Shop {n}")
    spend(None, finance, pence=100)
    assert cost_of(client, url) == before


def test_ages_on_the_page_follow_todays_date(client, login, reported):
    coordinator = login(roles=["coordinator"])
    with clock.frozen_at(clock.now() + timedelta(days=45)):
        login(coordinator)  # weeks on, the session has long timed out
        page = client.get("/reports/commitments?band=31-60").get_data(as_text=True)
    assert '<td class="num">45</td>' in page
