"""Migration 0021 gives every existing API token an expiry 90 days after it was made, and a
token already revoked the reason "owner" (the only way one could be revoked before)."""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from inventory.accounts.models import ApiToken
from inventory.extensions import db
from tests.conftest import make_app
from tests.integration.test_migrations import empty_database_url  # noqa: F401 (a fixture)

MADE = datetime(2026, 1, 10, 8, 30, 15, 123456, tzinfo=UTC)


def test_existing_tokens_expire_90_days_after_they_were_made_and_revoked_ones_say_by_their_owner(
        empty_database_url):  # noqa: F811
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade(revision="0020")
        # Rows written as the schema stood at 0020 (the models are of the head).
        schema = sa.MetaData()
        organisations, users, tokens = (sa.Table(name, schema, autoload_with=db.engine)
                                        for name in ("organisations", "users", "api_tokens"))
        organisation_id = db.session.execute(organisations.insert().values(
            name="Lead", kind="lead", active=True, created_at=MADE)).inserted_primary_key[0]
        user_id = db.session.execute(users.insert().values(
            email="finance@example.test", name="F", organisation_id=organisation_id, password_hash="x",
            active=True, created_at=MADE, password_changed_at=MADE)).inserted_primary_key[0]
        db.session.execute(tokens.insert(), [
            {"user_id": user_id, "name": "in use", "prefix": "sh_aaaaaaa", "token_hash": "a" * 64,
             "created_at": MADE, "revoked_at": None},
            {"user_id": user_id, "name": "revoked", "prefix": "sh_bbbbbbb", "token_hash": "b" * 64,
             "created_at": MADE, "revoked_at": MADE + timedelta(days=2)},
        ])
        db.session.commit()

        upgrade(revision="0021")
        rows = {row.name: row for row in db.session.scalars(sa.select(ApiToken))}
        assert rows["in use"].expires_at == rows["revoked"].expires_at == MADE + timedelta(days=90)
        assert (rows["in use"].revoked_reason, rows["revoked"].revoked_reason) == (None, "owner")
        db.session.rollback()

        downgrade(revision="0020")
        assert "expires_at" not in {c["name"] for c in sa.inspect(db.engine).get_columns("api_tokens")}
        db.session.remove()
        db.engine.dispose()
