"""The JSON body of an API request: one place that refuses a body that is not a JSON object,
and typed readers for views that check fields themselves."""
from datetime import date

from flask import request

from inventory.errors import InvalidInput


class Body:
    """The JSON body, read field by field; every problem is collected, then one 422 names them all.

    `Body().data` is the whole object, for services that take a dict and check it themselves.
    With `required=False` a request sent without a body reads as an empty object.
    """

    def __init__(self, *, required: bool = True):
        data = request.get_json(silent=True)
        if data is None and not required and not request.get_data():
            data = {}
        if not isinstance(data, dict):
            raise InvalidInput("Send a JSON object.", fields={"body": "Must be a JSON object."})
        self.data = data
        self.errors: dict[str, str] = {}

    def pence(self, name: str):
        value = self.data.get(name)
        if value is None:
            self.errors[name] = "Required: a whole number of pence."
        elif isinstance(value, bool) or not isinstance(value, int):
            self.errors[name] = "Must be a whole number of pence (an integer, not a string or decimal)."
        return value

    def date(self, name: str, *, required: bool = True):
        value = self.data.get(name)
        if value is None and not required:
            return None
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            self.errors[name] = "A date like 2026-04-30."
            return None

    def text(self, name: str, *, required: bool = True):
        value = self.data.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            self.errors[name] = "Required text." if required else "Must be text."
            return None
        return value

    def integer(self, name: str, *, required: bool = True):
        value = self.data.get(name)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.errors[name] = "Must be an integer."
            return None
        return value

    def check(self) -> None:
        if self.errors:
            raise InvalidInput("Some fields are not valid.", fields=self.errors)
