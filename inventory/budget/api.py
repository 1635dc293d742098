"""Budget and ledger endpoints (docs/api.md). Money is integer pence in `_pence` fields."""
from flask import jsonify, request
from flask_login import current_user
from sqlalchemy import select

from inventory.api import PAGE_PARAMS, RECORD_ID, api_route, found, page_of, pence, query_param, schema, text
from inventory.api.body import Body
from inventory.budget import categories, ledger, operations as budget, year_end
from inventory.budget.models import (
    BudgetCategory,
    BudgetPeriod,
    DirectPurchase,
    EntryKind,
    LedgerEntry,
    MonthClose,
    OverspendAlert,
    PaymentMethod,
    SourceType,
)
from inventory.budget.queries import EntryFilters, filtered_entries, open_alerts
from inventory.errors import InvalidInput, NotFound
from inventory.extensions import db
from inventory.money import format_pence
from inventory.pagination import page_args, paginate
from inventory.parsing import ParseError, year_month
from inventory.permissions import Permission, login_required, permission_required

PENCE = {"type": "integer"}
NULLABLE_PENCE = {"type": ["integer", "null"]}
DATE = {"type": "string", "format": "date"}
NULLABLE_TEXT = {"type": ["string", "null"]}
PAYMENT_METHOD = {"type": "string", "enum": [str(m) for m in PaymentMethod],
                  "description": "bank (the default) or card: the accounts post it to that account."}
DATE_TIME = {"type": "string", "format": "date-time"}
NULLABLE_DATE_TIME = {"type": ["string", "null"], "format": "date-time"}
REASON = {"type": "object", "required": ["reason"], "properties": {"reason": text(500, required=True)}}
REASON_MAX = 500

PERIOD = schema("BudgetPeriod", {
    "type": "object",
    "required": ["id", "name", "starts_on", "ends_on"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "starts_on": DATE, "ends_on": DATE},
})

ALERT = schema("OverspendAlert", {
    "type": "object",
    "required": ["id", "kind", "message", "raised_at"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": ["overspend"]},
        "message": {"type": "string", "description": "By how much and which entry; no personal data."},
        "raised_at": DATE_TIME,
        "entry_id": {"type": "integer"}, "over_by_pence": PENCE,
        "resolved_at": NULLABLE_DATE_TIME, "resolved_by_id": {"type": ["integer", "null"]},
        "resolution": NULLABLE_TEXT,
    },
})

BUDGET = schema("BudgetSummary", {
    "type": "object",
    "required": ["period", "allocated_pence", "committed_pence", "actual_pence", "credits_pence",
                 "adjustments_pence", "available_pence", "alerts"],
    "properties": {
        "period": PERIOD,
        "allocated_pence": PENCE, "committed_pence": PENCE, "actual_pence": PENCE, "credits_pence": PENCE,
        "adjustments_pence": PENCE, "available_pence": PENCE,
        "used_percent": {"type": ["integer", "null"]},
        "alerts": {"type": "array", "items": ALERT,
                   "description": "The period's open overspend alerts: no new commitment until each is resolved."},
    },
})

MONTH_CLOSE = schema("MonthClose", {
    "type": "object",
    "required": ["month", "closed", "closed_at", "closed_by_id", "reopened_at", "reopened_by_id", "reopen_reason"],
    "properties": {
        "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
        "closed": {"type": "boolean", "description": "Whether the month stands closed after this call."},
        "closed_at": DATE_TIME, "closed_by_id": {"type": "integer"},
        "reopened_at": NULLABLE_DATE_TIME, "reopened_by_id": {"type": ["integer", "null"]},
        "reopen_reason": NULLABLE_TEXT,
    },
})

