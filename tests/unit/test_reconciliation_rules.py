"""Proposal scoring and the accounting exports, without a database."""
import csv
import io
from datetime import date
from decimal import Decimal

from inventory.reconciliation.exports import (
    SAGE_COLUMNS,
    XERO_COLUMNS,
    AccountCodes,
    SpendRecord,
    sage_audit_trail,
    xero_manual_journals,
)
from inventory.reconciliation.queries import score_proposal, text_similarity

CODES = AccountCodes(xero_expense="429", xero_contra="610", xero_tax_rate="No VAT", xero_tracking_name="Funding",
                     xero_tracking_option="Ringfenced", sage_bank="1200", sage_expense="5000", sage_department="0",
                     sage_vat_code="T1", sage_no_vat_code="T9")
SPEND = SpendRecord(entry_id=7, day=date(2026, 11, 3), is_refund=False, gross_pence=4500, net_pence=3750,
                    vat_pence=750, reference="R-1001", details="Locksmith Direct - door lock, case NS-1")
REFUND = SpendRecord(entry_id=9, day=date(2026, 11, 28), is_refund=True, gross_pence=1299, net_pence=1299,
                     vat_pence=0, reference="CN-4", details="Alarms Ltd - returned alarm")


def read(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_same_day_scores_more_than_days_apart():
    same_day, _ = score_proposal(line_date=date(2026, 11, 3), entry_date=date(2026, 11, 3), window_days=5,
                                 similarity=0.0, amount_pence=100)
    later, _ = score_proposal(line_date=date(2026, 11, 3), entry_date=date(2026, 11, 7), window_days=5,
                              similarity=0.0, amount_pence=100)
    assert same_day == 80 and 50 < later < same_day


def test_a_perfect_proposal_scores_100_and_explains_each_part():
    score, reasons = score_proposal(line_date=date(2026, 11, 3), entry_date=date(2026, 11, 3), window_days=5,
                                    similarity=1.0, amount_pence=4500)
    assert score == 100
    assert reasons == ["Same amount (£45.00): 50", "Same day: 30", "Words 100% alike: 20"]


def test_a_supplier_named_inside_the_bank_description_is_a_full_text_match():
    assert text_similarity("CARD PAYMENT LOCKSMITH DIRECT LTD 1234", ["", "Locksmith Direct Ltd"]) == 1.0


def test_unrelated_words_are_not_alike():
    assert text_similarity("TESCO STORES", ["Locksmith Direct"]) < 0.5
    assert text_similarity("", ["Locksmith"]) == 0.0


def test_xero_journals_have_exactly_the_template_columns_and_balance_to_zero():
    rows = read(xero_manual_journals([SPEND, REFUND], CODES))
    assert tuple(rows[0].keys()) == XERO_COLUMNS
    journals = {}
    for row in rows:
        journals.setdefault((row["Narration"], row["Date"]), []).append(Decimal(row["Amount"]))
    assert len(journals) == 2
    assert all(sum(amounts) == 0 for amounts in journals.values())


def test_xero_journal_lines_carry_dates_accounts_and_signed_amounts():
    spend_debit, spend_credit, refund_debit, refund_credit = read(xero_manual_journals([SPEND, REFUND], CODES))
    assert spend_debit["Date"] == "03/11/2026" and refund_debit["Date"] == "28/11/2026"
    assert (spend_debit["AccountCode"], spend_debit["Amount"]) == ("429", "45.00")
    assert (spend_credit["AccountCode"], spend_credit["Amount"]) == ("610", "-45.00")
    assert (refund_debit["AccountCode"], refund_debit["Amount"]) == ("429", "-12.99")
    assert refund_credit["Amount"] == "12.99"
    assert spend_debit["TaxRate"] == "No VAT"
    assert (spend_debit["TrackingName1"], spend_debit["TrackingOption1"]) == ("Funding", "Ringfenced")


def test_sage_audit_trail_has_the_columns_in_order_with_net_and_vat_apart():
    text = sage_audit_trail([SPEND, REFUND], CODES)
    header, payment, receipt = list(csv.reader(io.StringIO(text)))
    assert tuple(header) == SAGE_COLUMNS
    assert payment == ["BP", "1200", "5000", "0", "03/11/2026", "R-1001", "Locksmith Direct - door lock, case NS-1",
                       "37.50", "T1", "7.50"]
    assert receipt[:1] + receipt[4:] == ["BR", "28/11/2026", "CN-4", "Alarms Ltd - returned alarm", "12.99", "T9",
                                         "0.00"]
    total = sum(Decimal(row["Net Amount"]) + Decimal(row["Tax Amount"]) for row in read(text))
    assert total == Decimal("57.99")


def test_an_empty_export_is_just_the_header():
    assert read(xero_manual_journals([], CODES)) == []
    assert sage_audit_trail([], CODES).startswith("Type,Account Reference")
