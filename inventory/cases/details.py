"""A case's details as typed values, and the one reader that turns what a form or the API
sent into them. Every bad field is named; messages never repeat what was typed (it may be
a survivor's name or address)."""
import re
from dataclasses import dataclass
from datetime import date

from inventory import clock
from inventory.cases.models import NEED_FLAG_KEYS, LandlordConsent, ReferralSource, RiskLevel, RiskTool, Tenure
from inventory.parsing import Fields

# The general shape; each organisation's own format is checked when the case is opened
# (cases.references).
REFERENCE_PATTERN = re.compile(r"^[A-Z]{2,6}-\d{4}-\d{4,6}$")
PHONE_PATTERN = re.compile(r"^\+?[0-9 ()-]{6,24}$")
TEXT_LIMITS = {"name": 120, "address": 500, "phone": 24, "safe_contact_notes": 2000, "police_reference": 40}
REQUIRED_TEXT = ("name", "address", "phone")
CHOICES = {"tenure": Tenure, "landlord_consent": LandlordConsent, "risk_tool": RiskTool, "risk_level": RiskLevel}
DATES = ("consent_on", "risk_assessed_on")
AGENCY_LIMIT = 120


@dataclass(frozen=True)
class CaseDetails:
    """Everything about a case that its caseworker keeps up to date (all but the reference)."""

    name: str
    address: str
    phone: str
    consent_on: date
    tenure: Tenure
    landlord_consent: LandlordConsent
    risk_tool: RiskTool
    risk_level: RiskLevel
    risk_assessed_on: date
    safe_contact_notes: str | None = None
    police_reference: str | None = None
    marac: bool = False
    flags: frozenset[str] = frozenset()
    # Where the referral came from; None only on cases from before it was recorded, or from
    # an API client that does not send it.
    referral_source: ReferralSource | None = None
    referral_agency: str | None = None  # the referring agency's name, for an agency's referral only

    def columns(self) -> dict:
        """The values as the case's columns (a flag is a column of its own)."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "flags"}
        return {**values, **{key: key in self.flags for key in NEED_FLAG_KEYS}}


@dataclass(frozen=True)
class NewCase:
    reference: str
    details: CaseDetails


def normalise_reference(reference: str) -> str:
    return reference.strip().upper()


def read_case_details(fields: Fields, *, source_required: bool = False) -> CaseDetails:
    """The details in `fields` (a form's data or a JSON body), or InvalidInput naming each bad
    one. `source_required`: the referral source must be given (the web form's rule)."""
    values = _read_details(fields, source_required=source_required)
    fields.check()
    return CaseDetails(**values)


def read_new_case(fields: Fields, *, source_required: bool = False) -> NewCase:
    """A reference and details, every problem with either named at once."""
    reference = fields.text("reference")
    if reference is not None and not REFERENCE_PATTERN.match(normalise_reference(reference)):
        fields.errors["reference"] = "Use letters, the year and a number, e.g. NS-2026-0142."
    values = _read_details(fields, source_required=source_required)
    fields.check()
    return NewCase(reference=normalise_reference(reference), details=CaseDetails(**values))


def referral_problems(source: ReferralSource | None, agency: str | None) -> dict[str, str]:
    """The agency is named exactly when another agency referred (its name, not a person's)."""
    if source is ReferralSource.AGENCY and agency is None:
        return {"referral_agency": "Name the agency that made the referral (the organisation, not a person)."}
    if source is not ReferralSource.AGENCY and agency is not None:
        return {"referral_agency": "Only for a referral from another agency: leave it empty."}
    return {}


def _read_details(fields: Fields, *, source_required: bool) -> dict:
    values: dict = {name: fields.text(name, required=name in REQUIRED_TEXT, max_length=limit)
                    for name, limit in TEXT_LIMITS.items()}
    if values["phone"] is not None and not PHONE_PATTERN.match(values["phone"]):
        fields.errors["phone"] = "Digits, spaces, +, brackets and dashes only."
    values.update({name: fields.choice(name, options) for name, options in CHOICES.items()})
    for name in DATES:
        values[name] = fields.date(name)
        if values[name] is not None and values[name] > clock.today():
            fields.errors[name] = "Cannot be in the future."
    if fields.boolean("consent_given", required=False) is not True:
        fields.errors.setdefault("consent_given", "A case needs the survivor's consent to the referral.")
    values["marac"] = bool(fields.boolean("marac", required=False))
    values["flags"] = _read_flags(fields)
    source = fields.choice("referral_source", ReferralSource, required=False)
    if source is None and source_required:
        fields.errors.setdefault("referral_source", "Say where the referral came from.")
    agency = fields.text("referral_agency", required=False, max_length=AGENCY_LIMIT)
    if "referral_source" not in fields.errors and "referral_agency" not in fields.errors:
        fields.errors.update(referral_problems(source, agency))
    values["referral_source"], values["referral_agency"] = source, agency
    return values


def _read_flags(fields: Fields) -> frozenset[str]:
    flags = fields.data.get("flags") or []
    if not isinstance(flags, list | tuple) or any(flag not in NEED_FLAG_KEYS for flag in flags):
        fields.errors["flags"] = "Unknown flag; known flags: " + ", ".join(NEED_FLAG_KEYS) + "."
        return frozenset()
    return frozenset(flags)
