"""The home page is a dashboard per role: each role sees its own panel and no other's, the
figures are right on known data and link where they say, the page costs the same number of
statements however much data there is, and no survivor's personal data is on it."""
import itertools
import re
from dataclasses import dataclass
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from inventory import clock
from inventory.accounts import operations as accounts
from inventory.budget import ledger, operations as budget
from inventory.cases.models import Case
from inventory.extensions import db
from inventory.notices import JobOutcome, Notice
from inventory.notifications.delivery import deliver
from inventory.permissions import declared_access
from inventory.requests.operations import take_action
from inventory.requests.transitions import Action
from inventory.scheduling.models import JobRun
from tests.dashboard_days import NOW, TODAY, on, wednesday  # noqa: F401 (wednesday: an autouse fixture)
from tests.support import recorded_statements

ROLES = ("coordinator", "fitter", "caseworker", "finance", "admin", "auditor")
STYLESHEET = Path(__file__).resolve().parents[2] / "inventory" / "static" / "css" / "app.css"




# Reading the page ---------------------------------------------------------------------------

@dataclass
class Figure:
    value: str = ""
    label: str = ""
    hint: str = ""
    href: str | None = None
    alert: bool = False


class DashboardReader(HTMLParser):
    """The panels (their h2 ids), the big numbers by label, and every link inside the dashboard."""

    def __init__(self):
        super().__init__()
        self.panels: list[str] = []
        self.figures: dict[str, Figure] = {}
        self.links: list[str] = []
        self._figure: Figure | None = None
        self._part: str | None = None
        self._depth = 0  # inside <div class="dash">

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "div" and "dash" in classes:
            self._depth = 1
        elif self._depth and tag == "div":
            self._depth += 1
        if not self._depth:
            return
        if tag == "h2" and attrs.get("id", "").startswith("dash-"):
            self.panels.append(attrs["id"].removeprefix("dash-"))
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "li" and "dash-figure" in classes:
            self._figure = Figure(alert="dash-figure--alert" in classes)
        if self._figure is not None:
            if "dash-figure__body" in classes and tag == "a":
                self._figure.href = attrs["href"]
            for part in ("value", "label", "hint"):
                if f"dash-figure__{part}" in classes:
                    self._part = part

    def handle_endtag(self, tag):
        if tag == "span":
            self._part = None
        if tag == "li" and self._figure is not None:
            self.figures[self._figure.label] = self._figure
            self._figure = None
        if tag == "div" and self._depth:
            self._depth -= 1

    def handle_data(self, data):
        if self._figure is not None and self._part:
            setattr(self._figure, self._part, (getattr(self._figure, self._part) + " " + data.strip()).strip())


def home(client, path="/") -> DashboardReader:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    reader = DashboardReader()
    reader.feed(response.get_data(as_text=True))
    return reader


def shown(reader: DashboardReader) -> dict[str, tuple[str, str | None]]:
    return {label: (figure.value, figure.href) for label, figure in reader.figures.items()}


# Known data for each role ----------------------------------------------------------------------

RUNS = itertools.count(1)


def notify(user, count):
    """`count` unread notifications for `user`, from a check of its own (so none closes another's)."""
    kind = f"check_{next(RUNS)}"
    deliver(kind, JobOutcome(notices=[Notice(kind, f"thing:{k}", "A thing to look at.", "/stock", user_ids=(user.id,))
                                      for k in range(count)]), kinds=(kind,), now=NOW)
    db.session.commit()


def coordinator_world(build, me, n=1):
    """n times: two high-risk requests waiting (one past its decision target), a medium one,
    one approved request awaiting 2 units, one past its install target, a visit today and one
    tomorrow, two unread notifications."""
    for _ in range(n):
        build.awaiting_request(lines=[(build.item_type(), 2)], budget_pence=100_000)
        with on(TODAY - timedelta(days=10)):
            build.equipment_request(case=build.case(risk_level="high"))
        with on(TODAY - timedelta(days=20)):
            build.approved_request(case=build.case(risk_level="medium"))
        build.equipment_request(case=build.case(risk_level="high"))
        build.equipment_request(case=build.case(risk_level="medium"))
        build.job()
        build.job(scheduled_for=TODAY + timedelta(days=1))
        notify(me, 2)


