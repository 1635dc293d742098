"""The one pagination helper: pages of a SELECT, counted in SQL."""
from dataclasses import dataclass
from math import ceil

from flask import current_app, request
from sqlalchemy import Select, func, select

from inventory.errors import InvalidInput
from inventory.extensions import db
from inventory.parsing import Fields

MAX_PAGE = 10**9


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def as_json(self, serialise) -> dict:
        return {"items": [serialise(item) for item in self.items], "page": self.page,
                "per_page": self.per_page, "total": self.total}


def page_args() -> tuple[int, int]:
    """`page` and `per_page` from the query string, validated (max PER_PAGE_MAX)."""
    args = Fields(request.args, text=True)
    page = args.whole_number("page", required=False, minimum=1, maximum=MAX_PAGE)
    per_page = args.whole_number("per_page", required=False, minimum=1, maximum=current_app.config["PER_PAGE_MAX"])
    if args.errors:
        raise InvalidInput("Invalid paging parameters.", fields=args.errors)
    return page or 1, per_page or current_app.config["PER_PAGE_DEFAULT"]


def paginate(query: Select, page: int, per_page: int, *, scalars: bool = True) -> Page:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page))
    items = list(rows.scalars()) if scalars else list(rows)
    return Page(items=items, page=page, per_page=per_page, total=total)
