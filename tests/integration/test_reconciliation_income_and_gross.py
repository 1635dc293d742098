"""The grant paid in matches its allocation; matching compares the bank's (gross) amount
whether or not VAT is reclaimed; a statement file waits between the upload's two steps."""
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select

from inventory import clock
from inventory.budget import ledger
from inventory.budget.models import LedgerEntry
from inventory.errors import Conflict, InvalidInput, NotFound
from inventory.extensions import db
from inventory.reconciliation import exports, operations, queries
from inventory.reconciliation.models import ExportedEntry, ExportFormat, Statement, StatementLine, StatementUpload
from inventory.reconciliation.operations import Pair
from inventory.reconciliation.statement_csv import ColumnMapping

HSBC = b"31/10/2026,PCC GRANT Q3,\"12,500.00\"\n03/11/2026,LOCKSMITH DIRECT,-45.00\n"
LIMIT = 1024 * 1024


def days_ago(n):
    return clock.today() - timedelta(days=n)


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def finance(build):
    return build.user(roles=["finance"])


@pytest.fixture
def funded(build, finance):
    return build.budget_period(allocated_pence=1_000_000, actor=finance, around_today=True)


def line_of(build, finance, amount: str, day=None, description="BANK LINE"):
    statement = build.statement([(day or days_ago(3), description, amount, "")], actor=finance)
    return db.session.scalar(select(StatementLine).where(StatementLine.statement_id == statement.id))


# Income -------------------------------------------------------------------------------------

def test_the_grant_paid_in_is_proposed_for_its_allocation_and_matches_it(build, funded, finance):
    grant = ledger.allocate(funded, 1_250_000, actor=finance, memo="PCC grant Q3", on=days_ago(3))
    db.session.commit()
    line = line_of(build, finance, "12500.00", description="PCC GRANT Q3")
    [proposal] = queries.proposals_for(line, window_days=7)
    assert (proposal.entry.id, proposal.amount_pence, proposal.score) == (grant.id, 1_250_000, 100)
    match = operations.create_match(pairs=[Pair(line.id, grant.id)], actor=finance)
    db.session.commit()
    assert match.total_pence == 1_250_000 and line.remaining_pence == 0
    operations.mark_reconciled(line.id, actor=finance)
    assert grant.id not in [entry.id for entry, _, _ in db.session.execute(queries.unreconciled_entries(clock.today()))]


def test_a_grant_paid_in_instalments_matches_one_allocation_line_by_line(build, funded, finance):
    grant = ledger.allocate(funded, 2_000_000, actor=finance, memo="PCC grant", on=days_ago(10))
    db.session.commit()
    first, second = line_of(build, finance, "10000.00"), line_of(build, finance, "10000.00", days_ago(2))
    assert queries.proposals_for(first, window_days=7) == []  # not the same amount: matched by hand
    operations.create_match(pairs=[Pair(first.id, grant.id), Pair(second.id, grant.id)], actor=finance)
    with pytest.raises(Conflict) as caught:
        operations.create_match(pairs=[Pair(line_of(build, finance, "1.00").id, grant.id)], actor=finance)
    assert caught.value.code == "over_allocated"


def test_money_out_is_never_matched_or_proposed_with_income(build, funded, finance):
    ledger.allocate(funded, 4500, actor=finance, memo="Top-up", on=days_ago(3))
    db.session.commit()
    line = line_of(build, finance, "-45.00")
    assert queries.proposals_for(line, window_days=7) == []
    assert all(entry.kind != "allocation" for entry, _, _ in db.session.execute(
        queries.matchable_entries(around=line.value_date, window_days=31, money_out=True)))


def test_a_reversed_allocation_is_not_proposed_and_cannot_be_matched(build, funded, finance):
    grant = ledger.allocate(funded, 5000, actor=finance, memo="Mistake", on=days_ago(3))
    ledger.reverse(grant, reason="Entered twice", actor=finance)
    db.session.commit()
    line = line_of(build, finance, "50.00")
    assert queries.proposals_for(line, window_days=7) == []
    with pytest.raises(Conflict) as caught:
        operations.create_match(pairs=[Pair(line.id, grant.id)], actor=finance)
    assert caught.value.code == "entry_reversed"


def test_a_matched_allocation_cannot_be_reversed_until_unmatched(build, funded, finance):
    grant = ledger.allocate(funded, 5000, actor=finance, memo="Grant", on=days_ago(3))
    db.session.commit()
    match = operations.create_match(pairs=[Pair(line_of(build, finance, "50.00").id, grant.id)], actor=finance)
    db.session.commit()
    with pytest.raises(Conflict) as caught:
        ledger.reverse(grant, reason="Wrong", actor=finance)
    assert caught.value.code == "entry_matched"
    db.session.rollback()
    operations.remove_match(match.id, actor=finance)
    ledger.reverse(db.session.get(LedgerEntry, grant.id), reason="Wrong", actor=finance)


def test_income_matched_in_reconciliation_is_never_exported_as_spend(build, funded, finance):
    grant = ledger.allocate(funded, 5000, actor=finance, memo="Top-up", on=days_ago(4))
    spend = build.direct_purchase(gross_pence=4500, on=days_ago(4), actor=finance)
    db.session.commit()
    batch = exports.export_batch(ExportFormat.SAGE, actor=finance,
                                 settings=exports.ExportSettings.from_config(current_app.config))
    assert list(db.session.scalars(select(ExportedEntry.ledger_entry_id).where(ExportedEntry.batch_id == batch.id))) == [
        spend.id]
    assert grant.kind in queries.BANK_KINDS


