"""Enumerations that people read."""
from enum import StrEnum


class LabelledEnum(StrEnum):
    """A StrEnum whose members people read by their `label`: the value in words
    ("partly_received" reads "Partly received"), unless the member gives its own
    (`DASH = "dash", "DASH"`)."""

    def __new__(cls, value: str, label: str | None = None):
        member = str.__new__(cls, value)
        member._value_ = value
        member._label = label
        return member

    @property
    def label(self) -> str:
        return self._label or self.value.replace("_", " ").capitalize()
