"""A signed checkpoint of the ledger's head: an anchor kept outside the database.

The hash chain shows an entry changed behind the app's back, but not a rewrite by someone
who owns the database: delete the newest entries and fix the balance rows, or change an
entry and recompute every later hash and the balances, and the chain verifies again. A
checkpoint taken earlier and kept elsewhere catches both. It records how many entries there
were, the position and hash of the last one (the head), and each period's balances as of
that entry, signed with HMAC-SHA256 under `LEDGER_CHECKPOINT_KEY`, a key that is never in
the database, so whoever owns the database can neither forge a checkpoint nor edit one.

`check` then asks of the ledger as it is now: does it still hold the checkpointed head, at
the same position with the same hash, with as many entries up to it and the same balances?
Does the entry after it follow it? The chain check (verification.py) shows that every later
entry follows on.
"""
import hashlib
import hmac
import json
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from inventory import clock
from inventory.budget.models import BudgetPeriod, LedgerEntry
from inventory.hash_chain import GENESIS_HASH
from inventory.budget.queries import BUCKET_NAMES, bucket_totals
from inventory.extensions import db

FORMAT = "safehold-ledger-checkpoint/1"
MIN_KEY_LENGTH = 32
FIGURES = (*BUCKET_NAMES, "entry_count")


class CheckpointError(Exception):
    """The checkpoint cannot be taken or read (no key, an unreadable file)."""


def signing_key() -> bytes:
    """The key from configuration (SAFEHOLD_LEDGER_CHECKPOINT_KEY); refused when unset or short."""
    key = current_app.config.get("LEDGER_CHECKPOINT_KEY")
    if not key:
        raise CheckpointError(
            "LEDGER_CHECKPOINT_KEY is not set: set SAFEHOLD_LEDGER_CHECKPOINT_KEY to a random string of at "
            f"least {MIN_KEY_LENGTH} characters (python -c 'import secrets;print(secrets.token_urlsafe(32))'), "
            "the same key for taking and for checking checkpoints.")
    if not isinstance(key, str) or len(key) < MIN_KEY_LENGTH:
        raise CheckpointError(f"LEDGER_CHECKPOINT_KEY must be a string of at least {MIN_KEY_LENGTH} characters.")
    return key.encode()


def take(now: datetime | None = None) -> dict:
    """The ledger's head and each period's balances as of it, signed, dated `now` (default:
    the clock's; a scheduled job passes its own)."""
    head = db.session.execute(
        select(LedgerEntry.position, LedgerEntry.hash).order_by(LedgerEntry.position.desc()).limit(1)
    ).first()
    position, head_hash = (head.position, head.hash) if head is not None else (0, GENESIS_HASH)
    # Everything below is read up to the head, so an entry posted meanwhile cannot creep in.
    payload = {
        "format": FORMAT,
        "created_at": (now or clock.now()).isoformat(timespec="seconds"),
        "entry_count": _entries_up_to(position),
        "head_position": position,
        "head_hash": head_hash,
        "periods": _balances_up_to(position),
    }
    return {**payload, "signature": sign(payload, signing_key())}


def dumps(document: dict) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def sign(payload: dict, key: bytes) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def check(text: str) -> tuple[dict | None, list[str]]:
    """The checkpoint in `text` (None if it cannot be trusted) and what the ledger now
    contradicts in it, as sentences; no problems means the ledger still holds it."""
    key = signing_key()
    try:
        document = json.loads(text)
    except ValueError:
        return None, ["The checkpoint file is not JSON: it is damaged or not a checkpoint."]
    if not isinstance(document, dict) or not isinstance(document.get("signature"), str):
        return None, ["The checkpoint file has no signature: it is not a SafeHold ledger checkpoint."]
    payload = {name: value for name, value in document.items() if name != "signature"}
    if not hmac.compare_digest(sign(payload, key), document["signature"]):
        return None, ["The checkpoint's signature does not match: the file was edited or forged, "
                      "or it was signed with another key."]
    if payload.get("format") != FORMAT:
        return None, [f"The checkpoint's format is {payload.get('format')!r}, expected {FORMAT!r}."]
    return payload, _contradictions(payload)


def _contradictions(checkpoint: dict) -> list[str]:
    problems = []
    taken = f"the checkpoint of {checkpoint['created_at']}"
    position, count = checkpoint["head_position"], checkpoint["entry_count"]
    total = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    if total < count:
        problems.append(f"The ledger holds {total} entries but {taken} recorded {count}: entries were removed.")
    if position:
        stored = db.session.scalar(select(LedgerEntry.hash).where(LedgerEntry.position == position))
        if stored is None:
            problems.append(f"The ledger has no entry at chain position {position}, the head of {taken}: "
                            "the tail of the chain was removed.")
        elif stored != checkpoint["head_hash"]:
            problems.append(f"The entry at chain position {position} does not have the hash {taken} recorded: "
                            "the chain up to it was rewritten.")
    up_to = _entries_up_to(position)
    if up_to != count:
        problems.append(f"The ledger holds {up_to} entries up to chain position {position} but {taken} "
                        f"recorded {count}.")
    following = db.session.scalar(select(LedgerEntry.previous_hash).where(LedgerEntry.position == position + 1))
    if following is not None and following != checkpoint["head_hash"]:
        problems.append(f"The entry at chain position {position + 1} does not follow the head of {taken}.")
    now = {row["period_id"]: row for row in _balances_up_to(position)}
    for recorded in checkpoint["periods"]:
        current = now.pop(recorded["period_id"], {})
        for figure in FIGURES:
            if current.get(figure, 0) != recorded[figure]:
                problems.append(f"Period {recorded['name']}: {figure} up to chain position {position} is "
                                f"{current.get(figure, 0)} but {taken} recorded {recorded[figure]}.")
    for row in now.values():
        if any(row[figure] for figure in FIGURES):
            problems.append(f"Period {row['name']} has entries up to chain position {position} that {taken} "
                            "does not know.")
    return problems


def _entries_up_to(position: int) -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.position <= position))


def _balances_up_to(position: int) -> list[dict]:
    """Each period's running totals from its entries up to chain position `position`."""
    totals = bucket_totals(LedgerEntry.period_id, LedgerEntry.position <= position)
    periods = db.session.execute(select(BudgetPeriod.id, BudgetPeriod.name).order_by(BudgetPeriod.id)).all()
    rows = []
    for period_id, name in periods:
        figures = totals.get(period_id, dict.fromkeys(FIGURES, 0))
        rows.append({"period_id": period_id, "name": name, **{figure: figures[figure] for figure in FIGURES}})
    return rows
