"""The approval trail's query: every source appears once, newest first, with who, what, the
case reference or document, why and how much; the filters narrow it; the CSV is safe."""
import csv
import io
from datetime import date

import pytest

from inventory.csv_files import write_csv
from inventory.errors import InvalidInput
from inventory.extensions import db
from inventory.pagination import paginate
from inventory.reports.approvals import CSV_COLUMNS, Decision, TrailFilters, csv_rows, trail_query, trail_row
from tests.decisions import frozen_today, personal_strings, world  # noqa: F401 (fixtures)




def trail(**filters) -> list:
    return [trail_row(row) for row in db.session.execute(trail_query(TrailFilters(**filters)))]


def test_every_kind_of_decision_appears_once_newest_first_with_who_why_and_how_much(world):
    rows = trail()
    assert [(row.decision, row.who, row.case_reference, row.document, row.reason, row.amount_pence)
            for row in rows] == [
        (Decision.WRITE_OFF, "Cora Lane", None, None, "Siren failed on test", 1200),
        (Decision.MONTH_REOPENED, "Ada Root", None, None, "Late invoice from a May supplier", None),
        (Decision.OVERSPEND_RESOLVED, "Fin Marsh", world.partner_case.reference, None, "Top-up agreed with the PCC",
         world.overspend_pence),
        (Decision.CREDIT_NOTE, "Fin Marsh", None, "CN-9", "=One unit returned", 600),
        (Decision.INVOICE_APPROVED, "Fin Marsh", None, "INV-77", "Price rise agreed by phone", 3400),
        (Decision.REJECTED, "Cora Lane", world.lead_case.reference, None, "Landlord refused consent", 9000),
        (Decision.APPROVED_IN_PART, "Cora Lane", world.lead_case.reference, None, "One alarm is enough for now", 2500),
        (Decision.APPROVED, "Cora Lane", world.partner_case.reference, None, None, 3000),
        (Decision.PRIORITY_OVERRIDE, "Cora Lane", world.partner_case.reference, None, "Perpetrator seen nearby", None),
    ]
    assert world.overspend_pence > 0


def test_each_decision_says_what_was_decided_in_words(world):
    what = {row.decision: row.what for row in trail()}
    assert what[Decision.REJECTED].endswith(", declined as ineligible")
    assert what[Decision.PRIORITY_OVERRIDE].endswith("up the queue by 5 points")
    assert what[Decision.INVOICE_APPROVED].startswith("Approved Alarm Co's invoice for PO-")
    assert what[Decision.CREDIT_NOTE].startswith("Posted Alarm Co's credit note against PO-")
    assert what[Decision.MONTH_REOPENED] == "Reopened May 2026"
    assert "(Door wedge alarm)" in what[Decision.WRITE_OFF]


@pytest.mark.parametrize("decision", list(Decision))
def test_the_kind_filter_keeps_only_that_kind(world, decision):
    assert [row.decision for row in trail(decision=decision)] == [decision]


def test_the_person_filter_keeps_only_their_decisions(world):
    assert [row.decision for row in trail(person_id=world.finance.id)] == [
        Decision.OVERSPEND_RESOLVED, Decision.CREDIT_NOTE, Decision.INVOICE_APPROVED]
    assert [row.decision for row in trail(person_id=world.admin.id)] == [Decision.MONTH_REOPENED]


def test_the_organisation_filter_keeps_the_decisions_about_that_organisations_cases(world, build):
    assert [row.decision for row in trail(organisation_id=world.partner.id)] == [
        Decision.OVERSPEND_RESOLVED, Decision.APPROVED, Decision.PRIORITY_OVERRIDE]
    assert {row.organisation for row in trail(organisation_id=world.partner.id)} == {"Northern Partner"}
    assert [row.decision for row in trail(organisation_id=build.lead().id)] == [
        Decision.REJECTED, Decision.APPROVED_IN_PART]
    # A kind that never names a case, for one organisation: nothing, not an error.
    assert trail(organisation_id=world.partner.id, decision=Decision.MONTH_REOPENED) == []


def test_days_are_local_days_and_both_ends_are_included(world):
    # The credit note was posted at 23:30 UTC on 5 June, which is 00:30 on 6 June in London.
    assert [row.decision for row in trail(since=date(2026, 6, 3), until=date(2026, 6, 5))] == [
        Decision.INVOICE_APPROVED, Decision.REJECTED, Decision.APPROVED_IN_PART]
    assert [row.decision for row in trail(since=date(2026, 6, 6), until=date(2026, 6, 6))] == [Decision.CREDIT_NOTE]
    assert trail(since=date(2026, 6, 13)) == []


def test_filters_combine(world):
    assert [row.decision for row in trail(person_id=world.coordinator.id, since=date(2026, 6, 2),
                                          until=date(2026, 6, 3), organisation_id=world.partner.id)] == [
        Decision.APPROVED]


def test_the_trail_pages_newest_first_and_counts_every_row(world):
    page = paginate(trail_query(TrailFilters()), 2, 4, scalars=False)
    assert page.total == 9
    assert [trail_row(row).decision for row in page.items] == [
        Decision.INVOICE_APPROVED, Decision.REJECTED, Decision.APPROVED_IN_PART, Decision.APPROVED]


@pytest.mark.parametrize("args, field", [
    ({"kind": "bribe"}, "kind"), ({"person": "Cora"}, "person"), ({"from": "last week"}, "from"),
    ({"to": "2026-13-01"}, "to"), ({"organisation": "0"}, "organisation"),
    ({"from": "2026-06-10", "to": "2026-06-01"}, "to"),
])
def test_bad_filters_are_refused_naming_the_field(args, field):
    with pytest.raises(InvalidInput) as refused:
        TrailFilters.read(args)
    assert field in refused.value.fields


def test_the_csv_holds_the_same_rows_in_pounds_with_formulas_neutralised(world):
    rows = list(csv.reader(io.StringIO(trail_csv(TrailFilters()))))
    assert rows[0] == ["When (UTC)", "Decision", "Who", "Case reference", "Organisation", "Document", "What", "Why",
                       "Amount (GBP)"]
    assert len(rows) == 10
    credit = next(row for row in rows if row[1] == "Credit note posted")
    assert credit[0] == "2026-06-05T23:30:00+00:00" and credit[5] == "CN-9"
    assert credit[7] == "'=One unit returned" and credit[8] == "6.00"
    approved = next(row for row in rows if row[1] == "Request approved")
    assert approved[3] == world.partner_case.reference and approved[4] == "Northern Partner"
    assert approved[8] == "30.00"


def test_the_csv_takes_the_filters(world):
    rows = list(csv.reader(io.StringIO(trail_csv(TrailFilters(decision=Decision.WRITE_OFF)))))
    assert [row[1] for row in rows[1:]] == ["Item written off"]


def test_no_survivors_name_address_phone_or_notes_reaches_the_trail(world):
    text = trail_csv(TrailFilters()) + repr(trail())
    assert [value for value in personal_strings() if value in text] == []


def trail_csv(filters: TrailFilters) -> str:
    """The trail's CSV as the download writes it."""
    return write_csv(CSV_COLUMNS, csv_rows(db.session, filters))
