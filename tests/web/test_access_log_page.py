"""The admin's access log: filters, unusual access highlighted with why, CSV export."""
import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from inventory import clock
from inventory.audit.models import AuditEvent
from inventory.audit.operations import record_access
from inventory.extensions import db
from tests.support import recorded_selects

# 10:00 in London in June (09:00 UTC): inside working hours.
MORNING = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)


def reveal(user, case_id: int, at: datetime, *, what="address", job_id=None):
    with clock.frozen_at(at):
        record_access(user, case_id=case_id, case_reference=f"NS-2026-{case_id:04d}", what=what, reason="test",
                      job_id=job_id)
        db.session.commit()


def rows_of(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [row for row in body.split("<tr")[1:]]


@pytest.fixture
def admin(login):
    return login(roles=["admin"])


def test_filters_by_person_case_reference_what_and_dates(client, admin, build):
    ann = build.user(roles=["coordinator"], email="ann@example.test")
    bob = build.user(roles=["coordinator"], email="bob@example.test")
    reveal(ann, 1, MORNING, what="name, address")
    reveal(bob, 2, MORNING + timedelta(days=1), what="address and phone")
    reveal(bob, 1, MORNING + timedelta(days=2), what="address and phone")

    def shown(query):
        answer = client.get(f"/admin/access-log?{query}")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return len(rows_of(answer.get_data(as_text=True)))

    assert shown("user=ann") == 1 and shown(f"user_id={bob.id}") == 2
    assert shown("case_reference=ns-2026-0001") == 2 and shown("case_reference=NS-2026-0002") == 1
    assert shown("what=phone") == 2 and shown("what=name") == 1
    assert shown("from=2026-06-11&to=2026-06-11") == 1 and shown("from=2026-06-11") == 2
    assert shown("user=bob&case_reference=NS-2026-0001") == 1


@pytest.mark.parametrize("query, field", [
    ("from=2026-13-01", "from"), ("to=yesterday", "to"), ("user_id=abc", "user_id"), (f"case_id={2**64}", "case_id"),
    ("case_reference=" + "X" * 41, "case_reference"),
])
def test_a_bad_filter_is_a_422_naming_it(client, admin, query, field):
    answer = client.get(f"/admin/access-log?{query}")
    assert answer.status_code == 422 and "Some filters are not valid" in answer.get_data(as_text=True)


def test_unusual_access_is_highlighted_with_why(app, client, admin, build):
    app.config.update(REVEAL_RATE_LIMIT=4, REVEAL_BURST_CASES=3, REVEAL_BURST_MINUTES=10)
    usual = build.user(roles=["coordinator"], email="usual@example.test")
    reveal(usual, 1, MORNING)
    night = build.user(roles=["coordinator"], email="night@example.test")
    reveal(night, 2, datetime(2026, 6, 10, 22, 30, tzinfo=UTC))  # 23:30 in London
    burst = build.user(roles=["coordinator"], email="burst@example.test")
    for n in range(4):
        reveal(burst, 10 + n, MORNING + timedelta(minutes=2 * n))
    fitter = build.user(roles=["fitter"], email="fitter@example.test")
    reveal(fitter, 20, MORNING, job_id=None)
    reveal(fitter, 21, MORNING, job_id=5)

    page = client.get("/admin/access-log?per_page=200").get_data(as_text=True)
    rows = {row.split("<td>", 3)[2].split("</td>")[0] + "/" + row.split("(id ", 1)[1].split(")")[0]: row
            for row in rows_of(page)}
    assert "Unusual" not in rows["usual@example.test/1"]
    assert "outside working hours (07:00–20:00)" in rows["night@example.test/2"]
    assert "row--warning" in rows["night@example.test/2"]
    assert "Unusual" not in rows["burst@example.test/11"]
    assert "3 different cases within 10 minutes" in rows["burst@example.test/12"]
    assert "4 different cases within the hour (the limit is 4)" in rows["burst@example.test/13"]
    assert "a fitter, not on one of their jobs" in rows["fitter@example.test/20"]
    assert "Unusual" not in rows["fitter@example.test/21"]


def test_the_page_costs_the_same_however_many_rows_it_shows(client, admin, build):
    users = [build.user(roles=["coordinator"]) for _ in range(3)]

    def selects_for_page():
        with recorded_selects() as statements:
            assert client.get("/admin/access-log").status_code == 200
        return len(statements)

    reveal(users[0], 1, MORNING)
    few = selects_for_page()
    for n in range(30):
        reveal(users[n % 3], 100 + n, MORNING + timedelta(minutes=n))
    assert selects_for_page() == few


def test_the_export_is_a_csv_of_the_filtered_rows_and_is_audited(client, admin, build):
    ann = build.user(roles=["coordinator"], email="ann@example.test")
    reveal(ann, 1, MORNING)
    reveal(ann, 2, datetime(2026, 6, 10, 22, 30, tzinfo=UTC))
    reveal(build.user(roles=["coordinator"]), 3, MORNING)
    answer = client.get("/admin/access-log.csv?user=ann")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[0] == ["When (UTC)", "Who", "Case id", "Case reference", "Job id", "What", "Why", "From address",
                       "Unusual"]
    assert [(r[1], r[2], r[3]) for r in rows[1:]] == [("ann@example.test", "2", "NS-2026-0002"),
                                                        ("ann@example.test", "1", "NS-2026-0001")]
    assert "outside working hours" in rows[1][8] and rows[2][8] == ""
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "access_log_exported"))
    assert event.actor_id == admin.id and event.details == {"rows": 2, "filters": {"user": "ann"}}


def test_the_export_asks_for_the_password_again_after_a_while(app, client, admin):
    with clock.frozen_at(clock.now() + timedelta(seconds=app.config["REAUTH_SECONDS"] + 1)):
        asked = client.get("/admin/access-log.csv?user=ann")
    assert asked.status_code == 302
    assert asked.headers["Location"] == "/account/confirm?next=/admin/access-log.csv?user%3Dann"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "access_log_exported")) is None


def test_only_admins_see_or_export_the_access_log(client, login):
    login(roles=["coordinator"])
    assert client.get("/admin/access-log").status_code == 403
    assert client.get("/admin/access-log.csv").status_code == 403
