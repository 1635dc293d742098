"""The Xero and Sage files of an export, without a database."""
import csv
import io
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from config.settings import BaseConfig
from inventory.budget.models import PaymentMethod
from inventory.reconciliation.exports import (
    SAGE_COLUMNS,
    XERO_COLUMNS,
    ExportSettings,
    Journal,
    sage_audit_trail,
    xero_files,
)

SETTINGS = ExportSettings.from_config({name: getattr(BaseConfig, name) for name in dir(BaseConfig) if name.isupper()})
RECLAIMING = replace(SETTINGS, vat_reclaimed=True)
SPEND = Journal(entry_id=7, day=date(2026, 11, 3), money_in=False, gross_pence=4500, net_pence=3750, vat_pence=750,
                paid_by=PaymentMethod.BANK, reference="R-1001", details="Locksmith Direct - door lock, case NS-1")
REFUND = Journal(entry_id=9, day=date(2026, 11, 28), money_in=True, gross_pence=1299, net_pence=1299, vat_pence=0,
                 paid_by=PaymentMethod.BANK, reference="CN-4", details="Alarms Ltd - returned alarm")
CARD_SPEND = replace(SPEND, entry_id=11, paid_by=PaymentMethod.CARD, reference="R-2002")
REVERSAL = replace(SPEND, entry_id=12, day=date(2026, 12, 1), money_in=True, reverses_entry_id=7,
                   details="Reversal (Duplicate) of: Locksmith Direct - door lock, case NS-1")
VAT_RATE = {"No VAT": Decimal(0), "20% (VAT on Expenses)": Decimal("0.2")}


