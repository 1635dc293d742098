"""Finance pages: the budget at a glance, the ledger, and the forms that write to it."""
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from inventory import clock
from inventory.accounts.reauth import reauthentication_required
from inventory.budget import categories, charts as budget_charts, ledger, operations as budget, queries, year_end
from inventory.budget.forecast import RATE_DAYS, forecast
from inventory.budget.forms import (
    AdjustmentForm,
    AllocationForm,
    CategoryForm,
    DirectPurchaseForm,
    PeriodForm,
    RefundForm,
    ReopenMonthForm,
    ResolveAlertForm,
    ReversalForm,
    in_form_terms,
)
from inventory.budget.models import (
    BudgetCategory,
    BudgetPeriod,
    EntryKind,
    DirectPurchase,
    LedgerEntry,
    MonthClose,
    OverspendAlert,
    PaymentMethod,
    SourceType,
)
from inventory.errors import Conflict, DomainError, InvalidInput
from inventory.extensions import db
from inventory.forms import form_page, show_error, submitted
from inventory.money import format_pence
from inventory.pagination import page_args, paginate
from inventory.parsing import Fields, ParseError, year_month
from inventory.permissions import Permission, has_permission, permission_required
from inventory.unit_of_work import undo

bp = Blueprint("budget", __name__, url_prefix="/budget")


def _chosen_period() -> BudgetPeriod | None:
    """The period named by ?period_id= (a bad id is ignored), else the current or latest one."""
    period_id = Fields(request.args, text=True).record_id("period_id", required=False)
    if period_id is not None:
        return db.get_or_404(BudgetPeriod, period_id)
    return ledger.current_period() or db.session.scalar(
        select(BudgetPeriod).order_by(BudgetPeriod.starts_on.desc()).limit(1))


@bp.get("")
@permission_required(Permission.VIEW_BUDGET_SUMMARY)
def home():
    period = _chosen_period()
    periods = db.session.scalars(select(BudgetPeriod).order_by(BudgetPeriod.starts_on.desc())).all()
    if period is None:
        return render_template("budget/home.html", period=None, periods=periods)
    totals = ledger.summary(period)
    contract_end = ledger.contract_end_date()
    today = queries.today_within(period)
    outlook = forecast(period, today)
    lines = queries.by_category(period)
    charts = budget_charts.for_period(period, allocated_pence=totals.allocated_pence, outlook=outlook, today=today,
                                      categories=lines)
    alerts = queries.open_alerts(period) if has_permission(current_user, Permission.MANAGE_LEDGER) else []
    return render_template("budget/home.html", period=period, periods=periods, totals=totals, charts=charts,
                           categories=lines, contract_end=contract_end, alerts=alerts,
                           runs_out=outlook.runs_out_on, spend_by=outlook.spend_by, rate_days=RATE_DAYS,
                           resolve_form=ResolveAlertForm(formdata=None))


