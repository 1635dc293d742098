import re

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from inventory.parsing import Fields
from inventory.requests.models import MAX_LINE_QUANTITY, MAX_TEXT, DeclinedAs
from inventory.requests.operations import MAX_ADJUSTMENT, MAX_LINES, ApprovedLine, RequestDetails, WantedLine

LINE_ERROR = re.compile(r"lines\[(\d+)\]\.\w+")


def written(form, name: str) -> str | None:
    """A text box's value read as the API reads text: trimmed, None when empty; refused
    (InvalidInput naming the box) when too long."""
    fields = Fields(form.data)
    value = fields.text(name, required=False, max_length=MAX_TEXT)
    fields.check()
    return value


QUANTITY_LIMIT = (f"At most {MAX_LINE_QUANTITY} of any one item (more for one household is taken as a typo), "
                  f"and at most {MAX_LINES} different items in one request.")


class RequestForm(FlaskForm):
    """Built by `request_form`, its fields in the order the page shows them."""

    limit = QUANTITY_LIMIT  # said where the quantities are typed

    def quantity_fields(self):
        return [field for name, field in self._fields.items() if name.startswith("qty_")]

    def line_fields(self):
        """(quantity box, urgent tick box) per offered item type."""
        return [(field, self._urgent(field)) for field in self.quantity_fields()]

    def _urgent(self, quantity_field):
        return self._fields[f"urgent_{quantity_field.name.removeprefix('qty_')}"]

    def chosen(self):
        return [field for field in self.quantity_fields() if field.data]

    def details(self) -> RequestDetails:
        lines = tuple(WantedLine(item_type_id=int(field.name.removeprefix("qty_")), quantity=field.data,
                                 urgent=bool(self._urgent(field).data))
                      for field in self.chosen())
        return RequestDetails(lines=lines, reason=written(self, "reason"), needed_by=self.needed_by.data)

    def __getattr__(self, name: str):
        # The service names a line's errors `lines[n].<field>`: here, the n-th quantity chosen,
        # so that `show_error` puts them beside that box.
        match = LINE_ERROR.fullmatch(name)
        if match is None:
            raise AttributeError(name)
        chosen = self.chosen()
        n = int(match[1])
        return chosen[n] if n < len(chosen) else None


def request_form(item_types, *, confirm_need: bool = False, **kwargs) -> RequestForm:
    """A request form with one quantity box per offered item type (blank or 0 = none), and
    beside each a tick box to mark it among the most urgent; then why and by when. With
    `confirm_need` (raising a request) it first asks the caseworker to confirm that the
    case's risk level and need flags, which set the request's score, are current."""

    class Form(RequestForm):
        pass

    # Fields are ordered as they are made: made here in the order the page shows them.
    if confirm_need:
        Form.need_confirmed = BooleanField(
            "The risk level and need flags above are current for this survivor",
            validators=[DataRequired("Confirm the case's risk level and need flags are current, or correct them "
                                     "on the case first: they set the request's place in the queue.")])
    for item_type in item_types:
        setattr(Form, f"qty_{item_type.id}", IntegerField(
            item_type.name, validators=[Optional(), NumberRange(
                min=0, max=MAX_LINE_QUANTITY,
                message=f"Between 0 and {MAX_LINE_QUANTITY}: more for one household is taken as a typo.")],
            render_kw={"inputmode": "numeric", "min": 0, "max": MAX_LINE_QUANTITY}))
        setattr(Form, f"urgent_{item_type.id}", BooleanField(f"{item_type.name}: most urgent"))
    Form.reason = TextAreaField("Why are these needed?")
    Form.needed_by = DateField("Needed by (optional)", validators=[Optional()])
    return Form(**kwargs)


class NoteForm(FlaskForm):
    reason = TextAreaField("Reason")


class RejectForm(FlaskForm):
    """Rejecting: declined as what, and why (the caseworker sees both)."""

    declined_as = RadioField("Declined as", choices=[SelectChoice(str(v), v.label) for v in DeclinedAs],
                             validators=[InputRequired("Say whether it is declined as unsuitable, ineligible or "
                                                       "for another reason.")])
    # Its own id: the page also holds the move-in-the-queue form's reason.
    reason = TextAreaField("Why it is rejected (the caseworker sees this)", id="reject-reason")


class CommentForm(FlaskForm):
    body = TextAreaField("Add a comment")


class PriorityForm(FlaskForm):
    points = IntegerField("Points (positive moves it up, negative down)",
                          validators=[NumberRange(min=-MAX_ADJUSTMENT, max=MAX_ADJUSTMENT)])
    reason = TextAreaField("Why (kept and shown with the request)", id="move-reason")


class ApprovalForm(FlaskForm):
    """One quantity per line (defaulting to what was asked for), and a note for the caseworker."""

    note = TextAreaField("Note for the caseworker (needed when approving part)")

    def quantity_fields(self):
        return [field for name, field in self._fields.items() if name.startswith("line_")]

    def lines(self) -> list[ApprovedLine]:
        return [ApprovedLine(line_id=int(field.name.removeprefix("line_")), quantity=field.data)
                for field in self.quantity_fields()]


def approval_form(request_lines, quantities: dict[int, int] | None = None, **kwargs) -> ApprovalForm:
    class Form(ApprovalForm):
        pass

    for line in request_lines:
        setattr(Form, f"line_{line.id}", IntegerField(
            f"{line.item_type.name} (asked for {line.quantity}{', marked urgent' if line.urgent else ''})",
            default=line.quantity,
            validators=[NumberRange(min=0, max=line.quantity, message=f"Between 0 and {line.quantity}.")],
            render_kw={"inputmode": "numeric", "min": 0, "max": line.quantity}))
    data = {f"line_{line_id}": quantity for line_id, quantity in (quantities or {}).items()}
    return Form(data=data or None, **kwargs)
