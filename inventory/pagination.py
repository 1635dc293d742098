"""The one pagination helper: pages of a SELECT, counted in SQL."""
from dataclasses import dataclass
from math import ceil

from flask import current_app, request
from sqlalchemy import Select, func, select

from inventory.errors import InvalidInput
from inventory.extensions import db


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
    fields = {}
    values = {}
    limits = {"page": (1, 10**9), "per_page": (1, current_app.config["PER_PAGE_MAX"])}
    defaults = {"page": 1, "per_page": current_app.config["PER_PAGE_DEFAULT"]}
    for name, (low, high) in limits.items():
        raw = request.args.get(name)
        if raw is None or raw == "":
            values[name] = defaults[name]
            continue
        try:
            values[name] = int(raw)
        except ValueError:
            fields[name] = "Must be a whole number."
            continue
        if not low <= values[name] <= high:
            fields[name] = f"Must be between {low} and {high}."
    if fields:
        raise InvalidInput("Invalid paging parameters.", fields=fields)
    return values["page"], values["per_page"]


def paginate(query: Select, page: int, per_page: int, *, scalars: bool = True) -> Page:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page))
    items = list(rows.scalars()) if scalars else list(rows)
    return Page(items=items, page=page, per_page=per_page, total=total)