# The bank's amount is the gross ------------------------------------------------------------

@pytest.fixture(params=[False, True], ids=["vat not reclaimed", "vat reclaimed"])
def vat_reclaimed(app, request):
    app.config["VAT_RECLAIMED"] = request.param
    return request.param


def test_a_payment_is_proposed_and_matched_at_the_gross_the_bank_paid(build, funded, finance, vat_reclaimed):
    entry = build.direct_purchase(gross_pence=12000, vat_pence=2000, on=days_ago(3), actor=finance)
    assert entry.amount_pence == (-10000 if vat_reclaimed else -12000)
    line = line_of(build, finance, "-120.00")
    [proposal] = queries.proposals_for(line, window_days=7)
    assert (proposal.entry.id, proposal.amount_pence) == (entry.id, 12000)
    match = operations.create_match(pairs=[Pair(line.id, entry.id)], actor=finance)
    assert match.total_pence == 12000 and line.remaining_pence == 0
    db.session.commit()
    assert entry.id not in [e.id for e, _, _ in db.session.execute(queries.unreconciled_entries(clock.today()))]


def test_the_net_amount_alone_is_not_what_the_bank_paid(build, funded, finance, vat_reclaimed):
    entry = build.direct_purchase(gross_pence=12000, vat_pence=2000, on=days_ago(3), actor=finance)
    net_line = line_of(build, finance, "-100.00")
    assert queries.proposals_for(net_line, window_days=7) == []
    operations.create_match(pairs=[Pair(net_line.id, entry.id)], actor=finance)  # part of it, by hand
    [(listed, allocated, bank)] = [row for row in db.session.execute(queries.unreconciled_entries(clock.today()))
                                   if row[0].id == entry.id]
    assert (allocated, bank) == (10000, 12000)  # £20 of VAT still to find in the bank
    with pytest.raises(Conflict) as caught:
        operations.create_match(pairs=[Pair(line_of(build, finance, "-20.01").id, entry.id, 2001)], actor=finance)
    assert caught.value.code == "over_allocated" and caught.value.details["remaining_pence"] == 2000


def test_a_supplier_refund_is_matched_at_its_gross_too(build, funded, finance, vat_reclaimed):
    line = line_of(build, finance, "-60.00")
    refund_line = line_of(build, finance, "60.00")
    operations.post_line_to_ledger(line.id, category="Locks", memo="Lock", actor=finance)
    credit = ledger.credit(6000, on=days_ago(3), actor=finance, memo="Refund", source_type="statement_line",
                           source_id=refund_line.id, net_pence=5000, vat_pence=1000)
    assert credit.amount_pence == (5000 if vat_reclaimed else 6000)
    [proposal] = queries.proposals_for(refund_line, window_days=7)
    assert (proposal.entry.id, proposal.amount_pence) == (credit.id, 6000)


# The upload's two steps ---------------------------------------------------------------------

def keep(finance, data=HSBC, account="Current account"):
    return operations.keep_upload(data=data, filename="hsbc.csv", account=account, actor=finance, max_bytes=LIMIT)


def test_a_kept_upload_imports_once_and_is_then_forgotten(finance):
    upload = keep(finance)
    db.session.commit()
    statement = operations.import_upload(upload.token, mapping=ColumnMapping(date=1, description=2, amount=3,
                                                                             has_header=False),
                                         actor=finance, max_bytes=LIMIT)
    db.session.commit()
    assert (statement.account, statement.filename, statement.new_count) == ("Current account", "hsbc.csv", 2)
    assert count(StatementUpload) == 0
    with pytest.raises(NotFound):
        operations.import_upload(upload.token, mapping=ColumnMapping(date=1, description=2, amount=3,
                                                                     has_header=False),
                                 actor=finance, max_bytes=LIMIT)


def test_a_refused_import_keeps_the_upload_to_choose_other_columns(finance):
    upload = keep(finance)
    db.session.commit()
    with pytest.raises(InvalidInput):
        operations.import_upload(upload.token, mapping=ColumnMapping(date=2, description=1, amount=3,
                                                                     has_header=False),
                                 actor=finance, max_bytes=LIMIT)
    db.session.rollback()
    assert count(StatementUpload) == 1 and count(Statement) == 0


def test_an_upload_is_its_uploaders_alone(build, finance):
    upload = keep(finance)
    db.session.commit()
    with pytest.raises(NotFound):
        operations.kept_upload(upload.token, actor=build.user(roles=["finance"]))
    with pytest.raises(NotFound):
        operations.kept_upload("not-a-token", actor=finance)


def test_an_upload_expires_and_goes_with_the_next_one(finance):
    old = keep(finance)
    db.session.commit()
    later = clock.now() + operations.UPLOAD_KEPT_FOR + timedelta(seconds=1)
    with clock.frozen_at(later):
        with pytest.raises(NotFound):
            operations.kept_upload(old.token, actor=finance)
        new = keep(finance)
        db.session.commit()
    assert list(db.session.scalars(select(StatementUpload.token))) == [new.token]


@pytest.mark.parametrize("data, account, field", [
    (b"", "Current account", "file"),
    (b"\x00\x01binary", "Current account", "file"),
    (HSBC, " ", "account"),
])
def test_an_unreadable_file_or_no_account_is_refused_at_the_first_step_and_kept_nowhere(finance, data, account,
                                                                                          field):
    with pytest.raises(InvalidInput) as caught:
        keep(finance, data=data, account=account)
    assert field in caught.value.fields
    db.session.rollback()
    assert count(StatementUpload) == 0