ENTRY = schema("LedgerEntry", {
    "type": "object",
    "required": ["id", "position", "period_id", "kind", "entry_date", "amount_pence", "memo", "posted_at",
                 "posted_by_id", "hash", "previous_hash"],
    "properties": {
        "id": {"type": "integer"},
        "position": {"type": "integer", "minimum": 1},
        "period_id": {"type": "integer"},
        "kind": {"type": "string", "enum": [str(k) for k in EntryKind]},
        "entry_date": DATE,
        "amount_pence": {**PENCE, "description": "Signed effect on available: commitments and actuals are "
                                                 "negative; allocations, releases and credits positive."},
        "net_pence": NULLABLE_PENCE, "vat_pence": NULLABLE_PENCE, "gross_pence": NULLABLE_PENCE,
        "category": {**NULLABLE_TEXT, "description": "The budget category's name as posted."},
        "category_id": {"type": ["integer", "null"]},
        "case_reference": NULLABLE_TEXT, "memo": {"type": "string"},
        "source_type": {"type": ["string", "null"], "enum": [str(s) for s in SourceType] + [None]},
        "source_id": {"type": ["integer", "null"]},
        "commitment_id": {"type": ["integer", "null"]},
        "reverses_id": {"type": ["integer", "null"]},
        "settled_by_id": {"type": ["integer", "null"]},
        "posted_at": {"type": "string", "format": "date-time"},
        "posted_by_id": {"type": "integer"},
        "hash": {"type": "string"}, "previous_hash": {"type": "string"},
    },
})

DIRECT_PURCHASE = schema("DirectPurchase", {
    "type": "object",
    "required": ["id", "supplier_name", "purchased_on", "net_pence", "vat_pence", "gross_pence",
                 "receipt_reference", "category", "category_id", "case_reference", "payment_method", "entry"],
    "properties": {
        "id": {"type": "integer"}, "supplier_name": {"type": "string"}, "purchased_on": DATE,
        "net_pence": PENCE, "vat_pence": PENCE, "gross_pence": PENCE, "receipt_reference": {"type": "string"},
        "category": {"type": "string"}, "category_id": {"type": ["integer", "null"]},
        "case_reference": NULLABLE_TEXT, "payment_method": PAYMENT_METHOD, "entry": ENTRY,
    },
})

BUDGET_CATEGORY = schema("BudgetCategory", {
    "type": "object",
    "required": ["id", "name", "active"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                   "active": {"type": "boolean", "description": "Inactive ones are kept for reports only."}},
})

CATEGORY_CHOICE = {
    "category_id": {**RECORD_ID, "description": "An active budget category, by id ..."},
    "category": text(categories.NAME_MAX,
                     description="... or by name (case, spaces and a plural s do not matter)."),
}


def serialise_period(period: BudgetPeriod) -> dict:
    return {"id": period.id, "name": period.name, "starts_on": period.starts_on.isoformat(),
            "ends_on": period.ends_on.isoformat()}


def serialise_entry(entry: LedgerEntry) -> dict:
    return {
        "id": entry.id, "position": entry.position, "period_id": entry.period_id, "kind": entry.kind,
        "entry_date": entry.entry_date.isoformat(), "amount_pence": entry.amount_pence,
        "net_pence": entry.net_pence, "vat_pence": entry.vat_pence, "gross_pence": entry.gross_pence,
        "category": entry.category, "category_id": entry.category_id, "case_reference": entry.case_reference,
        "memo": entry.memo,
        "source_type": entry.source_type, "source_id": entry.source_id, "commitment_id": entry.commitment_id,
        "reverses_id": entry.reverses_id, "settled_by_id": entry.settled_by_id,
        "posted_at": entry.posted_at.isoformat(), "posted_by_id": entry.posted_by_id,
        "hash": entry.hash, "previous_hash": entry.previous_hash,
    }


def serialise_alert(alert: OverspendAlert) -> dict:
    entry = alert.entry
    return {
        "id": alert.id, "kind": "overspend",
        "message": (f"Overspend of {format_pence(alert.over_by_pence)}: ledger entry {entry.id} ({entry.kind} "
                    f"dated {entry.entry_date.isoformat()}). No new commitments until finance resolves it."),
        "raised_at": alert.raised_at.isoformat(), "entry_id": entry.id, "over_by_pence": alert.over_by_pence,
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
        "resolved_by_id": alert.resolved_by_id, "resolution": alert.resolution,
    }


