"""Reading a bank or card statement exported as CSV: pure functions, no database.

Banks disagree on everything, so the file is read generously (a UTF-8 byte-order mark,
Windows-1252, comma or semicolon, dd/mm/yyyy or ISO dates, £ signs and thousands
separators) but judged strictly: one bad line rejects the whole file, and every bad line
is reported by its line number, so finance can fix the file and import it again.

Columns are named by the file's header row or given by position (a file without a header
row, like HSBC's export, has only positions). Before importing, the upload page reads the
file's shape (`read_shape`), guesses the columns (`guess_columns`) and shows the first lines
as they will be read (`preview_lines`).
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
from inventory.parsing import Fields

DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d %b %Y", "%d-%b-%Y")
DELIMITERS = (",", ";")
MAX_DESCRIPTION = 500
MAX_REFERENCE = 120
MAX_REPORTED_ERRORS = 50
MAX_COLUMNS = 100
MAX_COLUMN_NAME = 80
MAPPED_FIELDS = ("date", "description", "amount", "paid_in", "paid_out", "reference")
PREVIEW_ROWS = 5

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
    """Which column of the file holds what: a header name (matched without regard to case
    or surrounding spaces) or a position (1 is the first column). A file without a header
    row (`has_header=False`, HSBC's export) is mapped by position only. Either `amount`
    (signed: negative is money out) or `paid_in` and `paid_out`."""

    date: str | int | None = None
    description: str | int | None = None
    amount: str | int | None = None
    paid_in: str | int | None = None
    paid_out: str | int | None = None
    reference: str | int | None = None
    has_header: bool = True

    def __post_init__(self):
        fields = {}
        for name in MAPPED_FIELDS:
            value = getattr(self, name)
            if isinstance(value, str):
                value = value.strip() or None
                if value is not None and not self.has_header:
                    fields[f"{name}_column"] = "A file without a header row is mapped by column number."
            elif isinstance(value, bool) or (value is not None and not isinstance(value, int)):
                fields[f"{name}_position"] = "A column number, 1 for the first column."
                value = None
            elif value is not None and not 1 <= value <= MAX_COLUMNS:
                fields[f"{name}_position"] = f"A column number from 1 to {MAX_COLUMNS}."
                value = None
            object.__setattr__(self, name, value)
        if fields:
            raise InvalidInput("The column mapping is not valid.", fields=fields)
        for name in ("date", "description"):
            if getattr(self, name) is None:
                fields[f"{name}_column"] = "Choose the column that holds this."
        if self.amount is None and (self.paid_in is None or self.paid_out is None):
            fields["amount_column"] = "Choose the amount column, or both the paid-in and paid-out columns."
        if self.amount is not None and (self.paid_in is not None or self.paid_out is not None):
            fields["amount_column"] = "Choose either one amount column or the paid-in and paid-out columns, not both."
        chosen = list(self.columns().values())
        if not fields and len(set(map(_column_key, chosen))) != len(chosen):
            fields["columns"] = "Each column can hold only one of these; one is chosen twice."
        if fields:
            raise InvalidInput("The column mapping is incomplete.", fields=fields)

    @classmethod
    def from_fields(cls, values) -> "ColumnMapping":
        """From form or multipart fields: `<field>_column` names a header, `<field>_position`
        gives a column number; `header_row=false` says the file has no header row."""
        fields = Fields(values, text=True)
        has_header = fields.boolean("header_row", required=False)
        mapped = {}
        for name in MAPPED_FIELDS:
            column = fields.text(f"{name}_column", required=False, max_length=MAX_COLUMN_NAME)
            position = fields.whole_number(f"{name}_position", required=False, minimum=1, maximum=MAX_COLUMNS)
            if column is not None and position is not None:
                fields.errors[f"{name}_position"] = f"Give {name}_column or {name}_position, not both."
            mapped[name] = position if position is not None else column
        fields.check()
        return cls(**mapped, has_header=True if has_header is None else has_header)

    def columns(self) -> dict[str, str | int]:
        return {name: getattr(self, name) for name in MAPPED_FIELDS if getattr(self, name) is not None}


def _column_key(column: str | int):
    return column.casefold() if isinstance(column, str) else column


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


def _reader(text: str, delimiter: str):
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _first_row(text: str, delimiter: str) -> list[str]:
    """The first non-blank row (the header, or the first line of a file without one)."""
    for row in _reader(text, delimiter):
        if any(cell.strip() for cell in row):
            return row
    return []


def _likely_delimiters(text: str) -> list[str]:
    """The delimiters, likeliest first, judged on the first rows: the one that leaves no
    stray quote in a cell (as splitting a quoted description on the other would), that
    finds a date cell, whose shortest row is longest (a description holding the other
    delimiter lengthens only its own row), and whose first row is longest."""
    def likelihood(delimiter: str) -> tuple[bool, bool, int, int]:
        rows = []
        try:
            for row in _reader(text, delimiter):
                if any(cell.strip() for cell in row):
                    rows.append(row)
                if len(rows) > PREVIEW_ROWS:
                    break
        except csv.Error:
            return False, False, 0, 0
        if not rows:
            return False, False, 0, 0
        clean = not any('"' in cell for row in rows for cell in row)
        dated = any(_is_date(cell) for row in rows for cell in row)
        return clean, dated, min(len(row) for row in rows), len(rows[0])
    return sorted(DELIMITERS, key=likelihood, reverse=True)


def _header_index(header: list[str]) -> dict[str, int]:
    index = {}
    for position, name in enumerate(header):
        index.setdefault(name.strip().casefold(), position)
    return index


def _resolve(first_row: list[str], mapping: ColumnMapping) -> tuple[dict[str, int], dict[str, str]]:
    """Each mapped field's 0-based column in a file whose first row is this, and the
    fields whose column is not there (field -> why)."""
    index = _header_index(first_row) if mapping.has_header else {}
    columns, missing = {}, {}
    for field, column in mapping.columns().items():
        if isinstance(column, int):
            if column > len(first_row):
                missing[field] = f"The file has only {len(first_row)} column(s), not {column}."
            else:
                columns[field] = column - 1
        elif column.casefold() in index:
            columns[field] = index[column.casefold()]
        else:
            missing[field] = f"No column '{column}' in the file."
    return columns, missing


def _choose_delimiter(text: str, mapping: ColumnMapping) -> tuple[str, dict[str, int]]:
    """The delimiter whose first row holds every mapped column (likelier one first)."""
    best_missing = None
    for delimiter in _likely_delimiters(text):
        try:
            first_row = _first_row(text, delimiter)
        except csv.Error:
            continue
        columns, missing = _resolve(first_row, mapping)
        if not missing:
            return delimiter, columns
        if best_missing is None:
            best_missing = (missing, first_row)
    if best_missing is None:
        raise statement_error("The file's first row could not be read as CSV.")
    missing, first_row = best_missing
    names = [column for field, column in mapping.columns().items() if field in missing and isinstance(column, str)]
    if names:
        found = ", ".join(name.strip() for name in first_row if name.strip()) or "none"
        message = "The file has no column named {}. Its columns are: {}.".format(
            ", ".join(f"'{name}'" for name in names), found)
    else:
        message = f"The file has only {len(first_row)} column(s)."
    fields = {_field_key(mapping, field): why for field, why in missing.items()}
    raise InvalidInput(message, fields=fields | {"file": message}, code="invalid_statement")


def _field_key(mapping: ColumnMapping, field: str) -> str:
    return f"{field}_position" if isinstance(getattr(mapping, field), int) else f"{field}_column"


def _data_rows(text: str, delimiter: str, *, has_header: bool):
    """(line number, cells) of each non-blank data row; a row the CSV reader cannot read
    comes as (line number, the csv.Error) and ends the file."""
    reader = _reader(text, delimiter)
    skip = has_header
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if skip:
                skip = False
                continue
            yield reader.line_num, row
    except csv.Error as error:
        yield reader.line_num, error


def _read_lines(text: str, mapping: ColumnMapping):
    """(line number, ParsedLine or None, problem or None) for each data row of the file."""
    delimiter, columns = _choose_delimiter(text, mapping)
    for line_number, row in _data_rows(text, delimiter, has_header=mapping.has_header):
        if isinstance(row, csv.Error):
            yield line_number, None, f"The CSV is malformed: {row}."
            return
        try:
            yield line_number, _parse_row(row, columns, line_number), None
        except ValueError as error:
            yield line_number, None, str(error)


def _check_size(data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise StatementTooLarge(f"The file is over the {max_bytes // 1024} KB limit for one statement; "
                                "export a shorter date range.", details={"max_bytes": max_bytes})


def parse_statement(data: bytes, mapping: ColumnMapping, *, max_bytes: int) -> list[ParsedLine]:
    """All the lines of a statement file, or InvalidInput listing every bad line."""
    _check_size(data, max_bytes)
    text = decode_statement(data)
    parsed: list[ParsedLine] = []
    errors: list[dict] = []
    for line_number, line, problem in _read_lines(text, mapping):
        if problem is None:
            parsed.append(line)
        else:
            errors.append({"line": line_number, "message": problem})
    if errors:
        shown = errors[:MAX_REPORTED_ERRORS]
        more = f" (showing the first {len(shown)})" if len(errors) > len(shown) else ""
        raise statement_error(f"{len(errors)} line(s) of the file could not be read{more}; nothing was imported.",
                              lines=shown)
    if not parsed:
        raise statement_error("The file has a header but no statement lines." if mapping.has_header
                              else "The file has no statement lines.")
    return parsed


# Choosing the columns: what the file looks like, a guess, a preview --------------------------

@dataclass(frozen=True)
class FileShape:
    """The first rows of a statement file, as the upload page shows them."""

    delimiter: str
    column_count: int
    rows: list[list[str]]  # the first non-blank rows (header included), cells stripped, padded

    def header(self, has_header: bool) -> list[str] | None:
        return self.rows[0] if has_header and self.rows else None

    def data_rows(self, has_header: bool) -> list[list[str]]:
        return self.rows[1:] if has_header else self.rows[:PREVIEW_ROWS]

    def options(self, has_header: bool) -> list[tuple[int, str]]:
        """(position, label) for each column: its header name, or "Column n", with an example."""
        examples = self.data_rows(has_header)
        options = []
        for index in range(self.column_count):
            example = next((row[index] for row in examples if row[index]), "")
            example = f"{example[:30]}…" if len(example) > 30 else example
            if has_header:
                name = self.rows[0][index] or f"Column {index + 1} (no name)"
                label = f"{name} (e.g. {example})" if example else name
            else:
                label = f"Column {index + 1}" + (f": {example}" if example else " (empty)")
            options.append((index + 1, label))
        return options

    def first_row_looks_like_data(self) -> bool:
        """True when the first row holds a date and an amount, as a statement line does."""
        if not self.rows:
            return False
        cells = [cell for cell in self.rows[0] if cell]
        return any(_is_date(cell) for cell in cells) and any(_is_amount(cell) for cell in cells)


def read_shape(data: bytes, *, max_bytes: int) -> FileShape:
    """The file's delimiter and first rows, or InvalidInput if it is not a readable CSV."""
    _check_size(data, max_bytes)
    text = decode_statement(data)
    delimiter = _likely_delimiters(text)[0]
    rows = []
    for _, (_, cells) in zip(range(PREVIEW_ROWS + 1), _data_rows(text, delimiter, has_header=False)):
        if isinstance(cells, csv.Error):
            break
        rows.append([" ".join(cell.split()) for cell in cells])
    if not rows:
        raise statement_error("The file's first row could not be read as CSV.")
    width = min(max(len(row) for row in rows), MAX_COLUMNS)
    rows = [(row + [""] * width)[:width] for row in rows]
    return FileShape(delimiter=delimiter, column_count=width, rows=rows)


# Header names banks use, most likely first (compared lower-case, punctuation as spaces).
HEADER_NAMES = {
    "date": ("date", "transaction date", "posting date", "posted date", "value date", "booking date"),
    "amount": ("amount", "transaction amount", "value"),
    "paid_in": ("paid in", "money in", "credit", "credit amount", "credits", "in"),
    "paid_out": ("paid out", "money out", "debit", "debit amount", "debits", "out"),
    "reference": ("reference", "ref", "payment reference", "transaction reference"),
    "description": ("description", "details", "narrative", "memo", "transaction description", "payee",
                    "particulars", "name"),
}


def _plain(name: str) -> str:
    """'Paid in (GBP)' -> 'paid in': lower case, punctuation and a currency left out."""
    words = re.sub(r"[^0-9a-z]+", " ", name.casefold()).split()
    return " ".join(words[:-1] if len(words) > 1 and words[-1] in ("gbp", "gb") else words)


def guess_columns(shape: FileShape, has_header: bool) -> dict[str, int]:
    """A good first guess of each field's column (1-based): by the header's names, or for a
    file without one by what the first rows hold (a date; an amount on every line; the
    longest text)."""
    guess: dict[str, int] = {}
    if has_header:
        names = [_plain(name) for name in shape.rows[0]] if shape.rows else []
        for field, candidates in HEADER_NAMES.items():
            for candidate in candidates:
                for index, name in enumerate(names):
                    if name == candidate and field not in guess and index + 1 not in guess.values():
                        guess[field] = index + 1
        if "amount" in guess and ("paid_in" in guess or "paid_out" in guess):
            guess.pop("paid_in", None), guess.pop("paid_out", None)
        if "amount" not in guess and not ("paid_in" in guess and "paid_out" in guess):
            guess.pop("paid_in", None), guess.pop("paid_out", None)
        return guess
    rows = shape.data_rows(False)
    columns = [[row[index] for row in rows] for index in range(shape.column_count)]
    for index, cells in enumerate(columns):
        if cells and all(_is_date(cell) for cell in cells):
            guess["date"] = index + 1
            break
    for index, cells in enumerate(columns):
        if index + 1 not in guess.values() and cells and all(_is_amount(cell) for cell in cells):
            guess["amount"] = index + 1
            break
    texts = [(sum(len(cell) for cell in cells), index) for index, cells in enumerate(columns)
             if index + 1 not in guess.values() and any(cell and not _is_amount(cell) for cell in cells)]
    if texts:
        guess["description"] = max(texts, key=lambda pair: (pair[0], -pair[1]))[1] + 1
    return guess


def _is_date(text: str) -> bool:
    try:
        parse_date(text)
    except ValueError:
        return False
    return True


def _is_amount(text: str) -> bool:
    try:
        parse_amount(text)
    except (MoneyError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class PreviewLine:
    line_number: int
    line: ParsedLine | None
    problem: str | None


def preview_lines(data: bytes, mapping: ColumnMapping, *, max_bytes: int,
                  limit: int = PREVIEW_ROWS) -> list[PreviewLine]:
    """The first lines of the file as the import will read them (each with its problem, if
    any); InvalidInput if a chosen column is not in the file."""
    _check_size(data, max_bytes)
    text = decode_statement(data)
    return [PreviewLine(number, line, problem)
            for _, (number, line, problem) in zip(range(limit), _read_lines(text, mapping))]


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
