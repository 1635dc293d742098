"""Export batches against a real database: what a batch takes, that nothing leaves twice,
reversals as their own journals, VAT alike in both formats, byte-identical files, safe CSV,
and two exports at once."""
import csv
import hashlib
import io
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from functools import partial

import pytest
from flask import current_app
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from inventory import clock
from inventory.accounts.models import User
from inventory.audit.models import AppendOnlyViolation
from inventory.budget import ledger
from inventory.budget.models import EntryKind, LedgerEntry, SourceType
from inventory.extensions import db
from inventory.reconciliation import exports
from inventory.reconciliation.models import ExportBatch, ExportedEntry, ExportFile, ExportFormat
from tests.concurrency import run_at_once

XERO, SAGE = ExportFormat.XERO, ExportFormat.SAGE
SIGN = {"BP": 1, "CP": 1, "BR": -1, "CR": -1}


def days_ago(n):
    return clock.today() - timedelta(days=n)


@pytest.fixture
def finance(build):
    return build.user(roles=["finance"])


@pytest.fixture
def funded(build, finance):
    return build.budget_period(allocated_pence=1_000_000, actor=finance, around_today=True)


def export(export_format, actor, **settings) -> ExportBatch:
    batch = exports.export_batch(export_format, actor=actor, settings=replace(
        exports.ExportSettings.from_config(current_app.config), **settings))
    db.session.commit()
    return batch


def exported_ids(batch) -> list[int]:
    return list(db.session.scalars(select(ExportedEntry.ledger_entry_id).where(ExportedEntry.batch_id == batch.id)
                                   .order_by(ExportedEntry.ledger_entry_id)))


def rows(batch) -> list[dict]:
    return [row for file in batch.files for row in csv.DictReader(io.StringIO(file.content.decode(), newline=""))]


def refund_of(entry, pence, actor, on=None):
    return ledger.credit(pence, on=on or days_ago(1), actor=actor, memo="Refund", source_type=entry.source_type,
                         source_id=entry.source_id, net_pence=pence, vat_pence=0)


# What a batch takes ----------------------------------------------------------------------------

def test_a_batch_takes_every_payment_and_refund_not_yet_exported_in_ledger_order(build, funded, finance):
    spend = build.direct_purchase(gross_pence=4500, vat_pence=750, on=days_ago(5), actor=finance)
    other = build.direct_purchase(gross_pence=999, on=days_ago(9), receipt="R-2", actor=finance)
    refund = refund_of(spend, 1299, finance)
    ledger.adjust(500, on=days_ago(2), actor=finance, reason="Correction")  # the budget's own: never exported
    db.session.commit()
    batch = export(SAGE, finance)
    assert (batch.format, batch.entry_count, batch.created_by_id) == ("sage", 3, finance.id)
    assert exported_ids(batch) == [spend.id, other.id, refund.id]
    assert [row["Reference"] for row in rows(batch)] == ["R-1001", "R-2", "R-1001"]
    assert [row["Type"] for row in rows(batch)] == ["BP", "BP", "BR"]


def test_with_nothing_new_an_export_is_refused_and_records_nothing(build, funded, finance):
    build.direct_purchase(actor=finance)
    export(XERO, finance)
    with pytest.raises(exports.NothingToExport) as refused:
        exports.export_batch(XERO, actor=finance, settings=exports.ExportSettings.from_config(current_app.config))
    assert refused.value.code == "nothing_to_export" and refused.value.status == 409
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ExportBatch)) == 1


def test_an_empty_ledger_has_nothing_to_export(funded, finance):
    with pytest.raises(exports.NothingToExport):
        export(SAGE, finance)


def test_the_next_batch_takes_only_what_came_since(build, funded, finance):
    first = build.direct_purchase(actor=finance)
    export(XERO, finance)
    second = build.direct_purchase(gross_pence=2000, receipt="R-2", actor=finance)
    assert exported_ids(export(XERO, finance)) == [second.id]
    assert first.id != second.id


