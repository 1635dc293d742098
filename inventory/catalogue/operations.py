"""Use cases for the catalogue: item types, suppliers and supplier product codes.

Each function validates, changes the session and flushes; the caller commits.
"""
from sqlalchemy import func, select

from inventory.budget.models import BudgetCategory, category_key
from inventory.catalogue.models import Category, ItemType, Supplier, SupplierProductCode, category_label
from inventory.errors import Conflict, InvalidInput
from inventory.extensions import db
from inventory.money import MoneyError, check_pence

MAX_REORDER_LEVEL = 10_000


def _required(value: str | None, field: str, what: str, max_length: int) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"Enter {what}.", fields={field: f"Enter {what}."})
    if len(value) > max_length:
        raise InvalidInput(f"{what.capitalize()} is too long.", fields={field: f"At most {max_length} characters."})
    return value


def _optional(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _check_name_free(model, name: str, record_id: int | None) -> None:
    query = select(model.id).where(func.lower(model.name) == name.lower())
    if record_id is not None:
        query = query.where(model.id != record_id)
    if db.session.scalar(query) is not None:
        raise InvalidInput("That name is already in use.", fields={"name": "Already in use."})


def _save(record, values: dict):
    """A new or existing record given its checked values, and flushed."""
    for key, value in values.items():
        setattr(record, key, value)
    db.session.add(record)
    db.session.flush()
    return record


# Item types ----------------------------------------------------------------------------

def _item_type_values(item_type_id, *, name, category, other_category, description, loaned, connected_device,
                      standard_cost_pence, reorder_level, active, budget_category_id=None) -> dict:
    name = _required(name, "name", "a name", 120)
    _check_name_free(ItemType, name, item_type_id)
    try:
        category = Category(category)
    except ValueError:
        raise InvalidInput("Choose a category.", fields={"category": "Choose a category."}) from None
    if category == Category.OTHER:
        other_category = _required(other_category, "other_category", "the name of the category", 60)
    else:
        other_category = None
    try:
        standard_cost_pence = check_pence(standard_cost_pence, allow_zero=True)
    except MoneyError as error:
        raise InvalidInput(str(error), fields={"standard_cost_pence": str(error)}) from None
    if isinstance(reorder_level, bool) or not isinstance(reorder_level, int) \
            or not 0 <= reorder_level <= MAX_REORDER_LEVEL:
        message = f"A whole number from 0 to {MAX_REORDER_LEVEL:,}."
        raise InvalidInput("The reorder level is out of range.", fields={"reorder_level": message})
    budget_category = _budget_category(budget_category_id, category_label(category, other_category))
    if active and not budget_category.active:
        raise InvalidInput("An active item type needs an active budget category.",
                           fields={"budget_category_id": f"{budget_category.name} is deactivated: choose another."})
    return {"name": name, "category": str(category), "other_category": other_category,
            "budget_category": budget_category,
            "description": _optional(description), "loaned": bool(loaned), "connected_device": bool(connected_device),
            "standard_cost_pence": standard_cost_pence, "reorder_level": reorder_level, "active": bool(active)}


def _budget_category(budget_category_id: int | None, kind_label: str) -> BudgetCategory:
    """The chosen budget category; none chosen, the one named as the kind (e.g. PIR light)."""
    if budget_category_id is None:
        chosen = db.session.scalar(select(BudgetCategory).where(BudgetCategory.key == category_key(kind_label),
                                                                BudgetCategory.active.is_(True)))
        if chosen is None:
            message = f"No budget category is named {kind_label}: choose one."
            raise InvalidInput(message, fields={"budget_category_id": message})
        return chosen
    chosen = db.session.get(BudgetCategory, budget_category_id)
    if chosen is None:
        raise InvalidInput("No such budget category.", fields={"budget_category_id": "Choose the budget category."})
    return chosen


def create_item_type(*, name: str, category: str, other_category: str | None = None, description: str | None = None,
                     loaned: bool = False, connected_device: bool = False, standard_cost_pence: int = 0,
                     reorder_level: int = 0, active: bool = True, budget_category_id: int | None = None) -> ItemType:
    """An item type, charged to `budget_category_id` or else the budget category named as its kind."""
    return _save(ItemType(), _item_type_values(
        None, name=name, category=category, other_category=other_category, description=description, loaned=loaned,
        connected_device=connected_device, standard_cost_pence=standard_cost_pence, reorder_level=reorder_level,
        active=active, budget_category_id=budget_category_id,
    ))


def update_item_type(item_type: ItemType, **values) -> None:
    _save(item_type, _item_type_values(item_type.id, **values))


def refuse_to_retire_budget_category_in_use(category: BudgetCategory) -> None:
    """A budget-category guard: an active item type's purchases are charged to its category,
    so that category cannot be deactivated until the types move to another."""
    names = list(db.session.scalars(select(ItemType.name).where(ItemType.budget_category_id == category.id,
                                                                ItemType.active.is_(True)).order_by(ItemType.name)))
    if names:
        raise Conflict(f"{category.name} is the budget category of {', '.join(names[:5])}"
                       f"{' and others' if len(names) > 5 else ''}: give them another category first.",
                       code="category_in_use", details={"item_types": names})


def set_product_code(item_type: ItemType, supplier: Supplier, product_code: str) -> SupplierProductCode:
    """Record (or change) the supplier's own code for this item type."""
    product_code = _required(product_code, "product_code", "the supplier's product code", 60)
    clash = db.session.scalar(select(SupplierProductCode).where(
        SupplierProductCode.supplier_id == supplier.id, SupplierProductCode.product_code == product_code,
        SupplierProductCode.item_type_id != item_type.id,
    ))
    if clash is not None:
        raise InvalidInput("This supplier already uses that code for another item type.",
                           fields={"product_code": "Already used for another item type."})
    row = db.session.scalar(select(SupplierProductCode).where(
        SupplierProductCode.supplier_id == supplier.id, SupplierProductCode.item_type_id == item_type.id,
    ))
    if row is None:
        row = SupplierProductCode(item_type=item_type, supplier=supplier, product_code=product_code)
        db.session.add(row)
    else:
        row.product_code = product_code
    db.session.flush()
    return row


def remove_product_code(item_type: ItemType, product_code_id: int) -> None:
    row = db.session.get(SupplierProductCode, product_code_id)
    if row is not None and row.item_type_id == item_type.id:
        db.session.delete(row)
        db.session.flush()


# Suppliers -----------------------------------------------------------------------------

def _supplier_values(supplier_id, *, name, contact_name, email, phone, address, website, account_reference,
                     active) -> dict:
    name = _required(name, "name", "a name", 120)
    _check_name_free(Supplier, name, supplier_id)
    email = _optional(email)
    if email is not None and ("@" not in email or len(email) > 254):
        raise InvalidInput("Enter a valid email address.", fields={"email": "Enter a valid email address."})
    return {"name": name, "contact_name": _optional(contact_name), "email": email, "phone": _optional(phone),
            "address": _optional(address), "website": _optional(website),
            "account_reference": _optional(account_reference), "active": bool(active)}


def create_supplier(*, name: str, contact_name: str | None = None, email: str | None = None,
                    phone: str | None = None, address: str | None = None, website: str | None = None,
                    account_reference: str | None = None, active: bool = True) -> Supplier:
    return _save(Supplier(), _supplier_values(
        None, name=name, contact_name=contact_name, email=email, phone=phone, address=address, website=website,
        account_reference=account_reference, active=active,
    ))


def update_supplier(supplier: Supplier, **values) -> None:
    _save(supplier, _supplier_values(supplier.id, **values))
