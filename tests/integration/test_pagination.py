"""The one pagination helper counts only as far as a reader needs."""
import pytest
from sqlalchemy import select

from inventory import pagination
from inventory.catalogue.models import Supplier
from inventory.extensions import db
from inventory.pagination import paginate


@pytest.fixture
def suppliers(app, build, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 10)
    for number in range(25):
        build.supplier(name=f"Supplier {number:02d}")
    db.session.commit()
    return select(Supplier).order_by(Supplier.name)


def test_a_list_shorter_than_the_cap_is_counted_exactly(app, build, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 10)
    for number in range(7):
        build.supplier(name=f"Supplier {number}")
    db.session.commit()
    page = paginate(select(Supplier).order_by(Supplier.name), 1, 5)
    assert (page.total, page.total_exact, page.pages, page.has_next) == (7, True, 2, True)
    assert page.total_shown == "7"
    assert page.counts() == {"page": 1, "per_page": 5, "total": 7, "total_exact": True}


def test_counting_stops_one_past_the_cap_and_says_more_than(suppliers):
    page = paginate(suppliers, 1, 5)
    assert (page.total, page.total_exact) == (11, False)
    assert page.total_shown == "more than 10"
    assert [supplier.name for supplier in page.items] == [f"Supplier {n:02d}" for n in range(5)]
    assert page.has_next


def test_a_page_past_the_cap_still_knows_whether_another_follows(suppliers):
    third = paginate(suppliers, 3, 5)
    assert (third.total_exact, third.has_next) == (False, True)
    last = paginate(suppliers, 5, 5)
    assert (last.total, last.total_exact, last.has_next) == (25, True, False)
    assert [supplier.name for supplier in last.items] == [f"Supplier {n:02d}" for n in range(20, 25)]
