from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text

from inventory import clock
from inventory.cases.models import Case
from inventory.extensions import db
from inventory.pagination import COUNT_CAP, paginate
from inventory.requests.cli import recompute_priorities
from inventory.requests.models import EquipmentRequest, RequestLine
from inventory.requests.priority import priority_key, targets_for
from inventory.requests.queue import QueueFilters, queue_query, queue_rows
from inventory.sealing.columns import seal_row, sealed_tables
from tests.conftest import ENGINE
from tests.support import recorded_selects

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # a Friday


def first_page(filters=QueueFilters(), today=None, per_page=50):
    today = today or clock.today()
    return paginate(queue_query(filters, today), 1, per_page)


def raised_on(build, day, **case_details):
    with clock.frozen_at(datetime.combine(day, datetime.min.time(), UTC)):
        caseworker = build.caseworker()
        return build.equipment_request(case=build.case(caseworker=caseworker, **case_details), caseworker=caseworker)


def test_risk_dominates_then_flags_then_days_waiting(build):
    today = NOW.date()
    standard_old = raised_on(build, today - timedelta(days=20))
    high_new = raised_on(build, today, risk_level="high")
    medium_flagged = raised_on(build, today - timedelta(days=1), risk_level="medium", flags=["address_known"])
    medium_plain = raised_on(build, today - timedelta(days=1), risk_level="medium")
    with clock.frozen_at(NOW):
        order = [r.id for r in first_page().items]
    assert order == [high_new.id, medium_flagged.id, medium_plain.id, standard_old.id]


def test_a_long_wait_eventually_lifts_a_standard_request_so_none_starves(build):
    today = NOW.date()
    ancient = raised_on(build, today - timedelta(days=60))
    medium_new = raised_on(build, today, risk_level="medium")
    with clock.frozen_at(NOW):
        assert [r.id for r in first_page().items] == [ancient.id, medium_new.id]


def test_each_score_is_the_sum_of_its_parts(build):
    today = NOW.date()
    raised = raised_on(build, today - timedelta(days=3), risk_level="high", flags=["children", "police_request"])
    with clock.frozen_at(NOW):
        [row] = queue_rows(first_page().items, today)
    assert [(p.label, p.points) for p in row.parts] == [
        ("High risk", 1000), ("Children in the household", 60), ("Police request", 60), ("Waiting 3 days", 30)]
    assert row.score == sum(p.points for p in row.parts) == 1150
    assert row.waiting_days == 3
    assert row.request is raised


def test_overdue_is_past_the_target_for_the_risk_level(build):
    today = NOW.date()
    late_high = raised_on(build, today - timedelta(days=3), risk_level="high")  # Tuesday: due Wednesday
    fresh_standard = raised_on(build, today - timedelta(days=3))
    with clock.frozen_at(NOW):
        rows = {row.request.id: row for row in queue_rows(first_page().items, today)}
        overdue_only = [r.id for r in first_page(QueueFilters(overdue=True)).items]
    assert rows[late_high.id].overdue and not rows[fresh_standard.id].overdue
    assert overdue_only == [late_high.id]


def test_filters_by_organisation_risk_and_item_type(build):
    partner = build.organisation()
    doorbell = build.item_type(name="Camera doorbell", category="camera_doorbell")
    at_lead = build.equipment_request()
    at_partner_caseworker = build.caseworker(partner)
    at_partner = build.equipment_request(case=build.case(caseworker=at_partner_caseworker, risk_level="high"),
                                         caseworker=at_partner_caseworker, lines=[(doorbell, 1)])
    assert [r.id for r in first_page(QueueFilters(organisation_id=partner.id)).items] == [at_partner.id]
    assert [r.id for r in first_page(QueueFilters(risk_level="standard")).items] == [at_lead.id]
    assert [r.id for r in first_page(QueueFilters(item_type_id=doorbell.id)).items] == [at_partner.id]


def test_estimated_cost_and_whether_stock_covers_it(build):
    alarm = build.item_type(standard_cost_pence=2500)
    lock = build.item_type(standard_cost_pence=1200, category="lock", loaned=False)
    build.items(2, item_type=alarm)
    covered = build.equipment_request(lines=[(alarm, 2)])
    short = build.equipment_request(lines=[(alarm, 1), (lock, 3)])
    rows = {row.request.id: row for row in queue_rows(first_page().items, clock.today())}
    assert (rows[covered.id].est_cost_pence, rows[covered.id].stock_covers) == (5000, True)
    assert (rows[short.id].est_cost_pence, rows[short.id].stock_covers) == (2500 + 3600, False)


