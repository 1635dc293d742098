"""Form pieces shared by every feature."""
from email_validator import EmailNotValidError, validate_email
from wtforms import SelectMultipleField, ValidationError, widgets

from inventory.errors import Conflict, DomainError, InvalidInput
from inventory.unit_of_work import undo


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class StaffEmail:
    """A well-formed address. Deliverability is not checked, and reserved names such as
    .example and .test are allowed: installations often run on closed networks."""

    def __call__(self, form, field):
        try:
            validate_email(field.data or "", check_deliverability=False, globally_deliverable=False,
                           test_environment=True)
        except EmailNotValidError as error:
            raise ValidationError(f"Invalid email address: {error}") from None


def show_error(form, error: DomainError) -> None:
    """The one way a refusal reaches a form: a service's field errors beside the fields,
    anything else (a conflict, or fields the form does not have) above the form."""
    placed = False
    for name, message in getattr(error, "fields", {}).items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
            placed = True
    if not placed:
        form.form_errors.append(error.message)


def submitted(form, use_case):
    """Run a use case from a posted form: validate the form and call `use_case()`, returning
    its result (True if it returns nothing); the request's unit of work commits it. If the
    form does not validate, or the use case refuses (InvalidInput or Conflict; NotFound and
    NotAllowed stay errors of the whole page), its changes are undone and None is returned,
    with the errors on the form."""
    if not form.validate_on_submit():
        return None
    try:
        result = use_case()
    except (InvalidInput, Conflict) as error:
        undo()
        show_error(form, error)
        return None
    return True if result is None else result
