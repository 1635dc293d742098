"""Stock pages: levels, items and their timelines, receiving, moving, returns and wipes,
locations and transfers, stocktakes, and printable labels."""
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from inventory.accounts.models import User, UserRole
from inventory.catalogue.models import ItemType, Supplier
from inventory.errors import Conflict, DomainError
from inventory.extensions import db
from inventory.forms import form_page, on_record_page, show_error, submitted
from inventory.pagination import page_args, paginate
from inventory.parsing import Fields
from inventory.permissions import (
    Permission,
    Role,
    has_permission,
    can_see_item_case,
    permission_required,
)
from inventory.stock import labels, locations as stock_locations, operations, queries, stocktakes
from inventory.stock.charts import levels_chart
from inventory.stock.forms import (
    CodeForm,
    LabelForm,
    LocationForm,
    MoveForm,
    NoteForm,
    ReceiveForm,
    ReplaceCodeForm,
    ResolveForm,
    ReturnForm,
    StocktakeStartForm,
    TransferForm,
    WriteOffForm,
    lines,
)
from inventory.stock.models import (
    Item,
    ItemEventKind,
    ItemState,
    Location,
    ReturnCondition,
    Stocktake,
    StocktakeStatus,
)
from inventory.stock.receiving import NewUnits, receive_units
from inventory.unit_of_work import undo

bp = Blueprint("stock", __name__, url_prefix="/stock")


def _location_choices(kinds=None):
    query = select(Location).where(Location.active.is_(True)).order_by(Location.kind, Location.name)
    if kinds is not None:
        query = query.where(Location.kind.in_([str(kind) for kind in kinds]))
    return [SelectChoice(loc.id, f"{loc.name} ({loc.kind_label.lower()})") for loc in db.session.scalars(query)]


def _with_locations(form, kinds=None):
    """The form's location choices: every open location, or those of `kinds`."""
    form.location_id.choices = _location_choices(kinds)
    return form


# Levels and lists --------------------------------------------------------------------------

@bp.get("/")
@permission_required(Permission.VIEW_STOCK)
def levels():
    levels = queries.stock_levels()
    return render_template("stock/levels.html", levels=levels, chart=levels_chart(levels),
                           find_form=CodeForm(formdata=None))


@bp.get("/items")
@permission_required(Permission.VIEW_STOCK)
def items():
    page, per_page = page_args()
    # A filter the page cannot read (a stale link, an id beyond any record) filters nothing.
    filters = queries.ItemFilters.read(Fields(request.args, text=True))
    item_types = db.session.scalars(select(ItemType).order_by(ItemType.name)).all()
    return render_template("stock/items.html", page=paginate(queries.items_query(filters), page, per_page),
                           states=list(ItemState), item_types=item_types, locations=_location_choices(),
                           args=request.args, label_form=LabelForm(formdata=None))


@bp.route("/find", methods=["GET", "POST"])
@permission_required(Permission.VIEW_STOCK)
def find():
    form = CodeForm()
    if form.validate_on_submit():
        try:
            item = operations.find_by_code(form.code.data)
        except DomainError as error:
            form.code.errors = [*form.code.errors, error.message]
        else:
            return redirect(url_for("stock.item", item_id=item.id))
    return render_template("stock/find.html", form=form), 422 if form.errors else 200


@bp.get("/code/<path:code>")
@permission_required(Permission.VIEW_STOCK)
def item_by_code(code: str):
    """Where a URL-encoding office label leads (when an installation opts in to those)."""
    return redirect(url_for("stock.item", item_id=operations.find_by_code(code).id))


# One item ----------------------------------------------------------------------------------

@bp.get("/items/<int:item_id>")
@permission_required(Permission.VIEW_STOCK)
def item(item_id: int):
    return _item_page(db.get_or_404(Item, item_id))


