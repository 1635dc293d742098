"""Form pieces shared by every feature."""
from wtforms import SelectMultipleField, widgets

from inventory.errors import InvalidInput


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


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
