"""Reconciliation use cases against a real database: import, proposals, matching,
unmatching, reconciling and exceptions (exports: test_export_batches.py)."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from inventory import clock
from inventory.audit.models import AppendOnlyViolation
from inventory.budget import ledger
from inventory.budget.models import LedgerEntry, SourceType
from inventory.errors import Conflict, InvalidInput, NotFound
from inventory.extensions import db
from inventory.reconciliation import operations, queries
from inventory.reconciliation.models import (
    Match,
    MatchAllocation,
    ReconciliationEvent,
    Statement,
    StatementLine,
)
from inventory.reconciliation.operations import Pair
from inventory.reconciliation.statement_csv import ColumnMapping

MAPPING = ColumnMapping(date="Date", description="Description", amount="Amount", reference="Reference")


def days_ago(n):
    return clock.today() - timedelta(days=n)


@pytest.fixture
def finance(build):
    return build.user(roles=["finance"])


@pytest.fixture
def funded(build, finance):
    return build.budget_period(allocated_pence=1_000_000, actor=finance, around_today=True)


def import_text(text, finance, account="Current account"):
    statement = operations.import_statement(data=text.encode(), filename="s.csv", account=account, mapping=MAPPING,
                                            actor=finance, max_bytes=1024 * 1024)
    db.session.commit()
    return statement


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def lines_of(statement):
    return list(db.session.scalars(select(StatementLine).where(StatementLine.statement_id == statement.id)
                                   .order_by(StatementLine.line_number)))


# Import ------------------------------------------------------------------------------------

def test_an_imported_statement_keeps_each_line_with_its_signed_amount(finance):
    statement = import_text("Date,Description,Amount,Reference\n"
                            "03/11/2026,LOCKSMITH DIRECT,-45.00,R-1001\n"
                            "04/11/2026,REFUND ALARMS LTD,£12.99,CN-4\n", finance)
    assert (statement.line_count, statement.new_count, statement.duplicate_count) == (2, 2, 0)
    assert [(l.line_number, l.description, l.amount_pence, l.reference) for l in lines_of(statement)] == [
        (2, "LOCKSMITH DIRECT", -4500, "R-1001"), (3, "REFUND ALARMS LTD", 1299, "CN-4")]
    assert db.session.scalar(select(ReconciliationEvent.kind)) == "statement_imported"


def test_reimporting_an_overlapping_file_adds_only_the_new_lines(finance):
    first = ("Date,Description,Amount,Reference\n"
             "03/11/2026,BUS,-2.00,\n03/11/2026,BUS,-2.00,\n04/11/2026,TAXI,-9.00,\n")
    import_text(first, finance)
    second = import_text(first + "03/11/2026,BUS,-2.00,\n05/11/2026,LOCKS,-45.00,\n", finance)
    assert (second.line_count, second.new_count, second.duplicate_count) == (5, 2, 3)
    assert count(StatementLine) == 5
    assert sorted(l.amount_pence for l in lines_of(second)) == [-4500, -200]


def test_two_identical_payments_on_the_same_day_in_one_file_are_both_kept(finance):
    statement = import_text("Date,Description,Amount,Reference\n03/11/2026,BUS,-2.00,\n03/11/2026,BUS,-2.00,\n",
                            finance)
    assert statement.new_count == 2 and count(StatementLine) == 2


def test_the_same_file_for_another_account_is_not_a_duplicate(finance):
    text = "Date,Description,Amount,Reference\n03/11/2026,BUS,-2.00,\n"
    import_text(text, finance, account="Card 1234")
    assert import_text(text, finance, account="Card 9876").new_count == 1


@pytest.mark.parametrize("data", [
    b"",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00",
    b"Posted,Narrative,Value\n03/11/2026,x,1.00\n",
    b"Date,Description,Amount,Reference\n03/11/2026,ok,-1.00,\n03/11/2026,bad,-1.001,\n",
])
def test_a_bad_file_writes_nothing(finance, data):
    with pytest.raises(InvalidInput):
        operations.import_statement(data=data, filename="s.csv", account="Card", mapping=MAPPING, actor=finance,
                                    max_bytes=1024 * 1024)
    db.session.rollback()
    assert count(Statement) == 0 and count(StatementLine) == 0 and count(ReconciliationEvent) == 0


def test_an_import_needs_an_account_name(finance):
    with pytest.raises(InvalidInput) as caught:
        operations.import_statement(data=b"Date,Description,Amount\n03/11/2026,x,1.00\n", filename="s.csv",
                                    account="  ", mapping=MAPPING, actor=finance, max_bytes=1024)
    assert "account" in caught.value.fields


# Proposals ---------------------------------------------------------------------------------

def test_an_entry_of_the_same_amount_within_the_window_is_proposed_best_first(build, funded, finance):
    lock = build.direct_purchase(gross_pence=4500, on=days_ago(12), supplier="Locksmith Direct", actor=finance)
    other = build.direct_purchase(gross_pence=4500, on=days_ago(10), supplier="Tesco", receipt="T-9", actor=finance)
    build.direct_purchase(gross_pence=4501, on=days_ago(10), actor=finance)  # another amount
    build.direct_purchase(gross_pence=4500, on=days_ago(30), actor=finance)  # outside the window
    statement = build.statement([(days_ago(10), "CARD LOCKSMITH DIRECT", "-45.00", "")], actor=finance)
    [line] = lines_of(statement)
    proposals = queries.proposals_for(line, window_days=5)
    assert [p.entry.id for p in proposals] == [lock.id, other.id]
    assert proposals[0].score > proposals[1].score
    assert proposals[0].reasons[0] == "Same amount (£45.00): 50"


def test_a_rejected_proposal_is_not_proposed_again(build, funded, finance):
    entry = build.direct_purchase(gross_pence=4500, on=days_ago(5), actor=finance)
    [line] = lines_of(build.statement([(days_ago(5), "LOCKSMITH", "-45.00", "")], actor=finance))
    operations.reject_proposal(line.id, entry.id, actor=finance)
    db.session.commit()
    assert queries.proposals_for(line, window_days=5) == []
    assert db.session.scalar(select(ReconciliationEvent.kind).order_by(ReconciliationEvent.id.desc()).limit(1)) == \
        "proposal_rejected"


def test_money_in_is_not_proposed_for_money_out(build, funded, finance):
    build.direct_purchase(gross_pence=4500, on=days_ago(5), actor=finance)
    [line] = lines_of(build.statement([(days_ago(5), "LOCKSMITH", "45.00", "")], actor=finance))
    assert queries.proposals_for(line, window_days=5) == []


def test_a_matched_or_reversed_entry_is_not_proposed(build, funded, finance):
    matched = build.direct_purchase(gross_pence=4500, on=days_ago(5), actor=finance)
    reversed_ = build.direct_purchase(gross_pence=4500, on=days_ago(5), receipt="R-2", actor=finance)
    ledger.reverse(reversed_, reason="Keyed twice", actor=finance)
    first, second = lines_of(build.statement([(days_ago(5), "A", "-45.00", ""), (days_ago(5), "B", "-45.00", "")],
                                             actor=finance))
    operations.create_match(pairs=[Pair(first.id, matched.id)], actor=finance)
    db.session.commit()
    assert queries.proposals_for(second, window_days=5) == []


# Matching ----------------------------------------------------------------------------------

def test_one_line_can_match_several_entries(build, funded, finance):
    lock = build.direct_purchase(gross_pence=3000, on=days_ago(5), actor=finance)
    alarm = build.direct_purchase(gross_pence=1500, on=days_ago(5), receipt="R-2", actor=finance)
    [line] = lines_of(build.statement([(days_ago(4), "SHOP", "-45.00", "")], actor=finance))
    match = operations.create_match(pairs=[Pair(line.id, lock.id), Pair(line.id, alarm.id)], actor=finance)
    db.session.commit()
    assert [(a.ledger_entry_id, a.amount_pence) for a in match.allocations] == [(lock.id, 3000), (alarm.id, 1500)]
    assert line.remaining_pence == 0


def test_several_lines_can_match_one_entry(build, funded, finance):
    entry = build.direct_purchase(gross_pence=4500, on=days_ago(5), actor=finance)
    first, second = lines_of(build.statement([(days_ago(5), "PART 1", "-20.00", ""),
                                              (days_ago(4), "PART 2", "-25.00", "")], actor=finance))
    operations.create_match(pairs=[Pair(first.id, entry.id)], actor=finance)
    operations.create_match(pairs=[Pair(second.id, entry.id)], actor=finance)
    db.session.commit()
    assert queries.entry_allocated_pence([entry.id]) == {entry.id: 4500}
    assert first.remaining_pence == second.remaining_pence == 0


def test_a_line_is_never_allocated_beyond_its_amount(build, funded, finance):
    entry = build.direct_purchase(gross_pence=9000, on=days_ago(5), actor=finance)
    [line] = lines_of(build.statement([(days_ago(5), "X", "-45.00", "")], actor=finance))
    with pytest.raises(Conflict) as caught:
        operations.create_match(pairs=[Pair(line.id, entry.id, 4501)], actor=finance)
    assert caught.value.code == "over_allocated"
    db.session.rollback()
    assert count(Match) == 0 and count(MatchAllocation) == 0


def test_an_entry_is_never_allocated_beyond_its_amount(build, funded, finance):
    entry = build.direct_purchase(gross_pence=4500, on=days_ago(5), actor=finance)
    first, second = lines_of(build.statement([(days_ago(5), "A", "-45.00", ""), (days_ago(5), "B", "-10.00", "")],
                                             actor=finance))
    operations.create_match(pairs=[Pair(first.id, entry.id)], actor=finance)
    db.session.commit()
    with pytest.raises(Conflict) as caught:
        operations.create_match(pairs=[Pair(second.id, entry.id, 100)], actor=finance)
    assert caught.value.code == "over_allocated" and caught.value.details["remaining_pence"] == 0


@pytest.mark.parametrize("pairs_of, code", [
    (lambda line, entry, other: [Pair(line.id, other["adjustment"].id)], "entry_not_reconcilable"),
    (lambda line, entry, other: [Pair(line.id, other["allocation"].id)], "direction_mismatch"),
    (lambda line, entry, other: [Pair(line.id, 999_999)], "not_found"),
    (lambda line, entry, other: [Pair(999_999, entry.id)], "not_found"),
    (lambda line, entry, other: [], "invalid_input"),
    (lambda line, entry, other: [Pair(line.id, entry.id, 0)], "invalid_input"),
    (lambda line, entry, other: [Pair(line.id, entry.id, -5)], "invalid_input"),
    (lambda line, entry, other: [Pair(line.id, entry.id, 100), Pair(line.id, entry.id, 100)], "invalid_input"),
])
def test_impossible_matches_are_refused_and_write_nothing(build, funded, finance, pairs_of, code):
    entry = build.direct_purchase(gross_pence=4500, on=days_ago(5), actor=finance)
    other = {"allocation": ledger.allocate(funded, 100, actor=finance, memo="More funding"),
             "adjustment": ledger.adjust(-4500, on=days_ago(5), actor=finance, reason="Journal")}
    db.session.commit()
    [line] = lines_of(build.statement([(days_ago(5), "X", "-45.00", "")], actor=finance))
    with pytest.raises((Conflict, InvalidInput, NotFound)) as caught:
        operations.create_match(pairs=pairs_of(line, entry, other), actor=finance)
    assert caught.value.code == code
    db.session.rollback()
    assert count(Match) == 0


def test_money_out_cannot_match_a_credit(build, funded, finance):
    purchase = build.direct_purchase(gross_pence=4500, on=days_ago(6), actor=finance)
    refund = ledger.credit(4500, on=days_ago(5), actor=finance, memo="Refund", source_type=SourceType.DIRECT_PURCHASE,
                           source_id=purchase.source_id, net_pence=4500, vat_pence=0)
    db.session.commit()
    [line] = lines_of(build.statement([(days_ago(5), "X", "-45.00", "")], actor=finance))
    with pytest.raises(Conflict) as caught:
        operations.create_match(pairs=[Pair(line.id, refund.id)], actor=finance)
    assert caught.value.code == "direction_mismatch"


def test_a_reversed_entry_cannot_be_matched(build, funded, finance):
    entry = build.direct_purchase(gross_pence=4500, on=days_ago(5), actor=finance)
    ledger.reverse(entry, reason="Wrong supplier", actor=finance)
    db.session.commit()
    [line] = lines_of(build.statement([(days_ago(5), "X", "-45.00", "")], actor=finance))
    with pytest.raises(Conflict) as caught:
        operations.create_match(pairs=[Pair(line.id, entry.id)], actor=finance)
    assert caught.value.code == "entry_reversed"


def test_unmatching_frees_the_line_reopens_it_and_leaves_a_trail(build, funded, finance):
    entry = build.direct_purchase(gross_pence=4500, on=days_ago(5), actor=finance)
    [line] = lines_of(build.statement([(days_ago(5), "X", "-45.00", "")], actor=finance))
    match = operations.create_match(pairs=[Pair(line.id, entry.id)], actor=finance)
    operations.mark_reconciled(line.id, actor=finance)
    db.session.commit()
    match_id = match.id
    operations.remove_match(match_id, actor=finance)
    db.session.commit()
    assert (line.allocated_pence, line.is_reconciled) == (0, False)
    assert count(Match) == 0 and count(MatchAllocation) == 0
    events = list(db.session.scalars(select(ReconciliationEvent).where(ReconciliationEvent.match_id == match_id)
                                     .order_by(ReconciliationEvent.id)))
    assert [e.kind for e in events] == ["matched", "unmatched"]
    assert events[1].details["allocations"] == [{"statement_line_id": line.id, "ledger_entry_id": entry.id,
                                                 "amount_pence": 4500}]
    assert events[1].details["reopened_lines"] == [line.id]


def test_unmatching_a_match_that_is_gone_is_not_found(finance):
    with pytest.raises(NotFound):
        operations.remove_match(12345, actor=finance)


# Reversing matched money -------------------------------------------------------------------

def test_a_matched_entry_cannot_be_reversed_and_nothing_is_written(build, funded, finance):
    entry = build.direct_purchase(gross_pence=4500, on=days_ago(5), actor=finance)
    [line] = lines_of(build.statement([(days_ago(5), "LOCKSMITH", "-45.00", "")], actor=finance))
    operations.create_match(pairs=[Pair(line.id, entry.id, 2000)], actor=finance)  # part of it is enough
    db.session.commit()
    before = (count(LedgerEntry), ledger.available_pence(funded))
    with pytest.raises(Conflict) as caught:
        ledger.reverse(entry, reason="Wrong supplier", actor=finance)
    assert caught.value.code == "entry_matched"
    assert caught.value.message == (f"This entry is matched to statement line {line.id}, so its money is frozen. "
                                    "Unmatch it in reconciliation first, then reverse it.")
    assert caught.value.details == {"ledger_entry_id": entry.id, "statement_line_ids": [line.id]}
    assert (count(LedgerEntry), ledger.available_pence(funded)) == before
    db.session.rollback()
    assert queries.entry_allocated_pence([entry.id]) == {entry.id: 2000}


@pytest.mark.parametrize("amount, kind", [("-45.00", "actual"), ("12.99", "credit")])
def test_money_posted_from_a_statement_line_cannot_be_reversed_while_matched(build, funded, finance, amount, kind):
    [line] = lines_of(build.statement([(days_ago(5), "BANK", amount, "")], actor=finance))
    entry = operations.post_line_to_ledger(line.id, category="Bank charges", memo="", actor=finance).allocations[0].ledger_entry
    db.session.commit()
    assert entry.kind == kind
    with pytest.raises(Conflict) as caught:
        ledger.reverse(entry, reason="Posted by mistake", actor=finance)
    assert caught.value.code == "entry_matched"


def test_once_unmatched_a_reconciled_entry_can_be_reversed(build, funded, finance):
    entry = build.direct_purchase(gross_pence=4500, on=days_ago(5), actor=finance)
    [line] = lines_of(build.statement([(days_ago(5), "LOCKSMITH", "-45.00", "")], actor=finance))
    match_id = operations.create_match(pairs=[Pair(line.id, entry.id)], actor=finance).id
    operations.mark_reconciled(line.id, actor=finance)
    db.session.commit()
    with pytest.raises(Conflict):
        ledger.reverse(entry, reason="Wrong supplier", actor=finance)
    db.session.rollback()
    operations.remove_match(match_id, actor=finance)
    reversal = ledger.reverse(entry, reason="Wrong supplier", actor=finance)
    db.session.commit()
    assert reversal.reverses_id == entry.id
    assert ledger.available_pence(funded) == 1_000_000


def test_only_a_fully_matched_line_can_be_marked_reconciled(build, funded, finance):
    entry = build.direct_purchase(gross_pence=3000, on=days_ago(5), actor=finance)
    [line] = lines_of(build.statement([(days_ago(5), "X", "-45.00", "")], actor=finance))
    operations.create_match(pairs=[Pair(line.id, entry.id)], actor=finance)
    with pytest.raises(Conflict) as caught:
        operations.mark_reconciled(line.id, actor=finance)
    assert caught.value.code == "not_fully_matched" and caught.value.details["remaining_pence"] == 1500


# What the database guards ------------------------------------------------------------------

def test_the_app_refuses_to_change_a_statement_lines_money(build, finance):
    [line] = lines_of(build.statement([(days_ago(5), "X", "-45.00", "")], actor=finance))
    line.amount_pence = -1
    with pytest.raises(AppendOnlyViolation):
        db.session.flush()


@pytest.mark.parametrize("statement_sql", [
    "UPDATE statement_lines SET amount_pence = -1",
    "UPDATE statement_lines SET value_date = value_date + 1",
    "DELETE FROM statement_lines",
])
def test_the_database_refuses_to_change_or_delete_a_statement_line(build, finance, statement_sql):
    build.statement([(days_ago(5), "X", "-45.00", "")], actor=finance)
    if "value_date + 1" in statement_sql and db.engine.dialect.name == "sqlite":
        statement_sql = "UPDATE statement_lines SET value_date = '2000-01-01'"
    with pytest.raises(DBAPIError):
        db.session.execute(text(statement_sql))
        db.session.flush()
    db.session.rollback()


def test_the_database_refuses_a_line_allocated_beyond_its_amount(build, finance):
    build.statement([(days_ago(5), "X", "-45.00", "")], actor=finance)
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE statement_lines SET allocated_pence = 4501"))
    db.session.rollback()


def test_the_database_refuses_a_reconciled_line_that_is_not_fully_matched(build, finance):
    build.statement([(days_ago(5), "X", "-45.00", "")], actor=finance)
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE statement_lines SET reconciled_at = CURRENT_TIMESTAMP, "
                                f"reconciled_by_id = {finance.id}"))
    db.session.rollback()


# Exceptions --------------------------------------------------------------------------------

def test_exceptions_list_old_unreconciled_lines_and_unmatched_entries(build, funded, finance):
    old_entry = build.direct_purchase(gross_pence=4500, on=days_ago(40), actor=finance)
    build.direct_purchase(gross_pence=1000, on=days_ago(3), receipt="R-new", actor=finance)
    matched_entry = build.direct_purchase(gross_pence=2000, on=days_ago(45), receipt="R-m", actor=finance)
    old, recent, matched = lines_of(build.statement([(days_ago(41), "OLD", "-99.00", ""),
                                                     (days_ago(2), "NEW", "-1.00", ""),
                                                     (days_ago(44), "M", "-20.00", "")], actor=finance))
    operations.create_match(pairs=[Pair(matched.id, matched_entry.id)], actor=finance)
    operations.mark_reconciled(matched.id, actor=finance)
    db.session.commit()
    cutoff = days_ago(30)
    assert list(db.session.scalars(queries.unmatched_lines(cutoff))) == [old]
    funding = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "allocation"))  # the grant, not yet seen
    assert [(entry.id, allocated, bank) for entry, allocated, bank
            in db.session.execute(queries.unreconciled_entries(cutoff))] == [(funding.id, 0, 1_000_000),
                                                                              (old_entry.id, 0, 4500)]


def test_a_long_statement_is_deduplicated_in_batches(finance):
    rows = "".join(f"03/11/2026,PAYMENT {n},-1.00,\n" for n in range(1200))
    text = "Date,Description,Amount,Reference\n" + rows
    import_text(text, finance)
    again = import_text(text + "04/11/2026,NEW,-2.00,\n", finance)
    assert (again.new_count, again.duplicate_count) == (1, 1200)


def test_the_app_refuses_to_delete_a_statement_line(build, finance):
    [line] = lines_of(build.statement([(days_ago(5), "X", "-45.00", "")], actor=finance))
    db.session.delete(line)
    with pytest.raises(AppendOnlyViolation):
        db.session.flush()


@pytest.mark.parametrize("statement_sql", ["UPDATE reconciliation_events SET kind = 'matched'",
                                           "DELETE FROM reconciliation_events"])
def test_the_reconciliation_trail_cannot_be_rewritten(build, finance, statement_sql):
    build.statement([(days_ago(5), "X", "-45.00", "")], actor=finance)
    with pytest.raises(DBAPIError):
        db.session.execute(text(statement_sql))
    db.session.rollback()
    assert count(ReconciliationEvent) == 1


# Posting a line the ledger does not know of ---------------------------------------------------

def test_a_bank_fee_is_posted_as_spend_linked_to_its_line_and_matched(build, funded, finance):
    [line] = lines_of(build.statement([(days_ago(3), "MONTHLY ACCOUNT FEE", "-5.00", "")], actor=finance))
    match = operations.post_line_to_ledger(line.id, category="Bank charges", memo="", actor=finance)
    db.session.commit()
    [allocation] = match.allocations
    entry = allocation.ledger_entry
    assert (entry.kind, entry.amount_pence, entry.entry_date, entry.category) == ("actual", -500, days_ago(3),
                                                                                 "Bank charges")
    assert (entry.source_type, entry.source_id) == ("statement_line", line.id)
    assert entry.memo == f"MONTHLY ACCOUNT FEE (statement line {line.id})"
    assert line.remaining_pence == 0 and ledger.available_pence(funded) == 1_000_000 - 500


def test_money_in_is_posted_as_a_credit(build, funded, finance):
    [line] = lines_of(build.statement([(days_ago(3), "REFUND", "12.99", "")], actor=finance))
    match = operations.post_line_to_ledger(line.id, category="Personal alarm", memo="Alarm refund", actor=finance)
    assert (match.allocations[0].ledger_entry.kind, match.allocations[0].ledger_entry.amount_pence) == ("credit", 1299)
    assert match.allocations[0].ledger_entry.category == "Personal alarm"


def test_only_what_is_left_of_a_line_is_posted(build, funded, finance):
    entry = build.direct_purchase(gross_pence=3000, on=days_ago(3), actor=finance)
    [line] = lines_of(build.statement([(days_ago(3), "SHOP", "-45.00", "")], actor=finance))
    operations.create_match(pairs=[Pair(line.id, entry.id)], actor=finance)
    match = operations.post_line_to_ledger(line.id, category="Locks", memo="Second lock", actor=finance)
    assert match.allocations[0].amount_pence == 1500 and line.remaining_pence == 0
    with pytest.raises(Conflict) as caught:
        operations.post_line_to_ledger(line.id, category="Locks", memo="", actor=finance)
    assert caught.value.code == "already_matched"


@pytest.mark.parametrize("category", [" ", "Sundries"])
def test_posting_a_line_needs_a_category_from_the_list(build, funded, finance, category):
    [line] = lines_of(build.statement([(days_ago(3), "FEE", "-5.00", "")], actor=finance))
    with pytest.raises(InvalidInput) as caught:
        operations.post_line_to_ledger(line.id, category=category, memo="", actor=finance)
    assert "Bank charges" in caught.value.fields["category"]


def test_a_line_in_a_closed_month_cannot_be_posted(build, funded, finance):
    from inventory.budget import operations as budget

    day = clock.today().replace(day=1) - timedelta(days=20)
    [line] = lines_of(build.statement([(day, "FEE", "-5.00", "")], actor=finance))
    budget.close_month(day, actor=finance)
    db.session.commit()
    with pytest.raises(Conflict) as caught:
        operations.post_line_to_ledger(line.id, category="Bank charges", memo="", actor=finance)
    assert caught.value.code == "period_closed"
    db.session.rollback()
    assert count(Match) == 0 and ledger.available_pence(funded) == 1_000_000


def test_a_line_is_signed_off_whole_even_when_the_actor_must_be_reloaded(build, funded, finance):
    entry = build.direct_purchase(gross_pence=4500, on=days_ago(5), actor=finance)
    [line] = lines_of(build.statement([(days_ago(5), "X", "-45.00", "")], actor=finance))
    operations.create_match(pairs=[Pair(line.id, entry.id)], actor=finance)
    db.session.commit()  # expires the actor: reading its id now refreshes it, with an autoflush
    operations.mark_reconciled(line.id, actor=finance)
    db.session.commit()
    assert line.is_reconciled and line.reconciled_by_id == finance.id
