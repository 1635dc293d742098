from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from inventory.forms import CheckboxesField
from inventory.jobs.booking import CollectionBooking, InstallBooking
from inventory.jobs.inputs import read_collection_booking, read_install_booking
from inventory.jobs.models import CHECKLIST, HANDOVER_CHECKS, CheckAnswer, ReturnCondition
from inventory.parsing import Fields


class VisitForm(FlaskForm):
    """Who goes and when: the part every booking shares."""

    fitter_id = SelectField("Fitter", coerce=int, validators=[InputRequired("Choose a fitter.")])
    scheduled_for = DateField("Date", validators=[InputRequired("Enter the date of the visit.")])
    window_starts = TimeField("Arrive from", validators=[InputRequired("Enter the start of the window.")])
    window_ends = TimeField("Arrive by", validators=[InputRequired("Enter the end of the window.")])


class ScheduleForm(VisitForm):
    request_id = SelectField("Approved request", coerce=int, validators=[InputRequired("Choose a request.")])

    def booking(self) -> InstallBooking:
        return read_install_booking(Fields(self.data))


class CollectionForm(VisitForm):
    """Book a visit to take items back from one case."""

    item_ids = CheckboxesField("Items to collect", coerce=int,
                               validators=[InputRequired("Choose at least one item to collect.")])

    def booking(self, case_id: int) -> CollectionBooking:
        return read_collection_booking(Fields({**self.data, "case_id": case_id}))


class ChecklistForm(FlaskForm):
    """The handover checklist for one connected device (DESIGN.md), one box per step."""

    def ticked(self) -> frozenset[str]:
        """The steps ticked, by key."""
        return frozenset(key for key, _ in CHECKLIST if getattr(self, key).data)


for _key, _label in CHECKLIST:
    setattr(ChecklistForm, _key, BooleanField(_label))


class HandoverChecksForm(FlaskForm):
    """The widened handover of a job (HANDOVER_CHECKS): for each point, Done or Not
    applicable; a point left unanswered keeps its stored answer."""

    def answers(self) -> dict[str, CheckAnswer]:
        return {check.key: CheckAnswer(getattr(self, check.key).data) for check in HANDOVER_CHECKS
                if getattr(self, check.key).data}


for _check in HANDOVER_CHECKS:
    setattr(HandoverChecksForm, _check.key, RadioField(
        _check.label, choices=[SelectChoice(answer.value, answer.label) for answer in CheckAnswer],
        validators=[Optional()]))


class ReturnConditionForm(FlaskForm):
    condition = SelectField("Condition it came back in",
                            choices=[SelectChoice(c.value, c.label) for c in ReturnCondition])


class EmptyForm(FlaskForm):
    """A button that only needs the CSRF token (reveal the address, complete the job)."""
