"""Reading a bank or card statement exported as CSV: pure functions, no database.

Banks disagree on everything, so the file is read generously (a UTF-8 byte-order mark,
Windows-1252, comma or semicolon, dd/mm/yyyy or ISO dates, £ signs and thousands
separators) but judged strictly: one bad line rejects the whole file, and every bad line
is reported by its line number, so finance can fix the file and import it again.
"""
import csv
import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from inventory.errors import DomainError, InvalidInput
from inventory.money import MoneyError, check_pence

DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d %b %Y", "%d-%b-%Y")
DELIMITERS = (",", ";")
MAX_DESCRIPTION = 500
MAX_REFERENCE = 120
MAX_REPORTED_ERRORS = 50
MAPPED_FIELDS = ("date", "description", "amount", "paid_in", "paid_out", "reference")

# Optional sign, optional £, digits with correctly placed thousands commas, up to any
# number of decimals (more than two is refused with its own message).
_AMOUNT = re.compile(r"^(?P<sign>[-+−]?)\s*£?\s*(?P<sign2>[-+−]?)(?P<number>(\d{1,3}(,\d{3})+|\d+)(\.\d+)?|\.\d+)$")
# Control characters other than tab, newline, carriage return and the DOS end-of-file mark.
_BINARY = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x19\x1b-\x1f]")


class StatementTooLarge(DomainError):
    code = "file_too_large"
    status = 413


@dataclass(frozen=True)
class ColumnMapping:
    """Which column of the file holds what (header names, matched without regard to case
    or surrounding spaces). Either `amount` (signed: negative is money out) or
    `paid_in` and `paid_out`."""

    date: str
    description: str
    amount: str | None = None
    paid_in: str | None = None
    paid_out: str | None = None
    reference: str | None = None

    def __post_init__(self):
        fields = {}
        for name in MAPPED_FIELDS:
            value = getattr(self, name)
            object.__setattr__(self, name, value.strip() if value and value.strip() else None)
        for name in ("date", "description"):
            if getattr(self, name) is None:
                fields[f"{name}_column"] = "Name the column that holds this."
        if self.amount is None and not (self.paid_in and self.paid_out):
            fields["amount_column"] = "Name the amount column, or both the paid-in and paid-out columns."
        if self.amount is not None and (self.paid_in or self.paid_out):
            fields["amount_column"] = "Name either one amount column or the paid-in and paid-out columns, not both."
        if fields:
            raise InvalidInput("The column mapping is incomplete.", fields=fields)

    @classmethod
    def from_fields(cls, values) -> "ColumnMapping":
        """From form or multipart fields named `<field>_column`."""
        return cls(**{name: values.get(f"{name}_column") or None for name in MAPPED_FIELDS})

    def columns(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in MAPPED_FIELDS if getattr(self, name)}


@dataclass(frozen=True)
class ParsedLine:
    line_number: int
    date: date
    description: str
    reference: str
    amount_pence: int  # signed: negative is money out of the account


def statement_error(message: str, *, field: str = "file", lines: list[dict] | None = None) -> InvalidInput:
    details = {"lines": lines} if lines else None
    return InvalidInput(message, fields={field: message}, code="invalid_statement", details=details)