def _item_page(item, status=200, **forms):
    forms = {
        # Offer only where the item may go (an item in quarantine: the office stores).
        "move_form": _with_locations(MoveForm(formdata=None), operations.MOVE_DESTINATIONS.get(item.state)),
        "write_off_form": WriteOffForm(formdata=None),
        "return_form": _with_locations(ReturnForm(formdata=None)),
        "note_form": NoteForm(formdata=None),
        "replace_form": ReplaceCodeForm(formdata=None),
        **forms,
    }
    return render_template("stock/item.html", item=item, events=queries.item_history(item),
                           codes=queries.item_codes(item), K=ItemEventKind,
                           allowed=operations.allowed, show_case=can_see_item_case(current_user),
                           **forms), status


def _act_on_item(item_id: int, form, form_name: str, use_case, done: str):
    """An action from the item page (see `on_record_page`)."""
    item = db.get_or_404(Item, item_id)
    return on_record_page(form, lambda: use_case(item), record_url=url_for("stock.item", item_id=item_id), done=done,
                          page=lambda: _item_page(db.session.get(Item, item_id), 422, **{form_name: form}))


def _location(form) -> Location:
    return db.get_or_404(Location, form.location_id.data)


@bp.post("/items/<int:item_id>/move")
@permission_required(Permission.MANAGE_STOCK)
def move(item_id: int):
    form = _with_locations(MoveForm())
    return _act_on_item(item_id, form, "move_form", lambda item: operations.move_item(
        item, _location(form), actor=current_user, note=form.note.data), "Moved.")


@bp.post("/items/<int:item_id>/write-off")
@permission_required(Permission.MANAGE_STOCK)
def write_off(item_id: int):
    form = WriteOffForm()
    return _act_on_item(item_id, form, "write_off_form", lambda item: operations.write_off(
        item, form.reason.data, current_user, note=form.note.data), "Written off.")


@bp.post("/items/<int:item_id>/return")
@permission_required(Permission.MANAGE_STOCK)
def return_(item_id: int):
    form = _with_locations(ReturnForm())
    return _act_on_item(item_id, form, "return_form", lambda item: operations.return_item(
        item, condition=ReturnCondition(form.condition.data), actor=current_user, location=_location(form),
        note=form.note.data), "Returned; it is in quarantine until checked.")


@bp.post("/items/<int:item_id>/release")
@permission_required(Permission.MANAGE_STOCK)
def release(item_id: int):
    form = NoteForm()
    return _act_on_item(item_id, form, "note_form", lambda item: operations.release_from_quarantine(
        item, actor=current_user, note=form.note.data), "Back in stock.")


@bp.post("/items/<int:item_id>/confirm-wipe")
@permission_required(Permission.CONFIRM_WIPE)
def confirm_wipe(item_id: int):
    form = NoteForm()
    return _act_on_item(item_id, form, "note_form", lambda item: operations.confirm_wipe(
        item, current_user, note=form.note.data), "Wipe confirmed in your name.")


@bp.post("/items/<int:item_id>/found")
@permission_required(Permission.MANAGE_STOCK)
def found(item_id: int):
    form = _with_locations(MoveForm())
    return _act_on_item(item_id, form, "move_form", lambda item: operations.mark_found(
        item, location=_location(form), actor=current_user, note=form.note.data),
        "Recorded as found; it is in quarantine until checked.")


@bp.post("/items/<int:item_id>/replace-code")
@permission_required(Permission.MANAGE_STOCK)
def replace_code(item_id: int):
    form = ReplaceCodeForm()
    return _act_on_item(item_id, form, "replace_form", lambda item: operations.replace_code(
        item, actor=current_user, reason=form.reason.data), "New code given; print a new label.")


# Receiving without a purchase order (donations, stock that predates SafeHold) ----------------

