from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, NumberRange, Optional

from inventory.cases.details import AGENCY_LIMIT
from inventory.cases.models import (
    FEELS_SAFER_SCALE,
    NEED_FLAGS,
    LandlordConsent,
    ReferralSource,
    ReviewKind,
    RiskLevel,
    RiskTool,
    SupportEnded,
    Tenure,
)
from inventory.cases.reviews import Closing, ItemAnswer, NewReview, ReviewAnswers
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
    referral_source = RadioField("Where the referral came from", choices=_choices(ReferralSource),
                                 validate_choice=False)
    referral_agency = StringField("Which agency referred", render_kw={"maxlength": AGENCY_LIMIT})


class NewCaseForm(CaseForm):
    reference = StringField("Case reference", render_kw={"autocapitalize": "characters"})


class RevealForm(FlaskForm):
    """Show the personal details: on the case page, or in the edit form."""

    REASONS = {"show": "Opened on the case page", "edit": "Editing the case"}  # as the access log has them
    purpose = HiddenField(default="show", validators=[AnyOf(list(REASONS))])



# Reviews -------------------------------------------------------------------------------------

NOT_SAID = "not_said"
# One answer per item issued to the case: (in use, working), or None where the survivor did not say.
ITEM_ANSWERS = {
    "in_use_working": (True, True),
    "in_use_not_working": (True, False),
    "not_in_use_working": (False, True),
    "not_in_use_not_working": (False, False),
    NOT_SAID: None,
}
ITEM_CHOICES = [SelectChoice("", "Choose an answer"), SelectChoice("in_use_working", "In use and working"),
                SelectChoice("in_use_not_working", "In use, not working"),
                SelectChoice("not_in_use_working", "Not in use, working"),
                SelectChoice("not_in_use_not_working", "Not in use, not working"),
                SelectChoice(NOT_SAID, "Did not say")]
CHOOSE = "Choose an answer, or \u201cDid not say\u201d."


class AnswersForm(FlaskForm):
    """What the survivor said at a review; every question has an explicit "did not say"."""

    feels_safer = RadioField(
        "Does the survivor feel safer since the equipment was fitted?",
        choices=[SelectChoice(str(n), FEELS_SAFER_SCALE[n]) for n in sorted(FEELS_SAFER_SCALE, reverse=True)]
        + [SelectChoice(NOT_SAID, "Did not say")], validators=[InputRequired(CHOOSE)])
    still_at_address = RadioField(
        "Still living at the address where the equipment was fitted?",
        choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No"), SelectChoice(NOT_SAID, "Did not say")],
        validators=[InputRequired(CHOOSE)])
    incidents_since_fitting = IntegerField(
        "Incidents reported since the equipment was fitted",
        validators=[Optional(), NumberRange(min=0, message="Cannot be negative.")],
        render_kw={"inputmode": "numeric", "min": 0})

    def item_fields(self):
        return [field for name, field in self._fields.items() if name.startswith("item_")]

    def answers(self) -> ReviewAnswers:
        items = []
        for field in self.item_fields():
            answer = ITEM_ANSWERS.get(field.data)
            if answer is not None:
                items.append(ItemAnswer(int(field.name.removeprefix("item_")), *answer))
        return ReviewAnswers(
            feels_safer=None if self.feels_safer.data == NOT_SAID else int(self.feels_safer.data),
            still_at_address={"yes": True, "no": False}.get(self.still_at_address.data),
            incidents_since_fitting=self.incidents_since_fitting.data, items=tuple(items))

    def __getattr__(self, name: str):
        # The service names an item's error `items[n].item_id`: the n-th item answered.
        if name.startswith("items[") and name.endswith("].item_id"):
            answered = [field for field in self.item_fields() if ITEM_ANSWERS.get(field.data) is not None]
            n = int(name[len("items["):-len("].item_id")])
            return answered[n] if n < len(answered) else None
        raise AttributeError(name)


class ReviewForm(AnswersForm):
    kind = RadioField("Which review", validators=[InputRequired("Choose which review this is.")])
    reviewed_on = DateField("Date of the review", validators=[InputRequired("Give the date of the review.")])

    def review(self) -> NewReview:
        return NewReview(ReviewKind(self.kind.data), self.reviewed_on.data, self.answers())


class CloseForm(AnswersForm):
    support_ended = RadioField("Why support ended", choices=_choices(SupportEnded),
                               validators=[InputRequired("Say why support ended.")])

    def closing(self) -> Closing:
        return Closing(SupportEnded(self.support_ended.data), self.answers())


def _with_items(base, items):
    class Form(base):
        pass

    for item in items:
        setattr(Form, f"item_{item.id}", SelectField(
            f"{item.item_type.name}, {item.code}", choices=ITEM_CHOICES,
            validators=[InputRequired(CHOOSE)]))
    return Form


def review_form(items, kinds, **kwargs) -> ReviewForm:
    """A review form for the kinds still to record, with one question per item out with the case."""
    form = _with_items(ReviewForm, items)(**kwargs)
    form.kind.choices = [SelectChoice(str(kind), kind.label) for kind in kinds]
    return form


def close_form(items, **kwargs) -> CloseForm:
    """The close form: why support ended, and the closing review's questions."""
    return _with_items(CloseForm, items)(**kwargs)
