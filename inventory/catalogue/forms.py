from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from inventory.budget.categories import all_categories
from inventory.catalogue.models import Category
from inventory.catalogue.operations import MAX_REORDER_LEVEL
from inventory.forms import PoundsField


def _optional_id(value):
    return None if value in ("", None) else int(value)


def _budget_categories():
    return [SelectChoice("", "The one named as the category above"),
            *(SelectChoice(c.id, c.name if c.active else f"{c.name} (deactivated)") for c in all_categories())]


class ItemTypeForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    category = SelectField("Category", choices=[SelectChoice(c.value, c.label) for c in Category],
                           validators=[DataRequired()])
    other_category = StringField("Name of the other category", validators=[Optional(), Length(max=60)])
    budget_category_id = SelectField("Budget category (what buying one is charged to)", coerce=_optional_id,
                                     choices=_budget_categories)
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    loaned = BooleanField("Loaned (expected back when no longer needed)")
    connected_device = BooleanField("Connected device (needs an account handover and a wipe before reuse)")
    standard_cost = PoundsField("Standard unit cost (£, including VAT)", allow_zero=True)
    reorder_level = IntegerField("Reorder level", default=0,
                                 validators=[InputRequired(), NumberRange(min=0, max=MAX_REORDER_LEVEL)])
    active = BooleanField("Active (can be requested and ordered)", default=True)

    def values(self) -> dict:
        return {"name": self.name.data, "category": self.category.data, "other_category": self.other_category.data,
                "description": self.description.data, "loaned": self.loaned.data,
                "connected_device": self.connected_device.data, "standard_cost_pence": self.standard_cost.pence,
                "reorder_level": self.reorder_level.data, "active": self.active.data,
                "budget_category_id": self.budget_category_id.data}


class ProductCodeForm(FlaskForm):
    supplier_id = SelectField("Supplier", coerce=int, validators=[DataRequired()])
    product_code = StringField("Supplier's product code", validators=[DataRequired(), Length(max=60)])


class SupplierForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    contact_name = StringField("Contact name", validators=[Optional(), Length(max=120)])
    email = EmailField("Email", validators=[Optional(), Length(max=254)])
    phone = StringField("Phone", validators=[Optional(), Length(max=40)])
    address = TextAreaField("Address", validators=[Optional(), Length(max=1000)])
    website = StringField("Website", validators=[Optional(), Length(max=200)])
    account_reference = StringField("Our account reference with them", validators=[Optional(), Length(max=60)])
    active = BooleanField("Active", default=True)

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "name", "contact_name", "email", "phone", "address", "website", "account_reference", "active")}
