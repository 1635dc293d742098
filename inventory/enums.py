"""Enumerations that people read."""
from enum import StrEnum


class LabelledEnum(StrEnum):
    """A StrEnum whose label is its value in words: "partly_received" reads "Partly received"."""

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()
