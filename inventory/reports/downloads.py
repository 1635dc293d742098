"""How every report's CSV leaves the app: streamed through the one safe CSV writer."""
from collections.abc import Iterable, Sequence

from flask import Response, stream_with_context

from inventory.csv_files import Column, csv_chunks


def csv_download(filename: str, columns: Sequence[Column], rows: Iterable[Sequence]) -> Response:
    """A CSV attachment written while `rows` are read (a generator over a streamed query
    keeps a large export out of memory). Rows are read after the response starts, so
    whatever can be refused must be checked before this is called."""
    return Response(stream_with_context(csv_chunks(columns, rows)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
