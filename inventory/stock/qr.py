"""QR symbols for item labels, rendered once and cached by what they encode.

By default a label's QR encodes only the item's code: no URL, no service name, nothing
about a case, because the label may sit in a survivor's home where the person stalking
them can scan it. An installation may set LABEL_QR_URL_BASE so that labels of stock kept
in an office store encode a URL instead (handy for phones without the app).
"""
from flask import current_app
from sqlalchemy import select

from inventory.extensions import db
from inventory.qr_svg import render_svg
from inventory.stock.models import Item, LocationKind, QrImage


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
        db.session.add(QrImage(payload=payload, svg=render_svg(payload)))
    db.session.flush()


def svgs_for(payloads) -> dict[str, str]:
    """Cached SVGs for many payloads in one query; any not cached are rendered (not stored,
    so reading never writes)."""
    wanted = set(payloads)
    found = dict(db.session.execute(select(QrImage.payload, QrImage.svg).where(QrImage.payload.in_(wanted))).all()) \
        if wanted else {}
    for payload in wanted - found.keys():
        found[payload] = render_svg(payload)
    return found


def svg_for_item(item: Item) -> str:
    payload = label_payload(item)
    return svgs_for([payload])[payload]
