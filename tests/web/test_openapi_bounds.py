"""The OpenAPI document states the bounds the API enforces, so a client (and Schemathesis in
`make api-fuzz`) knows what will be refused: ids, paging, text lengths, amounts."""
import pytest

from inventory.money import MAX_PENCE
from inventory.pagination import MAX_PAGE
from inventory.parsing import MAX_ID


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").get_json()


def _resolve(document, schema):
    while isinstance(schema, dict) and "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _request_fields(document, *, paths: bool = True):
    """(where, name, schema) for every parameter (bar path ones, unless `paths`) and every
    request body property, nested."""
    def walk(where, schema):
        schema = _resolve(document, schema)
        for option in schema.get("anyOf", []):
            yield from walk(where, option)
        for name, child in schema.get("properties", {}).items():
            child = _resolve(document, child)
            yield where, name, child
            yield from walk(f"{where}.{name}", child)
        if "items" in schema:
            yield from walk(f"{where}[]", schema["items"])

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in operation["parameters"]:
                if paths or parameter["in"] != "path":
                    yield where, parameter["name"], parameter["schema"]
            for content in operation.get("requestBody", {}).get("content", {}).values():
                yield from walk(where, content["schema"])


def _integer_options(schema):
    options = schema.get("anyOf", [schema])
    return [option for option in options if option.get("type") == "integer"]


def test_every_id_a_request_sends_is_bounded_to_a_record_id(document):
    unbounded = []
    for where, name, schema in _request_fields(document):
        if name == "id" or name.endswith("_id") or name.endswith("_ids"):
            schema = schema.get("items", schema) if name.endswith("_ids") else schema
            for option in _integer_options(schema):
                if (option.get("minimum"), option.get("maximum")) != (1, MAX_ID):
                    unbounded.append(f"{where}: {name}")
    assert unbounded == [], unbounded


def test_every_path_id_is_bounded_to_a_record_id(document):
    wrong = [f"{path} {parameter['name']}" for path, operations in document["paths"].items()
             for operation in operations.values() for parameter in operation["parameters"]
             if parameter["in"] == "path" and parameter["schema"].get("type") == "integer"
             and (parameter["schema"].get("minimum"), parameter["schema"].get("maximum")) != (1, MAX_ID)]
    assert wrong == []


def test_paging_is_bounded_both_ways(document):
    for operations in document["paths"].values():
        for operation in operations.values():
            parameters = {parameter["name"]: parameter["schema"] for parameter in operation["parameters"]}
            if "page" in parameters:
                assert parameters["page"] == {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}
                assert parameters["per_page"] == {"type": "integer", "minimum": 1, "maximum": 200}


def test_every_integer_and_text_a_request_sends_has_a_maximum(document):
    """Integers have a maximum (ids, quantities, amounts); text has a maxLength, bar what is
    an enum, a date or a pattern. (A path's text names a record: anything else is a 404.)"""
    unbounded = []
    for where, name, schema in _request_fields(document, paths=False):
        for option in schema.get("anyOf", [schema]):
            kind = option.get("type")
            if kind == "integer" and "maximum" not in option:
                unbounded.append(f"{where}: {name}")
            if (kind == "string" and not {"enum", "format", "pattern", "maxLength", "const"} & option.keys()):
                unbounded.append(f"{where}: {name}")
    assert unbounded == [], unbounded


def test_amounts_a_request_sends_never_exceed_the_money_limit(document):
    over = [f"{where}: {name}" for where, name, schema in _request_fields(document) if name.endswith("_pence")
            for option in _integer_options(schema) if option.get("maximum") != MAX_PENCE]
    assert over == []


def test_query_parameters_sent_empty_count_as_left_out(document, api):
    assert all(parameter.get("allowEmptyValue") is True
               for operations in document["paths"].values() for operation in operations.values()
               for parameter in operation["parameters"] if parameter["in"] == "query")
    response = api(roles=["coordinator"]).get("/queue?page=&per_page=&overdue=&item_type_id=")
    assert response.status_code == 200