@bp.route("/periods/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_LEDGER)
def new_period():
    starts_on, ends_on, name = budget.financial_year(clock.today())
    form = PeriodForm(data={"starts_on": starts_on, "ends_on": ends_on, "name": name} if request.method == "GET"
                      else None)
    return form_page(form, lambda: budget.create_period(starts_on=form.starts_on.data, ends_on=form.ends_on.data,
                                                        name=form.name.data or None),
                     done=lambda period: f"Budget period {period.name} created.",
                     next_url=lambda period: url_for("budget.home", period_id=period.id),
                     template="budget/form.html", title="New budget period", submit="Create period")


@bp.route("/allocations/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_LEDGER)
def new_allocation():
    period = _chosen_period()
    if period is None:
        flash("Create a budget period first.", "warning")
        return redirect(url_for("budget.new_period"))
    form = AllocationForm()
    return _entry_form(
        form, lambda: ledger.allocate(period, form.amount.pence, actor=current_user, memo=form.memo.data,
                                      on=form.on.data),
        date_field="on", success=f"Allocated to {period.name}.", title=f"Allocate funding to {period.name}",
        submit="Allocate", hints={"on": "Leave blank for today (or the period's first day)."})


@bp.route("/direct-purchases/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_LEDGER)
def new_direct_purchase():
    form = DirectPurchaseForm()
    return _entry_form(
        form, lambda: budget.record_direct_purchase(
            supplier_name=form.supplier_name.data, purchased_on=form.purchased_on.data,
            net_pence=form.net.pence, vat_pence=form.vat.pence, gross_pence=form.gross.pence,
            receipt_reference=form.receipt_reference.data, category=form.category.data,
            case_reference=form.case_reference.data, payment_method=PaymentMethod(form.payment_method.data),
            actor=current_user,
        )[1],
        date_field="purchased_on", success="Purchase recorded and charged to the budget.",
        title="Record a purchase without a PO", submit="Record purchase",
        hints={"gross": "Net plus VAT.", "case_reference": "Like NS-2026-0142. Never a name."})


@bp.route("/direct-purchases/<int:purchase_id>/refunds", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_LEDGER)
def refund_direct_purchase(purchase_id: int):
    purchase = db.get_or_404(DirectPurchase, purchase_id)
    form = RefundForm()
    net_back, vat_back = budget.refunded(purchase)
    return _entry_form(
        form, lambda: budget.refund_direct_purchase(
            purchase, on=form.refunded_on.data, net_pence=form.net.pence, vat_pence=form.vat.pence,
            reason=form.reason.data, actor=current_user),
        date_field="refunded_on", success="Refund recorded and credited to the budget.",
        title=f"Refund from {purchase.supplier_name}, receipt {purchase.receipt_reference}", submit="Record refund",
        hints={"net": f"The purchase cost {format_pence(purchase.gross_pence)}; "
                      f"{format_pence(net_back + vat_back)} is already refunded."})


@bp.route("/adjustments/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_LEDGER)
def new_adjustment():
    form = AdjustmentForm()
    return _entry_form(
        form, lambda: ledger.adjust(form.amount.pence, on=form.on.data, actor=current_user, reason=form.reason.data,
                                    category=form.category.data),
        date_field="on", success="Adjustment posted.", title="Post an adjustment", submit="Post adjustment",
        hints={"amount": "Positive adds to what is available; negative (e.g. -12.50) takes away."})


def _entry_form(form, post_entry, *, date_field: str, success: str, **page):
    """A form that posts one ledger entry: the entry's page once posted, else the form again
    with each refusal beside the field it is about."""
    return form_page(form, lambda: in_form_terms(post_entry, date_field=date_field), done=success,
                     next_url=lambda entry: url_for("budget.entry", entry_id=entry.id), template="budget/form.html",
                     **page)


@bp.get("/ledger")
@permission_required(Permission.VIEW_LEDGER)
def entries():
    page, per_page = page_args()
    try:
        filters, problems = queries.EntryFilters.read(request.args), {}
    except InvalidInput as error:
        filters, problems = queries.EntryFilters(), error.fields
    query = queries.filtered_entries(filters)
    return render_template("budget/entries.html", page=paginate(query, page, per_page), problems=problems,
                           kinds=[k for k in EntryKind], filters=request.args), 422 if problems else 200


@bp.get("/ledger/<int:entry_id>")
@permission_required(Permission.VIEW_LEDGER)
def entry(entry_id: int):
    return _entry_page(db.get_or_404(LedgerEntry, entry_id), ReversalForm(formdata=None))


def _entry_page(entry: LedgerEntry, form, status: int = 200):
    related = db.session.scalars(
        select(LedgerEntry).where((LedgerEntry.reverses_id == entry.id) | (LedgerEntry.commitment_id == entry.id)
                                  | (LedgerEntry.settled_by_id == entry.id)).order_by(LedgerEntry.id)
    ).all()
    neighbours = {
        "previous": db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.position == entry.position - 1)),
        "next": db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.position == entry.position + 1)),
    }
    purchase = (db.session.get(DirectPurchase, entry.source_id)
                if entry.source_type == SourceType.DIRECT_PURCHASE else None)
    open_pence = ledger.open_amount_pence(entry) if entry.kind == EntryKind.COMMITMENT else None
    reversed_by = next((r for r in related if r.reverses_id == entry.id), None)
    return render_template("budget/entry.html", entry=entry, related=related, neighbours=neighbours,
                           purchase=purchase, open_pence=open_pence, reversed_by=reversed_by, form=form), status


@bp.post("/ledger/<int:entry_id>/reverse")
@permission_required(Permission.MANAGE_LEDGER)
def reverse(entry_id: int):
    original = db.get_or_404(LedgerEntry, entry_id)
    form = ReversalForm()
    if not form.validate_on_submit():
        return _entry_page(original, form, 422)
    try:
        reversal = ledger.reverse(original, reason=form.reason.data, actor=current_user)
    except DomainError as error:
        # The entry page explains the refusal with the refusal's own status (409 for an
        # entry already reversed or matched).
        undo()
        show_error(form, error)
        return _entry_page(db.session.get(LedgerEntry, entry_id), form, error.status)
    flash("Entry reversed.", "success")
    return redirect(url_for("budget.entry", entry_id=reversal.id))


@bp.get("/months")
@permission_required(Permission.MANAGE_LEDGER, Permission.REOPEN_MONTH)
def months():
    period = _chosen_period()
    closes = {}
    if period is not None:
        for closing in db.session.scalars(
            select(MonthClose).options(selectinload(MonthClose.closed_by), selectinload(MonthClose.reopened_by))
            .where(MonthClose.month >= period.starts_on, MonthClose.month <= period.ends_on).order_by(MonthClose.id)
        ):
            closes.setdefault(closing.month, []).append(closing)
    periods = db.session.scalars(select(BudgetPeriod).order_by(BudgetPeriod.starts_on.desc())).all()
    ended = period is not None and period.ends_on < clock.today()
    still_open = queries.open_commitments(period) if ended else []
    return render_template("budget/months.html", period=period, periods=periods, closes=closes,
                           months=queries.months_of(period) if period else [],
                           this_month=clock.today().replace(day=1), reopen_form=ReopenMonthForm(formdata=None),
                           still_open_count=len(still_open), still_open_pence=sum(p for _, p in still_open))