def decode_statement(data: bytes) -> str:
    """Bytes to text: UTF-8 (with or without a BOM), UTF-16 with a BOM, else Windows-1252."""
    if not data.strip():
        raise statement_error("The file is empty.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise statement_error("This is not a readable CSV file.") from None
    if _BINARY.search(data[:65536]):
        raise statement_error("This is not a CSV file: it contains binary data. Export the statement as CSV.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise statement_error("The file's text encoding is not UTF-8 or Windows-1252.") from None


def parse_amount(text: str) -> int:
    """'£1,234.50', '-24.99', '−£5' -> signed pence, through Decimal. MoneyError if not."""
    cleaned = (text or "").strip().replace(" ", "")
    if not cleaned:
        raise MoneyError("The amount is empty.")
    # Accountants' brackets mean negative: (24.99) is -24.99.
    bracketed = cleaned.startswith("(") and cleaned.endswith(")")
    match = _AMOUNT.match(cleaned[1:-1] if bracketed else cleaned)
    if not match or (match["sign"] and match["sign2"]) or (bracketed and (match["sign"] or match["sign2"])):
        raise MoneyError(f"'{text.strip()}' is not an amount in pounds, like -24.99 or £1,234.50.")
    value = Decimal(match["number"].replace(",", ""))
    if value.as_tuple().exponent < -2:
        raise MoneyError(f"'{text.strip()}' has more than two decimal places.")
    negative = bracketed or (match["sign"] or match["sign2"]) in ("-", "−")
    pence = int(value * 100)
    return check_pence(-pence if negative else pence, allow_negative=True)


def parse_date(text: str) -> date:
    cleaned = (text or "").strip()
    if not cleaned:
        raise ValueError("The date is empty.")
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"'{cleaned}' is not a date like 31/01/2026.")


def _rows(text: str, delimiter: str):
    """A csv reader positioned after the header (the first non-blank row), and the header."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for row in reader:
        if any(cell.strip() for cell in row):
            return reader, row
    return reader, []


def _header_index(header: list[str]) -> dict[str, int]:
    index = {}
    for position, name in enumerate(header):
        index.setdefault(name.strip().casefold(), position)
    return index


def _choose_delimiter(text: str, mapping: ColumnMapping) -> tuple[str, dict[str, int]]:
    """The delimiter whose header row holds every mapped column (likelier one first)."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    candidates = sorted(DELIMITERS, key=lambda d: -first_line.count(d))
    wanted = mapping.columns()
    best_missing = None
    for delimiter in candidates:
        try:
            _, header = _rows(text, delimiter)
        except csv.Error:
            continue
        index = _header_index(header)
        missing = {field: column for field, column in wanted.items() if column.casefold() not in index}
        if not missing:
            return delimiter, {field: index[column.casefold()] for field, column in wanted.items()}
        if best_missing is None:
            best_missing = (missing, [name.strip() for name in header if name.strip()])
    if best_missing is None:
        raise statement_error("The file's header row could not be read as CSV.")
    missing, found = best_missing
    message = "The file has no column named {}. Its columns are: {}.".format(
        ", ".join(f"'{column}'" for column in missing.values()), ", ".join(found) or "none")
    raise InvalidInput(message, fields={f"{field}_column": f"No column '{column}' in the file." for field, column in
                                        missing.items()} | {"file": message}, code="invalid_statement")


def parse_statement(data: bytes, mapping: ColumnMapping, *, max_bytes: int) -> list[ParsedLine]:
    """All the lines of a statement file, or InvalidInput listing every bad line."""
    if len(data) > max_bytes:
        raise StatementTooLarge(f"The file is over the {max_bytes // 1024} KB limit for one statement; "
                                "export a shorter date range.", details={"max_bytes": max_bytes})
    text = decode_statement(data)
    delimiter, columns = _choose_delimiter(text, mapping)
    reader, _ = _rows(text, delimiter)
    parsed: list[ParsedLine] = []
    errors: list[dict] = []
    try:
        for row in reader:
            line_number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            try:
                parsed.append(_parse_row(row, columns, line_number))
            except ValueError as error:
                errors.append({"line": line_number, "message": str(error)})
    except csv.Error as error:
        errors.append({"line": reader.line_num, "message": f"The CSV is malformed: {error}."})
    if errors:
        shown = errors[:MAX_REPORTED_ERRORS]
        more = f" (showing the first {len(shown)})" if len(errors) > len(shown) else ""
        raise statement_error(f"{len(errors)} line(s) of the file could not be read{more}; nothing was imported.",
                              lines=shown)
    if not parsed:
        raise statement_error("The file has a header but no statement lines.")
    return parsed


def _cell(row: list[str], columns: dict[str, int], field: str) -> str:
    position = columns.get(field)
    if position is None or position >= len(row):
        return ""
    return row[position].strip()


def _parse_row(row: list[str], columns: dict[str, int], line_number: int) -> ParsedLine:
    problems = []
    try:
        day = parse_date(_cell(row, columns, "date"))
    except ValueError as error:
        problems.append(f"Date: {error}")
    try:
        amount = _row_amount(row, columns)
    except MoneyError as error:
        problems.append(f"Amount: {error}")
    description = " ".join(_cell(row, columns, "description").split())
    reference = " ".join(_cell(row, columns, "reference").split())
    if len(description) > MAX_DESCRIPTION:
        problems.append(f"Description: longer than {MAX_DESCRIPTION} characters.")
    if len(reference) > MAX_REFERENCE:
        problems.append(f"Reference: longer than {MAX_REFERENCE} characters.")
    if problems:
        raise ValueError(" ".join(problems))
    return ParsedLine(line_number=line_number, date=day, description=description, reference=reference,
                      amount_pence=amount)


def _row_amount(row: list[str], columns: dict[str, int]) -> int:
    if "amount" in columns:
        amount = parse_amount(_cell(row, columns, "amount"))
        if amount == 0:
            raise MoneyError("The amount must not be zero.")
        return amount
    paid_in, paid_out = _cell(row, columns, "paid_in"), _cell(row, columns, "paid_out")
    if paid_in and paid_out:
        raise MoneyError("Both paid in and paid out are filled in; a line is one or the other.")
    if not paid_in and not paid_out:
        raise MoneyError("Neither paid in nor paid out is filled in.")
    if paid_in:
        amount = parse_amount(paid_in)
        if amount <= 0:
            raise MoneyError("Paid in must be more than zero.")
        return amount
    # Some banks print money out as negative in the paid-out column; it is out either way.
    amount = abs(parse_amount(paid_out))
    if amount == 0:
        raise MoneyError("Paid out must be more than zero.")
    return -amount


def fingerprints(account: str, lines: list[ParsedLine]) -> list[str]:
    """A stable identity per line, so re-importing an overlapping file adds nothing twice.

    The occurrence index tells apart genuine identical payments on the same day within one
    file (the second is occurrence 1), while the same line in a later file (occurrence 0
    again) is recognised as already imported.
    """
    seen: Counter = Counter()
    result = []
    for line in lines:
        key = (
            " ".join(account.split()).casefold(), line.date.isoformat(), str(line.amount_pence),
            line.description.casefold(), line.reference.casefold(),
        )
        occurrence = seen[key]
        seen[key] += 1
        result.append(hashlib.sha256("\x1f".join((*key, str(occurrence))).encode()).hexdigest())
    return result
