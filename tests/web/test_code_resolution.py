"""Who resolves which item code (DESIGN.md, QR tags): stock staff any code; a fitter only the
codes of items on their own open jobs. Any other code is, for a fitter, exactly an unknown
code (404 unknown_code), through the API's look-up, the API's scan and the scan page alike.
A scan on the fitter's own job may still say what the wrong unit in hand is: its type and
state, nothing of another case."""
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from inventory.extensions import db
from inventory.jobs.scanning import ScanAction, ScanInput, scan
from inventory.stock import operations
from inventory.stock.codes import new_code
from inventory.stock.models import Item, ItemState


def reserved_for(request_id):
    return list(db.session.scalars(select(Item).where(Item.reserved_for_request_id == request_id).order_by(Item.id)))


@dataclass
class World:
    fitter: object
    codes: dict


@pytest.fixture
def world(build):
    """One fitter's open install and collection, a completed job of theirs, another fitter's
    job, a unit on the shelf, a retired code and an unknown one."""
    fitter = build.user(roles=["fitter"])
    alarm, lock = build.item_type(name="Window alarm"), build.item_type(name="Door lock", category="lock",
                                                                        loaned=False)
    install = build.job(fitter=fitter, lines=[(alarm, 1), (lock, 1)])
    reserved_alarm, reserved_lock = reserved_for(install.request_id)
    scan(ScanInput(ScanAction.ISSUE, reserved_alarm.code, job_id=install.id), actor=fitter)  # handed over, job open
    _, done_items = build.handed_over(fitter=fitter)  # a completed job of theirs
    case, out_with_case = build.handed_over()
    build.collection(case=case, items=out_with_case, fitter=fitter)
    other_job = build.job()
    shelf = build.item()
    retired_item = build.item()
    retired = retired_item.code
    operations.replace_code(retired_item, actor=None, reason="Label torn")
    db.session.commit()
    return World(fitter, {
        "reserved_on_own_job": reserved_lock.code,
        "issued_on_own_open_job": reserved_alarm.code,
        "collected_on_own_job": out_with_case[0].code,
        "issued_on_own_completed_job": done_items[0].code,
        "on_another_fitters_job": reserved_for(other_job.request_id)[0].code,
        "in_stock": shelf.code,
        "retired": retired,
        "unknown": new_code(),
    })


def by_code(client, login, api, user, code):
    return api(user=user).get(f"/items/by-code/{code}")


def scan_lookup(client, login, api, user, code):
    return api(user=user).post("/scans", json={"action": "lookup", "code": code})


def scan_page(client, login, api, user, code):
    """As the scan page's script does: the session cookie and the page's CSRF token."""
    login(user)
    page = client.get("/jobs/scan").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    return client.post("/api/v1/scans", json={"action": "lookup", "code": code}, headers={"X-CSRFToken": token})


CHANNELS = [by_code, scan_lookup, scan_page]
FOUND_BY_FITTER = {"reserved_on_own_job", "issued_on_own_open_job", "collected_on_own_job"}
KNOWN = {"reserved_on_own_job", "issued_on_own_open_job", "collected_on_own_job", "issued_on_own_completed_job",
         "on_another_fitters_job", "in_stock"}


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("which", ["reserved_on_own_job", "issued_on_own_open_job", "collected_on_own_job",
                                   "issued_on_own_completed_job", "on_another_fitters_job", "in_stock", "retired",
                                   "unknown"])
def test_a_fitter_resolves_only_codes_on_their_own_open_jobs_and_any_other_is_an_unknown_code(
        client, login, api, world, channel, which):
    response = channel(client, login, api, world.fitter, world.codes[which])
    if which in FOUND_BY_FITTER:
        assert response.status_code == 200
        item = response.get_json() if channel is by_code else response.get_json()["item"]
        assert set(item) == {"id", "code", "item_type", "state"}  # type and state, never the case
        return
    unknown = channel(client, login, api, world.fitter, new_code())
    assert (response.status_code, response.get_json()) == (404, unknown.get_json())
    assert response.get_json()["error"]["code"] == "unknown_code"


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("which", sorted(KNOWN | {"retired", "unknown"}))
def test_a_coordinator_resolves_every_code_as_before(client, login, api, build, world, channel, which):
    coordinator = build.user(roles=["coordinator"])
    response = channel(client, login, api, coordinator, world.codes[which])
    expected = {"retired": (409, "code_retired"), "unknown": (404, "unknown_code")}.get(which, (200, None))
    assert response.status_code == expected[0]
    if expected[1]:
        assert response.get_json()["error"]["code"] == expected[1]


@pytest.mark.parametrize("role", ["finance", "admin"])
def test_stock_staff_who_do_not_scan_resolve_any_code_through_the_look_up(api, world, role):
    response = api(roles=[role]).get(f"/items/by-code/{world.codes['on_another_fitters_job']}")
    assert response.status_code == 200 and response.get_json()["state"] == ItemState.RESERVED


def test_a_fitter_with_a_stock_role_too_resolves_any_code(api, build, world):
    both = build.user(roles=["fitter", "coordinator"])
    assert api(user=both).get(f"/items/by-code/{world.codes['in_stock']}").status_code == 200


def test_a_job_the_fitter_completed_no_longer_opens_its_codes_but_a_new_one_does(api, build):
    fitter = build.user(roles=["fitter"])
    case, (unit,) = build.handed_over(fitter=fitter)
    caller = api(user=fitter)
    assert caller.get(f"/items/by-code/{unit.code}").status_code == 404
    build.collection(case=case, items=[unit], fitter=fitter)
    assert caller.get(f"/items/by-code/{unit.code}").status_code == 200


def test_a_scan_on_the_fitters_own_job_says_what_the_wrong_unit_is_by_type_and_state_only(api, build):
    fitter = build.user(roles=["fitter"])
    doorbell = build.item_type(name="Camera doorbell", category="camera_doorbell", connected_device=True)
    job = build.job(fitter=fitter, lines=[(doorbell, 1)])
    window_alarm = build.item(item_type=build.item_type(name="Window alarm"))
    someone_elses = reserved_for(build.job().request_id)[0]
    caller = api(user=fitter)
    wrong_type = caller.post("/scans", json={"action": "issue", "code": window_alarm.code, "job_id": job.id})
    error = wrong_type.get_json()["error"]
    assert (wrong_type.status_code, error["code"]) == (409, "wrong_item_type")
    assert "This is a Window alarm" in error["message"] and "It needs: Camera doorbell." in error["message"]
    assert error["details"] == {"item_id": window_alarm.id, "state": "in_stock"}
    reserved = caller.post("/scans", json={"action": "issue", "code": someone_elses.code, "job_id": job.id})
    error = reserved.get_json()["error"]
    assert (reserved.status_code, error["code"]) == (409, "reserved_for_another_case")
    assert error["details"] == {"item_id": someone_elses.id, "state": "reserved"}
    assert db.session.get(Item, someone_elses.id).state == ItemState.RESERVED


def test_a_fitters_return_scan_without_a_job_is_refused_before_the_code_is_looked_at(api, build):
    caller = api(roles=["fitter"])
    answers = [caller.post("/scans", json={"action": "return", "code": code, "condition": "good"})
               for code in (build.item().code, new_code())]
    assert [a.status_code for a in answers] == [422, 422]
    assert answers[0].get_json() == answers[1].get_json()
