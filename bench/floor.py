"""The floor the HTTP benchmark compares lookups with (issue 16): a minimal Flask +
SQLAlchemy app doing one indexed SELECT of an item by code on the same database, served by
gunicorn with the same settings as the app. No sessions, tokens or templates: what is left is
the cost of a request and one query.

    BENCH_DATABASE_URL=sqlite:///... gunicorn -w 2 'bench.floor:create_floor()'
"""
import os

from flask import Flask, abort, jsonify
from sqlalchemy import create_engine, text


def create_floor(url: str | None = None) -> Flask:
    engine = create_engine(url or os.environ["BENCH_DATABASE_URL"], pool_pre_ping=False)
    app = Flask(__name__)

    @app.get("/items/by-code/<code>")
    def item_by_code(code: str):
        with engine.connect() as connection:
            row = connection.execute(text("SELECT id, state FROM items WHERE code = :code"), {"code": code}).first()
        if row is None:
            abort(404)
        return jsonify({"id": row.id, "state": row.state})

    return app
