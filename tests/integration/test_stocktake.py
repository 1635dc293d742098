import pytest

from inventory.errors import Conflict
from inventory.extensions import db
from inventory.stock import operations, stocktakes
from inventory.stock.codes import CodeTypo


@pytest.fixture
def shelf(build):
    store = build.location(name="Office store")
    van = build.location(name="Van A", kind="van", fitter=build.user(roles=["fitter"]))
    item_type = build.item_type(name="Personal alarm")
    on_shelf = build.items(3, item_type=item_type, location=store)
    in_van = build.item(item_type=item_type, location=van)
    lost = build.item(item_type=item_type, location=store)
    operations.write_off(lost, "lost", None)
    db.session.commit()
    return store, van, on_shelf, in_van, lost


def test_a_count_shows_missing_wrong_location_and_unexpected_items(build, shelf):
    store, van, on_shelf, in_van, lost = shelf
    counter = build.user(roles=["coordinator"])
    count = stocktakes.start_stocktake(store, actor=counter)
    assert stocktakes.count_code(count, on_shelf[0].code, actor=counter)[1:] == ("expected", True)
    assert stocktakes.count_code(count, on_shelf[0].code.lower(), actor=counter)[1:] == ("expected", False)
    assert stocktakes.count_code(count, on_shelf[1].code, actor=counter)[1] == "expected"
    assert stocktakes.count_code(count, in_van.code, actor=counter)[1] == "wrong_location"
    assert stocktakes.count_code(count, lost.code, actor=counter)[1] == "unexpected"
    found = stocktakes.differences(count)
    assert found.counted == 4
    assert found.missing == [on_shelf[2]]
    assert found.wrong_location == [in_van]
    assert found.unexpected == [lost]


def test_differences_are_settled_by_write_off_move_and_found(build, shelf):
    store, van, on_shelf, in_van, lost = shelf
    counter = build.user(roles=["coordinator"])
    count = stocktakes.start_stocktake(store, actor=counter)
    for item in (on_shelf[0], on_shelf[1], in_van, lost):
        stocktakes.count_code(count, item.code, actor=counter)
    stocktakes.resolve(count, on_shelf[2], "write_off", actor=counter, reason="lost")
    stocktakes.resolve(count, in_van, "move", actor=counter)
    stocktakes.resolve(count, lost, "found", actor=counter)
    db.session.commit()
    assert (on_shelf[2].state, on_shelf[2].write_off_reason) == ("written_off", "lost")
    assert in_van.location_id == store.id
    assert (lost.state, lost.location_id) == ("quarantine", store.id)
    after = stocktakes.differences(count)
    assert (after.missing, after.wrong_location, after.unexpected) == ([], [], [])


def test_a_write_off_from_a_count_needs_a_reason(build, shelf):
    from inventory.errors import InvalidInput

    store, _van, on_shelf, *_ = shelf
    count = stocktakes.start_stocktake(store, actor=build.user())
    with pytest.raises(InvalidInput):
        stocktakes.resolve(count, on_shelf[0], "write_off", actor=None, reason=None)


def test_one_open_count_per_location_and_a_closed_count_takes_no_more_scans(build, shelf):
    store, _van, on_shelf, *_ = shelf
    counter = build.user()
    count = stocktakes.start_stocktake(store, actor=counter)
    with pytest.raises(Conflict):
        stocktakes.start_stocktake(store, actor=counter)
    stocktakes.close_stocktake(count)
    with pytest.raises(stocktakes.StocktakeClosed):
        stocktakes.count_code(count, on_shelf[0].code, actor=counter)
    assert stocktakes.start_stocktake(store, actor=counter).id != count.id


def test_a_mistyped_code_during_a_count_is_reported_as_a_typo(build, shelf):
    store, _van, on_shelf, *_ = shelf
    count = stocktakes.start_stocktake(store, actor=build.user())
    code = on_shelf[0].code
    swapped = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(CodeTypo):
        stocktakes.count_code(count, swapped, actor=build.user())


def test_counting_a_missing_item_later_changes_nothing_and_needs_the_count_open(build, shelf):
    store, _van, on_shelf, *_ = shelf
    counter = build.user()
    count = stocktakes.start_stocktake(store, actor=counter)
    assert stocktakes.resolve(count, on_shelf[0], "count_later", actor=counter) is None
    assert on_shelf[0].state == "in_stock"
    assert on_shelf[0] in stocktakes.differences(count).missing
    stocktakes.close_stocktake(count)
    with pytest.raises(stocktakes.StocktakeClosed):
        stocktakes.resolve(count, on_shelf[0], "count_later", actor=counter)
