"""Where stock is kept (office stores and fitters' vans), and moving many items at once."""
from sqlalchemy import func, select

from inventory.errors import Conflict, InvalidInput, NotFound
from inventory.extensions import db
from inventory.stock.models import Item, Location, LocationKind
from inventory.stock.operations import find_by_code, move_item
from inventory.stock.receiving import MAX_UNITS_AT_ONCE


def create_location(*, name: str, kind: str, fitter=None) -> Location:
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise InvalidInput("Name the location (at most 80 characters).", fields={"name": "Enter a name."})
    if db.session.scalar(select(Location.id).where(func.lower(Location.name) == name.lower())):
        raise InvalidInput("A location with that name already exists.", fields={"name": "Already in use."})
    try:
        kind = LocationKind(kind)
    except ValueError:
        raise InvalidInput("Choose the kind of location.", fields={"kind": "Office store or fitter's van."}) from None
    if kind == LocationKind.VAN and fitter is None:
        raise InvalidInput("Say whose van it is.", fields={"fitter_id": "Choose the fitter."})
    location = Location(name=name, kind=str(kind), fitter=fitter if kind == LocationKind.VAN else None)
    db.session.add(location)
    db.session.flush()
    return location


def transfer_codes(texts, location: Location, *, actor) -> list[Item]:
    """Move every item named by the typed or scanned codes to `location`. All or nothing:
    one bad code refuses the lot, naming the line."""
    lines = [t for t in (text.strip() for text in texts) if t]
    if not lines:
        raise InvalidInput("Scan or type at least one code.", fields={"codes": "No codes given."})
    if len(lines) > MAX_UNITS_AT_ONCE:
        raise InvalidInput(f"At most {MAX_UNITS_AT_ONCE} codes at once.", fields={"codes": "Too many codes."})
    moved = []
    for number, line in enumerate(lines, start=1):
        try:
            item = find_by_code(line)
            move_item(item, location, actor=actor)
        except (InvalidInput, NotFound, Conflict) as error:
            raise InvalidInput(f"Line {number} ({line}): {error.message}",
                               fields={"codes": f"Line {number}: {error.message}"}, code=error.code) from None
        moved.append(item)
    return moved
