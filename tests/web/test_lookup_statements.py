"""The lookup every fitter's scan starts with stays near the floor: a bearer token's
by-code lookup costs the same few SELECTs however many items and tokens there are."""
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from inventory import clock
from inventory.accounts.operations import api_token_for
from inventory.extensions import db
from inventory.stock.models import Item
from tests.support import recorded_selects


def test_a_by_code_lookup_costs_at_most_three_selects_at_any_data_size(client, build):
    stock, fitter = build.user(roles=["coordinator"]), build.user(roles=["fitter"])
    job = build.job(fitter=fitter)
    on_job = db.session.scalars(select(Item).where(Item.reserved_for_request_id == job.request_id)).first()
    shelf = build.item()
    callers = {build.token(stock): shelf.code, build.token(fitter): on_job.code}
    db.session.commit()

    def costs() -> list[int]:
        counts = []
        for token, code in callers.items():
            client.get(f"/api/v1/items/by-code/{code}", headers={"Authorization": f"Bearer {token}"})
            with recorded_selects() as statements:  # the second: its last use is already recorded
                answer = client.get(f"/api/v1/items/by-code/{code}", headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200
            counts.append(len(statements))
        return counts

    few = costs()
    for _ in range(5):
        build.item()
        build.token(build.user(roles=["fitter"]))
    build.job(fitter=fitter)
    db.session.commit()
    assert few == costs() == [2, 3]  # token with its user; the item; a fitter's jobs


def test_a_tokens_last_use_is_recorded_again_once_the_clock_passes_a_minute(client, build):
    plain = build.token(build.user(roles=["coordinator"]))
    db.session.commit()
    start = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    for moment, recorded in [(start, start), (start + timedelta(seconds=59), start),
                             (start + timedelta(seconds=61), start + timedelta(seconds=61))]:
        with clock.frozen_at(moment):
            assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
        db.session.rollback()  # see what the request's own connection wrote
        assert api_token_for(plain).last_used_at == recorded
