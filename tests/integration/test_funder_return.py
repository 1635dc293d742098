"""The funder's return, figure by figure, from a dataset built through the app's own use
cases at known dates (quarter 2026Q1: 1 April to 30 June 2026), each figure worked out by
hand beside it. Threshold 1 shows every count; suppression has its own tests below."""
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from inventory import clock
from inventory.budget import ledger
from inventory.budget import operations as budget
from inventory.budget.models import DirectPurchase
from inventory.cases.models import CaseReview
from inventory.extensions import db
from inventory.jobs.completion import Completion, complete_job
from inventory.jobs.models import ReturnCondition
from inventory.jobs.returns import take_back
from inventory.jobs.scanning import ScanAction, ScanInput, scan
from inventory.reports.funder_return import SECTION_NOTES, WITHHELD, funder_return
from inventory.requests.models import DeclinedAs
from inventory.requests.operations import approve_request, reject_request
from inventory.stock.models import Item
from tests.support import recorded_selects

Q1_STARTS, Q1_ENDS = date(2026, 4, 1), date(2026, 6, 30)


def at(day: date, hour: int = 10):
    return clock.frozen_at(datetime(day.year, day.month, day.day, hour, tzinfo=UTC))


@dataclass
class World:
    build: object
    coordinator: object
    fitter: object
    finance: object
    lead: object
    partner: object
    alarm: object
    lock: object
    cases: dict


class Story:
    """The dataset's steps, each at its day."""

    def __init__(self, build):
        self.build = build
        with at(date(2026, 3, 1)):
            self.lead = build.lead()
            self.partner = build.organisation(name="Partner North")
            self.coordinator = build.user(roles=["coordinator"])
            self.fitter = build.user(roles=["fitter"])
            self.finance = build.user(roles=["finance"])
            self.caseworkers = {organisation.id: build.caseworker(organisation)
                                for organisation in (self.lead, self.partner)}
            self.alarm = build.item_type(name="Personal alarm", category="personal_alarm", standard_cost_pence=2500)
            self.lock = build.item_type(name="Door lock", category="lock", loaned=False, standard_cost_pence=4000)
            self.store = build.location()
            self.period = build.budget_period(starts_on=date(2026, 4, 1), ends_on=date(2027, 3, 31),
                                              name="2026-27")
        with at(date(2026, 4, 1), 9):
            ledger.allocate(self.period, 1_000_000, actor=self.finance, memo="Funding", on=date(2026, 4, 1))
            db.session.commit()
        self.cases = {}

    def case(self, name, day, organisation, risk, source=None, agency=None):
        with at(day):
            case = self.build.case(caseworker=self.caseworkers[organisation.id], risk_level=risk)
            case.referral_source, case.referral_agency = source, agency
            db.session.commit()
        self.cases[name] = case
        return case

    def stock(self, item_type, quantity, day):
        with at(day, 8):
            return self.build.items(quantity, item_type=item_type, location=self.store,
                                    purchase_cost_pence=item_type.standard_cost_pence)

    def request(self, case, lines, day):
        with at(day):
            return self.build.equipment_request(case=case, lines=lines,
                                                caseworker=self.caseworkers[case.organisation_id])

    def approve(self, request, day):
        with at(day, 11):
            approve_request(request.id, actor=self.coordinator)
            db.session.commit()

    def reject(self, request, day, declined_as=None):
        with at(day, 11):
            reject_request(request.id, DeclinedAs(declined_as or "other"), note="Not what is needed here.",
                           actor=self.coordinator)
            if declined_as is None:  # a rejection from before grounds were recorded
                request.declined_as = None
            db.session.commit()

    def install(self, request, day, units=None):
        """A visit on `day` hands over `units` (default: the units reserved to the request)."""
        with at(day, 12):
            job = self.build.job(request=request, fitter=self.fitter, coordinator=self.coordinator, scheduled_for=day)
            units = units or list(db.session.scalars(select(Item).where(Item.reserved_for_request_id == request.id)))
            for unit in units:
                scan(ScanInput(ScanAction.ISSUE, unit.code, job_id=job.id), actor=self.fitter)
            complete_job(job.id, Completion(), actor=self.fitter)
            db.session.commit()

    def take_back(self, item, day, condition):
        with at(day, 14):
            take_back(db.session.get(Item, item.id), condition, job=None, actor=self.coordinator)
            db.session.commit()

    def purchase(self, day, pence, category, case=None):
        with at(day):
            purchase, entry = budget.record_direct_purchase(
                supplier_name="Hardware Shop", purchased_on=day, net_pence=pence, vat_pence=0, gross_pence=pence,
                receipt_reference=f"R-{day:%m%d}-{pence}", category=category, actor=self.finance,
                case_reference=case.reference if case else None)
            db.session.commit()
            return purchase, entry

    def review(self, case, kind, day, **answers):
        with at(day):
            db.session.add(CaseReview(case_id=case.id, kind=kind, reviewed_on=day, recorded_by_id=self.coordinator.id,
                                      **answers))
            db.session.commit()


