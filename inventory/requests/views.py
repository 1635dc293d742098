"""Request pages (raise, view with history and comments, edit, act), the queue, and the
list of a case's requests on the case page."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from inventory import clock
from inventory.accounts.models import Organisation
from inventory.budget import ledger
from inventory.cases import operations as cases
from inventory.cases.models import Case, RiskLevel
from inventory.catalogue.models import ItemType, Supplier
from inventory.errors import Conflict, InvalidInput
from inventory.extensions import db
from inventory.forms import form_page, show_error
from inventory.pagination import page_args, paginate
from inventory.permissions import (
    Permission,
    can_see_personal_details,
    has_permission,
    permission_required,
    personal_cases_clause,
)
from inventory.procurement.forms import DraftForRequestForm
from inventory.requests.holdings import HOLDING_STATES
from inventory.requests import operations, ordering
from inventory.requests.forms import (
    CommentForm,
    NoteForm,
    PriorityForm,
    RejectForm,
    approval_form,
    request_form,
    written,
)
from inventory.requests.models import (
    EDITABLE_STATES,
    DeclinedAs,
    EquipmentRequest,
    RequestEvent,
    RequestLine,
    RequestState,
)
from inventory.requests.priority import need_parts
from inventory.requests.queue import QueueFilters, queue_query, queue_row, queue_rows
from inventory.requests.transitions import APPROVALS, NEEDS_NOTE, NOT_BUTTONS, Action, available_actions
from inventory.unit_of_work import undo

bp = Blueprint("requests", __name__)

ACTION_LABELS = {
    Action.WITHDRAW: "Withdraw the request",
    Action.REQUEST_INFO: "Ask the caseworker for more information",
    Action.RESUBMIT: "Answer and send back to the queue",
    Action.REJECT: "Reject",
}
# The box for each written note in "What next", each with its own label (the rejection's is
# on RejectForm).
NOTE_LABELS = {
    Action.REQUEST_INFO: "What the caseworker needs to tell you (they see this)",
    Action.RESUBMIT: "Your answer",
}


def _offered_item_types():
    return list(db.session.scalars(select(ItemType).where(ItemType.active.is_(True)).order_by(ItemType.name)))


@bp.get("/requests")
@permission_required(Permission.RAISE_REQUESTS)
def index():
    """A caseworker's requests (their organisation's), newest first, with each decision."""
    page, per_page = page_args()
    query = (select(EquipmentRequest).join(EquipmentRequest.case)
             .where(personal_cases_clause(current_user, Case.organisation_id))
             .options(selectinload(EquipmentRequest.case),
                      selectinload(EquipmentRequest.lines).selectinload(RequestLine.item_type))
             .order_by(EquipmentRequest.submitted_at.desc(), EquipmentRequest.id.desc()))
    state = request.args.get("state", "")
    if state in {str(s) for s in RequestState}:
        query = query.where(EquipmentRequest.state == state)
    return render_template("requests/index.html", page=paginate(query, page, per_page), state=state,
                           states=list(RequestState))


@bp.route("/cases/<int:case_id>/requests/new", methods=["GET", "POST"])
@permission_required(Permission.RAISE_REQUESTS)
def new(case_id: int):
    case = cases.get_case(current_user, case_id)
    form = request_form(_offered_item_types(), confirm_need=True)
    return form_page(form, lambda: operations.raise_request(case.id, form.details(), actor=current_user),
                     done=lambda raised: f"Request {raised.id} is in the queue.",
                     next_url=lambda raised: url_for("requests.show", request_id=raised.id),
                     template="requests/form.html", case=case, existing=None, need=need_parts(case))


def _draft_form(form=None) -> DraftForRequestForm:
    form = form or DraftForRequestForm(formdata=None)
    form.supplier_id.choices = [SelectChoice(0, "Choose a supplier")] + [SelectChoice(s.id, s.name) for s in db.session.scalars(
        select(Supplier).where(Supplier.active.is_(True)).order_by(Supplier.name))]
    return form


def _render_request(request_id: int, *, approval=None, refusal: Conflict | None = None, status: int = 200,
                    draft=None, reject=None):
    equipment_request = operations.get_request(current_user, request_id)
    awaiting = equipment_request.state_enum in HOLDING_STATES
    may_order = awaiting and has_permission(current_user, Permission.MANAGE_PURCHASE_ORDERS)
    events = db.session.scalars(select(RequestEvent).where(RequestEvent.request_id == request_id)
                                .options(selectinload(RequestEvent.actor)).order_by(RequestEvent.id)).all()
    actions = available_actions(current_user, equipment_request)
    may_approve = Action.APPROVE in actions
    today = clock.today()
    awaiting_decision = equipment_request.state_enum in EDITABLE_STATES
    show_budget = awaiting_decision and has_permission(current_user, Permission.DECIDE_REQUESTS)
    return render_template(
        "requests/show.html", r=equipment_request, events=events,
        actions=[(action, ACTION_LABELS[action], NOTE_LABELS.get(action) if action in NEEDS_NOTE else None)
                 for action in actions if action not in APPROVALS],
        approval_form=(approval or approval_form(equipment_request.lines, formdata=None)) if may_approve else None,
        refusal=refusal, approved_lines=[line for line in equipment_request.lines if line.approved_quantity is not None],
        note_form=NoteForm(formdata=None), comment_form=CommentForm(formdata=None),
        reject_form=(reject or RejectForm(formdata=None)) if Action.REJECT in actions else None,
        priority_form=PriorityForm(formdata=None), today=today,
        row=queue_row(equipment_request, today) if awaiting_decision else None,
        show_budget=show_budget, budget=_budget_left() if show_budget else None,
        to_order=ordering.still_to_order(equipment_request) if awaiting else [],
        draft_form=_draft_form(draft) if may_order else None,
    ), status


def _budget_left():
    """The current period's summary, or None when no period covers today (as the queue shows it)."""
    period = ledger.current_period()
    return ledger.summary(period) if period is not None else None


