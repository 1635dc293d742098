"""Reconciliation use cases: import a statement, match its lines to ledger entries,
unmatch, reject proposals, mark lines reconciled. Each flushes, never commits."""
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from inventory import clock
from inventory.budget import categories, ledger
from inventory.budget.models import LedgerEntry, SourceType
from inventory.errors import Conflict, InvalidInput, NotFound
from inventory.extensions import db
from inventory.money import MAX_PENCE, format_pence
from inventory.reconciliation.models import (
    Match,
    MatchAllocation,
    MatchMethod,
    ReconciliationEvent,
    ReconciliationEventKind,
    RejectedProposal,
    Statement,
    StatementLine,
    StatementUpload,
)
from inventory.reconciliation.queries import BANK_KINDS, bank_pence, entry_allocated_pence
from inventory.reconciliation.statement_csv import ColumnMapping, fingerprints, parse_statement, read_shape

MAX_ACCOUNT = 80
MAX_FILENAME = 255
MAX_NOTE = 200
FINGERPRINT_BATCH = 500
UPLOAD_KEPT_FOR = timedelta(hours=1)  # between choosing a file and choosing its columns


def _account_name(account: str) -> str:
    account = " ".join((account or "").split())
    if not account or len(account) > MAX_ACCOUNT:
        raise InvalidInput("Name the bank or card account this statement is for.",
                           fields={"account": f"Enter the account's name (up to {MAX_ACCOUNT} characters)."})
    return account


def import_statement(*, data: bytes, filename: str, account: str, mapping: ColumnMapping, actor,
                     max_bytes: int) -> Statement:
    """Store a statement file's new lines, all or nothing; lines already imported from an
    earlier file are counted, not stored again."""
    account = _account_name(account)
    lines = parse_statement(data, mapping, max_bytes=max_bytes)
    prints = fingerprints(account, lines)
    existing = _existing_fingerprints(prints)
    new = [(line, fingerprint) for line, fingerprint in zip(lines, prints) if fingerprint not in existing]
    statement = Statement(account=account, filename=(filename or "statement.csv")[-MAX_FILENAME:],
                          imported_by_id=actor.id, line_count=len(lines), new_count=len(new),
                          duplicate_count=len(lines) - len(new))
    db.session.add(statement)
    for line, fingerprint in new:
        db.session.add(StatementLine(
            statement=statement, line_number=line.line_number, value_date=line.date,
            description=line.description, reference=line.reference, amount_pence=line.amount_pence,
            fingerprint=fingerprint,
        ))
    try:
        db.session.flush()
    except IntegrityError:
        # Another import of overlapping lines committed between our read and our write.
        raise Conflict("Some of these lines were imported by someone else a moment ago. Import the file again: "
                       "lines already there will be skipped.", code="concurrent_import") from None
    _record(ReconciliationEventKind.STATEMENT_IMPORTED, actor,
            details={"statement_id": statement.id, "lines": len(lines), "new": len(new)})
    db.session.flush()
    return statement


def keep_upload(*, data: bytes, filename: str, account: str, actor, max_bytes: int) -> StatementUpload:
    """The upload page's first step: keep a file that reads as CSV, for its uploader, until
    its columns are chosen (at most UPLOAD_KEPT_FOR); uploads past their time go."""
    account = _account_name(account)
    read_shape(data, max_bytes=max_bytes)  # refuses an empty, binary, oversized or unreadable file now
    now = clock.now()
    db.session.execute(delete(StatementUpload).where(StatementUpload.expires_at <= now))
    upload = StatementUpload(token=secrets.token_urlsafe(32), uploaded_by_id=actor.id, uploaded_at=now,
                             expires_at=now + UPLOAD_KEPT_FOR, account=account,
                             filename=(filename or "statement.csv")[-MAX_FILENAME:], data=data)
    db.session.add(upload)
    db.session.flush()
    return upload


