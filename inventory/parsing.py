"""Input parsed at the edge, the same way for forms, query strings and the JSON API.

Each parser takes one raw value and returns a typed one or raises `ParseError` with a
message for people. `Fields` reads many named values from a mapping (a JSON object,
`request.args`, a form's data), collects every problem and raises one `InvalidInput` that
names them all, so services take typed values and never see raw input.

Values from a JSON body keep their JSON types (a number must be a number); values from a
query string or form are text (`Fields(..., text=True)`), so "12" reads as 12 there.
"""
import re
from collections.abc import Mapping
from datetime import date, time
from enum import Enum
from typing import TypeVar

from inventory.errors import InvalidInput
from inventory.money import MoneyError, check_pence, parse_pounds

# Ids are 64-bit integers in the database; a larger number names nothing (and must not
# reach the database driver, which would refuse it with an error of its own).
MAX_ID = 2**63 - 1
MAX_WHOLE_NUMBER = 2**63 - 1
DEFAULT_TEXT_LIMIT = 500
_DIGITS = re.compile(r"-?[0-9]{1,25}")  # ASCII digits only: int() would also take "１２"

E = TypeVar("E", bound=Enum)


class ParseError(ValueError):
    """A value that cannot be read; its message is for people."""

    @property
    def message(self) -> str:
        return str(self)


def whole_number(value, *, minimum: int | None = 0, maximum: int = MAX_WHOLE_NUMBER, text: bool = False) -> int:
    """An integer (from text too when `text`), within [minimum, maximum]."""
    if text and isinstance(value, str):
        cleaned = value.strip()
        if not _DIGITS.fullmatch(cleaned):
            raise ParseError("Must be a whole number.")
        value = int(cleaned)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParseError("Must be a whole number." if text else "Must be an integer.")
    if minimum is not None and value < minimum:
        raise ParseError(f"Must be at least {minimum}.")
    if value > maximum:
        raise ParseError(f"Must be at most {maximum:,}.")
    return value


def record_id(value, *, text: bool = False) -> int:
    """The id of a record: a whole number from 1 to 2⁶³−1."""
    try:
        return whole_number(value, minimum=1, maximum=MAX_ID, text=text)
    except ParseError:
        raise ParseError("Must be the id of a record (a positive whole number).") from None


def pence(value, *, allow_zero: bool = False, allow_negative: bool = False) -> int:
    """A JSON amount: an integer number of pence, never a string or decimal."""
    if value is None:
        raise ParseError("Required: a whole number of pence.")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParseError("Must be a whole number of pence (an integer, not a string or decimal).")
    try:
        return check_pence(value, allow_zero=allow_zero, allow_negative=allow_negative)
    except MoneyError as error:
        raise ParseError(str(error)) from None


def pounds(value, *, allow_zero: bool = False, allow_negative: bool = False) -> int:
    """An amount typed by a person in pounds ("1,234.50", "£12") -> pence."""
    try:
        return parse_pounds(value, allow_zero=allow_zero, allow_negative=allow_negative)
    except MoneyError as error:
        raise ParseError(str(error)) from None


