"""The one way SafeHold writes a CSV file, safe to open in a spreadsheet.

A spreadsheet treats a cell that begins with `=`, `+`, `-` or `@` (or a tab or carriage
return before one) as a formula, so a supplier named `=HYPERLINK(...)` could run in
finance's spreadsheet (OWASP, "CSV Injection"). Every text cell that begins so is prefixed
with a single quote, which spreadsheets show as text. Number columns are declared as such
and hold only numbers, so a negative amount such as `-12.50` is written as it is.
"""
import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from flask import Response
from sqlalchemy.orm import Session

from inventory.extensions import db

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(\.\d+)?")


@dataclass(frozen=True)
class Column:
    header: str
    numeric: bool = False  # holds numbers only, written unchanged


def neutralise(text: str) -> str:
    """A text cell as a spreadsheet will show it: never a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cell(column: Column, value) -> str:
    if value is None:
        return ""
    if column.numeric:
        if isinstance(value, bool) or not isinstance(value, int | Decimal | str) or not NUMBER.fullmatch(str(value)):
            raise ValueError(f"column {column.header!r} holds numbers only, not {value!r}")
        return str(value)
    return neutralise(str(value))


def write_csv(columns: Sequence[Column], rows: Iterable[Sequence]) -> str:
    """A header row and `rows` (one value per column), lines ended CRLF as RFC 4180 says."""
    return "".join(csv_chunks(columns, rows))


def csv_chunks(columns: Sequence[Column], rows: Iterable[Sequence], *, rows_per_chunk: int = 1000) -> Iterator[str]:
    """The same file as `write_csv`, in pieces of about `rows_per_chunk` rows, so that a
    large export streams while its rows are read rather than being built whole in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(column.header) for column in columns])
    for count, row in enumerate(rows, start=1):
        if len(row) != len(columns):
            raise ValueError(f"a row of {len(row)} values for {len(columns)} columns")
        writer.writerow([_cell(column, value) for column, value in zip(columns, row, strict=True)])
        if count % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_download(filename: str, columns: Sequence[Column], rows: Callable[[Session], Iterable[Sequence]]
                 ) -> Response:
    """A CSV attachment written while its rows are read: `rows(session)` runs as the response
    is sent, after the request's own session has gone, so it reads through a session of its
    own (read only, closed when the file ends or the client goes away). A generator over a
    streamed query keeps a large export out of memory. Whatever can be refused must be
    checked before this is called."""
    engine = db.engine

    def chunks():
        with Session(engine) as session:
            yield from csv_chunks(columns, rows(session))

    return Response(chunks(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