def kept_upload(token: str, *, actor, lock: bool = False) -> StatementUpload:
    """The actor's own upload, while it is kept; NotFound for anyone else's, or once it has
    expired or been imported."""
    query = select(StatementUpload).where(StatementUpload.token == (token or "")[:64],
                                          StatementUpload.uploaded_by_id == actor.id,
                                          StatementUpload.expires_at > clock.now())
    upload = db.session.scalar(query.with_for_update() if lock else query)
    if upload is None:
        raise NotFound("That upload is not kept any more: uploads are kept for an hour and until imported. "
                       "Upload the file again.")
    return upload


def import_upload(token: str, *, mapping: ColumnMapping, actor, max_bytes: int) -> Statement:
    """The upload page's second step: import the kept file with the chosen columns (all or
    nothing, as `import_statement`), and forget the file."""
    upload = kept_upload(token, actor=actor, lock=True)  # a double click imports once
    statement = import_statement(data=upload.data, filename=upload.filename, account=upload.account,
                                 mapping=mapping, actor=actor, max_bytes=max_bytes)
    db.session.delete(upload)
    db.session.flush()
    return statement


def _existing_fingerprints(prints: list[str]) -> set[str]:
    found = set()
    for start in range(0, len(prints), FINGERPRINT_BATCH):  # within every engine's bound-parameter limit
        batch = prints[start:start + FINGERPRINT_BATCH]
        found |= set(db.session.scalars(select(StatementLine.fingerprint).where(StatementLine.fingerprint.in_(batch))))
    return found


@dataclass(frozen=True)
class Pair:
    statement_line_id: int
    ledger_entry_id: int
    amount_pence: int | None = None  # None: as much as both have left


def create_match(*, pairs: list[Pair], actor, method: MatchMethod = MatchMethod.MANUAL, note: str = "") -> Match:
    """Pair statement lines with ledger entries: one line to several entries, several lines
    to one entry. Never allocates a line beyond its amount, nor an entry beyond the amount
    the bank saw for it (its gross: `queries.bank_pence`)."""
    if not pairs:
        raise InvalidInput("Choose at least one statement line and one ledger entry.",
                           fields={"allocations": "Add at least one line and entry to match."})
    if len(note or "") > MAX_NOTE:
        raise InvalidInput("The note is too long.", fields={"note": f"Up to {MAX_NOTE} characters."})
    for pair in pairs:
        if pair.amount_pence is not None and (isinstance(pair.amount_pence, bool) or not isinstance(
                pair.amount_pence, int) or not 0 < pair.amount_pence <= MAX_PENCE):
            raise InvalidInput("Each allocated amount is a positive whole number of pence.",
                               fields={"amount_pence": "A positive whole number of pence, at most £1,000,000."})
    if len({(p.statement_line_id, p.ledger_entry_id) for p in pairs}) != len(pairs):
        raise InvalidInput("The same line and entry are paired twice.",
                           fields={"allocations": "Pair each line with each entry at most once."})
    lines = _locked_lines({p.statement_line_id for p in pairs})
    entries = _locked_entries({p.ledger_entry_id for p in pairs})
    entry_left = {entry_id: bank_pence(entry) - allocated for entry_id, (entry, allocated) in entries.items()}
    match = Match(method=str(method), note=(note or "").strip(), created_by_id=actor.id)
    db.session.add(match)
    for pair in pairs:
        line = lines[pair.statement_line_id]
        entry, _ = entries[pair.ledger_entry_id]
        if (line.amount_pence < 0) != (entry.amount_pence < 0):
            raise Conflict(f"Statement line {line.id} is money {'out' if line.is_money_out else 'in'} but ledger "
                           f"entry {entry.id} is money {'in' if line.is_money_out else 'out'}.",
                           code="direction_mismatch")
        amount = pair.amount_pence if pair.amount_pence is not None else min(line.remaining_pence,
                                                                            entry_left[entry.id])
        if amount <= 0 or amount > line.remaining_pence:
            raise Conflict(f"Statement line {line.id} has only {format_pence(line.remaining_pence)} left to match.",
                           code="over_allocated", details={"statement_line_id": line.id,
                                                           "remaining_pence": line.remaining_pence})
        if amount > entry_left[entry.id]:
            raise Conflict(f"Ledger entry {entry.id} has only {format_pence(entry_left[entry.id])} left to match.",
                           code="over_allocated", details={"ledger_entry_id": entry.id,
                                                           "remaining_pence": entry_left[entry.id]})
        line.allocated_pence += amount
        entry_left[entry.id] -= amount
        match.allocations.append(MatchAllocation(statement_line_id=line.id, ledger_entry_id=entry.id,
                                                 amount_pence=amount))
    db.session.flush()
    _record_per_line(ReconciliationEventKind.MATCHED, actor, match, method=str(method))
    db.session.flush()
    return match