def _iso(kind: type[date] | type[time], value, message: str):
    """A `kind` as it is, or read from ISO text (surrounding space ignored)."""
    if isinstance(value, kind):
        return value
    try:
        return kind.fromisoformat(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ParseError(message) from None


def iso_date(value) -> date:
    """A date like 2026-04-30."""
    return _iso(date, value, "A date like 2026-04-30.")


def year_month(value) -> date:
    """A calendar month named like 2026-05, as its first day."""
    if not isinstance(value, str) or re.fullmatch(r"[0-9]{4}-[0-9]{2}", value.strip()) is None:
        raise ParseError("A month like 2026-05.")
    return _iso(date, f"{value.strip()}-01", "A month like 2026-05: its number from 01 to 12.")


_TIME_OF_DAY = re.compile(r"[0-9]{2}:[0-9]{2}(:[0-9]{2})?")


def iso_time(value) -> time:
    """A time of day like 09:30 (or 09:30:00), local: never one with a time zone, which
    could not be compared with the service's own times."""
    if isinstance(value, str) and not _TIME_OF_DAY.fullmatch(value.strip()):
        raise ParseError("A time like 09:30.")
    return _iso(time, value, "A time like 09:30.")


def text(value, *, required: bool = True, max_length: int = DEFAULT_TEXT_LIMIT) -> str | None:
    """Text with surrounding space removed; empty text is None unless required."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ParseError("Must be text.")
    cleaned = value.strip()
    if not cleaned:
        if required:
            raise ParseError("Required text.")
        return None
    if len(cleaned) > max_length:
        raise ParseError(f"At most {max_length} characters.")
    return cleaned


def choice(value, options: type[E]) -> E:
    """One of an enum's values."""
    try:
        return options(value)
    except (TypeError, ValueError):
        allowed = ", ".join(str(option.value) for option in options)
        raise ParseError(f"Must be one of: {allowed}.") from None


def boolean(value, *, text: bool = False) -> bool:
    if isinstance(value, bool):
        return value
    if text and isinstance(value, str) and value.strip().lower() in {"true", "1", "yes", "on", "false", "0", "no", ""}:
        return value.strip().lower() in {"true", "1", "yes", "on"}
    raise ParseError("Must be true or false.")


_MISSING = object()


class Fields:
    """Named values read from a mapping; every problem is collected, and `check()` raises
    one InvalidInput naming each bad field (`details.fields`).

    A reader returns None for a field that is missing (when not required) or bad, so read
    every field, then call `check()` before using the values.
    """

    def __init__(self, data: Mapping, *, text: bool = False, prefix: str = "",
                 errors: dict[str, str] | None = None):
        self.data = data
        self.text_source = text
        self.prefix = prefix
        self.errors: dict[str, str] = {} if errors is None else errors

    # -- the readers -------------------------------------------------------------------

    def whole_number(self, name: str, *, required: bool = True, minimum: int | None = 0,
                     maximum: int = MAX_WHOLE_NUMBER) -> int | None:
        return self._read(name, required, lambda v: whole_number(v, minimum=minimum, maximum=maximum,
                                                                 text=self.text_source))

    integer = whole_number

    def record_id(self, name: str, *, required: bool = True) -> int | None:
        return self._read(name, required, lambda v: record_id(v, text=self.text_source))

    def ids(self, name: str, *, required: bool = True) -> list[int]:
        """A list of record ids (a JSON array, or a repeated query/form field)."""
        return self._list(name, required, lambda value: record_id(value, text=self.text_source),
                          "Required: a list of ids.")

    def texts(self, name: str, *, required: bool = True, max_length: int = DEFAULT_TEXT_LIMIT) -> list[str]:
        """A list of text values (a JSON array of strings, or a repeated query/form field);
        blank ones are left out."""
        values = self._list(name, required, lambda value: text(value, required=False, max_length=max_length),
                            "Required: a list of text.")
        return [value for value in values if value is not None]

    def pence(self, name: str, *, required: bool = True, allow_zero: bool = False,
              allow_negative: bool = False) -> int | None:
        reader = pounds if self.text_source else pence
        return self._read(name, required, lambda v: reader(v, allow_zero=allow_zero, allow_negative=allow_negative),
                          missing_message=None if self.text_source else "Required: a whole number of pence.")

    def date(self, name: str, *, required: bool = True) -> date | None:
        return self._read(name, required, iso_date, missing_message="A date like 2026-04-30.")

    def time(self, name: str, *, required: bool = True) -> time | None:
        return self._read(name, required, iso_time)

    def text(self, name: str, *, required: bool = True, max_length: int = DEFAULT_TEXT_LIMIT) -> str | None:
        value = self._raw(name)
        if value is _MISSING:
            value = None
        try:
            return text(value, required=required, max_length=max_length)
        except ParseError as error:
            self._fail(name, error.message)
            return None

    def choice(self, name: str, options: type[E], *, required: bool = True) -> E | None:
        return self._read(name, required, lambda v: choice(v, options))

    def boolean(self, name: str, *, required: bool = True) -> bool | None:
        return self._read(name, required, lambda v: boolean(v, text=self.text_source))

    def objects(self, name: str, *, required: bool = True) -> list["Fields"]:
        """A JSON array of objects, each read with its own `Fields` whose errors are named
        `name[index].field` and collected here."""
        value = self._raw(name)
        if value is _MISSING or value is None:
            if required:
                self._fail(name, "Required: a list.")
            return []
        if not isinstance(value, list):
            self._fail(name, "Must be a list.")
            return []
        nested = []
        for index, item in enumerate(value):
            if not isinstance(item, Mapping):
                self._fail(f"{name}[{index}]", "Must be an object.")
                continue
            nested.append(Fields(item, text=self.text_source, prefix=f"{self.prefix}{name}[{index}].",
                                 errors=self.errors))
        return nested

    def present(self, name: str) -> bool:
        return self._raw(name) not in (_MISSING, None)

    def check(self) -> None:
        if self.errors:
            raise InvalidInput("Some fields are not valid.", fields=dict(self.errors))

    # -- plumbing ------------------------------------------------------------------------

    def _raw(self, name: str):
        value = self.data.get(name, _MISSING)
        if self.text_source and isinstance(value, str) and not value.strip():
            return _MISSING
        return value

    def _values(self, name: str) -> list | None:
        getlist = getattr(self.data, "getlist", None)
        if self.text_source and getlist is not None:
            values = [v for v in getlist(name) if v.strip()]
            return values or None
        value = self._raw(name)
        if value is _MISSING or value is None:
            return None
        if not isinstance(value, list):
            self._fail(name, "Must be a list.")
            return []
        return value

    def _list(self, name: str, required: bool, parse, missing_message: str) -> list:
        values = self._values(name)
        if values is None:
            if required:
                self._fail(name, missing_message)
            return []
        parsed = []
        for index, value in enumerate(values):
            try:
                parsed.append(parse(value))
            except ParseError as error:
                self._fail(f"{name}[{index}]", error.message)
        return parsed

    def _read(self, name: str, required: bool, parse, *, missing_message: str | None = None):
        value = self._raw(name)
        if value is _MISSING or value is None:
            if required:
                self._fail(name, missing_message or "Required.")
            return None
        try:
            return parse(value)
        except ParseError as error:
            self._fail(name, error.message)
            return None

    def _fail(self, name: str, message: str) -> None:
        self.errors.setdefault(f"{self.prefix}{name}", message)
