"""Bulk loading of generated rows: COPY on PostgreSQL, executemany of batches on SQLite.

Every value goes through its column type's own bind processor first (the app's
`UTCDateTime`, JSON, booleans; row-bound sealed fields come sealed already), so what lands in the database is exactly
what the app itself would have written, at a fraction of the ORM's cost per row.
"""
from collections.abc import Iterable, Sequence

from sqlalchemy import Table, text
from sqlalchemy.engine import Connection

BATCH_ROWS = 5_000


class BulkLoader:
    """Writes rows into the tables of one connection, inside its transaction."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.dialect = connection.dialect
        self.rows_written: dict[str, int] = {}

    def write(self, table: Table, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
        processors = [table.c[name].type._cached_bind_processor(self.dialect) for name in columns]
        processed = (tuple(value if convert is None or value is None else convert(value)
                           for convert, value in zip(processors, row, strict=True)) for row in rows)
        if self.dialect.name == "postgresql":
            count = self._copy(table, columns, processed)
        else:
            count = self._executemany(table, columns, processed)
        self.rows_written[table.name] = self.rows_written.get(table.name, 0) + count
        return count

    def _copy(self, table: Table, columns: Sequence[str], rows: Iterable[tuple]) -> int:
        cursor = self.connection.connection.dbapi_connection.cursor()
        count = 0
        names = ", ".join(f'"{name}"' for name in columns)
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count

    def _executemany(self, table: Table, columns: Sequence[str], rows: Iterable[tuple]) -> int:
        cursor = self.connection.connection.dbapi_connection.cursor()
        names = ", ".join(f'"{name}"' for name in columns)
        statement = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(columns))})'
        count, batch = 0, []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH_ROWS:
                cursor.executemany(statement, batch)
                count, batch = count + len(batch), []
        if batch:
            cursor.executemany(statement, batch)
            count += len(batch)
        return count

    def restart_sequences(self, tables: Iterable[Table]) -> None:
        """Rows were written with their ids: PostgreSQL's id sequences must continue after them."""
        if self.dialect.name != "postgresql":
            return
        for table in tables:
            if "id" in table.c and table.c.id.autoincrement in (True, "auto") and table.c.id.primary_key:
                self.connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"COALESCE((SELECT max(id) FROM \"{table.name}\"), 0) + 1, false)"))