def remove_match(match_id: int, *, actor) -> None:
    """Unmatch: the lines and entries are free again (a reconciled line is reopened)."""
    # Locked first, so two people unmatching the same match cannot both take its money back.
    match = db.session.scalar(select(Match).where(Match.id == match_id).with_for_update()
                              .execution_options(populate_existing=True))
    if match is None:
        raise NotFound("No such match.")
    lines = _locked_lines({allocation.statement_line_id for allocation in match.allocations})
    reopened = []
    for allocation in match.allocations:
        line = lines[allocation.statement_line_id]
        line.allocated_pence -= allocation.amount_pence
        if line.is_reconciled:
            line.reconciled_at = line.reconciled_by_id = None
            reopened.append(line.id)
    _record_per_line(ReconciliationEventKind.UNMATCHED, actor, match, reopened_lines=reopened)
    db.session.delete(match)
    db.session.flush()


def refuse_to_reverse_matched(entry: LedgerEntry) -> None:
    """A ledger reversal guard: money matched to a statement line is frozen until unmatched.
    The ledger calls it with the entry's row locked, the lock `create_match` takes too."""
    line_ids = sorted(set(db.session.scalars(
        select(MatchAllocation.statement_line_id).where(MatchAllocation.ledger_entry_id == entry.id))))
    if line_ids:
        lines = f"statement line{'s' if len(line_ids) > 1 else ''} {', '.join(map(str, line_ids))}"
        raise Conflict(f"This entry is matched to {lines}, so its money is frozen. Unmatch it in reconciliation "
                       "first, then reverse it.",
                       code="entry_matched", details={"ledger_entry_id": entry.id, "statement_line_ids": line_ids})


def post_line_to_ledger(line_id: int, *, category: str, memo: str, actor) -> Match:
    """Money the ledger does not know of yet (a bank fee, a refund): post what is left of the
    line as an actual (money out) or a credit (money in) in an active budget category, linked
    to the line, and match them."""
    line = _locked_lines({line_id})[line_id]
    if line.remaining_pence == 0:
        raise Conflict("This line is already fully matched.", code="already_matched")
    category = categories.chosen_category(name=category).name
    memo = (memo or "").strip() or f"{line.description} (statement line {line.id})"
    post = ledger.post_actual if line.is_money_out else ledger.credit
    entry = post(line.remaining_pence, on=line.value_date, actor=actor, memo=memo,
                 source_type=SourceType.STATEMENT_LINE, source_id=line.id, net_pence=line.remaining_pence,
                 vat_pence=0, category=category)
    return create_match(pairs=[Pair(line.id, entry.id)], actor=actor, note="Posted from the statement")