def test_each_format_exports_everything_once_of_its_own(build, funded, finance):
    entry = build.direct_purchase(actor=finance)
    assert exported_ids(export(XERO, finance)) == exported_ids(export(SAGE, finance)) == [entry.id]


def test_an_entry_dated_after_today_waits_for_its_day(build, funded, finance):
    """Nothing can be posted ahead of today any more; an export made with the clock set back
    (a machine whose clock was wrong, a batch made just before midnight) still leaves it."""
    today = build.direct_purchase(actor=finance)
    tomorrow = clock.now() + timedelta(days=1)
    with clock.frozen_at(tomorrow):
        ahead = ledger.post_actual(1000, on=clock.today(), actor=finance, memo="Ahead",
                                   source_type=SourceType.STATEMENT_LINE, source_id=1, net_pence=1000, vat_pence=0)
        db.session.commit()
    assert ahead.id not in exported_ids(export(SAGE, finance)) == [today.id]


# Reversals -------------------------------------------------------------------------------------

def test_a_reversed_entry_already_exported_stays_and_its_reversal_goes_out_later_negated(build, funded, finance):
    entry = build.direct_purchase(gross_pence=4500, actor=finance)
    first = export(XERO, finance)
    reversal = ledger.reverse(entry, reason="Duplicate", actor=finance)
    db.session.commit()
    second = export(XERO, finance)
    assert exported_ids(first) == [entry.id] and exported_ids(second) == [reversal.id]
    original, reversing = rows(first), rows(second)
    assert first.files[0].content == db.session.get(ExportFile, first.files[0].id).content  # unchanged
    assert [Decimal(r["*Amount"]) for r in reversing] == [-Decimal(r["*Amount"]) for r in original]
    assert f"reversal of entry {entry.id}" in reversing[0]["*Narration"]
    assert "Duplicate" in reversing[0]["Description"]


def test_an_entry_and_its_reversal_both_unexported_both_go_out_and_cancel(build, funded, finance):
    entry = build.direct_purchase(gross_pence=4500, actor=finance, paid_by="card")
    reversal = ledger.reverse(entry, reason="Wrong card", actor=finance)
    db.session.commit()
    batch = export(SAGE, finance)
    assert exported_ids(batch) == [entry.id, reversal.id]
    assert [(row["Type"], row["Net Amount"]) for row in rows(batch)] == [("CP", "45.00"), ("CR", "45.00")]


def test_a_refund_reversed_goes_back_out_as_a_payment(build, funded, finance):
    entry = build.direct_purchase(gross_pence=4500, actor=finance)
    refund = refund_of(entry, 1000, finance)
    export(SAGE, finance)
    ledger.reverse(refund, reason="Refund bounced", actor=finance)
    db.session.commit()
    assert [row["Type"] for row in rows(export(SAGE, finance))] == ["BP"]


def test_commitments_releases_and_their_reversals_never_leave(build, funded, finance):
    commitment = ledger.commit(5000, on=clock.today(), actor=finance, memo="Held", source_type="request",
                               source_id=1)
    ledger.reverse(commitment, reason="Not needed", actor=finance)
    db.session.commit()
    with pytest.raises(exports.NothingToExport):
        export(XERO, finance)


# Sums, VAT and files ---------------------------------------------------------------------------

