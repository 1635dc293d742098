from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired

from inventory.cases.models import MANUAL_ANONYMISATION_REASONS, AnonymisationReason


class AnonymiseForm(FlaskForm):
    """"Anonymise now": why (a reason from the list, so no personal data is written down) and
    a tick that the person understands it cannot be undone."""

    reason = SelectField("Why now", choices=[SelectChoice("", "Choose a reason")] + [
        SelectChoice(str(reason), reason.label) for reason in MANUAL_ANONYMISATION_REASONS],
        validators=[InputRequired("Choose why the case is anonymised now."),
                    AnyOf([str(r) for r in MANUAL_ANONYMISATION_REASONS], message="Choose a reason from the list.")])
    understood = BooleanField("I understand that the name, address, phone, notes and every comment about this "
                              "case are erased for good, and cannot be brought back.",
                              validators=[DataRequired("Tick to confirm that this cannot be undone.")])

    @property
    def chosen(self) -> AnonymisationReason:
        return AnonymisationReason(self.reason.data)


class ExportForm(FlaskForm):
    """The subject-access export, as a printable page or a JSON file."""

    FORMATS = ("html", "json")
    format = HiddenField(default="html", validators=[AnyOf(FORMATS, message="Choose the page or the JSON file.")])