@bp.route("/receive", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_STOCK)
def receive():
    form = _with_locations(ReceiveForm())
    form.item_type_id.choices = [SelectChoice(t.id, t.name) for t in db.session.scalars(
        select(ItemType).where(ItemType.active.is_(True)).order_by(ItemType.name))]
    form.supplier_id.choices = [SelectChoice(0, "None")] + [SelectChoice(s.id, s.name) for s in db.session.scalars(
        select(Supplier).where(Supplier.active.is_(True)).order_by(Supplier.name))]
    return form_page(form, lambda: receive_units(NewUnits(
        item_type=db.get_or_404(ItemType, form.item_type_id.data), quantity=form.quantity.data,
        location=_location(form), purchase_cost_pence=form.unit_cost.pence,
        supplier=db.session.get(Supplier, form.supplier_id.data) if form.supplier_id.data else None,
        serial_numbers=tuple(lines(form.serial_numbers.data)),
    ), actor=current_user),
        done=lambda received: f"{len(received)} units are in stock. Print their labels now.",
        next_url=lambda received: url_for("stock.labels_print", item=[i.id for i in received]),
        template="stock/receive.html")


# Locations and transfers --------------------------------------------------------------------

@bp.route("/locations", methods=["GET", "POST"])
@permission_required(Permission.VIEW_STOCK)
def locations():
    form = LocationForm()
    form.fitter_id.choices = [SelectChoice(0, "—")] + [SelectChoice(u.id, u.name) for u in db.session.scalars(
        select(User).where(User.active.is_(True), User.id.in_(
            select(UserRole.user_id).where(UserRole.role == Role.FITTER))).order_by(User.name))]
    if request.method == "POST":
        if not has_permission(current_user, Permission.MANAGE_STOCK):
            abort(403)
        if submitted(form, lambda: stock_locations.create_location(
                name=form.name.data, kind=form.kind.data, fitter=db.session.get(User, form.fitter_id.data or 0))):
            flash("Location added.", "success")
            return redirect(url_for("stock.locations"))
    rows = db.session.scalars(select(Location).options(joinedload(Location.fitter))
                              .order_by(Location.kind, Location.name)).all()
    return render_template("stock/locations.html", locations=rows, form=form), 422 if form.errors else 200


@bp.route("/transfer", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_STOCK)
def transfer():
    form = _with_locations(TransferForm())
    return form_page(form, lambda: stock_locations.transfer_codes(lines(form.codes.data), _location(form),
                                                                  actor=current_user),
                     done=lambda moved: f"Moved {len(moved)} items to {moved[0].location.name}.",
                     next_url=url_for("stock.transfer"), template="stock/transfer.html")


# Stocktakes --------------------------------------------------------------------------------

@bp.route("/stocktakes", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_STOCK)
def stocktakes_list():
    form = _with_locations(StocktakeStartForm())
    if form.validate_on_submit():
        try:
            stocktake = stocktakes.start_stocktake(_location(form), actor=current_user)
        except Conflict as error:  # a count of that location is already open: carry on with it
            undo()
            flash(error.message, "warning")
            return redirect(url_for("stock.stocktake", stocktake_id=error.details["stocktake_id"]))
        return redirect(url_for("stock.stocktake", stocktake_id=stocktake.id))
    page, per_page = page_args()
    query = (select(Stocktake).options(joinedload(Stocktake.location), joinedload(Stocktake.started_by))
             .order_by(Stocktake.started_at.desc(), Stocktake.id.desc()))
    return render_template("stock/stocktakes.html", page=paginate(query, page, per_page), form=form)


