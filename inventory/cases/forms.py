from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, Optional

from inventory.cases.models import (
    NEED_FLAGS,
    LandlordConsent,
    RiskLevel,
    RiskTool,
    Tenure,
)
from inventory.forms import CheckboxesField


def _choices(enum):
    return [SelectChoice(str(v), v.label) for v in enum]


class CaseForm(FlaskForm):
    """Checks live in `cases.details` (one reader for forms and the API); the form only
    carries values, so every message comes from there."""

    name = StringField("Survivor's name")
    address = TextAreaField("Address")
    phone = StringField("Phone", render_kw={"inputmode": "tel", "autocomplete": "off"})
    safe_contact_notes = TextAreaField("Safe contact notes")
    police_reference = StringField("Police crime reference (optional)")
    consent_given = BooleanField("The survivor consented to this referral")
    consent_on = DateField("Date consent was given", validators=[Optional()])
    tenure = SelectField("Tenure", choices=_choices(Tenure))
    landlord_consent = SelectField("Landlord consent for fitting", choices=_choices(LandlordConsent))
    risk_tool = SelectField("Risk assessment tool", choices=_choices(RiskTool))
    risk_level = RadioField("Risk level", choices=_choices(RiskLevel), default=RiskLevel.STANDARD.value)
    risk_assessed_on = DateField("Date of the risk assessment", validators=[Optional()])
    marac = BooleanField("Referred to MARAC")
    flags = CheckboxesField("Need flags", choices=[SelectChoice(f.key, f.label) for f in NEED_FLAGS])


class NewCaseForm(CaseForm):
    reference = StringField("Case reference", render_kw={"autocapitalize": "characters"})


class RevealForm(FlaskForm):
    """Show the personal details: on the case page, or in the edit form."""

    REASONS = {"show": "Opened on the case page", "edit": "Editing the case"}  # as the access log has them
    purpose = HiddenField(default="show", validators=[AnyOf(list(REASONS))])

