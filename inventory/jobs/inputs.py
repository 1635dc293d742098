"""What people and programs send about jobs (a booking, a completion, a scan), read into
the typed values the use cases take. The API reads its JSON bodies with these functions
and the pages read their forms with the same ones, so both refuse the same input with the
same field names, every problem named at once.

Only what can be judged from the values themselves is checked here (types, ranges, a
window that ends after it starts); whether the fitter, request, case or items fit is the
use case's to say.
"""
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from inventory import clock
from inventory.jobs.booking import CollectionBooking, InstallBooking, Visit
from inventory.jobs.completion import Completion, NotDone
from inventory.jobs.models import JobKind, NotCollectedReason, NotIssuedReason, ReturnCondition
from inventory.jobs.scanning import ScanAction, ScanInput
from inventory.parsing import Fields, ParseError, iso_time, record_id

MAX_DAYS_AHEAD = 366


# Booking ---------------------------------------------------------------------------------

def read_booking(fields: Fields) -> InstallBooking | CollectionBooking:
    """An install (the default) or a collection, as the `kind` field says."""
    kind = fields.choice("kind", JobKind, required=False)
    fields.check()  # the kind says what else the booking holds
    return read_collection_booking(fields) if kind is JobKind.COLLECTION else read_install_booking(fields)


def read_install_booking(fields: Fields) -> InstallBooking:
    request_id = fields.record_id("request_id")
    visit = _visit(fields)
    fields.check()
    return InstallBooking(request_id=request_id, visit=visit)


def read_collection_booking(fields: Fields) -> CollectionBooking:
    case_id = fields.record_id("case_id")
    item_ids = _item_ids(fields)
    visit = _visit(fields)
    fields.check()
    return CollectionBooking(case_id=case_id, item_ids=item_ids, visit=visit)


def usual_window() -> tuple[time, time]:
    """The arrival window a booking gets unless it says otherwise (a setting)."""
    starts, ends = current_app.config["JOB_WINDOW_DEFAULT"]
    return iso_time(starts), iso_time(ends)


def local_now() -> datetime:
    """Now on the service's clocks (SCHEDULER_TIMEZONE), as windows are written."""
    return clock.now().astimezone(ZoneInfo(current_app.config["SCHEDULER_TIMEZONE"]))


def _visit(fields: Fields) -> Visit:
    """Who goes and when, in the usual window unless the fields say otherwise. Holds None
    where a field is bad, so the caller checks `fields` before using it."""
    default_starts, default_ends = usual_window()
    fitter_id = fields.record_id("fitter_id")
    day = fields.date("scheduled_for")
    starts = fields.time("window_starts", required=False) or default_starts
    ends = fields.time("window_ends", required=False) or default_ends
    today = clock.today()
    if day is not None and day < today:
        fields.errors.setdefault("scheduled_for", "Cannot be in the past.")
    elif day is not None and day > today + timedelta(days=MAX_DAYS_AHEAD):
        fields.errors.setdefault("scheduled_for", "At most a year ahead.")
    if starts >= ends:
        fields.errors.setdefault("window_ends", "Must be after the start of the window.")
    else:
        now = local_now()
        if day == now.date() and ends <= now.time():
            fields.errors.setdefault("window_ends", f"This window ended at {ends:%H:%M} today: choose a later "
                                                    "window or another day.")
    return Visit(fitter_id=fitter_id, day=day, window_starts=starts, window_ends=ends)


def _item_ids(fields: Fields) -> tuple[int, ...]:
    """The units to collect: at least one, each named once."""
    value = fields.data.get("item_ids")
    if not isinstance(value, list) or not value:
        fields.errors.setdefault("item_ids", "Choose at least one item to collect.")
        return ()
    try:
        return tuple(dict.fromkeys(record_id(entry, text=fields.text_source) for entry in value))
    except ParseError:
        fields.errors.setdefault("item_ids", "Item ids are whole numbers.")
        return ()


# Completion ------------------------------------------------------------------------------

def read_completion(fields: Fields) -> Completion:
    """`not_issued` (an install) or `not_collected` (a collection): lists of {item_id, reason}."""
    completion = Completion(not_issued=_not_done(fields, "not_issued", NotIssuedReason),
                            not_collected=_not_done(fields, "not_collected", NotCollectedReason))
    fields.check()
    return completion


def _not_done(fields: Fields, name: str, reasons) -> tuple[NotDone, ...]:
    return tuple(NotDone(item_id=entry.record_id("item_id"), reason=entry.choice("reason", reasons))
                 for entry in fields.objects(name, required=False))


def completion_from_form(form: Mapping[str, str], *, collection: bool) -> Completion:
    """The job page's form: a reason chosen (`reason_<item id>`) for each unit not dealt with."""
    given = [{"item_id": int(name.removeprefix("reason_")), "reason": value} for name, value in form.items()
             if name.startswith("reason_") and name.removeprefix("reason_").isdecimal() and value]
    return read_completion(Fields({"not_collected" if collection else "not_issued": given}))


# Scanning --------------------------------------------------------------------------------

def read_scan(fields: Fields) -> ScanInput:
    """The code and what the scan is for; the fields an action does not use are ignored."""
    action = fields.choice("action", ScanAction)
    code = fields.text("code")
    job_id = fields.record_id("job_id", required=False) if action in (ScanAction.ISSUE, ScanAction.RETURN) else None
    condition = fields.choice("condition", ReturnCondition, required=False) if action is ScanAction.RETURN else None
    stocktake_id = fields.record_id("stocktake_id", required=False) if action is ScanAction.STOCKTAKE else None
    fields.check()
    return ScanInput(action=action, code=code, job_id=job_id, condition=condition, stocktake_id=stocktake_id)