@pytest.fixture
def story(build):
    s = Story(build)
    lead, partner = s.lead, s.partner
    # Cases: A, B and E before the quarter; C, D, F and G opened in it.
    a = s.case("A", date(2026, 3, 2), lead, "high", "police")
    b = s.case("B", date(2026, 3, 2), lead, "medium")
    e = s.case("E", date(2026, 3, 2), partner, "high")
    c = s.case("C", date(2026, 4, 3), lead, "standard", "police")
    d = s.case("D", date(2026, 4, 3), lead, "high", "self")
    f = s.case("F", date(2026, 4, 4), partner, "standard", "agency", "Victim Support")
    g = s.case("G", date(2026, 5, 10), lead, "medium")

    # E (partner, high): asked 20 March, decided 23 March (before the quarter), a lock fitted 15 April.
    s.stock(s.lock, 1, date(2026, 3, 20))
    request_e = s.request(e, [(s.lock, 1)], date(2026, 3, 20))
    s.approve(request_e, date(2026, 3, 23))
    s.install(request_e, date(2026, 4, 15))
    # A (lead, high): asked Monday 30 March, decided 1 April (target 31 March), alarm 2 April (target 2 April).
    s.stock(s.alarm, 1, date(2026, 3, 30))
    request_a = s.request(a, [(s.alarm, 1)], date(2026, 3, 30))
    s.approve(request_a, date(2026, 4, 1))
    s.install(request_a, date(2026, 4, 2))
    a_alarm = db.session.scalar(select(Item).where(Item.issued_case_id == a.id))
    # B (lead, medium): asked 6 April, decided 10 April (target 13), alarm and lock 20 April (target 13).
    s.stock(s.alarm, 1, date(2026, 4, 6))
    s.stock(s.lock, 1, date(2026, 4, 6))
    request_b = s.request(b, [(s.alarm, 1), (s.lock, 1)], date(2026, 4, 6))
    s.approve(request_b, date(2026, 4, 10))
    s.install(request_b, date(2026, 4, 20))
    # C (lead, standard): asked 7 April, decided 8 April (target 21), given A's alarm back 1 May (target 21 April).
    s.stock(s.alarm, 1, date(2026, 4, 7))
    request_c = s.request(c, [(s.alarm, 1)], date(2026, 4, 7))
    s.approve(request_c, date(2026, 4, 8))
    s.take_back(a_alarm, date(2026, 4, 25), ReturnCondition.GOOD)
    s.install(request_c, date(2026, 5, 1), units=[db.session.get(Item, a_alarm.id)])
    # E's lock is lost (not recovered: no item back).
    s.take_back(db.session.scalar(select(Item).where(Item.issued_case_id == e.id)), date(2026, 5, 20),
                ReturnCondition.LOST)
    # D (lead, high): asked Monday 4 May, declined as unsuitable the next day (target 5 May).
    s.reject(s.request(d, [(s.alarm, 1)], date(2026, 5, 4)), date(2026, 5, 5), declined_as="unsuitable")
    # G (lead, medium): asked 11 May, declined the next day, no ground recorded.
    s.reject(s.request(g, [(s.alarm, 1)], date(2026, 5, 11)), date(2026, 5, 12))
    # F (partner, standard): asked 1 June, decided 3 June, fitted 2 July (after the quarter).
    s.stock(s.alarm, 1, date(2026, 6, 1))
    request_f = s.request(f, [(s.alarm, 1)], date(2026, 6, 1))
    s.approve(request_f, date(2026, 6, 3))
    s.install(request_f, date(2026, 7, 2))

    # Money.
    s.purchase(date(2026, 4, 2), 3000, "Personal alarm", a)
    refunded, _ = s.purchase(date(2026, 5, 12), 5000, "Lock", e)
    s.purchase(date(2026, 5, 15), 2000, "Lock")
    with at(date(2026, 5, 20)):
        budget.refund_direct_purchase(db.session.get(DirectPurchase, refunded.id), on=date(2026, 5, 20),
                                      net_pence=1000, vat_pence=0, reason="Part refund", actor=s.finance)
        db.session.commit()
    with at(date(2026, 6, 10)):
        ledger.adjust(-700, on=date(2026, 6, 10), actor=s.finance, reason="Fitting labour", category="Lock",
                      case_reference=b.reference)
        db.session.commit()
    _, posted_twice = s.purchase(date(2026, 6, 11), 1500, "Personal alarm", a)
    with at(date(2026, 6, 12)):
        ledger.reverse(posted_twice, reason="Posted twice", actor=s.finance, on=date(2026, 6, 12))
        db.session.commit()
    s.purchase(date(2026, 7, 5), 9999, "Lock", a)

    # Reviews.
    s.review(a, "three_months", date(2026, 5, 2), feels_safer=5, still_at_address=True, incidents_since_fitting=0)
    s.review(b, "three_months", date(2026, 6, 5), feels_safer=4, still_at_address=True, incidents_since_fitting=2)
    s.review(e, "three_months", date(2026, 6, 20), feels_safer=2, still_at_address=False, incidents_since_fitting=1)
    s.review(c, "closing", date(2026, 6, 25), support_ended="moved")
    s.review(a, "six_months", date(2026, 7, 10), feels_safer=1, still_at_address=False, incidents_since_fitting=9)
    return s