def serialise_month_close(closing: MonthClose) -> dict:
    return {"month": f"{closing.month:%Y-%m}", "closed": closing.reopened_at is None,
            "closed_at": closing.closed_at.isoformat(), "closed_by_id": closing.closed_by_id,
            "reopened_at": closing.reopened_at.isoformat() if closing.reopened_at else None,
            "reopened_by_id": closing.reopened_by_id, "reopen_reason": closing.reopen_reason}


def _month_or_404(month: str):
    try:
        return year_month(month)
    except ParseError as error:
        raise NotFound(f"No such month: {error}") from None


def _reason() -> str:
    body = Body()
    reason = body.text("reason", max_length=REASON_MAX)
    body.check()
    return reason


def _category_named(category_id: int | None, name: str | None) -> str | None:
    """The canonical name of the active category a body chose by `category_id` or by
    `category` (a name, read forgivingly); None if it chose none."""
    if category_id is not None:
        return categories.chosen_category(category_id=category_id, field="category_id").name
    if name is not None:
        return categories.chosen_category(name=name).name
    return None


def _entry_or_404(entry_id: int) -> LedgerEntry:
    entry = found(LedgerEntry, entry_id, "ledger entry")
    return entry


def _posted(post_entry):
    """The answer to a posting: the new entry, 201. The services call an entry's date `on`;
    the API calls it `date`."""
    try:
        entry = post_entry()
    except InvalidInput as error:
        raise InvalidInput(error.message,
                           fields={"date" if name == "on" else name: message for name, message in error.fields.items()},
                           details={k: v for k, v in error.details.items() if k != "fields"}) from None
    return jsonify(serialise_entry(entry)), 201


@api_route("/budget", summary="The current budget period's totals.", response=BUDGET, tag="budget")
@permission_required(Permission.VIEW_BUDGET_SUMMARY)
def budget_summary():
    totals = ledger.summary()
    return jsonify({
        "period": serialise_period(totals.period), "allocated_pence": totals.allocated_pence,
        "committed_pence": totals.committed_pence, "actual_pence": totals.actual_pence,
        "credits_pence": totals.credits_pence, "adjustments_pence": totals.adjustments_pence,
        "available_pence": totals.available_pence, "used_percent": totals.used_percent,
        "alerts": [serialise_alert(alert) for alert in open_alerts(totals.period)],
    })


@api_route("/budget/alerts/<int:alert_id>/resolution", "POST", response=ALERT, request_body=REASON, tag="budget",
           summary="Resolve an overspend alert, saying how (recorded in the audit log); commitments may be made "
                   "again. 409 already_resolved.")
@permission_required(Permission.MANAGE_LEDGER)
def resolve_alert(alert_id: int):
    alert = found(OverspendAlert, alert_id, "overspend alert")
    reason = _reason()
    return jsonify(serialise_alert(budget.resolve_overspend(alert, actor=current_user, resolution=reason)))


CARRIED_FORWARD = schema("CarriedForward", {
    "type": "object", "required": ["period_id", "into_period_id", "commitments", "carried_pence"],
    "properties": {"period_id": {"type": "integer"}, "into_period_id": {"type": "integer"},
                   "commitments": {"type": "integer"}, "carried_pence": PENCE},
})


@api_route("/budget/periods/<int:period_id>/carry-forward", "POST", response=CARRIED_FORWARD, tag="budget",
           summary="Year end: move every commitment still open in an ended period into the period of today "
                   "(released there, committed here, in one go). 409 period_not_ended, nothing_open, "
                   "no_budget_period, or budget_exceeded if this period cannot hold it (then nothing moves).")
@permission_required(Permission.MANAGE_LEDGER)
def carry_forward(period_id: int):
    period = found(BudgetPeriod, period_id, "budget period")
    carried = year_end.carry_forward(period, actor=current_user)
    return jsonify({"period_id": period.id, "into_period_id": carried.into.id, "commitments": carried.commitments,
                    "carried_pence": carried.pence})


@api_route("/ledger/months/<month>/close", "POST", response=MONTH_CLOSE, tag="budget",
           summary="Close a finished month (YYYY-MM): nothing may be dated inside it afterwards. 409 "
                   "month_not_ended or already_closed, or open_commitments when closing a period's last month "
                   "with money still committed in it (carry it forward first); a month that is not YYYY-MM is 404.")
