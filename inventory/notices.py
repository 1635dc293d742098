"""What a scheduled job found, for people: plain values that the feature computing them can
return without knowing how they are delivered (the notification centre, optional email).

A job is a plain function of "now" that returns a `JobOutcome`: what it counted and the
`Notice`s that are true at that moment. Each notice names its condition (`kind`) and what it
is about (`subject`), so the same condition is one notification per person per day, and a
notice a later run no longer returns has gone away (its condition is over).
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Notice:
    """One condition someone should deal with. `message` is for people and never carries
    personal data (no names, addresses, phone numbers, free text from a case): it may reach
    an email. `link` is the path of the page where it is dealt with."""

    kind: str  # the condition, e.g. "low_stock"
    subject: str  # what it is about, e.g. "item_type:4"; "" for a summary notice
    message: str
    link: str
    roles: tuple[str, ...] = ()  # every active user holding one of these roles
    user_ids: tuple[int, ...] = ()  # and these users (e.g. a case's caseworker)


@dataclass
class JobOutcome:
    """What one run of a job did: counts for its run history, and the notices now true."""

    counts: dict[str, int] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
