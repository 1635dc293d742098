"""Whatever a bank writes, within the format, reads back exactly (Hypothesis)."""
import csv
import io
from datetime import date

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from inventory.reconciliation.statement_csv import ColumnMapping, fingerprints, parse_statement

MAPPING = ColumnMapping(date="Date", description="Description", amount="Amount", reference="Reference")
BY_POSITION = ColumnMapping(date=1, description=2, amount=3, reference=4, has_header=False)
# Printable text that Windows-1252 can hold, commas, quotes and semicolons included.
TEXT = st.text(st.characters(codec="cp1252", categories=("L", "N", "P", "S", "Zs")), max_size=40).map(
    lambda s: " ".join(s.split()))
ROW = st.tuples(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)), TEXT,
                st.integers(min_value=-100_000_000, max_value=100_000_000).filter(bool), TEXT)


def pounds(pence: int, thousands: bool) -> str:
    sign = "-" if pence < 0 else ""
    whole, rest = divmod(abs(pence), 100)
    return f"{sign}£{whole:,}.{rest:02d}" if thousands else f"{sign}{whole}.{rest:02d}"


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(ROW, min_size=1, max_size=12), delimiter=st.sampled_from([",", ";"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]), iso=st.booleans(), thousands=st.booleans(),
       header=st.booleans())
def test_any_well_formed_statement_reads_back_exactly(rows, delimiter, encoding, iso, thousands, header):
    """With a header row, mapped by name; without one (as HSBC's), by position."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    if header:
        writer.writerow(["Date", "Description", "Amount", "Reference"])
    for day, description, pence, reference in rows:
        writer.writerow([day.isoformat() if iso else day.strftime("%d/%m/%Y"), description,
                         pounds(pence, thousands), reference])
    data = buffer.getvalue().encode(encoding)
    if encoding == "cp1252":
        # Bytes that are also valid UTF-8 (e.g. "Â¡") are read as UTF-8, by design: UTF-8 is
        # tried first. Real Windows-1252 statements with a "£" or an accented letter are not.
        try:
            data.decode("utf-8")
            assume(False)
        except UnicodeDecodeError:
            pass
    lines = parse_statement(data, MAPPING if header else BY_POSITION, max_bytes=10**6)
    assert [(l.date, l.description, l.amount_pence, l.reference) for l in lines] == rows
    first = 2 if header else 1
    assert [l.line_number for l in lines] == list(range(first, len(rows) + first))
    assert len(set(fingerprints("Card", lines))) == len(rows)