@permission_required(Permission.MANAGE_LEDGER)
def close_month(month: str):
    day = _month_or_404(month)
    return jsonify(serialise_month_close(budget.close_month(day, actor=current_user)))


@api_route("/ledger/months/<month>/reopen", "POST", response=MONTH_CLOSE, request_body=REASON, tag="budget",
           summary="Reopen a closed month (YYYY-MM), with a reason (admins; recorded in the audit log). 409 "
                   "not_closed; a month that is not YYYY-MM is 404.")
@permission_required(Permission.REOPEN_MONTH)
def reopen_month(month: str):
    day = _month_or_404(month)
    reason = _reason()
    return jsonify(serialise_month_close(budget.reopen_month(day, actor=current_user, reason=reason)))


@api_route("/ledger/entries", summary="Ledger entries, newest first (finance and auditors; case references only).",
           response=page_of(ENTRY), tag="budget",
           query=[query_param("kind", {"type": "string", "enum": [str(k) for k in EntryKind]}),
                  query_param("from", DATE, "On or after this date."),
                  query_param("to", DATE, "On or before this date."), *PAGE_PARAMS])
@permission_required(Permission.VIEW_LEDGER)
def ledger_entries():
    page, per_page = page_args()
    query = filtered_entries(EntryFilters.read(request.args))
    return jsonify(paginate(query, page, per_page).as_json(serialise_entry))


@api_route("/ledger/allocations", "POST", summary="Fund a budget period.", response=ENTRY, status=201,
           tag="budget", request_body={
               "type": "object", "required": ["amount_pence"],
               "properties": {"amount_pence": pence(), "period_id": RECORD_ID, "date": DATE,
                              "memo": text(ledger.MEMO_MAX)}})
@permission_required(Permission.MANAGE_LEDGER)
def create_allocation():
    body = Body()
    amount = body.pence("amount_pence")
    period_id = body.record_id("period_id", required=False)
    on = body.date("date", required=False)
    memo = body.text("memo", required=False, max_length=ledger.MEMO_MAX)
    body.check()
    period = db.session.get(BudgetPeriod, period_id) if period_id is not None else ledger.current_period()
    if period is None:
        raise InvalidInput("No such budget period.", fields={"period_id": "No such budget period."})
    return _posted(lambda: ledger.allocate(period, amount, actor=current_user, memo=memo or "", on=on))


@api_route("/ledger/direct-purchases", "POST", summary="Record a purchase made without a PO (posts an actual).",
           response=DIRECT_PURCHASE, status=201, tag="budget", request_body={
               "type": "object",
               "required": ["supplier_name", "purchased_on", "net_pence", "vat_pence", "gross_pence",
                            "receipt_reference"],
               "properties": {"supplier_name": text(budget.SUPPLIER_NAME_MAX, required=True), "purchased_on": DATE,
                              "net_pence": pence(allow_zero=True), "vat_pence": pence(allow_zero=True),
                              "gross_pence": pence(),
                              "receipt_reference": text(budget.RECEIPT_REFERENCE_MAX, required=True),
                              **CATEGORY_CHOICE, "case_reference": text(ledger.CASE_REFERENCE_MAX),
                              "payment_method": PAYMENT_METHOD}})
@permission_required(Permission.MANAGE_LEDGER)
def create_direct_purchase():
    body = Body()
    supplier_name = body.text("supplier_name", max_length=budget.SUPPLIER_NAME_MAX)
    purchased_on = body.date("purchased_on")
    net = body.pence("net_pence", allow_zero=True)
    vat = body.pence("vat_pence", allow_zero=True)
    gross = body.pence("gross_pence")
    receipt_reference = body.text("receipt_reference", max_length=budget.RECEIPT_REFERENCE_MAX)
    category_id = body.record_id("category_id", required=False)
    category = body.text("category", required=False, max_length=categories.NAME_MAX)
    case_reference = body.text("case_reference", required=False, max_length=ledger.CASE_REFERENCE_MAX)
    payment_method = body.choice("payment_method", PaymentMethod, required=False) or PaymentMethod.BANK
    body.check()
    purchase, entry = budget.record_direct_purchase(
        supplier_name=supplier_name, purchased_on=purchased_on, net_pence=net, vat_pence=vat, gross_pence=gross,
        receipt_reference=receipt_reference, category=_category_named(category_id, category),
        case_reference=case_reference, payment_method=payment_method, actor=current_user)
    return jsonify({
        "id": purchase.id, "supplier_name": purchase.supplier_name,
        "purchased_on": purchase.purchased_on.isoformat(), "net_pence": purchase.net_pence,
        "vat_pence": purchase.vat_pence, "gross_pence": purchase.gross_pence,
        "receipt_reference": purchase.receipt_reference, "category": purchase.category,
        "category_id": purchase.category_id, "case_reference": purchase.case_reference,
        "payment_method": purchase.payment_method, "entry": serialise_entry(entry),
    }), 201