@bp.get("/requests/<int:request_id>")
@permission_required(Permission.VIEW_CASES)
def show(request_id: int):
    return _render_request(request_id)


@bp.post("/requests/<int:request_id>/approve")
@permission_required(Permission.DECIDE_REQUESTS)
def approve(request_id: int):
    lines = operations.get_request(current_user, request_id).lines
    form = approval_form(lines)
    if not form.validate():
        return _render_request(request_id, approval=form, status=422)
    try:
        operations.approve_request(request_id, lines=form.lines(), note=written(form, "note"), actor=current_user)
    except InvalidInput as error:
        undo()
        form.form_errors.append(" ".join(error.fields.values()) or error.message)
        return _render_request(request_id, approval=form, status=422)
    except Conflict as error:
        if error.code != "budget_exceeded":
            raise
        undo()
        suggested = {line["line_id"]: line["quantity"] for line in error.details["suggested_lines"]}
        return _render_request(request_id, approval=approval_form(lines, suggested, formdata=None), refusal=error,
                               status=409)
    flash(f"Request {request_id} approved.", "success")
    return redirect(url_for("requests.show", request_id=request_id))


@bp.post("/requests/<int:request_id>/purchase-order")
@permission_required(Permission.MANAGE_PURCHASE_ORDERS)
def draft_order(request_id: int):
    """Draft a purchase order for what the request still awaits, from the chosen supplier."""
    form = _draft_form(DraftForRequestForm())
    if not form.validate():
        return _render_request(request_id, draft=form, status=422)
    try:
        order = ordering.draft_order_for_request(request_id, form.supplier_id.data, actor=current_user)
    except InvalidInput as error:
        undo()
        show_error(form, error)
        return _render_request(request_id, draft=form, status=422)
    except Conflict as error:
        undo()
        flash(error.message, "error")
        return redirect(url_for("requests.show", request_id=request_id))
    flash(f"{order.reference} saved as a draft for this request. Raising it converts the request's commitment.",
          "success")
    return redirect(url_for("procurement.order", order_id=order.id))


