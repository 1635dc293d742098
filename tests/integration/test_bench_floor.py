from sqlalchemy import create_engine, text

from bench.floor import create_floor


def test_the_floor_answers_an_item_by_its_code_and_404s_an_unknown_one(tmp_path):
    url = f"sqlite:///{tmp_path / 'floor.sqlite3'}"
    with create_engine(url).begin() as connection:
        connection.execute(text("CREATE TABLE items (id INTEGER PRIMARY KEY, code TEXT UNIQUE, state TEXT)"))
        connection.execute(text("INSERT INTO items VALUES (7, 'ABC-123', 'in_stock')"))
    client = create_floor(url).test_client()
    assert client.get("/items/by-code/ABC-123").get_json() == {"id": 7, "state": "in_stock"}
    assert client.get("/items/by-code/NOPE").status_code == 404