@pytest.mark.parametrize("reclaimed", [False, True], ids=["vat not reclaimed", "vat reclaimed"])
def test_a_batch_sums_to_the_ledger_movement_it_covers_and_both_formats_agree(app, build, funded, finance,
                                                                                reclaimed):
    app.config["VAT_RECLAIMED"] = reclaimed
    spend = build.direct_purchase(gross_pence=12000, vat_pence=2000, actor=finance)
    card = build.direct_purchase(gross_pence=3600, vat_pence=600, receipt="R-2", actor=finance, paid_by="card")
    refund_of(spend, 1200, finance)
    ledger.reverse(card, reason="Returned", actor=finance)
    db.session.commit()
    xero, sage = export(XERO, finance), export(SAGE, finance)
    movement = -db.session.scalar(select(func.sum(LedgerEntry.amount_pence)).where(
        LedgerEntry.id.in_(exported_ids(sage))))
    sage_cost = sum(SIGN[r["Type"]] * Decimal(r["Net Amount"]) for r in rows(sage))
    sage_vat = sum(SIGN[r["Type"]] * Decimal(r["Tax Amount"]) for r in rows(sage))
    expense = [r for r in rows(xero) if r["*AccountCode"] == current_app.config["XERO_EXPENSE_ACCOUNT"]]
    xero_cost = sum(Decimal(r["*Amount"]) for r in expense)
    xero_vat = sum(Decimal(r["*Amount"]) / 5 for r in expense if r["*TaxRate"] == "20% (VAT on Expenses)")
    assert sage_cost == xero_cost == Decimal(movement) / 100  # what the budget was charged
    assert sage_vat == xero_vat == (Decimal("20.00") if reclaimed else 0)
    assert {r["Tax Code"] for r in rows(sage)} == ({"T1", "T9"} if reclaimed else {"T9"})  # the refund has no VAT
    assert sum(Decimal(r["*Amount"]) for r in rows(xero)) + xero_vat == 0  # balanced once Xero adds the VAT
    assert (xero.vat_reclaimed, sage.vat_reclaimed) == (reclaimed, reclaimed)


def test_each_file_is_stored_with_its_sha256_and_a_large_xero_batch_is_split(build, funded, finance):
    for n in range(5):
        build.direct_purchase(gross_pence=1000 + n, receipt=f"R-{n}", actor=finance)
    batch = export(XERO, finance, xero_max_lines=4)
    assert [file.number for file in batch.files] == [1, 2, 3]
    assert [file.name for file in batch.files] == [f"safehold-xero-batch-{batch.id}-{n}-of-3.csv" for n in (1, 2, 3)]
    assert all(file.sha256 == hashlib.sha256(file.content).hexdigest() for file in batch.files)
    assert len(rows(batch)) == 10


def test_text_that_a_spreadsheet_would_run_is_neutralised_and_negative_amounts_are_intact(build, funded, finance):
    entry = build.direct_purchase(gross_pence=4500, supplier='=HYPERLINK("http://x","y")', receipt="@SUM(A1:A2)",
                                  actor=finance)
    refund_of(entry, 1250, finance)
    ledger.post_actual(700, on=clock.today(), actor=finance, memo="+cmd", source_type=SourceType.STATEMENT_LINE,
                       source_id=1, net_pence=700, vat_pence=0)
    ledger.post_actual(300, on=clock.today(), actor=finance, memo="-2+3", source_type=SourceType.STATEMENT_LINE,
                       source_id=2, net_pence=300, vat_pence=0)
    db.session.commit()
    sage = list(csv.reader(io.StringIO(export(SAGE, finance).files[0].content.decode(), newline="")))[1:]
    assert [row[5] for row in sage[:2]] == ["'@SUM(A1:A2)", "'@SUM(A1:A2)"]
    assert sage[0][6].startswith("'=HYPERLINK(") and sage[2][6] == "'+cmd" and sage[3][6] == "'-2+3"
    xero = list(csv.reader(io.StringIO(export(XERO, finance).files[0].content.decode(), newline="")))[1:]
    assert xero[0][2].startswith("'=HYPERLINK(") and xero[4][2] == "'+cmd" and xero[6][2] == "'-2+3"
    assert [row[5] for row in xero] == ["45.00", "-45.00", "-12.50", "12.50", "7.00", "-7.00", "3.00", "-3.00"]
    cells = [cell for row in sage + xero for cell in row]
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in cells)
    assert all(cell[1:].replace(".", "").isdigit() for cell in cells if cell.startswith("-"))


