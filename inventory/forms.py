"""Form pieces shared by every feature."""
from email_validator import EmailNotValidError, validate_email
from wtforms import SelectMultipleField, ValidationError, widgets

from inventory.errors import Conflict, InvalidInput
from inventory.extensions import db


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


def attach_errors(form, error: InvalidInput) -> None:
    """Show a service's field errors next to the fields; the rest as a form-level error."""
    placed = False
    for name, message in error.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
            placed = True
    if not placed:
        form.form_errors.append(error.message)


def submitted(form, use_case):
    """Run a use case from a posted form, as one transaction: validate the form, call
    `use_case()`, commit and return its result (True if it returns nothing). If the form
    does not validate, or the use case refuses (InvalidInput: errors beside the fields;
    Conflict: an error above the form), everything is rolled back and None is returned,
    with the errors on the form."""
    if not form.validate_on_submit():
        return None
    try:
        result = use_case()
        db.session.commit()
    except InvalidInput as error:
        db.session.rollback()
        attach_errors(form, error)
        return None
    except Conflict as error:
        db.session.rollback()
        form.form_errors.append(error.message)
        return None
    return True if result is None else result