@bp.route("/requests/<int:request_id>/edit", methods=["GET", "POST"])
@permission_required(Permission.RAISE_REQUESTS)
def edit(request_id: int):
    equipment_request = operations.get_request(current_user, request_id)
    data = None
    if request.method == "GET":
        data = {"reason": equipment_request.reason, "needed_by": equipment_request.needed_by,
                **{f"qty_{line.item_type_id}": line.quantity for line in equipment_request.lines},
                **{f"urgent_{line.item_type_id}": line.urgent for line in equipment_request.lines}}
    form = request_form(_offered_item_types(), data=data)
    if form.validate_on_submit():
        try:
            operations.edit_request(request_id, form.details(), actor=current_user)
        except InvalidInput as error:  # a Conflict (decided meanwhile) stays a 409 page
            undo()
            show_error(form, error)
        else:
            flash("Request updated.", "success")
            return redirect(url_for("requests.show", request_id=request_id))
    return render_template("requests/form.html", form=form, case=equipment_request.case,
                           existing=equipment_request, need=need_parts(equipment_request.case)), \
        422 if form.errors else 200


@bp.post("/requests/<int:request_id>/actions/<action>")
@permission_required(Permission.VIEW_CASES)
def act(request_id: int, action: str):
    if action not in {str(a) for a in Action if a not in APPROVALS | NOT_BUTTONS}:
        abort(404)
    if action == Action.REJECT:
        return _reject(request_id)
    form = NoteForm()
    try:
        changed = operations.take_action(request_id, Action(action), note=written(form, "reason"), actor=current_user)
    except InvalidInput as error:
        undo()
        flash(error.fields.get("reason", error.message), "error")
        return redirect(url_for("requests.show", request_id=request_id))
    flash(f"Request {changed.id} is now {changed.state_enum.label.lower()}.", "success")
    return redirect(url_for("requests.show", request_id=request_id))


def _reject(request_id: int):
    """Reject with the reason and what it is declined as; a missing answer shows at the form."""
    form = RejectForm()
    if form.validate():
        try:
            operations.reject_request(request_id, DeclinedAs(form.declined_as.data), note=written(form, "reason"),
                                      actor=current_user)
        except InvalidInput as error:
            undo()
            show_error(form, error)
        else:
            flash(f"Request {request_id} is now rejected.", "success")
            return redirect(url_for("requests.show", request_id=request_id))
    return _render_request(request_id, reject=form, status=422)


@bp.post("/requests/<int:request_id>/comments")
@permission_required(Permission.VIEW_CASES)
def comment(request_id: int):
    form = CommentForm()
    try:
        operations.add_comment(request_id, written(form, "body"), actor=current_user)
    except InvalidInput as error:
        undo()
        flash(error.fields.get("body", error.message), "error")
    return redirect(url_for("requests.show", request_id=request_id, _anchor="comments"))


@bp.post("/requests/<int:request_id>/priority")
@permission_required(Permission.DECIDE_REQUESTS)
def move(request_id: int):
    form = PriorityForm()
    try:
        if not form.validate():
            raise InvalidInput("Say how far and why.", fields={"points": " ".join(form.points.errors)})
        operations.adjust_priority(request_id, form.points.data, written(form, "reason"), actor=current_user)
    except InvalidInput as error:
        undo()
        flash(" ".join(error.fields.values()) or error.message, "error")
    else:
        flash("Moved; the reason is shown with the request.", "success")
    return redirect(url_for("requests.show", request_id=request_id))


@bp.get("/queue")
@permission_required(Permission.DECIDE_REQUESTS)
def queue():
    page, per_page = page_args()
    filters = QueueFilters.from_args(request.args)
    today = clock.today()
    result = paginate(queue_query(filters, today), page, per_page)
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    return render_template("requests/queue.html", page=result, rows=queue_rows(result.items, today),
                           budget=_budget_left(),
                           filters=filters, organisations=organisations, risks=list(RiskLevel),
                           item_types=db.session.scalars(select(ItemType).order_by(ItemType.name)).all())


def case_requests_section(user, case: Case) -> str | None:
    """The case page's list of the case's requests, for those who see the case's details
    (connected to `cases.views.page_sections` at app start)."""
    if not can_see_personal_details(user, case):
        return None
    return render_template("requests/_for_case.html", requests=operations.requests_for_case(case))