def fitter_world(build, me, n=1):
    """n times: one of my visits still open from yesterday, one today, one tomorrow; another
    fitter's visit today."""
    coordinator = build.user(roles=["coordinator"])
    for _ in range(n):
        with on(TODAY - timedelta(days=1)):
            build.job(fitter=me, coordinator=coordinator)
        build.job(fitter=me, coordinator=coordinator)
        build.job(fitter=me, coordinator=coordinator, scheduled_for=TODAY + timedelta(days=1))
        build.job(coordinator=coordinator)


def caseworker_world(build, me, n=1):
    """n times: my request waiting for a decision, my request sent back for information, a
    colleague's request, a partner agency's request, and one of my cases with a loan overdue
    and its first review due (loans of 28 days, reviews after 1 and 6 months)."""
    partner = build.organisation()
    coordinator = build.user(roles=["coordinator"])
    for _ in range(n):
        build.equipment_request(case=build.case(caseworker=me), caseworker=me)
        asked = build.equipment_request(case=build.case(caseworker=me), caseworker=me)
        take_action(asked.id, Action.REQUEST_INFO, note="Which door?", actor=coordinator)
        db.session.commit()
        build.equipment_request(case=build.case())
        build.equipment_request(case=build.case(organisation=partner))
        with on(TODAY - timedelta(days=30)):
            build.handed_over(case=build.case(caseworker=me))


def finance_world(build, me, n=1):
    """The year funded with £1,000; n times: two purchases (£10 and £20, not yet exported), a
    statement of two lines (one 40 days old); April closed."""
    period = ledger.current_period() or build.budget_period(allocated_pence=100_000, actor=me)
    for _ in range(n):
        build.direct_purchase(gross_pence=1_000, receipt=f"R-{next(RUNS)}", actor=me)
        build.direct_purchase(gross_pence=2_000, receipt=f"R-{next(RUNS)}", actor=me)
        build.statement([(TODAY - timedelta(days=40), "Locksmith", "-45.00", f"S{next(RUNS)}"),
                         (TODAY - timedelta(days=2), "Alarm Co", "-25.00", f"S{next(RUNS)}")], actor=me)
    if not ledger.is_month_closed(date(2026, 4, 1)):
        budget.close_month(date(2026, 4, 1), actor=me)
        db.session.commit()
    return period


def admin_world(build, me, n=1):
    """n times: a user not yet signed in, a failed run of a job, five failed sign-ins for one
    name a minute apart (slowed), a change of someone's roles."""
    for _ in range(n):
        newcomer = build.user(roles=["caseworker"])
        moment = NOW - timedelta(hours=1)
        db.session.add(JobRun(job_name="low_stock", started_at=moment, finished_at=moment, outcome="failed",
                              counts={}, detail="RuntimeError: the database went away"))
        db.session.commit()
        email = f"someone{next(RUNS)}@example.test"
        for minutes_ago in range(5, 0, -1):
            with clock.frozen_at(NOW - timedelta(minutes=minutes_ago)), pytest.raises(accounts.InvalidCredentials):
                accounts.authenticate(email, "not the password")
            db.session.commit()
        accounts.update_user(newcomer, email=newcomer.email, name=newcomer.name, organisation=newcomer.organisation,
                             roles=["caseworker", "finance"], actor=me)
        db.session.commit()


def auditor_world(build, me, n=1):
    """The year funded with £1,000; n times £10 spent."""
    if ledger.current_period() is None:
        build.budget_period(allocated_pence=100_000)
    for _ in range(n):
        build.direct_purchase(gross_pence=1_000, receipt=f"R-{next(RUNS)}")


WORLDS = {"coordinator": coordinator_world, "fitter": fitter_world, "caseworker": caseworker_world,
          "finance": finance_world, "admin": admin_world, "auditor": auditor_world}


@pytest.fixture
def short_loans(app):
    app.config.update(LOAN_PERIOD_DAYS=28, REVIEW_AFTER_MONTHS=(1, 6))


def signed_in(login, build, role):
    return login(build.user(roles=[role]))


# Each role its own panel ------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_its_own_panel_and_no_other(client, login, build, role):
    signed_in(login, build, role)
    assert home(client).panels == [role]


def test_someone_with_several_roles_sees_each_panel_the_days_work_first(client, login, build):
    login(build.user(roles=["auditor", "finance", "fitter", "coordinator"]))
    assert home(client).panels == ["coordinator", "fitter", "finance", "auditor"]


