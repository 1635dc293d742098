"""What a scheduled job found, for people: plain values that the feature computing them can
return without knowing how they are delivered (the notification centre, optional email).

A job is a plain function of "now" that returns a `JobOutcome`: what it counted and the
`Notice`s that are true at that moment. Each notice names its condition (`kind`) and what it
is about (`subject`), so the same condition is one notification per person per day, and a
notice a later run no longer returns has gone away (its condition is over).

A feature that must tell people at once, outside a job run, `announce`s a notice; the
notification centre delivers it (a hook, since the features announcing sit below it).
"""
from dataclasses import dataclass, field
from datetime import timedelta

from inventory.hooks import Hook


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


announced = Hook(
    "notice_announced",
    "A notice for people now, outside any job run (a request awaiting a second admin, a user past the reveal "
    "rate): receivers `(notice, *, exclude_user_ids, renew_after)` deliver it (the notification centre).")
announcement_over = Hook(
    "notice_announcement_over",
    "An announced notice's condition is over (the approval was decided): receivers `(kind, subject)` close it.")


def announce(notice: Notice, *, exclude_user_ids=(), renew_after: timedelta | None = None) -> None:
    """Tell the notice's audience at once, except `exclude_user_ids`; once per person per day
    for its (kind, subject), or again once `renew_after` has passed since they were last told."""
    announced.fire(notice, exclude_user_ids=tuple(exclude_user_ids), renew_after=renew_after)


def announcement_ended(kind: str, subject: str) -> None:
    announcement_over.fire(kind, subject)
