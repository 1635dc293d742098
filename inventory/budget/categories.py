"""Budget categories: the managed list of what money is spent on.

Every commitment, actual and credit names one, so spend by category adds up to the whole.
Entries record the category's name (hashed with the rest of the entry) and its id, so a
name is fixed once an entry uses it: to change it, deactivate the category and add
another. Use cases flush and never commit.
"""
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from inventory.audit.models import AuditEventKind
from inventory.audit.operations import record_event
from inventory.budget.models import BudgetCategory, LedgerEntry, category_key
from inventory.errors import Conflict, InvalidInput
from inventory.extensions import db
from inventory.hooks import Hook
from inventory.parsing import Fields

NAME_MAX = 60

category_deactivating = Hook(
    "budget_category_deactivating",
    "A category is about to be deactivated; a receiver `(category)` refuses by raising a DomainError "
    "(the catalogue refuses while an active item type is charged to it).")


def active_categories() -> list[BudgetCategory]:
    return list(db.session.scalars(select(BudgetCategory).where(BudgetCategory.active.is_(True))
                                   .order_by(BudgetCategory.name)))


def all_categories() -> list[BudgetCategory]:
    return list(db.session.scalars(select(BudgetCategory).order_by(BudgetCategory.active.desc(),
                                                                  BudgetCategory.name)))


def posting_category(name: str, *, field: str = "category") -> BudgetCategory:
    """The active category with exactly this name, for an entry about to be posted. Its row
    is share-locked until the posting commits, so it cannot be renamed or deactivated under it."""
    category = db.session.scalar(select(BudgetCategory).where(
        BudgetCategory.name == name, BudgetCategory.active.is_(True)).with_for_update(read=True))
    if category is None:
        raise _unknown(name, field)
    return category


def chosen_category(*, name: str | None = None, category_id: int | None = None,
                    field: str = "category") -> BudgetCategory:
    """The active category a person chose, by id or by name (case, spacing and a trailing
    "s" do not matter); InvalidInput on `field`, naming the choices, if there is none."""
    if category_id is not None:
        category = db.session.get(BudgetCategory, category_id)
    elif name is not None and name.strip():
        category = db.session.scalar(select(BudgetCategory).where(BudgetCategory.key == category_key(name)))
    else:
        raise InvalidInput("Choose a budget category.", fields={field: _choices()})
    if category is None or not category.active:
        raise _unknown(name if category_id is None else f"#{category_id}", field)
    return category


def is_used(category: BudgetCategory) -> bool:
    """Whether any ledger entry names the category (its name is then fixed)."""
    return bool(db.session.scalar(select(exists().where(LedgerEntry.category_id == category.id))))


def used_ids() -> set[int]:
    return set(db.session.scalars(select(LedgerEntry.category_id).where(LedgerEntry.category_id.is_not(None))
                                  .distinct()))


def create_category(name: str, *, actor) -> BudgetCategory:
    """Add a category to the list (active); recorded in the audit log, as are renames and
    (de)activations."""
    name = _free_name(name, None)
    category = BudgetCategory(name=name, key=category_key(name), active=True)
    db.session.add(category)
    _flush_name(name)
    record_event(AuditEventKind.BUDGET_CATEGORY_ADDED, actor=actor, category_id=category.id, name=name)
    db.session.flush()
    return category


def rename_category(category: BudgetCategory, name: str, *, actor) -> BudgetCategory:
    """Rename a category no entry uses yet; a used one keeps its name (entries hash it)."""
    category = _locked(category)
    name = _free_name(name, category.id)
    if name != category.name and is_used(category):
        raise Conflict(f"Entries already use “{category.name}”, so its name is fixed. Deactivate it and add "
                       "another instead.", code="category_in_use")
    was = category.name
    category.name, category.key = name, category_key(name)
    _flush_name(name)
    record_event(AuditEventKind.BUDGET_CATEGORY_RENAMED, actor=actor, category_id=category.id, was=was, name=name)
    db.session.flush()
    return category


def set_category_active(category: BudgetCategory, active: bool, *, actor) -> BudgetCategory:
    """Deactivate a category (offered for nothing new, kept in reports) or bring it back."""
    category = _locked(category)
    if category.active == active:
        return category
    if not active:
        category_deactivating.fire(category)
    category.active = active
    record_event(AuditEventKind.BUDGET_CATEGORY_REACTIVATED if active else AuditEventKind.BUDGET_CATEGORY_DEACTIVATED,
                 actor=actor, category_id=category.id, name=category.name)
    db.session.flush()
    return category


def _locked(category: BudgetCategory) -> BudgetCategory:
    """The category's row, locked: a posting that names it (posting_category) waits, or is waited for."""
    return db.session.scalar(select(BudgetCategory).where(BudgetCategory.id == category.id)
                             .with_for_update().execution_options(populate_existing=True))


def _free_name(name, category_id: int | None) -> str:
    given = Fields({"name": name})
    name = given.text("name", max_length=NAME_MAX)
    given.check()
    name = " ".join(name.split())
    clash = db.session.scalar(select(BudgetCategory).where(BudgetCategory.key == category_key(name),
                                                           BudgetCategory.id != (category_id or 0)))
    if clash is not None:
        raise InvalidInput(f"“{clash.name}” is already on the list.",
                           fields={"name": f"Too close to “{clash.name}” (case, spaces and a plural "
                                           "“s” do not count)."})
    return name


def _flush_name(name: str) -> None:
    try:
        db.session.flush()
    except IntegrityError:
        # The same (or too close a) name was added by someone else between our check and our write.
        raise InvalidInput(f"“{name}” was added to the list a moment ago.",
                           fields={"name": "Already on the list."}) from None


def _choices() -> str:
    names = [category.name for category in active_categories()]
    return f"Choose one of: {', '.join(names)}." if names else "Add a budget category first."


def _unknown(name, field: str) -> InvalidInput:
    return InvalidInput(f"“{name}” is not an active budget category.", fields={field: _choices()})
