"""QR symbols for item labels, rendered once and cached by what they encode.

By default a label's QR encodes only the item's code: no URL, no service name, nothing
about a case, because the label may sit in a survivor's home where the person stalking
them can scan it. An installation may set LABEL_QR_URL_BASE so that labels of stock kept
in an office store encode a URL instead (handy for phones without the app).

A symbol is stored when its code is given out, and any symbol a read has to draw (a
URL-encoding label, an item from before the cache or from a bulk load) is stored after that
request, on a connection of its own, so that a sheet is drawn cold only once and a read
never becomes a write that waits for the database's write lock.
"""
import logging

from flask import current_app, g, has_request_context
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from inventory.database import brief_write
from inventory.extensions import db
from inventory.qr_svg import render_svg
from inventory.stock.models import Item, LocationKind, QrImage

log = logging.getLogger(__name__)

# Labels use one fixed mask rather than the best of eight, which is most of the cost of
# drawing a symbol: 500 cold labels draw in a fraction of a second. Any reader reads any
# mask (tests decode them with an independent decoder); two-factor enrolment, one symbol at
# a time, keeps the best mask.
LABEL_MASK = 0


def render_label_svg(payload: str) -> str:
    return render_svg(payload, mask_pattern=LABEL_MASK)


def label_payload(item: Item) -> str:
    """Exactly what the item's label QR encodes."""
    base = current_app.config.get("LABEL_QR_URL_BASE")
    if base and item.location is not None and item.location.kind == LocationKind.STORE:
        return base.rstrip("/") + "/" + item.code
    return item.code


def cache_qr_images(payloads) -> None:
    """Render and store the symbols not cached yet (called when codes are given out)."""
    wanted = set(payloads)
    if not wanted:
        return
    known = set(db.session.scalars(select(QrImage.payload).where(QrImage.payload.in_(wanted))))
    for payload in sorted(wanted - known):
        db.session.add(QrImage(payload=payload, svg=render_label_svg(payload)))
    db.session.flush()


def svgs_for(payloads) -> dict[str, str]:
    """Cached SVGs for many payloads in one query; any not cached are rendered, and stored
    after the request (see `store_rendered`)."""
    wanted = set(payloads)
    found = dict(db.session.execute(select(QrImage.payload, QrImage.svg).where(QrImage.payload.in_(wanted))).all()) \
        if wanted else {}
    drawn = {payload: render_label_svg(payload) for payload in wanted - found.keys()}
    if drawn and has_request_context():
        g.setdefault("qr_images_drawn", {}).update(drawn)
    return found | drawn


def store_rendered(engine: Engine, drawn: dict[str, str]) -> None:
    """Store symbols a request drew, skipping any another request stored meanwhile. In
    payload order, so that two requests storing overlapping sets cannot deadlock; a busy
    database may have it skipped (the next read draws and stores them again)."""
    try:
        with brief_write(engine) as connection:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            connection.execute(dialect.insert(QrImage).values(
                [{"payload": payload, "svg": drawn[payload]} for payload in sorted(drawn)],
            ).on_conflict_do_nothing(index_elements=["payload"]))
    except DBAPIError as error:
        log.warning("%d drawn QR symbols not stored (%s)", len(drawn), type(error.orig).__name__)


def svg_for_item(item: Item) -> str:
    payload = label_payload(item)
    return svgs_for([payload])[payload]
