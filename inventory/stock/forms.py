from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    ValidationError,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from inventory.forms import PoundsField
from inventory.stock.labels import DEFAULT_FORMAT, FORMATS
from inventory.stock.models import LocationKind, ReturnCondition, WriteOffReason
from inventory.stock.receiving import MAX_UNITS_AT_ONCE

WRITE_OFF_CHOICES = [SelectChoice(r.value, r.label) for r in WriteOffReason]


def lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class CodeForm(FlaskForm):
    code = StringField("Item code", validators=[DataRequired(), Length(max=300)],
                       render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false",
                                  "autofocus": True})


class ReceiveForm(FlaskForm):
    item_type_id = SelectField("Item type", coerce=int, validators=[DataRequired()])
    quantity = IntegerField("How many units", default=1,
                            validators=[InputRequired(), NumberRange(min=1, max=MAX_UNITS_AT_ONCE)])
    location_id = SelectField("Put them in", coerce=int, validators=[DataRequired()])
    supplier_id = SelectField("Supplier", coerce=int, validators=[Optional()])
    unit_cost = PoundsField("Cost per unit (£, optional)", allow_zero=True, optional=True)
    serial_numbers = TextAreaField("Serial numbers, one per line (typed or scanned)",
                                   validators=[Optional(), Length(max=40_000)])


class MoveForm(FlaskForm):
    location_id = SelectField("Move to", coerce=int, validators=[DataRequired()])
    note = StringField("Note", validators=[Optional(), Length(max=500)])


class WriteOffForm(FlaskForm):
    reason = SelectField("Reason", choices=WRITE_OFF_CHOICES, validators=[DataRequired()])
    note = StringField("Note", validators=[Optional(), Length(max=500)])


class ReturnForm(FlaskForm):
    condition = RadioField("Condition", choices=[SelectChoice(c.value, c.value.capitalize()) for c in ReturnCondition],
                           default=ReturnCondition.GOOD.value, validators=[DataRequired()])
    location_id = SelectField("Back to", coerce=int, validators=[DataRequired()])
    note = StringField("Note", validators=[Optional(), Length(max=500)])


class NoteForm(FlaskForm):
    note = StringField("Note", validators=[Optional(), Length(max=500)])


class ReplaceCodeForm(FlaskForm):
    reason = StringField("Why replace the code?", validators=[DataRequired(), Length(max=200)])


class LocationForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=80)])
    kind = RadioField("Kind", choices=[SelectChoice(k.value, k.label) for k in LocationKind],
                      default=LocationKind.STORE.value,
                      validators=[DataRequired()])
    fitter_id = SelectField("Fitter (for a van)", coerce=int, validators=[Optional()])


class TransferForm(FlaskForm):
    location_id = SelectField("Move to", coerce=int, validators=[DataRequired()])
    codes = TextAreaField("Codes, one per line: scan or type each", validators=[DataRequired(), Length(max=20_000)],
                          render_kw={"autocomplete": "off", "spellcheck": "false", "rows": 8})


class StocktakeStartForm(FlaskForm):
    location_id = SelectField("Location to count", coerce=int, validators=[DataRequired()])


class ResolveForm(FlaskForm):
    """Settling one difference a stocktake found. Nothing is chosen until a person chooses,
    and a write-off (the item leaves stock for good) is confirmed by ticking a box."""

    action = SelectField("Settle it", choices=[SelectChoice("", "Choose…"),
                                               SelectChoice("count_later", "Count later: leave it uncounted for now"),
                                               SelectChoice("write_off", "Write off"),
                                               SelectChoice("move", "Move here"),
                                               SelectChoice("found", "Found here")],
                         validators=[DataRequired("Choose how to settle it.")])
    reason = SelectField("Write-off reason", choices=[SelectChoice("", "Choose a reason…"), *WRITE_OFF_CHOICES],
                         validators=[Optional()])
    confirm = BooleanField("Yes, write it off: it leaves stock for good")

    def validate_confirm(self, field):
        if self.action.data == "write_off" and not field.data:
            raise ValidationError("Tick “Yes, write it off” to confirm the write-off.")


class LabelForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that only renders a printable page

    format = SelectField("Label stationery", choices=[SelectChoice(f.key, f.name) for f in FORMATS.values()],
                         default=DEFAULT_FORMAT)
    start = IntegerField("Start at position", default=1, validators=[InputRequired(), NumberRange(min=1, max=65)])
    show_type = BooleanField("Print the item type under the code", default=True)
    codes = TextAreaField("Codes, one per line", validators=[Optional(), Length(max=40_000)])
