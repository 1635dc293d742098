"""What the benchmark times: a registry of named measurements.

Each measurement is one operation people rely on, run exactly as its page or endpoint runs
it. `kind` says how it is driven: "in_process" measurements are called inside an app
context on the dataset, with the clock on the evening of the dataset's last day. Issue 16
adds "http" measurements (pages and endpoints under gunicorn, driven by a load generator)
to the same registry; `bench.run` picks the driver for each kind from `DRIVERS`.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from inventory import clock
from inventory.accounts.models import User, UserRole
from inventory.budget import ledger
from inventory.budget.queries import EntryFilters, filtered_entries
from inventory.budget.verification import verify_ledger
from inventory.cases.operations import visible_cases
from inventory.extensions import db
from inventory.pagination import paginate
from inventory.requests.queue import QueueFilters, queue_query, queue_rows
from inventory.stock.models import Item
from inventory.stock.operations import find_by_code
from inventory.stock.queries import stock_levels

PER_PAGE = 50  # a page as people see it (PER_PAGE_DEFAULT)


class Skip(Exception):
    """The measurement cannot run here yet (say why, for the table)."""


@dataclass(frozen=True)
class Measurement:
    name: str
    description: str
    run: Callable[[], object]
    kind: str = "in_process"
    repetitions: int = 7
    # The absolute target at 100%, in seconds, where it sets one (shown beside the ratio).
    target_seconds: float | None = None
    # Untimed, before each run: what the run needs (a user, a code), passed to it as keywords.
    setup: Callable[[], dict] | None = None



MEASUREMENTS: list[Measurement] = []


def measurement(name: str, description: str, **options):
    def register(run):
        if any(m.name == name for m in MEASUREMENTS):
            raise ValueError(f"two measurements are named {name!r}")
        MEASUREMENTS.append(Measurement(name, description, run, **options))
        return run

    return register


# Issue 13 --------------------------------------------------------------------------------------

@measurement("funder return, one year", "inventory.reports.funder_return for April 2026 to March 2027, threshold 5",
             target_seconds=2.0)
def funder_return_year():
    try:
        from inventory.reports.funder_return import funder_return
    except ImportError:
        raise Skip("inventory.reports.funder_return is not on this branch yet (issue 13, branch funder)") from None
    return funder_return(date(2026, 4, 1), date(2027, 3, 31), threshold=5)


# Daily pages and lookups (issue 16 measures them over HTTP as well) --------------------------------

@measurement("budget summary", "the current period's totals (GET /api/v1/budget): one balance row")
def budget_summary():
    return ledger.summary()


@measurement("stock levels", "per item type: in stock, reserved, issued, quarantine, on order (/stock/)")
def stock_levels_page():
    return stock_levels()


@measurement("queue, first page", "the first 50 requests awaiting a decision, with their score parts (/queue)")
def queue_first_page():
    today = clock.today()
    page = paginate(queue_query(QueueFilters(), today), 1, PER_PAGE)
    return queue_rows(page.items, today)


@measurement("ledger, first page", "the newest 50 ledger entries and the count of all (/budget/ledger)")
def ledger_first_page():
    return paginate(filtered_entries(EntryFilters()), 1, PER_PAGE)


def a_coordinator() -> dict:
    return {"coordinator": db.session.scalar(select(User).join(UserRole).where(UserRole.role == "coordinator")
                                             .order_by(User.id).limit(1))}


@measurement("case search", "a coordinator's search by part of a reference, first page (/cases/?q=NS-2026-01)",
             setup=a_coordinator)
def case_search(coordinator):
    return paginate(visible_cases(coordinator, reference="NS-2026-01"), 1, PER_PAGE)


def a_code() -> dict:
    """The code of the item in the middle of the id range (found by index, not by counting)."""
    middle = db.session.scalar(select(func.max(Item.id))) // 2
    return {"code": db.session.scalar(select(Item.code).where(Item.id >= middle).order_by(Item.id).limit(1))}


@measurement("item by code", "the lookup a scan starts with (GET /api/v1/items/by-code/{code})", repetitions=15,
             setup=a_code)
def item_by_code(code):
    return find_by_code(code)


@measurement("verify-ledger", "the full ledger check: chain, balances, dates, categories, open commitments",
             repetitions=1)
def verify_whole_ledger():
    report = verify_ledger(full=True)
    if not report.ok:
        raise AssertionError(f"the dataset's ledger fails verification: {report.problems[:3]}")
    return report


def five_hundred_items() -> dict:
    """500 items from the middle of the id range (found by index, not by counting)."""
    middle = db.session.scalar(select(func.max(Item.id))) // 2
    return {"item_ids": list(db.session.scalars(select(Item.id).where(Item.id >= middle).order_by(Item.id)
                                                .limit(500)))}


@measurement("500-label sheet, cold", "500 labels laid out with symbols not cached (/stock/labels/print); "
             "outside a request nothing is stored, so every run draws them all", target_seconds=0.3,
             setup=five_hundred_items)
def label_sheet_cold(item_ids):
    from inventory.stock.labels import FORMATS, items_for_labels, label_pages

    return label_pages(items_for_labels(item_ids=item_ids), FORMATS["L7651"])
