"""Case references: the non-identifying handle of a case, in its organisation's own format.

A reference is a prefix, the year and a number: ``RA-2026-0142``. Each partner agency has a
prefix of its own (its organisation page), which no other organisation holds, so references
are unique across the service — the ledger, the queue and the reports show them alone —
and no organisation can ever meet another's reference: a partner asking for a reference
another organisation uses is told only that its own format is different, never that the
case exists. The lead provider may go without a prefix and then uses any 2 to 4 letters no
partner holds (the format from before prefixes).
"""
import re

from sqlalchemy import select

from inventory.accounts.models import Organisation
from inventory.cases.models import Case
from inventory.errors import InvalidInput
from inventory.extensions import db

REFERENCE_SHAPE = re.compile(r"^([A-Z]{2,6})-\d{4}-\d{4,6}$")
FREE_PREFIX = re.compile(r"^[A-Z]{2,4}$")  # a lead without a prefix of its own
FREE_EXAMPLE = "NS-2026-0142"


def example_reference(organisation: Organisation) -> str:
    prefix = organisation.case_reference_prefix
    return f"{prefix}-2026-0142" if prefix else FREE_EXAMPLE


def reference_problem(reference: str, organisation: Organisation) -> str | None:
    """Why `reference` (normalised) is not in the organisation's format, or None. Says
    nothing about whether any case has it."""
    match = REFERENCE_SHAPE.match(reference)
    own = organisation.case_reference_prefix
    if own:
        if match is None or match[1] != own:
            return f"Use your organisation's format: {own}, the year, a number (e.g. {own}-2026-0142)."
        return None
    if match is None or not FREE_PREFIX.match(match[1]):
        return f"Use the form {FREE_EXAMPLE}."
    if db.session.scalar(select(Organisation.id).where(Organisation.case_reference_prefix == match[1])):
        return f"{match[1]} is a partner agency's prefix: use other letters (e.g. {FREE_EXAMPLE})."
    return None


def refuse_prefix_used_elsewhere(organisation_id: int | None, prefix: str) -> None:
    """An organisation may not take a prefix that another organisation's cases start with
    (their references would then be in its format). Connected to accounts'
    `reference_prefix_claiming` at app start."""
    used = db.session.scalar(select(Case.id).where(Case.reference.like(f"{prefix}-%"),
                                                   Case.organisation_id != organisation_id).limit(1))
    if used is not None:
        raise InvalidInput("Another organisation's case references start with that prefix.",
                           fields={"case_reference_prefix": "Another organisation's cases use it: choose other letters."})