@api_route("/ledger/direct-purchases/<int:purchase_id>/refunds", "POST", response=ENTRY, status=201, tag="budget",
           summary="Money back for a direct purchase (posts a credit). At most the purchase less refunds already "
                   "standing, net and VAT each: beyond that a 409 refund_exceeds_purchase with the figures in "
                   "details.",
           request_body={"type": "object", "required": ["date", "net_pence", "vat_pence", "reason"],
                         "properties": {"date": DATE, "net_pence": pence(allow_zero=True),
                                        "vat_pence": pence(allow_zero=True),
                                        "reason": text(ledger.MEMO_MAX, required=True)}})
@permission_required(Permission.MANAGE_LEDGER)
def refund_direct_purchase(purchase_id: int):
    purchase = found(DirectPurchase, purchase_id, "direct purchase")
    body = Body()
    on = body.date("date")
    net = body.pence("net_pence", allow_zero=True)
    vat = body.pence("vat_pence", allow_zero=True)
    reason = body.text("reason", max_length=ledger.MEMO_MAX)
    body.check()
    return _posted(lambda: budget.refund_direct_purchase(purchase, on=on, net_pence=net, vat_pence=vat, reason=reason,
                                                         actor=current_user))


@api_route("/ledger/adjustments", "POST", summary="A finance journal with a written reason.", response=ENTRY,
           status=201, tag="budget", request_body={
               "type": "object", "required": ["amount_pence", "date", "reason"],
               "properties": {"amount_pence": pence(allow_negative=True, description="Positive adds to available."),
                              "date": DATE, "reason": text(ledger.MEMO_MAX, required=True), **CATEGORY_CHOICE}})
@permission_required(Permission.MANAGE_LEDGER)
def create_adjustment():
    body = Body()
    amount = body.pence("amount_pence", allow_negative=True)
    on = body.date("date")
    reason = body.text("reason", max_length=ledger.MEMO_MAX)
    category_id = body.record_id("category_id", required=False)
    category = body.text("category", required=False, max_length=categories.NAME_MAX)
    body.check()
    category = _category_named(category_id, category)
    return _posted(lambda: ledger.adjust(amount, on=on, actor=current_user, reason=reason, category=category))


@api_route("/ledger/entries/<int:entry_id>/reversal", "POST", summary="Reverse an entry (once), with a reason.",
           response=ENTRY, status=201, tag="budget", request_body={
               "type": "object", "required": ["reason"],
               "properties": {"reason": text(ledger.MEMO_MAX, required=True), "date": DATE}})
@permission_required(Permission.MANAGE_LEDGER)
def reverse_entry(entry_id: int):
    body = Body()
    reason = body.text("reason", max_length=ledger.MEMO_MAX)
    on = body.date("date", required=False)
    body.check()
    return _posted(lambda: ledger.reverse(_entry_or_404(entry_id), reason=reason, actor=current_user, on=on))


@api_route("/budget-categories", summary="The budget categories, active first.", response=page_of(BUDGET_CATEGORY),
           tag="budget", query=PAGE_PARAMS)
@login_required
def budget_categories():
    page, per_page = page_args()
    query = select(BudgetCategory).order_by(BudgetCategory.active.desc(), BudgetCategory.name)
    return jsonify(paginate(query, page, per_page).as_json(
        lambda category: {"id": category.id, "name": category.name, "active": category.active}))
