from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from inventory.forms import CheckboxesField
from inventory.jobs.models import CHECKLIST, ReturnCondition


class ScheduleForm(FlaskForm):
    request_id = SelectField("Approved request", coerce=int, validators=[InputRequired("Choose a request.")])
    fitter_id = SelectField("Fitter", coerce=int, validators=[InputRequired("Choose a fitter.")])
    scheduled_for = DateField("Date", validators=[InputRequired("Enter the date of the visit.")])
    window_starts = TimeField("Arrive from", validators=[InputRequired("Enter the start of the window.")])
    window_ends = TimeField("Arrive by", validators=[InputRequired("Enter the end of the window.")])

    def details(self) -> dict:
        return {"request_id": self.request_id.data, "fitter_id": self.fitter_id.data,
                "scheduled_for": self.scheduled_for.data, "window_starts": self.window_starts.data,
                "window_ends": self.window_ends.data}


class CollectionForm(FlaskForm):
    """Book a visit to take items back from one case."""

    item_ids = CheckboxesField("Items to collect", coerce=int,
                               validators=[InputRequired("Choose at least one item to collect.")])
    fitter_id = SelectField("Fitter", coerce=int, validators=[InputRequired("Choose a fitter.")])
    scheduled_for = DateField("Date", validators=[InputRequired("Enter the date of the visit.")])
    window_starts = TimeField("Arrive from", validators=[InputRequired("Enter the start of the window.")])
    window_ends = TimeField("Arrive by", validators=[InputRequired("Enter the end of the window.")])

    def details(self, case_id: int) -> dict:
        return {"case_id": case_id, "item_ids": self.item_ids.data, "fitter_id": self.fitter_id.data,
                "scheduled_for": self.scheduled_for.data, "window_starts": self.window_starts.data,
                "window_ends": self.window_ends.data}


class ChecklistForm(FlaskForm):
    """The handover checklist for one connected device (DESIGN.md), one box per step."""

    def ticks(self) -> dict:
        return {key: getattr(self, key).data for key, _ in CHECKLIST}


for _key, _label in CHECKLIST:
    setattr(ChecklistForm, _key, BooleanField(_label))


class ReturnConditionForm(FlaskForm):
    condition = SelectField("Condition it came back in",
                            choices=[SelectChoice(c.value, c.label) for c in ReturnCondition])


class EmptyForm(FlaskForm):
    """A button that only needs the CSRF token (reveal the address, complete the job)."""