@bp.route("/stocktakes/<int:stocktake_id>", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_STOCK)
def stocktake(stocktake_id: int):
    count = db.get_or_404(Stocktake, stocktake_id)
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            item, verdict, first = stocktakes.count_code(count, form.code.data, actor=current_user)
        except DomainError as error:
            undo()
            form.code.errors = [*form.code.errors, error.message]
            status = error.status
        else:
            messages = {"expected": "Counted", "wrong_location": "Counted, but recorded elsewhere:",
                        "unexpected": f"Counted, but recorded as {item.state_label.lower()}:"}
            flash(f"{messages[verdict]} {item.code} ({item.item_type.name})" + ("" if first else " — already counted"),
                  "success" if verdict == "expected" else "warning")
            return redirect(url_for("stock.stocktake", stocktake_id=count.id))
    elif form.errors:
        status = 422
    return render_template("stock/stocktake.html", stocktake=count, form=form,
                           differences=stocktakes.differences(count), resolve_form=ResolveForm(formdata=None),
                           may_move_to=operations.may_move_to, is_open=count.status == StocktakeStatus.OPEN), status


@bp.post("/stocktakes/<int:stocktake_id>/items/<int:item_id>/resolve")
@permission_required(Permission.MANAGE_STOCK)
def resolve(stocktake_id: int, item_id: int):
    """Settle one difference, then back to the count (post/redirect/get): what was done, or
    why nothing was, is flashed there, naming the item."""
    count = db.get_or_404(Stocktake, stocktake_id)
    item = db.get_or_404(Item, item_id)
    form = ResolveForm()
    if not form.validate_on_submit():
        problems = [message for errors in form.errors.values() for message in errors]
        flash(f"{item.code}: {' '.join(problems)} Nothing was changed.", "error")
        return redirect(url_for("stock.stocktake", stocktake_id=count.id))
    try:
        stocktakes.resolve(count, item, form.action.data, actor=current_user, reason=form.reason.data or None)
    except DomainError as error:
        undo()
        flash(f"{item.code}: {error.message} Nothing was changed.", "error")
    else:
        done = {"count_later": "left uncounted for now; scan it when it turns up, or settle it later.",
                "write_off": "written off.", "move": "moved here.", "found": "recorded as found here."}
        flash(f"{item.code}: {done[form.action.data]}", "success")
    return redirect(url_for("stock.stocktake", stocktake_id=count.id))


@bp.post("/stocktakes/<int:stocktake_id>/close")
@permission_required(Permission.MANAGE_STOCK)
def close_stocktake(stocktake_id: int):
    stocktakes.close_stocktake(db.get_or_404(Stocktake, stocktake_id))
    flash("Stocktake closed.", "success")
    return redirect(url_for("stock.stocktakes_list"))


# Labels ------------------------------------------------------------------------------------

@bp.get("/labels")
@permission_required(Permission.PRINT_LABELS)
def labels_choose():
    return render_template("stock/labels_choose.html", form=LabelForm(request.args))


@bp.get("/labels/print")
@permission_required(Permission.PRINT_LABELS)
def labels_print():
    """A printable page of labels for chosen items (?item=ID...), typed codes (?codes=) or a
    whole goods receipt (?receipt=ID)."""
    form = LabelForm(request.args)
    fmt = labels.check_format(form.format.data)
    # An id the page cannot read (a stale link) chooses nothing.
    args = Fields(request.args, text=True)
    receipt_id = args.record_id("receipt", required=False)
    item_ids = args.ids("item", required=False)
    try:
        if receipt_id is not None:
            chosen = labels.items_for_labels(goods_receipt_id=receipt_id)
        else:
            item_ids += [operations.find_by_code(code).id for code in lines(form.codes.data)]
            chosen = labels.items_for_labels(item_ids=item_ids)
        pages = labels.label_pages(chosen, fmt, start=form.start.data if form.start.data is not None else 1,
                                   show_type=form.show_type.data if "format" in request.args else True)
    except DomainError as error:
        show_error(form, error)
        return render_template("stock/labels_choose.html", form=form), error.status
    return render_template("stock/labels_print.html", pages=pages, fmt=fmt, count=len(chosen))


@bp.get("/labels/<key>.css")
@permission_required(Permission.PRINT_LABELS)
def label_css(key: str):
    fmt = labels.FORMATS.get(key)
    if fmt is None:
        abort(404)
    return Response(labels.sheet_css(fmt), mimetype="text/css")
