"""Every JSON API endpoint reads its body through inventory.api.body, so all refuse alike."""
import re

import pytest

from inventory.api import OPERATIONS, register_api_modules
from inventory.permissions import Role

register_api_modules()  # the routes, hence OPERATIONS, exist once the feature modules are imported
RECORD_FIRST = {"receive_goods", "approve_invoice", "cancel_purchase_order", "refund_direct_purchase", "reopen_month",
                "resolve_alert", "close_case", "record_review"}  # find their record (or 404) before reading the body
JSON_WRITES = sorted(name for name, op in OPERATIONS.items()
                     if op.request_body is not None and op.request_content_type == "application/json"
                     and name not in RECORD_FIRST)


@pytest.mark.parametrize("endpoint", JSON_WRITES)
@pytest.mark.parametrize("sent", [{"json": [1]}, {"json": "text"},
                                  {"data": "{not json", "content_type": "application/json"}],
                         ids=["list", "string", "malformed"])
def test_a_body_that_is_not_a_json_object_is_a_422_naming_the_body(api, build, endpoint, sent):
    operation = OPERATIONS[endpoint]
    path = re.sub(r"\{\w+\}", "1", operation.path)  # any id will do: these read the body first
    caller = api(user=build.user(roles=list(Role)))
    response = caller.request(operation.method.upper(), path, **sent)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["fields"] == {"body": "Must be a JSON object."}