def expected_figures(role, world) -> dict[str, tuple[str, str | None]]:
    if role == "coordinator":
        return {"High risk waiting": ("2", "/queue?risk_level=high"),
                "Medium risk waiting": ("1", "/queue?risk_level=medium"),
                "Standard risk waiting": ("0", "/queue?risk_level=standard"),
                "Past the decision target": ("1", "/queue?overdue=1"), "Past the install target": ("1", "/jobs/"),
                "Items awaiting stock": ("2", "/stock/"), "Budget available": ("£950.00", "/budget"),
                "Open overspend alerts": ("0", "/budget"), "Visits today": ("1", "/jobs/"),
                "Visits tomorrow": ("1", "/jobs/"), "Unread notifications": ("2", "/notifications")}
    if role == "fitter":
        return {"To do today": ("2", "/jobs/mine?show=today"), "Coming up": ("1", "/jobs/mine?show=upcoming")}
    if role == "caseworker":
        return {"Your answer needed": ("1", "/requests?state=info_requested"),
                "Awaiting a decision": ("1", "/requests?state=submitted"), "Approved, on the way": ("0", "/requests"),
                "Cases with loans due back": ("1", None), "Reviews due": ("1", None)}
    if role == "finance":
        return {"Allocated": ("£1,000.00", "/budget"), "Committed": ("£0.00", "/budget"),
                "Spent": ("£30.00", "/budget"), "Available": ("£970.00", "/budget"),
                "Open overspend alerts": ("0", "/budget"),
                "Unreconciled statement lines": ("2", "/reconciliation/statements"),
                "Unmatched over 30 days": ("1", "/reconciliation/exceptions"),
                "Months to close": ("6", f"/budget/months?period_id={world.id}"),
                "Not yet exported to Xero": ("2", "/reconciliation/exports"),
                "Not yet exported to Sage": ("2", "/reconciliation/exports")}
    if role == "admin":
        return {"Sign-in names being slowed": ("1", "/admin/audit?kind=login_failed"),
                "Scheduler": ("Silent", "/admin/jobs"), "Runs failed in the last day": ("1", "/admin/jobs"),
                "Failed sign-ins in the last day": ("5", "/admin/audit?kind=login_failed"),
                "Role changes in the last day": ("1", "/admin/audit?kind=roles_changed"),
                "Not yet signed in": ("1", "/admin/users")}
    return {"Allocated": ("£1,000.00", "/budget"), "Spent": ("£10.00", "/budget"),
            "Available": ("£990.00", "/budget")}


@pytest.mark.parametrize("role", ROLES)
def test_each_roles_figures_are_right_on_known_data_and_every_link_opens(client, login, build, short_loans, role):
    me = build.user(roles=[role])
    world = WORLDS[role](build, me)
    login(me)
    reader = home(client)
    figures = shown(reader)
    assert {label: figures.get(label) for label in expected_figures(role, world)} == expected_figures(role, world)
    assert reader.links
    for link in set(reader.links):
        assert client.get(link).status_code == 200, link


def test_the_figures_link_to_the_records_they_count(client, login, build):
    me = build.user(roles=["coordinator"])
    coordinator_world(build, me)
    login(me)
    figures = home(client).figures
    high = client.get(figures["High risk waiting"].href).get_data(as_text=True)
    overdue = client.get(figures["Past the decision target"].href).get_data(as_text=True)
    assert high.count('class="risk risk--high"') == 2 and 'class="risk risk--medium"' not in high
    assert overdue.count('class="risk risk--high"') == 1
    assert figures["High risk waiting"].alert and figures["Past the decision target"].alert


def test_the_caseworker_switches_between_their_own_requests_and_their_organisations(client, login, build,
                                                                                  short_loans):
    me = build.caseworker()
    caseworker_world(build, me)
    login(me)
    assert shown(home(client))["Awaiting a decision"] == ("1", "/requests?state=submitted")
    assert shown(home(client, "/?requests=organisation"))["Awaiting a decision"] == ("2", "/requests?state=submitted")
    assert shown(home(client, "/?requests=mine"))["Awaiting a decision"][0] == "1"


def test_whose_requests_to_show_must_be_mine_or_the_organisations(client, login, build):
    login(build.caseworker())
    response = client.get("/?requests=everyone")
    assert response.status_code == 422
    assert "requests=mine" in response.get_data(as_text=True)