def values(section) -> dict:
    """{row key: the first figure's value}, or all of a row's values where it has several."""
    return {row.key: (row.figures[0].value if len(row.figures) == 1 else tuple(f.value for f in row.figures))
            for row in section.rows}


def the_return(threshold=1):
    with at(date(2026, 7, 20)):
        return funder_return(Q1_STARTS, Q1_ENDS, threshold=threshold)


def test_survivors_supported_are_the_cases_with_an_item_issued_in_the_quarter(story):
    report = the_return()
    lead, partner = report.organisations
    assert (lead.name, partner.name) == ("Lead Provider", "Partner North")
    # A, B and C at the lead (C's alarm was A's); E at the partner; F's alarm came in July.
    assert values(report.overall.section("survivors")) == {"supported": 4, "cost": 2500 * 3 + 4000 * 2,
                                                           "average_spend": 15500 // 4}
    assert values(lead.section("survivors")) == {"supported": 3, "cost": 11500, "average_spend": 3833}
    assert values(partner.section("survivors")) == {"supported": 1, "cost": 4000, "average_spend": 4000}


def test_items_issued_are_counted_by_type(story):
    report = the_return()
    alarm, lock = str(story.alarm.id), str(story.lock.id)
    assert values(report.overall.section("items_issued")) == {lock: 2, alarm: 3, "total": 5}
    assert values(report.organisations[0].section("items_issued")) == {lock: 1, alarm: 3, "total": 4}
    assert values(report.organisations[1].section("items_issued")) == {lock: 1, "total": 1}
    assert [row.label for row in report.overall.section("items_issued").rows] == ["Door lock", "Personal alarm",
                                                                                  "All items"]


def test_items_recovered_and_the_value_re_used(story):
    report = the_return()
    # A's alarm came back good and went to C; E's lock was lost, which is no recovery.
    assert values(report.overall.section("recovery")) == {"recovered": 1, "reissued": 1, "value_reused": 2500}
    assert values(report.organisations[0].section("recovery")) == {"recovered": 1, "reissued": 1,
                                                                   "value_reused": 2500}
    assert values(report.organisations[1].section("recovery")) == {"recovered": 0, "reissued": 0, "value_reused": 0}


def test_spend_is_actuals_less_credits_by_category_month_and_organisation(story):
    report = the_return()
    lead, partner = report.organisations
    categories = {row.label: row.figures[0].value for row in report.overall.section("spend_by_category").rows}
    # Alarm: 3000 (the 1500 was reversed). Lock: 5000 − 1000 refunded + 2000; July's is outside, and
    # June's adjustment of 700 is a finance journal, not spend (as the budget counts it).
    assert categories == {"Lock": 6000, "Personal alarm": 3000, "All categories": 9000}
    assert values(report.overall.section("spend_by_month")) == {"2026-04": 3000, "2026-05": 6000, "2026-06": 0,
                                                                "total": 9000}
    assert values(report.overall.section("spend_by_organisation")) == {
        str(story.lead.id): 3000, str(story.partner.id): 4000, "none": 2000, "total": 9000}
    assert {row.label: row.figures[0].value for row in lead.section("spend_by_category").rows} == {
        "Personal alarm": 3000, "All categories": 3000}
    assert values(partner.section("spend_by_month")) == {"2026-04": 0, "2026-05": 4000, "2026-06": 0, "total": 4000}


def test_days_from_request_to_decision_by_risk_level(story):
    report = the_return()
    # (requests, average days, 90th percentile days, % within target)
    # high: A 2 days (late), D 1 (in time); medium: B 4, G 1; standard: C 1, F 2. E was decided in March.
    assert values(report.overall.section("decision_times")) == {
        "high": (2, 1.5, 2, 50), "medium": (2, 2.5, 4, 100), "standard": (2, 1.5, 2, 100)}
    assert values(report.organisations[0].section("decision_times")) == {
        "high": (2, 1.5, 2, 50), "medium": (2, 2.5, 4, 100), "standard": (1, 1.0, 1, 100)}
    assert values(report.organisations[1].section("decision_times")) == {
        "high": (0, None, None, None), "medium": (0, None, None, None), "standard": (1, 2.0, 2, 100)}


def test_days_from_request_to_install_by_risk_level(story):
    report = the_return()
    # high: A 3 days (in time), E 26 (late); medium: B 14 (late); standard: C 24 (late). F's was in July.
    assert values(report.overall.section("install_times")) == {
        "high": (2, 14.5, 26, 50), "medium": (1, 14.0, 14, 0), "standard": (1, 24.0, 24, 0)}
    assert values(report.organisations[1].section("install_times"))["high"] == (1, 26.0, 26, 0)


def test_referrals_by_source_are_the_cases_opened_in_the_quarter(story):
    report = the_return()
    assert values(report.overall.section("referrals")) == {
        "police": 1, "self": 1, "agency": 1, "other": 0, "not_recorded": 1, "total": 4}
    assert values(report.organisations[1].section("referrals"))["agency"] == 1


def test_declines_are_counted_by_ground(story):
    report = the_return()
    assert values(report.overall.section("declined")) == {
        "unsuitable": 1, "ineligible": 0, "other": 0, "not_recorded": 1, "total": 2}
    assert values(report.organisations[1].section("declined"))["total"] == 0


def test_review_outcomes_recorded_in_the_quarter(story):
    report = the_return()
    overall, lead, partner = report.overall, *report.organisations
    # A (5, home, none), B (4, home, 2), E (2, moved, 1), C closing (moved away); A's July review is outside.
    assert values(overall.section("feels_safer")) == {"5": 1, "4": 1, "3": 0, "2": 1, "1": 0, "not_recorded": 1,
                                                      "total": 4}
    assert values(overall.section("still_at_address")) == {"yes": 2, "no": 1, "not_recorded": 1, "total": 4}
    assert values(overall.section("incidents")) == {"none": 1, "some": 2, "not_recorded": 1, "incidents": 3,
                                                    "total": 4}
    assert values(overall.section("support_ended")) == {"no_longer_needed": 0, "moved": 1, "declined": 0,
                                                        "lost_contact": 0, "other": 0, "total": 1}
    assert values(lead.section("incidents")) == {"none": 1, "some": 1, "not_recorded": 1, "incidents": 2, "total": 3}
    assert values(partner.section("still_at_address")) == {"yes": 0, "no": 1, "not_recorded": 0, "total": 1}


def test_a_whole_financial_year_counts_the_quarters_together(story):
    with at(date(2026, 7, 20)):
        year = funder_return(date(2026, 4, 1), date(2027, 3, 31), threshold=1)
    # F's July alarm and July's purchase come in; A's July review too.
    assert year.overall.figure("survivors", "supported").value == 5
    assert year.overall.figure("spend_by_category", "total").value == 9000 + 9999
    assert year.overall.figure("feels_safer", "total").value == 5


def test_every_section_has_a_note_saying_what_it_counts(story):
    report = the_return()
    assert [section.key for section in report.overall.sections] == list(SECTION_NOTES)
    assert {section.key for section in report.organisations[0].sections} == set(SECTION_NOTES) - {
        "spend_by_organisation"}


def test_the_return_runs_a_fixed_number_of_statements_however_much_data(story, build):
    with recorded_selects() as before:
        the_return()
    for n in range(3):
        story.case(f"more{n}", date(2026, 4, 5), story.partner, "high", "police")
        story.stock(story.alarm, 1, date(2026, 4, 6))
        request = story.request(story.cases[f"more{n}"], [(story.alarm, 1)], date(2026, 4, 6))
        story.approve(request, date(2026, 4, 7))
        story.install(request, date(2026, 4, 8))
        story.review(story.cases[f"more{n}"], "three_months", date(2026, 6, 1), feels_safer=3)
    build.organisation(name="Partner South")
    with recorded_selects() as after:
        report = the_return()
    assert report.overall.figure("survivors", "supported").value == 7
    assert len(after) == len(before)


# --- Suppression ---------------------------------------------------------------------

def survivors_at_lead(build, count: int):
    """`count` lead cases, each handed one alarm in the quarter."""
    story = Story(build)
    for n in range(count):
        case = story.case(f"S{n}", date(2026, 4, 2), story.lead, "standard", "police")
        story.stock(story.alarm, 1, date(2026, 4, 2))
        request = story.request(case, [(story.alarm, 1)], date(2026, 4, 2))
        story.approve(request, date(2026, 4, 3))
        story.install(request, date(2026, 4, 6))
    return story


def test_five_survivors_are_shown_at_the_threshold_of_five(build):
    survivors_at_lead(build, 5)
    report = the_return(threshold=5)
    supported = report.overall.figure("survivors", "supported")
    assert (supported.value, supported.withheld, supported.shown) == (5, None, "5")
    assert report.overall.figure("survivors", "average_spend").shown == "£25.00"
    assert report.overall.figure("decision_times", "standard", 1).value == 1.0


def test_four_survivors_are_fewer_than_five_and_what_derives_from_them_is_withheld(build):
    survivors_at_lead(build, 4)
    report = the_return(threshold=5)
    for scope in (report.overall, report.organisations[0]):
        assert scope.figure("survivors", "supported").shown == "fewer than 5"
        assert scope.figure("survivors", "average_spend").shown == WITHHELD
        assert scope.figure("items_issued", "total").shown == "fewer than 5"
        assert [figure.shown for figure in scope.section("decision_times").row("standard").figures] == [
            "fewer than 5", WITHHELD, WITHHELD, WITHHELD]
    # Zero is shown: the partner supported nobody.
    assert report.organisations[1].figure("survivors", "supported").shown == "0"
    # Spend is the ledger's, never suppressed.
    assert report.overall.figure("spend_by_category", "total").shown == "£0.00"


def test_one_small_count_among_shown_ones_takes_another_down_with_it(story):
    report = the_return(threshold=2)
    lead, partner = report.organisations
    # Survivors: lead 3, partner 1 of 4. The partner's 1 is small; shown beside the total,
    # the lead's 3 would give it away, so it is withheld too.
    assert partner.figure("survivors", "supported").shown == "fewer than 2"
    assert lead.figure("survivors", "supported").shown == WITHHELD
    assert report.overall.figure("survivors", "supported").shown == "4"
