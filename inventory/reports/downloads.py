"""How every report's CSV leaves the app: streamed through the one safe CSV writer."""
from collections.abc import Callable, Iterable, Sequence

from flask import Response
from sqlalchemy.orm import Session

from inventory.csv_files import Column, csv_chunks
from inventory.extensions import db


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
