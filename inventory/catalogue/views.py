"""Admin pages for the catalogue: item types (with supplier product codes) and suppliers."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from inventory.catalogue import operations
from inventory.catalogue.forms import ItemTypeForm, ProductCodeForm, SupplierForm
from inventory.catalogue.models import ItemType, Supplier, SupplierProductCode
from inventory.extensions import db
from inventory.forms import submitted
from inventory.pagination import page_args, paginate
from inventory.permissions import Permission, permission_required

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")


@bp.get("/item-types")
@permission_required(Permission.MANAGE_CATALOGUE)
def item_types():
    page, per_page = page_args()
    query = (select(ItemType).options(selectinload(ItemType.product_codes))
             .order_by(ItemType.active.desc(), ItemType.name))
    return render_template("catalogue/item_types.html", page=paginate(query, page, per_page))


@bp.route("/item-types/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_CATALOGUE)
def new_item_type():
    form = ItemTypeForm(data=None if request.method == "POST" else {"standard_cost": "0.00"})
    if submitted(form, lambda: operations.create_item_type(**form.values())):
        flash(f"Added {form.name.data}.", "success")
        return redirect(url_for("catalogue.item_types"))
    return render_template("catalogue/item_type_form.html", form=form, item_type=None), 422 if form.errors else 200


@bp.route("/item-types/<int:item_type_id>", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_CATALOGUE)
def edit_item_type(item_type_id: int):
    item_type = db.get_or_404(ItemType, item_type_id)
    form = ItemTypeForm(obj=item_type, data=None if request.method == "POST" else _cost_data(item_type))
    if submitted(form, lambda: operations.update_item_type(item_type, **form.values())):
        flash("Saved.", "success")
        return redirect(url_for("catalogue.item_types"))
    return _item_type_page(item_type, form), 422 if form.errors else 200


def _cost_data(item_type: ItemType) -> dict:
    pounds, pence = divmod(item_type.standard_cost_pence, 100)
    return {"standard_cost": f"{pounds}.{pence:02d}"}


def _item_type_page(item_type, form, code_form=None):
    code_form = code_form or ProductCodeForm(formdata=None)
    code_form.supplier_id.choices = _supplier_choices()
    return render_template("catalogue/item_type_form.html", form=form, item_type=item_type, code_form=code_form)


def _supplier_choices():
    return [SelectChoice(s.id, s.name) for s in db.session.scalars(
        select(Supplier).where(Supplier.active.is_(True)).order_by(Supplier.name))]


@bp.post("/item-types/<int:item_type_id>/product-codes")
@permission_required(Permission.MANAGE_CATALOGUE)
def add_product_code(item_type_id: int):
    item_type = db.get_or_404(ItemType, item_type_id)
    code_form = ProductCodeForm()
    code_form.supplier_id.choices = _supplier_choices()
    if submitted(code_form, lambda: operations.set_product_code(
            item_type, db.get_or_404(Supplier, code_form.supplier_id.data), code_form.product_code.data)):
        flash("Product code saved.", "success")
        return redirect(url_for("catalogue.edit_item_type", item_type_id=item_type.id))
    form = ItemTypeForm(formdata=None, obj=item_type, data=_cost_data(item_type))
    return _item_type_page(item_type, form, code_form), 422


@bp.post("/item-types/<int:item_type_id>/product-codes/<int:code_id>/remove")
@permission_required(Permission.MANAGE_CATALOGUE)
def remove_product_code(item_type_id: int, code_id: int):
    item_type = db.get_or_404(ItemType, item_type_id)
    operations.remove_product_code(item_type, code_id)
    flash("Product code removed.", "success")
    return redirect(url_for("catalogue.edit_item_type", item_type_id=item_type.id))


@bp.get("/suppliers")
@permission_required(Permission.MANAGE_CATALOGUE)
def suppliers():
    page, per_page = page_args()
    query = select(Supplier).order_by(Supplier.active.desc(), Supplier.name)
    return render_template("catalogue/suppliers.html", page=paginate(query, page, per_page))


@bp.route("/suppliers/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_CATALOGUE)
def new_supplier():
    form = SupplierForm()
    if submitted(form, lambda: operations.create_supplier(**form.values())):
        flash(f"Added {form.name.data}.", "success")
        return redirect(url_for("catalogue.suppliers"))
    return render_template("catalogue/supplier_form.html", form=form, supplier=None), 422 if form.errors else 200


@bp.route("/suppliers/<int:supplier_id>", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_CATALOGUE)
def edit_supplier(supplier_id: int):
    supplier = db.get_or_404(Supplier, supplier_id)
    form = SupplierForm(obj=supplier)
    if submitted(form, lambda: operations.update_supplier(supplier, **form.values())):
        flash("Saved.", "success")
        return redirect(url_for("catalogue.suppliers"))
    codes = db.session.scalars(select(SupplierProductCode).options(selectinload(SupplierProductCode.item_type))
                               .where(SupplierProductCode.supplier_id == supplier.id)).all()
    return render_template("catalogue/supplier_form.html", form=form, supplier=supplier, codes=codes), \
        422 if form.errors else 200