def read(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def xero_rows(journals, settings=SETTINGS) -> list[dict]:
    return [row for text in xero_files(journals, settings) for row in read(text)]


def with_vat(row) -> Decimal:
    """A Xero line as it posts: its (tax-exclusive) amount plus the VAT its rate adds."""
    amount = Decimal(row["*Amount"])
    return amount + (amount * VAT_RATE[row["*TaxRate"]]).quantize(Decimal("0.01"))


def test_the_xero_file_has_the_manual_journal_templates_columns_with_its_mandatory_marks():
    [text] = xero_files([SPEND], SETTINGS)
    assert text.splitlines()[0] == ("*Narration,*Date,Description,*AccountCode,*TaxRate,*Amount,TrackingName1,"
                                    "TrackingOption1,TrackingName2,TrackingOption2")
    assert len(XERO_COLUMNS) == 10


@pytest.mark.parametrize("settings", [SETTINGS, RECLAIMING], ids=["vat not reclaimed", "vat reclaimed"])
def test_each_xero_journal_balances_once_xero_adds_its_vat(settings):
    journals = {}
    for row in xero_rows([SPEND, REFUND, CARD_SPEND, REVERSAL], settings):
        journals.setdefault((row["*Narration"], row["*Date"]), []).append(with_vat(row))
    assert len(journals) == 4
    assert all(sum(amounts) == 0 for amounts in journals.values())


def test_xero_lines_carry_dates_accounts_signed_amounts_and_tracking():
    spend_debit, spend_credit, refund_debit, refund_credit = xero_rows([SPEND, REFUND])
    assert spend_debit["*Date"] == "03/11/2026" and refund_debit["*Date"] == "28/11/2026"
    assert (spend_debit["*AccountCode"], spend_debit["*Amount"]) == ("325", "45.00")
    assert (spend_credit["*AccountCode"], spend_credit["*Amount"]) == ("855", "-45.00")
    assert (refund_debit["*AccountCode"], refund_debit["*Amount"]) == ("325", "-12.99")
    assert refund_credit["*Amount"] == "12.99"
    assert {row["*TaxRate"] for row in (spend_debit, spend_credit)} == {"No VAT"}
    assert (spend_debit["TrackingName1"], spend_debit["TrackingOption1"]) == ("Funding", "Ringfenced safety equipment")
    assert (spend_debit["TrackingName2"], spend_debit["TrackingOption2"]) == ("", "")


def test_a_reversal_is_its_own_xero_journal_with_the_originals_lines_negated():
    original = xero_rows([SPEND])
    reversal = xero_rows([REVERSAL])
    assert [row["*Amount"] for row in reversal] == ["-45.00", "45.00"]
    assert [Decimal(row["*Amount"]) for row in reversal] == [-Decimal(row["*Amount"]) for row in original]
    assert reversal[0]["*Narration"] != original[0]["*Narration"]
    assert "reversal of entry 7" in reversal[0]["*Narration"] and reversal[0]["*Date"] == "01/12/2026"


def test_with_vat_reclaimed_xero_books_net_at_the_reclaimable_rate_against_the_gross():
    expense, contra = xero_rows([SPEND], RECLAIMING)
    assert (expense["*Amount"], expense["*TaxRate"]) == ("37.50", "20% (VAT on Expenses)")
    assert (contra["*Amount"], contra["*TaxRate"]) == ("-45.00", "No VAT")


@pytest.mark.parametrize("net, vat, lines", [
    (10000, 1000, [("50.00", "20% (VAT on Expenses)"), ("50.00", "No VAT"), ("-110.00", "No VAT")]),
    (3749, 750, [("37.50", "20% (VAT on Expenses)"), ("-0.01", "No VAT"), ("-44.99", "No VAT")]),
], ids=["part zero-rated", "a penny of rounding"])
def test_with_vat_reclaimed_xero_adds_exactly_the_invoices_vat(net, vat, lines):
    journal = replace(SPEND, gross_pence=net + vat, net_pence=net, vat_pence=vat)
    rows = xero_rows([journal], RECLAIMING)
    assert [(row["*Amount"], row["*TaxRate"]) for row in rows] == lines
    assert sum(with_vat(row) for row in rows) == 0
    assert sum(with_vat(row) - Decimal(row["*Amount"]) for row in rows) == Decimal(vat) / 100


def test_a_large_batch_is_split_into_files_within_xeros_line_limit_never_splitting_a_journal():
    journals = [replace(SPEND, entry_id=n) for n in range(1, 8)]
    files = xero_files(journals, replace(SETTINGS, xero_max_lines=5))
    assert [len(read(text)) for text in files] == [4, 4, 4, 2]
    assert all(text.startswith("*Narration,") for text in files)
    assert len({row["*Narration"] for text in files for row in read(text)}) == 7


def test_the_line_limit_must_leave_room_for_one_journal():
    with pytest.raises(ValueError):
        replace(SETTINGS, xero_max_lines=1)


def test_sage_pays_by_bank_or_card_and_receives_refunds_and_reversals():
    spend, refund, card, reversal = read(sage_audit_trail([SPEND, REFUND, CARD_SPEND, REVERSAL], SETTINGS))
    assert tuple(spend) == tuple(column.header for column in SAGE_COLUMNS)
    assert (spend["Type"], spend["Account Reference"], spend["Nominal A/C Ref"]) == ("BP", "1200", "5000")
    assert (refund["Type"], refund["Account Reference"]) == ("BR", "1200")
    assert (card["Type"], card["Account Reference"]) == ("CP", "1240")
    assert (reversal["Type"], reversal["Net Amount"], reversal["Reference"]) == ("BR", "45.00", "R-1001")
    assert spend["Date"] == "03/11/2026" and spend["Details"] == "Locksmith Direct - door lock, case NS-1"


def test_a_card_refund_is_a_credit_card_receipt():
    [row] = read(sage_audit_trail([replace(REFUND, paid_by=PaymentMethod.CARD)], SETTINGS))
    assert (row["Type"], row["Account Reference"]) == ("CR", "1240")


def test_without_vat_reclaimed_sage_charges_the_gross_outside_the_scope_of_vat():
    [row] = read(sage_audit_trail([SPEND], SETTINGS))
    assert (row["Net Amount"], row["Tax Code"], row["Tax Amount"]) == ("45.00", "T9", "0.00")


def test_with_vat_reclaimed_sage_splits_net_and_reclaimable_vat():
    spend, refund = read(sage_audit_trail([SPEND, REFUND], RECLAIMING))
    assert (spend["Net Amount"], spend["Tax Code"], spend["Tax Amount"]) == ("37.50", "T1", "7.50")
    assert (refund["Net Amount"], refund["Tax Code"], refund["Tax Amount"]) == ("12.99", "T9", "0.00")


@pytest.mark.parametrize("settings", [SETTINGS, RECLAIMING], ids=["vat not reclaimed", "vat reclaimed"])
def test_xero_and_sage_agree_on_cost_and_vat_for_the_same_journals(settings):
    journals = [SPEND, REFUND, CARD_SPEND, REVERSAL]
    sign = {"BP": 1, "CP": 1, "BR": -1, "CR": -1}
    sage = read(sage_audit_trail(journals, settings))
    sage_cost = sum(sign[row["Type"]] * Decimal(row["Net Amount"]) for row in sage)
    sage_vat = sum(sign[row["Type"]] * Decimal(row["Tax Amount"]) for row in sage)
    expense_lines = [row for row in xero_rows(journals, settings) if row["*AccountCode"] == settings.xero_expense]
    xero_cost = sum(Decimal(row["*Amount"]) for row in expense_lines)
    xero_vat = sum(with_vat(row) - Decimal(row["*Amount"]) for row in expense_lines)
    assert (xero_cost, xero_vat) == (sage_cost, sage_vat)
    assert (sage_vat == 0) == (not settings.vat_reclaimed)


def test_an_empty_xero_file_is_just_the_header():
    assert xero_files([], SETTINGS) == [xero_files([SPEND], SETTINGS)[0].splitlines(keepends=True)[0]]
    assert sage_audit_trail([], SETTINGS).startswith("Type,Account Reference")
