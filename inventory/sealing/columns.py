"""Personal data and secrets in the database, sealed (inventory.sealing.keys).

`SealedText`: a field bound to its ROW. The model maps the ciphertext to an attribute of
  its own (`sealed_address`, column `address`) and shows the plaintext under the field's
  name (`case.address`): opened when first read (so a list that does not show a field never
  decrypts it), sealed when set. The associated data is the column ("cases.address") and the
  row's `seal_key`, a random value each row gets once and keeps (unique in its table), so a
  ciphertext copied into another row, or another column, fails to open. Nothing can search,
  sort or filter by these in SQL: `Case.address` is not a column.

`rotate-data-key` (inventory.sealing.cli) finds them on every model.
"""
import secrets
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Column, String, Table
from sqlalchemy.orm import mapped_column

from inventory.extensions import db
from inventory.sealing.keys import Keyring, keyring

SEAL_KEY_LENGTH = 22  # secrets.token_urlsafe(16): 128 random bits


def new_seal_key() -> str:
    return secrets.token_urlsafe(16)


def seal_key_column():
    """A model's `seal_key`: given once, when the row is first given a sealed value (or at its
    insert), and never changed; every SealedText of the row is bound to it."""
    return mapped_column(String(SEAL_KEY_LENGTH), unique=True, index=True, default=new_seal_key)


def purpose_of(column: Column) -> str:
    """What a sealed column's values are: "cases.address"."""
    return f"{column.table.name}.{column.name}"


def row_context(column: Column, seal_key: str) -> str:
    """The associated data of a row-bound value: its column and its row."""
    return f"{purpose_of(column)}/{seal_key}"


class SealedText:
    """The plaintext face of a sealed column, bound to its row: `address = SealedText("sealed_address")`
    beside `sealed_address: Mapped[str] = mapped_column("address", Text)` and `seal_key`."""

    def __init__(self, stored: str):
        self.stored = stored  # the mapped attribute holding the ciphertext

    def __set_name__(self, owner, name):
        self.owner, self.name = owner, name
        self._opened = f"_opened_{name}"  # (ciphertext, plaintext) of the last open or seal

    @cached_property
    def column(self) -> Column:
        return self.owner.__mapper__.columns[self.stored]

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        stored = getattr(instance, self.stored)
        if stored is None:
            return None
        opened = instance.__dict__.get(self._opened)
        if opened is None or opened[0] != stored:
            opened = (stored, self.open(stored, instance.seal_key))
            instance.__dict__[self._opened] = opened
        return opened[1]

    def __set__(self, instance, value: str | None) -> None:
        if value is None:
            stored = None
        else:
            if instance.seal_key is None:
                instance.seal_key = new_seal_key()
            stored = keyring().seal(value, row_context(self.column, instance.seal_key))
        setattr(instance, self.stored, stored)
        instance.__dict__[self._opened] = (stored, value)

    def open(self, stored: str | None, seal_key: str, keys: Keyring | None = None) -> str | None:
        """A value read in SQL (with its row's seal_key), opened; DataKeyError if it was not sealed
        for that row. `keys`: the app's keyring, taken earlier where no app context will be current."""
        return None if stored is None else (keys or keyring()).open(stored, row_context(self.column, seal_key))


@dataclass(frozen=True)
class SealedTable:
    """A table's sealed columns (each SealedText's)."""

    table: Table
    row_bound: tuple[Column, ...]


def sealed_fields(model: type) -> tuple[SealedText, ...]:
    return tuple(attribute for attribute in vars(model).values() if isinstance(attribute, SealedText))


def sealed_tables() -> list[SealedTable]:
    """Every table with a sealed column, in the order of the metadata (parents first)."""
    found = {}
    for mapper in db.Model.registry.mappers:
        row_bound = tuple(field.column for field in sealed_fields(mapper.class_))
        if row_bound:
            found[mapper.local_table.name] = SealedTable(mapper.local_table, row_bound)
    return [found[table.name] for table in db.metadata.sorted_tables if table.name in found]


def seal_row(table: SealedTable, values: dict) -> dict:
    """`values` (plaintext, by column name) as a row-bound table stores them: a new seal_key and
    its fields sealed to it. For writing rows in bulk, without the ORM (the benchmark's dataset)."""
    seal_key = new_seal_key()
    sealed = {column.name: None if values.get(column.name) is None
              else keyring().seal(values[column.name], row_context(column, seal_key)) for column in table.row_bound}
    return {**values, **sealed, "seal_key": seal_key}
