"""Form pieces shared by every feature."""
from email_validator import EmailNotValidError, validate_email
from flask import flash, redirect, render_template, session
from wtforms import SelectMultipleField, StringField, ValidationError, widgets

from inventory.errors import Conflict, DomainError, InvalidInput
from inventory.money import MoneyError, parse_pounds
from inventory.unit_of_work import undo


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class PoundsField(StringField):
    """An amount typed in pounds ("24.99"); after validation `.pence` holds it as integer
    pence (None when the field is `optional` and left blank)."""

    def __init__(self, label=None, validators=None, *, allow_zero=False, allow_negative=False, optional=False,
                 **kwargs):
        super().__init__(label, validators, render_kw={"inputmode": "decimal", "autocomplete": "off"}, **kwargs)
        self.allow_zero = allow_zero
        self.allow_negative = allow_negative
        self.optional = optional
        self.pence = None

    def pre_validate(self, form):
        self.pence = None
        if self.optional and not (self.data or "").strip():
            return
        try:
            self.pence = parse_pounds(self.data or "", allow_zero=self.allow_zero, allow_negative=self.allow_negative)
        except MoneyError as error:
            raise ValidationError(str(error)) from None


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


HELD_FORM = "held_form"


def hold_for_next_page(where: str, *, data: dict, errors: dict) -> None:
    """Keep a refused form's posted values and its errors for the GET its redirect leads to
    (post-redirect-get), so that Back or a reload never meets a resubmission page. `where`
    names the form's place ("job:12:complete"). The session is a signed cookie: hold only
    choices and ticks, never personal details or free text."""
    session[HELD_FORM] = {"where": where, "data": data, "errors": errors}


def held_form(where: str) -> tuple[dict, dict] | None:
    """The values and errors held for the form at `where`, once: (data, errors), or None."""
    held = session.get(HELD_FORM)
    if not held or held.get("where") != where:
        return None
    session.pop(HELD_FORM)
    return held["data"], held["errors"]


def form_page(form, use_case, *, done, next_url, template: str, **context):
    """A page whose one form runs a use case (see `submitted`). Done: flash `done` (a
    message, or one made from the result) and go on to `next_url` (a URL, or one made from
    the result). Else the form again from `template`: with its errors, 422; first shown, 200."""
    result = submitted(form, use_case)
    if result:
        flash(done(result) if callable(done) else done, "success")
        return redirect(next_url(result) if callable(next_url) else next_url)
    return render_template(template, form=form, **context), 422 if form.errors else 200


def on_record_page(form, use_case, *, record_url: str, page, done, next_url=None):
    """Run a use case from one of the forms on a record's own page (an item, a purchase
    order). Done: flash `done` (a message, or one made from the result) and go on to
    `next_url(result)`, else back to the record. Bad input, the form's or the use case's
    (InvalidInput), shows at the form: the answer is `page()`. Any other refusal (the
    record's state does not allow it) is news about the record: flashed there. A refused
    use case is undone either way."""
    if form.validate_on_submit():
        try:
            result = use_case()
        except InvalidInput as error:
            undo()
            show_error(form, error)
        except DomainError as error:
            undo()
            flash(error.message, "error")
            return redirect(record_url)
        else:
            flash(done(result) if callable(done) else done, "success")
            return redirect(next_url(result) if next_url else record_url)
    return page()