# The record cannot be rewritten ----------------------------------------------------------------

def test_the_app_refuses_to_change_a_batch_or_its_files(build, funded, finance):
    build.direct_purchase(actor=finance)
    batch = export(XERO, finance)
    batch.files[0].content = b"rewritten"
    with pytest.raises(AppendOnlyViolation):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("statement_sql", ["UPDATE export_files SET content = :empty",
                                           "DELETE FROM export_batch_entries",
                                           "UPDATE export_batches SET entry_count = 99"])
def test_the_database_refuses_to_rewrite_an_export(build, funded, finance, statement_sql):
    build.direct_purchase(actor=finance)
    export(SAGE, finance)
    with pytest.raises(DBAPIError):
        db.session.execute(text(statement_sql), {"empty": b""})
    db.session.rollback()


def test_the_database_refuses_an_entry_in_two_batches_of_one_format(build, funded, finance):
    entry = build.direct_purchase(actor=finance)
    first = export(XERO, finance)
    second = ExportBatch(format=XERO, created_by_id=finance.id, entry_count=1, vat_reclaimed=False)
    db.session.add(second)
    db.session.flush()
    db.session.add(ExportedEntry(batch_id=second.id, format=XERO, ledger_entry_id=entry.id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert exported_ids(first) == [entry.id]


def test_the_database_keeps_an_entrys_format_its_batchs(build, funded, finance):
    entry = build.direct_purchase(actor=finance)
    batch = export(XERO, finance)
    db.session.add(ExportedEntry(batch_id=batch.id, format=SAGE, ledger_entry_id=entry.id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# Two at once -----------------------------------------------------------------------------------

@pytest.mark.postgres_only
def test_two_exports_at_once_never_put_one_entry_in_two_batches(app, build, funded, finance):
    entries = [build.direct_purchase(gross_pence=1000 + n, receipt=f"R-{n}", actor=finance).id for n in range(20)]
    settings = exports.ExportSettings.from_config(app.config)

    def export_as(user_id):
        exports.export_batch(XERO, actor=db.session.get(User, user_id), settings=settings)

    outcomes = sorted(run_at_once(app, [partial(export_as, finance.id)] * 3))
    assert outcomes == ["nothing_to_export", "nothing_to_export", "ok"]
    db.session.expire_all()
    exported = list(db.session.scalars(select(ExportedEntry.ledger_entry_id).order_by(ExportedEntry.ledger_entry_id)))
    assert exported == sorted(entries)


@pytest.mark.postgres_only
def test_an_export_racing_new_spend_takes_it_now_or_in_the_next_batch_never_twice(app, build, funded, finance):
    build.direct_purchase(actor=finance)
    settings = exports.ExportSettings.from_config(app.config)

    def spend(user_id):
        ledger.post_actual(800, on=clock.today(), actor=db.session.get(User, user_id), memo="Race",
                           source_type=SourceType.STATEMENT_LINE, source_id=9, net_pence=800, vat_pence=0)

    def export_as(user_id):
        exports.export_batch(XERO, actor=db.session.get(User, user_id), settings=settings)

    assert run_at_once(app, [partial(spend, finance.id), partial(export_as, finance.id)]) == ["ok", "ok"]
    db.session.expire_all()
    try:
        export(XERO, finance)
    except exports.NothingToExport:
        db.session.rollback()
    kinds = db.session.execute(select(LedgerEntry.kind, func.count(ExportedEntry.id))
                               .join(ExportedEntry, ExportedEntry.ledger_entry_id == LedgerEntry.id)
                               .group_by(LedgerEntry.id, LedgerEntry.kind)).all()
    assert sorted(kinds) == [(EntryKind.ACTUAL, 1), (EntryKind.ACTUAL, 1)]