@bp.post("/months/<month>/close")
@permission_required(Permission.MANAGE_LEDGER)
@reauthentication_required
def close_month(month: str):
    day = _month_or_404(month)
    try:
        budget.close_month(day, actor=current_user)
    except DomainError as error:  # not ended, already closed, money still committed in the year
        undo()
        flash(error.message, "error")
    else:
        flash(f"{day:%B %Y} is closed.", "success")
    return redirect(url_for("budget.months", period_id=_period_id_of(day)))


@bp.post("/periods/<int:period_id>/carry-forward")
@permission_required(Permission.MANAGE_LEDGER)
def carry_forward(period_id: int):
    period = db.get_or_404(BudgetPeriod, period_id)
    try:
        carried = year_end.carry_forward(period, actor=current_user)
    except DomainError as error:
        undo()
        flash(error.message, "error")
    else:
        flash(f"{format_pence(carried.pence)} in {carried.commitments} commitment(s) carried forward from "
              f"{period.name} into {carried.into.name}.", "success")
    return redirect(url_for("budget.months", period_id=period.id))


def _period_id_of(day: date) -> int | None:
    return db.session.scalar(select(BudgetPeriod.id).where(BudgetPeriod.starts_on <= day, BudgetPeriod.ends_on >= day))


@bp.post("/months/<month>/reopen")
@permission_required(Permission.REOPEN_MONTH)
def reopen_month(month: str):
    day = _month_or_404(month)
    form = ReopenMonthForm()
    return _with_reason(form, lambda: budget.reopen_month(day, actor=current_user, reason=form.reason.data),
                        missing="Write why the month is reopened.",
                        done=f"{day:%B %Y} is open again; the reopening is recorded.", back=url_for("budget.months"))


@bp.post("/alerts/<int:alert_id>/resolve")
@permission_required(Permission.MANAGE_LEDGER)
def resolve_alert(alert_id: int):
    alert = db.get_or_404(OverspendAlert, alert_id)
    form = ResolveAlertForm()
    return _with_reason(form, lambda: budget.resolve_overspend(alert, actor=current_user,
                                                               resolution=form.resolution.data),
                        missing="Say how the overspend was resolved.",
                        done="Overspend resolved: commitments may be made again.",
                        back=url_for("budget.home", period_id=alert.period_id))


def _with_reason(form, use_case, *, missing: str, done: str, back: str):
    """A button that needs a written reason: without one, say what is missing; either way,
    back to `back`. A refusal of the use case is an error page of its own."""
    if form.validate_on_submit():
        use_case()
        flash(done, "success")
    else:
        flash(missing, "error")
    return redirect(back)


def _month_or_404(month: str) -> date:
    try:
        return year_month(month)
    except ParseError:
        abort(404)


# The list of budget categories -------------------------------------------------------------

@bp.route("/categories", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_BUDGET_CATEGORIES)
def categories_list():
    form = CategoryForm()
    added = submitted(form, lambda: categories.create_category(form.name.data, actor=current_user))
    if added:
        flash(f"Added the category {added.name}.", "success")
        return redirect(url_for("budget.categories_list"))
    return render_template("budget/categories.html", form=form, categories=categories.all_categories(),
                           used=categories.used_ids()), 422 if form.errors else 200


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_BUDGET_CATEGORIES)
def rename_category(category_id: int):
    category = db.get_or_404(BudgetCategory, category_id)
    form = CategoryForm(data={"name": category.name} if request.method == "GET" else None)
    return form_page(form, lambda: categories.rename_category(category, form.name.data, actor=current_user),
                     done=lambda renamed: f"Renamed to {renamed.name}.", next_url=url_for("budget.categories_list"),
                     template="budget/form.html", title=f"Rename the category {category.name}", submit="Rename",
                     back=(url_for("budget.categories_list"), "Budget categories"),
                     hints={"name": "Only a category no entry uses yet can be renamed."})


@bp.post("/categories/<int:category_id>/deactivate")
@permission_required(Permission.MANAGE_BUDGET_CATEGORIES)
def deactivate_category(category_id: int):
    return _set_category_active(category_id, False, done="{} is no longer offered; reports keep it.")


@bp.post("/categories/<int:category_id>/reactivate")
@permission_required(Permission.MANAGE_BUDGET_CATEGORIES)
def reactivate_category(category_id: int):
    return _set_category_active(category_id, True, done="{} is offered again.")


def _set_category_active(category_id: int, active: bool, *, done: str):
    """Flip a category, or say on the list why it cannot be (an active item type uses it)."""
    category = db.get_or_404(BudgetCategory, category_id)
    try:
        categories.set_category_active(category, active, actor=current_user)
    except Conflict as error:
        undo()
        flash(error.message, "error")
    else:
        flash(done.format(category.name), "success")
    return redirect(url_for("budget.categories_list"))