def test_decided_and_withdrawn_requests_leave_the_queue(build):
    from inventory.requests.operations import take_action
    from inventory.requests.transitions import Action

    waiting = build.equipment_request()
    gone = build.equipment_request()
    take_action(gone.id, Action.WITHDRAW, note=None, actor=gone.raised_by)
    db.session.commit()
    assert [r.id for r in first_page().items] == [waiting.id]


def test_a_queue_page_costs_the_same_few_queries_however_many_rows(build):
    for _ in range(6):
        build.equipment_request()
    with recorded_selects() as statements:
        queue_rows(first_page().items, clock.today())
    assert len(statements) <= 6


def test_recompute_priorities_applies_new_weights(app, build):
    raised = build.equipment_request()
    app.config["PRIORITY_WEIGHTS"] = {**app.config["PRIORITY_WEIGHTS"], "risk_standard": 77}
    assert recompute_priorities() == 1
    db.session.expire_all()
    assert db.session.get(EquipmentRequest, raised.id).need_points == 77


def test_the_first_page_of_50000_open_requests_is_read_in_index_order_without_counting_them_all(build):
    caseworker = build.caseworker()
    cases = [build.case(caseworker=caseworker, risk_level=level) for level in ("standard", "medium", "high")]
    alarm = build.item_type()
    today = clock.today()
    rows = []
    for n in range(50_000):
        case = cases[n % 3]
        submitted = today - timedelta(days=n % 90)
        need = {"standard": 0, "medium": 500, "high": 1000}[case.risk_level]
        targets = targets_for(case.risk_level, submitted)
        rows.append({
            "case_id": case.id, "raised_by_id": caseworker.id, "reason": "bulk", "state": "submitted",
            "submitted_at": datetime.combine(submitted, datetime.min.time(), UTC), "submitted_on": submitted,
            "need_points": need, "manual_adjustment": 0,
            "priority_key": priority_key(need=need, adjustment=0, submitted_on=submitted),
            "decide_by": targets.decide_by, "install_by": targets.install_by,
        })
    # Written as the app writes them: the reason sealed to its row (inventory.sealing).
    sealed = next(table for table in sealed_tables() if table.table is EquipmentRequest.__table__)
    db.session.execute(insert(EquipmentRequest.__table__), [seal_row(sealed, row) for row in rows])
    db.session.execute(text("INSERT INTO request_lines (request_id, item_type_id, quantity, reserved_quantity) "
                            "SELECT id, :item, 1, 0 FROM requests"), {"item": alarm.id})
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()

    query = queue_query(QueueFilters(), today).limit(50)
    compiled = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
    explain = "EXPLAIN QUERY PLAN " if ENGINE == "sqlite" else "EXPLAIN "
    plan = "\n".join(str(row) for row in db.session.execute(text(explain + compiled)))
    assert "ix_requests_queue" in plan, plan
    assert "TEMP B-TREE" not in plan.upper() and "Sort Key" not in plan, plan

    page = first_page(today=today)
    shown = queue_rows(page.items, today)
    # The count stops where a reader stops reading (inventory.pagination.COUNT_CAP): the pager
    # says "more than 1,000" rather than counting all 50,000 on every view.
    assert len(shown) == 50 and not page.total_exact and page.total == COUNT_CAP + 1
    scores = [row.score for row in shown]
    assert scores == sorted(scores, reverse=True)
    best = db.session.scalar(select(func.max(EquipmentRequest.priority_key)))
    assert shown[0].request.priority_key == best
    assert all(row.request.case.risk_level == "high" for row in shown)
    assert db.session.scalar(select(func.count()).select_from(Case)) == 3
    assert db.session.scalar(select(func.count()).select_from(RequestLine)) == 50_000


def test_the_recompute_command_reports_how_many_it_rescored(build, runner):
    build.equipment_request()
    result = runner.invoke(args=["recompute-priorities"])
    assert result.exit_code == 0 and "Rescored 1 waiting request(s)." in result.output
