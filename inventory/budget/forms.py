"""Finance forms. People type pounds ("24.99"); the forms hand the services pence."""
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from inventory.budget import categories
from inventory.budget.ledger import NoBudgetPeriod, PeriodClosed
from inventory.budget.models import PaymentMethod
from inventory.errors import InvalidInput
from inventory.forms import PoundsField


def reason_field(label):
    return TextAreaField(label, validators=[DataRequired(message="Write the reason."), Length(max=500)])


def category_field(label, *, optional=False, default=None):
    """A choice of the active budget categories, by name (what the ledger records)."""

    def choices():
        first = SelectChoice("", "None" if optional else "Choose a category")
        return [first, *(SelectChoice(c.name, c.name) for c in categories.active_categories())]

    validators = [Optional()] if optional else [DataRequired(message="Choose a category.")]
    return SelectField(label, choices=choices, default=default, validators=validators)


class PeriodForm(FlaskForm):
    name = StringField("Name", validators=[Optional(), Length(max=60)])
    starts_on = DateField("Starts on", validators=[DataRequired(message="Enter the first day.")])
    ends_on = DateField("Ends on", validators=[DataRequired(message="Enter the last day.")])


class AllocationForm(FlaskForm):
    amount = PoundsField("Amount (£)")
    on = DateField("Date", validators=[Optional()])
    memo = StringField("Note", validators=[Optional(), Length(max=500)])


class DirectPurchaseForm(FlaskForm):
    supplier_name = StringField("Supplier", validators=[DataRequired(message="Enter the supplier."), Length(max=120)])
    purchased_on = DateField("Date of purchase", validators=[DataRequired(message="Enter the date of purchase.")])
    net = PoundsField("Net (£)", allow_zero=True)
    vat = PoundsField("VAT (£)", allow_zero=True)
    gross = PoundsField("Gross (£)")
    receipt_reference = StringField("Receipt reference",
                                    validators=[DataRequired(message="Enter the receipt reference."), Length(max=80)])
    category = category_field("Category")
    case_reference = StringField("Case reference (optional)", validators=[Optional(), Length(max=40)])
    payment_method = RadioField("Paid by", choices=[SelectChoice(m.value, m.label) for m in PaymentMethod],
                                default=PaymentMethod.BANK.value)


class RefundForm(FlaskForm):
    refunded_on = DateField("Date of the refund", validators=[DataRequired(message="Enter the date of the refund.")])
    net = PoundsField("Net (£)", allow_zero=True)
    vat = PoundsField("VAT (£)", allow_zero=True)
    reason = reason_field("What was refunded, and why?")


class AdjustmentForm(FlaskForm):
    amount = PoundsField("Amount (£)", allow_negative=True)
    on = DateField("Date", validators=[DataRequired(message="Enter the date.")])
    reason = reason_field("Reason")
    category = category_field("Category (optional)", optional=True)


class CategoryForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="Name the category."),
                                           Length(max=categories.NAME_MAX)])


class ReversalForm(FlaskForm):
    reason = reason_field("Why reverse this entry?")


class ReopenMonthForm(FlaskForm):
    reason = reason_field("Why reopen this month?")


class ResolveAlertForm(FlaskForm):
    resolution = reason_field("How was it resolved?")


# The services name money as the API does; the forms use plainer names.
SERVICE_TO_FORM_FIELDS = {"amount_pence": "amount", "gross_pence": "gross", "net_pence": "net", "vat_pence": "vat"}


def in_form_terms(use_case, *, date_field: str | None = None):
    """Run a ledger use case for a form, its refusals named as the form names things: the
    money fields by the form's names, and the entry's date (the services' `on`, or a closed
    month or a missing period) at `date_field`."""
    try:
        return use_case()
    except InvalidInput as error:
        names = {**SERVICE_TO_FORM_FIELDS, "on": date_field or "on"}
        raise InvalidInput(error.message, fields={names.get(k, k): v for k, v in error.fields.items()}) from None
    except (PeriodClosed, NoBudgetPeriod) as error:
        if date_field is None:
            raise
        raise InvalidInput(error.message, fields={date_field: error.message}) from None
