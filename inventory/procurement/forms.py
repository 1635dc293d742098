from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from inventory.forms import CheckboxesField
from inventory.money import MoneyError, parse_pounds
from inventory.procurement.models import MAX_LINE_QUANTITY

BLANK_ORDER_LINES = 6


def pounds_to_pence(field, *, required: bool) -> int | None:
    """The field's pounds as pence (None when blank and not required); raises ValidationError."""
    text = (field.data or "").strip()
    if not text:
        if required:
            raise ValidationError("Enter a price.")
        return None
    try:
        return parse_pounds(text, allow_zero=True)
    except MoneyError as error:
        raise ValidationError(str(error)) from None


class OrderLineForm(Form):
    item_type_id = SelectField("Item type", coerce=int, validate_choice=False)
    quantity = IntegerField("Quantity", validators=[Optional(), NumberRange(min=1, max=MAX_LINE_QUANTITY)])
    unit_net = StringField("Unit price, net (£)")
    unit_vat = StringField("Unit VAT (£)")

    @property
    def is_blank(self) -> bool:
        return not self.item_type_id.data and self.quantity.data is None and not (self.unit_net.data or "").strip()

    def validate_unit_net(self, field):
        if not self.is_blank:
            field.pence = pounds_to_pence(field, required=True)

    def validate_unit_vat(self, field):
        field.pence = (pounds_to_pence(field, required=False) or 0) if not self.is_blank else 0

    def validate_quantity(self, field):
        if not self.is_blank and field.data is None:
            raise ValidationError("Enter a quantity.")

    def validate_item_type_id(self, field):
        if not self.is_blank and field.data not in {choice.value for choice in field.choices if choice.value}:
            raise ValidationError("Choose an item type.")


class PurchaseOrderForm(FlaskForm):
    supplier_id = SelectField("Supplier", coerce=int, validators=[DataRequired()])
    lines = FieldList(FormField(OrderLineForm), min_entries=BLANK_ORDER_LINES, max_entries=50)
    notes = StringField("Notes for the order", validators=[Optional(), Length(max=500)])


class DraftForRequestForm(FlaskForm):
    supplier_id = SelectField("Supplier", coerce=int, validators=[DataRequired(message="Choose a supplier.")])


class ReorderForm(FlaskForm):
    """Draft one order for some of the suggested reorder lines, from one supplier."""

    supplier_id = SelectField("Supplier", coerce=int, validators=[DataRequired(message="Choose a supplier.")])
    item_type_ids = CheckboxesField("Item types", coerce=int,
                                    validators=[InputRequired("Choose at least one item type.")])


class ReasonForm(FlaskForm):
    reason = StringField("Reason", validators=[DataRequired(), Length(max=500)])


class ReceiptLineForm(Form):
    line_id = HiddenField()
    quantity = IntegerField("Quantity arrived", validators=[Optional(), NumberRange(min=0, max=MAX_LINE_QUANTITY)])
    serial_numbers = TextAreaField("Serial numbers, one per line", validators=[Optional(), Length(max=40_000)])


class ReceiptForm(FlaskForm):
    location_id = SelectField("Put them in", coerce=int, validators=[DataRequired()])
    lines = FieldList(FormField(ReceiptLineForm))
    note = StringField("Note", validators=[Optional(), Length(max=500)])


class InvoiceLineForm(Form):
    line_id = HiddenField()
    quantity = IntegerField("Quantity invoiced", validators=[Optional(), NumberRange(min=0, max=MAX_LINE_QUANTITY)])
    unit_net = StringField("Unit price, net (£)")
    unit_vat = StringField("Unit VAT (£)")

    def validate_unit_net(self, field):
        field.pence = pounds_to_pence(field, required=bool(self.quantity.data))

    def validate_unit_vat(self, field):
        field.pence = pounds_to_pence(field, required=False) or 0


class InvoiceForm(FlaskForm):
    number = StringField("Supplier's invoice number", validators=[DataRequired(), Length(max=60)])
    invoice_date = DateField("Invoice date", validators=[InputRequired()])
    lines = FieldList(FormField(InvoiceLineForm))


class CreditNoteForm(FlaskForm):
    invoice_id = SelectField("Invoice it credits", coerce=int, validators=[DataRequired(message="Choose the invoice.")])
    number = StringField("Credit note number", validators=[DataRequired(), Length(max=60)])
    invoice_date = DateField("Date", validators=[InputRequired()])
    net = StringField("Net (£)")
    vat = StringField("VAT (£)")
    reason = StringField("What is it for?", validators=[DataRequired(), Length(max=500)])

    def validate_net(self, field):
        field.pence = pounds_to_pence(field, required=True)

    def validate_vat(self, field):
        field.pence = pounds_to_pence(field, required=False) or 0
