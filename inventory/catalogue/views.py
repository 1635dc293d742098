"""Admin pages for the catalogue: item types (with supplier product codes) and suppliers."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from inventory.catalogue import operations
from inventory.catalogue.forms import ItemTypeForm, ProductCodeForm, SupplierForm
from inventory.catalogue.models import ItemType, Supplier, SupplierProductCode
from inventory.extensions import db
from inventory.forms import form_page, submitted
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
    return form_page(form, lambda: operations.create_item_type(**form.values()), done=f"Added {form.name.data}.",
                     next_url=url_for("catalogue.item_types"), template="catalogue/item_type_form.html",
                     item_type=None)


@bp.route("/item-types/<int:item_type_id>", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_CATALOGUE)
def edit_item_type(item_type_id: int):
    item_type = db.get_or_404(ItemType, item_type_id)
    form = ItemTypeForm(obj=item_type, data=None if request.method == "POST" else _cost_data(item_type))
    return form_page(form, lambda: operations.update_item_type(item_type, **form.values()), done="Saved.",
                     next_url=url_for("catalogue.item_types"), template="catalogue/item_type_form.html",
                     item_type=item_type, code_form=_with_suppliers(ProductCodeForm(formdata=None)))


def _cost_data(item_type: ItemType) -> dict:
    pounds, pence = divmod(item_type.standard_cost_pence, 100)
    return {"standard_cost": f"{pounds}.{pence:02d}"}


def _with_suppliers(code_form: ProductCodeForm) -> ProductCodeForm:
    code_form.supplier_id.choices = [SelectChoice(s.id, s.name) for s in db.session.scalars(
        select(Supplier).where(Supplier.active.is_(True)).order_by(Supplier.name))]
    return code_form


@bp.post("/item-types/<int:item_type_id>/product-codes")
@permission_required(Permission.MANAGE_CATALOGUE)
def add_product_code(item_type_id: int):
    item_type = db.get_or_404(ItemType, item_type_id)
    code_form = _with_suppliers(ProductCodeForm())
    if submitted(code_form, lambda: operations.set_product_code(
            item_type, db.get_or_404(Supplier, code_form.supplier_id.data), code_form.product_code.data)):
        flash("Product code saved.", "success")
        return redirect(url_for("catalogue.edit_item_type", item_type_id=item_type.id))
    form = ItemTypeForm(formdata=None, obj=item_type, data=_cost_data(item_type))
    return render_template("catalogue/item_type_form.html", form=form, item_type=item_type, code_form=code_form), 422


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
    return form_page(form, lambda: operations.create_supplier(**form.values()), done=f"Added {form.name.data}.",
                     next_url=url_for("catalogue.suppliers"), template="catalogue/supplier_form.html", supplier=None)


@bp.route("/suppliers/<int:supplier_id>", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_CATALOGUE)
def edit_supplier(supplier_id: int):
    supplier = db.get_or_404(Supplier, supplier_id)
    form = SupplierForm(obj=supplier)
    codes = db.session.scalars(select(SupplierProductCode).options(selectinload(SupplierProductCode.item_type))
                               .where(SupplierProductCode.supplier_id == supplier.id)).all()
    return form_page(form, lambda: operations.update_supplier(supplier, **form.values()), done="Saved.",
                     next_url=url_for("catalogue.suppliers"), template="catalogue/supplier_form.html",
                     supplier=supplier, codes=codes)
