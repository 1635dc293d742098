"""A hash chain along an append-only table (the ledger's entries, the access log): each row
keeps its position (1, 2, 3 ...), the previous row's hash and its own hash over its fields,
so a row edited, removed or inserted underneath the app shows when the chain is walked
again. A model in a chain has `position`, `previous_hash`, `hash` and `compute_hash()`."""
from dataclasses import dataclass, field

from sqlalchemy import select, text

from inventory.extensions import db

GENESIS_HASH = "0" * 64  # the "previous hash" of a chain's first row
MAX_PROBLEMS = 50  # enough to see the shape of the damage without flooding the terminal


@dataclass
class Problems:
    """What a check found, for people: at most MAX_PROBLEMS of them."""

    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


def lock_chain(model, *, lock_key: int, last_by) -> tuple[int, str]:
    """Serialise appends to `model`'s chain (on PostgreSQL an advisory lock held until the
    transaction ends; SQLite's writes are serialised already); returns the last row's
    (position, hash), the last being the highest `last_by`."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})
    last = db.session.execute(select(model.position, model.hash).order_by(last_by.desc()).limit(1)).first()
    return (last.position, last.hash) if last is not None else (0, GENESIS_HASH)


def walk_chain(model, *, order_by, noun: str, word: str, report, after: tuple[int, str] | None = None) -> int:
    """Walk the chain in `order_by` order, calling `report(problem)` for people wherever it
    breaks; `noun` names one row ("Entry", "Access log row"), `word` any ("entry", "row").
    With `after` (a position and the hash of the row there, as a past check found them) only
    the rows past that position are read, so a check can start where the last good one ended.
    Returns how many rows it walked."""
    a_word = ("an " if word[0] in "aeiou" else "a ") + word
    walked, previous_hash, expected_position = 0, GENESIS_HASH, 1
    query = select(model).order_by(order_by)
    if after is not None:
        query = query.where(model.position > after[0])
        previous_hash, expected_position = after[1], after[0] + 1
    # populate_existing: judge the rows as stored now, never as this session last saw them.
    rows = db.session.scalars(query.execution_options(yield_per=2000, populate_existing=True))
    for row in rows:
        walked += 1
        if row.position != expected_position:
            report(f"{noun} {row.id} is at chain position {row.position}, expected {expected_position}: "
                   f"{a_word} is missing or was inserted out of order.")
        if row.previous_hash != previous_hash:
            report(f"{noun} {row.id} does not follow the {word} before it (previous hash differs): "
                   f"an earlier {word} was removed or altered.")
        if row.compute_hash() != row.hash:
            report(f"{noun} {row.id} does not match its own hash: its content was changed.")
        previous_hash, expected_position = row.hash, row.position + 1
    return walked
