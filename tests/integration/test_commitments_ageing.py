"""Commitments ageing: open commitments by age band (edges at 30/31, 60/61, 90/91 days) and by
what holds them, figured by hand from a known ledger and checked against the ledger's own
committed total."""
from datetime import UTC, date, datetime, time, timedelta

import pytest

from inventory import clock
from inventory.budget import ledger
from inventory.budget.models import PeriodBalance, SourceType
from inventory.extensions import db
from inventory.reports import commitments
from inventory.reports.commitments import BANDS_BY_KEY, HOLDERS

TODAY = date(2026, 9, 30)
ORDERS, REQUESTS = HOLDERS


@pytest.fixture
def today():
    with clock.frozen_at(datetime.combine(TODAY, time(10), tzinfo=UTC)):
        yield TODAY


@pytest.fixture
def known_ledger(today, build):
    """A raised order (2 × £10 + £2 VAT: 2,400p) and a request awaiting one 2,500p alarm,
    both committed today; then commitments for each at the band edges, one partly released,
    one wholly released and one reversed."""
    finance = build.user(roles=["finance"])
    period = build.budget_period(starts_on=date(2026, 4, 1), ends_on=date(2027, 3, 31), allocated_pence=1_000_000,
                                 actor=finance)
    order = build.purchase_order(supplier=build.supplier(name="Alarms Ltd"))
    awaiting = build.awaiting_request(lines=[(build.item_type(standard_cost_pence=2500), 1)])

    def commit(pence, age, source):
        source_type, source_id = source
        return ledger.commit(pence, on=today - timedelta(days=age), actor=finance, memo="test",
                             source_type=source_type, source_id=source_id,
                             case_reference=awaiting.case.reference if source_type == SourceType.REQUEST else None)

    po, request = (SourceType.PURCHASE_ORDER, order.id), (SourceType.REQUEST, awaiting.id)
    commit(1000, 30, po)
    commit(2000, 31, request)
    commit(3000, 60, po)
    commit(4000, 61, request)
    commit(5000, 90, po)
    over_ninety = commit(6000, 91, po)
    ledger.release(over_ninety, 1500, on=today, actor=finance, memo="part delivered")
    ledger.release(commit(7000, 100, request), on=today, actor=finance, memo="no longer needed")
    ledger.reverse(commit(800, 45, request), reason="posted twice", actor=finance)
    db.session.commit()
    return period, order, awaiting


def test_open_money_is_banded_by_days_since_committed_and_by_holder(known_ledger, today):
    report = commitments.ageing(today)

    by_band = {line.band.key: {holder.label: line.by_holder[holder] for holder in report.holders}
               for line in report.bands}
    assert by_band == {
        "0-30": {ORDERS.label: (2, 2400 + 1000), REQUESTS.label: (1, 2500)},
        "31-60": {ORDERS.label: (1, 3000), REQUESTS.label: (1, 2000)},
        "61-90": {ORDERS.label: (1, 5000), REQUESTS.label: (1, 4000)},
        "over-90": {ORDERS.label: (1, 6000 - 1500), REQUESTS.label: (0, 0)},
    }
    assert report.holder_total(ORDERS) == (5, 3400 + 3000 + 5000 + 4500)
    assert report.holder_total(REQUESTS) == (3, 2500 + 2000 + 4000)
    assert (report.count, report.pence) == (8, 24_400)


def test_the_total_is_what_the_ledger_holds_committed(known_ledger, today):
    period, _, _ = known_ledger
    assert commitments.ageing(today).pence == db.session.get(PeriodBalance, period.id).committed_pence


@pytest.mark.parametrize("age, band", [(0, "0-30"), (30, "0-30"), (31, "31-60"), (60, "31-60"), (61, "61-90"),
                                       (90, "61-90"), (91, "over-90"), (4000, "over-90"), (-3, "0-30")])
def test_a_band_holds_its_edges(age, band):
    assert commitments.band_of(age) == BANDS_BY_KEY[band]


def test_the_detail_list_names_each_holder_oldest_first(known_ledger, today):
    _, order, awaiting = known_ledger
    page = commitments.details_page(today, None, 1, 50)

    assert [(c.age_days, c.band.key, c.open_pence) for c in page.items] == [
        (91, "over-90", 4500), (90, "61-90", 5000), (61, "61-90", 4000), (60, "31-60", 3000),
        (31, "31-60", 2000), (30, "0-30", 1000), (0, "0-30", 2400), (0, "0-30", 2500)]
    held_by = {c.holder: c.held_by for c in page.items}
    assert held_by[ORDERS] == f"PO-{order.id:05d} (Alarms Ltd)"
    assert held_by[REQUESTS] == f"Request {awaiting.id} for {awaiting.case.reference}"


def test_the_detail_list_pages_and_filters_by_band(known_ledger, today):
    page = commitments.details_page(today, BANDS_BY_KEY["31-60"], 1, 1)
    assert (page.total, page.pages, [c.age_days for c in page.items]) == (2, 2, [60])
    assert [c.age_days for c in commitments.details_page(today, BANDS_BY_KEY["31-60"], 2, 1).items] == [31]


def test_the_csv_has_every_open_commitment(known_ledger, today):
    rows = list(commitments.csv_rows(db.session, today))
    assert len(rows) == 8
    assert sum(row[-1] for row in rows) == 24_400
    assert rows[0][2:6] == ((today - timedelta(days=91)).isoformat(), 91, "Over 90 days", ORDERS.label)


def test_time_moving_on_moves_a_commitment_into_the_next_band(known_ledger):
    with clock.frozen_at(datetime.combine(TODAY + timedelta(days=1), time(10), tzinfo=UTC)):
        report = commitments.ageing(clock.today())
    by_band = {line.band.key: line.pence for line in report.bands}
    # 30 -> 31, 60 -> 61 and 90 -> 91 days old each cross an edge.
    assert by_band == {"0-30": 2400 + 2500, "31-60": 1000 + 2000, "61-90": 3000 + 4000, "over-90": 4500 + 5000}