def test_the_auditor_is_offered_the_reports_and_the_budget_and_the_ledger_only_if_they_may_open_it(client, login,
                                                                                                   build, app):
    auditor = signed_in(login, build, "auditor")
    auditor_world(build, auditor)
    links = home(client).links
    assert "/reports" in links and "/budget" in links
    may_read_ledger = declared_access(app.view_functions["budget.entries"]).allows(auditor)
    assert ("/budget/ledger" in links) == may_read_ledger


# Privacy ------------------------------------------------------------------------------------

def test_a_partner_caseworker_never_sees_the_lead_providers_cases_or_requests(client, login, build, short_loans):
    lead_caseworker = build.caseworker()
    caseworker_world(build, lead_caseworker)
    partner_caseworker = build.caseworker(build.organisation())
    login(partner_caseworker)
    page = client.get("/?requests=organisation").get_data(as_text=True)
    for case in db.session.scalars(db.select(Case).where(Case.organisation_id == lead_caseworker.organisation_id)):
        assert case.reference not in page
    figures = shown(home(client, "/?requests=organisation"))
    assert figures["Cases with loans due back"][0] == "0" and figures["Awaiting a decision"][0] == "0"


@pytest.mark.parametrize("role", ["coordinator", "fitter", "caseworker"])
def test_no_survivors_name_address_or_phone_is_on_any_home_page(client, login, build, short_loans, role):
    me = build.user(roles=[role])
    WORLDS[role](build, me)
    login(me)
    page = client.get("/?requests=organisation" if role == "caseworker" else "/").get_data(as_text=True)
    cases = db.session.scalars(db.select(Case)).all()
    assert cases
    for case in cases:
        assert case.name not in page and case.phone not in page and case.address.splitlines()[0] not in page


# Cost ----------------------------------------------------------------------------------------

def statements_for_home(client) -> int:
    with recorded_statements() as statements:
        assert client.get("/").status_code == 200
    return len(statements)


@pytest.mark.parametrize("role", ROLES)
def test_each_roles_home_costs_the_same_statements_at_any_data_size(client, login, build, short_loans, role):
    me = build.user(roles=[role])
    WORLDS[role](build, me, n=1)
    login(me)
    small = statements_for_home(client)
    WORLDS[role](build, me, n=5)
    assert statements_for_home(client) == small


def test_the_coordinators_unread_count_is_read_once_with_the_list(client, login, build):
    me = build.user(roles=["coordinator"])
    notify(me, 7)
    login(me)
    with recorded_statements() as statements:
        page = client.get("/").get_data(as_text=True)
    assert len([statement for statement in statements if "FROM notifications" in statement]) == 1
    assert ">Notifications (7)</a>" in page and shown(home(client))["Unread notifications"][0] == "7"


# Layout ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_no_home_page_needs_sideways_scrolling_on_a_phone(client, login, build, role):
    signed_in(login, build, role)
    page = client.get("/").get_data(as_text=True)
    assert "table-wrap" not in page and "<table" not in page


def test_the_dashboards_stylesheet_keeps_every_tap_target_44_pixels_and_figures_within_the_screen():
    section = STYLESHEET.read_text().split("/* Dashboards", 1)[1]
    for selector in (".dash-figure__body", ".dash-list .plain-list a", ".dash-panel .subnav a", ".dash-panel .job-card a"):
        rule = re.search(re.escape(selector) + r"[^{]*\{([^}]*)\}", section)
        assert rule and "min-height: 44px" in rule.group(1), selector
    assert "minmax(min(100%," in section  # a figure never forces a column wider than the phone
    assert "nowrap" not in section and not re.search(r"\bwidth:\s*\d{3,}px", section)


@pytest.mark.parametrize("roles, charts", [
    (["coordinator"], ["No requests installed in the last 12 months"]),  # nothing installed yet: it says so
    (["finance"], ["Burn-down: money available"]),
    (["coordinator", "finance"], ["No requests installed in the last 12 months", "Burn-down: money available"]),
    (["fitter"], []),
    (["caseworker"], []),
])
def test_the_coordinator_sees_days_to_install_against_target_and_finance_the_burn_down(client, login, build, roles,
                                                                                        charts):
    if ledger.current_period() is None:
        build.budget_period(allocated_pence=100_000)
    login(build.user(roles=roles))
    page = client.get("/").get_data(as_text=True)
    assert page.count('class="dash-chart"') == len(charts)
    assert all(chart in page for chart in charts)