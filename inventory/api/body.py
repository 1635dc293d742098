"""The JSON body of an API request: one place that refuses a body that is not a JSON object,
read field by field with `inventory.parsing.Fields`."""
from flask import request

from inventory.errors import InvalidInput
from inventory.parsing import Fields


class Body(Fields):
    """The JSON body as typed fields; every problem is collected, then `check()` raises one
    422 naming them all. With `required=False` a request sent without a body reads as an
    empty object."""

    def __init__(self, *, required: bool = True):
        data = request.get_json(silent=True)
        if data is None and not required and not request.get_data():
            data = {}
        if not isinstance(data, dict):
            raise InvalidInput("Send a JSON object.", fields={"body": "Must be a JSON object."})
        super().__init__(data)