def mark_reconciled(line_id: int, *, actor) -> StatementLine:
    """Finance signs a line off; only a fully matched line can be."""
    line = _locked_lines({line_id})[line_id]
    if line.is_reconciled:
        raise Conflict("That line is already reconciled.", code="already_reconciled")
    if line.remaining_pence:
        raise Conflict(f"Match the remaining {format_pence(line.remaining_pence)} of the line before marking it "
                       "reconciled.",
                       code="not_fully_matched", details={"remaining_pence": line.remaining_pence})
    # Both at once: reading actor.id may refresh it, and an autoflush in between would
    # write half a sign-off.
    line.reconciled_at, line.reconciled_by_id = clock.now(), actor.id
    _record(ReconciliationEventKind.LINE_RECONCILED, actor, line_id=line.id)
    db.session.flush()
    return line


def reject_proposal(line_id: int, entry_id: int, *, actor) -> None:
    """Finance says this line and this entry are different money; never propose the pair again."""
    if db.session.get(StatementLine, line_id) is None or db.session.get(LedgerEntry, entry_id) is None:
        raise NotFound("No such statement line or ledger entry.")
    already = db.session.scalar(select(RejectedProposal.id).where(
        RejectedProposal.statement_line_id == line_id, RejectedProposal.ledger_entry_id == entry_id))
    if already is None:
        db.session.add(RejectedProposal(statement_line_id=line_id, ledger_entry_id=entry_id, rejected_by_id=actor.id))
        _record(ReconciliationEventKind.PROPOSAL_REJECTED, actor, line_id=line_id,
                details={"ledger_entry_id": entry_id})
    db.session.flush()


def _locked_lines(ids) -> dict[int, StatementLine]:
    # Lines before entries, each in id order: every writer takes locks in the same order.
    return _locked(StatementLine, ids, "statement line", "statement_line_id")


def _locked_entries(ids) -> dict[int, tuple[LedgerEntry, int]]:
    entries = _locked(LedgerEntry, ids, "ledger entry", "ledger_entry_id")
    for entry in entries.values():
        if entry.kind not in BANK_KINDS:
            raise Conflict(f"Ledger entry {entry.id} is {entry.kind}: only allocations (income), actuals and credits "
                           "move money through a bank account.", code="entry_not_reconcilable")
    reversed_ids = set(db.session.scalars(select(LedgerEntry.reverses_id).where(LedgerEntry.reverses_id.in_(ids))))
    if reversed_ids:
        raise Conflict(f"Ledger entry {min(reversed_ids)} has been reversed; match the corrected entry instead.",
                       code="entry_reversed")
    allocated = entry_allocated_pence(entries)
    return {entry_id: (entry, allocated.get(entry_id, 0)) for entry_id, entry in entries.items()}


def _locked(model, ids, name: str, key: str) -> dict:
    """The rows with these ids, locked in id order (fresh from the database); NotFound names
    the first missing id."""
    rows = {row.id: row for row in db.session.scalars(
        select(model).where(model.id.in_(sorted(ids))).order_by(model.id)
        .with_for_update(of=model).execution_options(populate_existing=True))}
    missing = set(ids) - set(rows)
    if missing:
        raise NotFound(f"No {name} {min(missing)}.", details={key: min(missing)})
    return rows


def _describe(allocation: MatchAllocation) -> dict:
    return {"statement_line_id": allocation.statement_line_id, "ledger_entry_id": allocation.ledger_entry_id,
            "amount_pence": allocation.amount_pence}


def _record_per_line(kind: ReconciliationEventKind, actor, match: Match, **details) -> None:
    """One event per line the match touches, so each line's history is one indexed query;
    each event carries the whole match, so nothing is lost when the match is removed."""
    allocations = [_describe(allocation) for allocation in match.allocations]
    for line_id in sorted({allocation.statement_line_id for allocation in match.allocations}):
        _record(kind, actor, match_id=match.id, line_id=line_id, details={"allocations": allocations, **details})


def _record(kind: ReconciliationEventKind, actor, *, match_id=None, line_id=None, details=None):
    db.session.add(ReconciliationEvent(kind=str(kind), actor_id=actor.id, match_id=match_id,
                                       statement_line_id=line_id, details=details or {}))

