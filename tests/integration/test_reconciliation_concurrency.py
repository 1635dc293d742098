"""Races on matching and importing, with real threads and real PostgreSQL connections."""
from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import func, select

from inventory import clock
from inventory.accounts.models import User
from inventory.budget import ledger
from inventory.budget.models import LedgerEntry
from inventory.budget.verification import verify_ledger
from inventory.extensions import db
from inventory.reconciliation import operations, queries
from inventory.reconciliation.models import MatchAllocation, Statement, StatementLine
from inventory.reconciliation.operations import Pair
from inventory.reconciliation.statement_csv import ColumnMapping
from tests.concurrency import run_at_once

# Their commitments name made-up sources (request 1, ...): no order or request stands behind them.
pytestmark = [pytest.mark.postgres_only, pytest.mark.usefixtures("made_up_sources")]


def race(app, finance_id, actions):
    """Each action(actor) at the same moment; sorted outcomes ("ok" or an error code)."""
    return sorted(run_at_once(app, [partial(_as, action, finance_id) for action in actions]))


def _as(action, user_id):
    action(db.session.get(User, user_id))


@pytest.fixture
def finance(build):
    user = build.user(roles=["finance"])
    build.budget_period(allocated_pence=1_000_000, actor=user)
    return user


def lines(build, finance, *amounts):
    day = clock.today() - timedelta(days=3)
    statement = build.statement([(day, f"LINE {n}", amount, "") for n, amount in enumerate(amounts)], actor=finance)
    return list(db.session.scalars(select(StatementLine).where(StatementLine.statement_id == statement.id)
                                   .order_by(StatementLine.id)))


def match_action(line_id, entry_id):
    return lambda actor: operations.create_match(pairs=[Pair(line_id, entry_id)], actor=actor)


def test_two_people_matching_one_line_to_two_entries_cannot_overfill_the_line(app, build, finance):
    first = build.direct_purchase(gross_pence=4500, on=clock.today() - timedelta(days=3), actor=finance)
    second = build.direct_purchase(gross_pence=4500, on=clock.today() - timedelta(days=3), receipt="R-2",
                                   actor=finance)
    [line] = lines(build, finance, "-45.00")
    outcomes = race(app, finance.id, [match_action(line.id, first.id), match_action(line.id, second.id)])
    assert outcomes == ["ok", "over_allocated"]
    db.session.expire_all()
    assert db.session.get(StatementLine, line.id).allocated_pence == 4500
    assert db.session.scalar(select(func.sum(MatchAllocation.amount_pence))) == 4500


def test_two_people_matching_two_lines_to_one_entry_cannot_overfill_the_entry(app, build, finance):
    entry = build.direct_purchase(gross_pence=4500, on=clock.today() - timedelta(days=3), actor=finance)
    first, second = lines(build, finance, "-45.00", "-45.00")
    outcomes = race(app, finance.id, [match_action(first.id, entry.id), match_action(second.id, entry.id)])
    assert outcomes == ["ok", "over_allocated"]
    db.session.expire_all()
    assert db.session.scalar(select(func.sum(MatchAllocation.amount_pence))
                             .where(MatchAllocation.ledger_entry_id == entry.id)) == 4500


def test_two_imports_of_the_same_file_at_once_store_each_line_once(app, finance):
    data = b"Date,Description,Amount\n03/11/2026,BUS,-2.00\n03/11/2026,BUS,-2.00\n04/11/2026,TAXI,-9.00\n"
    mapping = ColumnMapping(date="Date", description="Description", amount="Amount")

    def import_file(actor):
        operations.import_statement(data=data, filename="s.csv", account="Card", mapping=mapping, actor=actor,
                                    max_bytes=1024)

    outcomes = race(app, finance.id, [import_file, import_file])
    assert outcomes[0] == "concurrent_import" or outcomes == ["ok", "ok"]
    assert "ok" in outcomes
    assert db.session.scalar(select(func.count()).select_from(StatementLine)) == 3


def test_two_people_unmatching_the_same_match_free_the_money_once(app, build, finance):
    entry = build.direct_purchase(gross_pence=4500, on=clock.today() - timedelta(days=3), actor=finance)
    [line] = lines(build, finance, "-45.00")
    match = operations.create_match(pairs=[Pair(line.id, entry.id)], actor=finance)
    db.session.commit()

    def unmatch(actor):
        operations.remove_match(match.id, actor=actor)

    assert race(app, finance.id, [unmatch, unmatch]) == ["not_found", "ok"]
    db.session.expire_all()
    assert db.session.get(StatementLine, line.id).allocated_pence == 0


def test_matching_and_reversing_one_entry_at_once_cannot_both_succeed(app, build, finance):
    entry_id = build.direct_purchase(gross_pence=4500, on=clock.today() - timedelta(days=3), actor=finance).id
    [line] = lines(build, finance, "-45.00")

    def reverse(actor):
        ledger.reverse(db.session.get(LedgerEntry, entry_id), reason="Keyed twice", actor=actor)

    outcomes = race(app, finance.id, [match_action(line.id, entry_id), reverse])
    db.session.expire_all()
    matched = bool(queries.entry_allocated_pence([entry_id]))
    reversed_ = db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry_id)) is not None
    # Whichever took the entry's row lock first won; the other saw what it wrote.
    assert (outcomes, matched, reversed_) in [(["entry_matched", "ok"], True, False),
                                              (["entry_reversed", "ok"], False, True)]
    assert verify_ledger().ok


def test_importing_one_kept_upload_twice_at_once_imports_it_once(app, finance):
    upload = operations.keep_upload(data=b"03/11/2026,BUS,-2.00\n04/11/2026,TAXI,-9.00\n", filename="hsbc.csv",
                                    account="Card", actor=finance, max_bytes=1024)
    db.session.commit()
    mapping = ColumnMapping(date=1, description=2, amount=3, has_header=False)

    def import_upload(actor):
        operations.import_upload(upload.token, mapping=mapping, actor=actor, max_bytes=1024)

    # The second waits for the first's lock on the upload, then finds it gone.
    assert race(app, finance.id, [import_upload, import_upload]) == ["not_found", "ok"]
    assert db.session.scalar(select(func.count()).select_from(Statement)) == 1
    assert db.session.scalar(select(func.count()).select_from(StatementLine)) == 2
