"""The one pagination helper: pages of a SELECT, counted in SQL.

The count stops at what a person reads (COUNT_CAP rows, or the rows up to the page asked for):
counting every match of a list that holds hundreds of thousands of rows costs a scan of them
all on every view, and "more than 1,000" is all a reader needs to know beyond that."""
from dataclasses import dataclass
from math import ceil

from flask import current_app, request
from sqlalchemy import Select, func, select

from inventory.errors import InvalidInput
from inventory.extensions import db
from inventory.parsing import Fields

MAX_PAGE = 10**9
COUNT_CAP = 1000


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int
    # False when counting stopped early: `total` is then a lower bound ("more than total - 1")
    total_exact: bool = True

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def total_shown(self) -> str:
        """The count as a reader sees it: "1,234", or "more than 1,000" when counting stopped."""
        return f"{self.total:,}" if self.total_exact else f"more than {self.total - 1:,}"

    def as_json(self, serialise) -> dict:
        return {"items": [serialise(item) for item in self.items], **self.counts()}

    def counts(self) -> dict:
        """The paging fields of an API list (total_exact false: total is a lower bound)."""
        return {"page": self.page, "per_page": self.per_page, "total": self.total, "total_exact": self.total_exact}


def page_args() -> tuple[int, int]:
    """`page` and `per_page` from the query string, validated (max PER_PAGE_MAX)."""
    args = Fields(request.args, text=True)
    page = args.whole_number("page", required=False, minimum=1, maximum=MAX_PAGE)
    per_page = args.whole_number("per_page", required=False, minimum=1, maximum=current_app.config["PER_PAGE_MAX"])
    if args.errors:
        raise InvalidInput("Invalid paging parameters.", fields=args.errors)
    return page or 1, per_page or current_app.config["PER_PAGE_DEFAULT"]


def paginate(query: Select, page: int, per_page: int, *, scalars: bool = True) -> Page:
    # Count one row past what is needed to know whether there is more; the database stops there.
    enough = max(COUNT_CAP, page * per_page) + 1
    counted = db.session.scalar(select(func.count()).select_from(query.order_by(None).limit(enough).subquery()))
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page))
    items = list(rows.scalars()) if scalars else list(rows)
    return Page(items=items, page=page, per_page=per_page, total=counted, total_exact=counted < enough)
