"""Finance's reconciliation pages: upload a statement, match its lines, work the
exceptions, export journals. Only finance (Permission.RECONCILE) sees statement lines."""
from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from inventory import clock
from inventory.budget.models import LedgerEntry
from inventory.errors import Conflict, DomainError, InvalidInput
from inventory.extensions import db
from inventory.forms import show_error
from inventory.pagination import page_args, paginate
from inventory.parsing import Fields
from inventory.permissions import Permission, permission_required
from inventory.reconciliation import exports, operations, queries
from inventory.reconciliation.forms import PostLineForm, StatementColumnsForm, StatementUploadForm, manual_match
from inventory.reconciliation.models import (
    ExportFormat,
    Match,
    MatchAllocation,
    MatchMethod,
    ReconciliationEvent,
    Statement,
    StatementLine,
)
from inventory.reconciliation.statement_csv import ColumnMapping, guess_columns, preview_lines, read_shape
from inventory.unit_of_work import undo

bp = Blueprint("reconciliation", __name__, url_prefix="/reconciliation")


@bp.get("/statements")
@permission_required(Permission.RECONCILE)
def statements():
    page = paginate(queries.statements_with_progress(), *page_args(), scalars=False)
    return render_template("reconciliation/statements.html", page=page)


@bp.route("/statements/upload", methods=["GET", "POST"])
@permission_required(Permission.RECONCILE)
def upload_statement():
    """Step 1 of 2: the file and its account. The file is kept (for this user, for an hour)
    and its columns are chosen next, from its own first row."""
    form = StatementUploadForm()
    if form.validate_on_submit():
        try:
            upload = operations.keep_upload(
                data=form.file.data.read(), filename=form.file.data.filename, account=form.account.data,
                actor=current_user, max_bytes=current_app.config["STATEMENT_MAX_BYTES"],
            )
        except DomainError as error:
            undo()
            if not isinstance(error, InvalidInput):
                form.file.errors = [*form.file.errors, error.message]
                return render_template("reconciliation/upload.html", form=form), error.status
            show_error(form, error)
            return render_template("reconciliation/upload.html", form=form), 422
        return redirect(url_for("reconciliation.statement_columns", upload_token=upload.token,
                                header="no" if form.no_header.data else None))
    return render_template("reconciliation/upload.html", form=form), 422 if form.errors else 200


@bp.route("/statements/upload/<upload_token>", methods=["GET", "POST"])
@permission_required(Permission.RECONCILE)
def statement_columns(upload_token: str):
    """Step 2 of 2: each field's column chosen from the file's header names (or by position
    for a file without a header row), first guessed; a preview of the first lines as they
    will be read; then the import."""
    upload = operations.kept_upload(upload_token, actor=current_user)
    max_bytes = current_app.config["STATEMENT_MAX_BYTES"]
    shape = read_shape(upload.data, max_bytes=max_bytes)
    if request.method == "GET":
        has_header = request.args.get("header") != "no"
        guess = {f"{name}_column": str(position) for name, position in guess_columns(shape, has_header).items()}
        form = StatementColumnsForm(formdata=None, has_header=has_header, **guess).offer(shape, has_header)
        return _columns_page(upload, shape, form)
    form = StatementColumnsForm()
    form.offer(shape, bool(form.has_header.data))
    if not form.validate_on_submit():
        return _columns_page(upload, shape, form, status=422)
    try:
        mapping = form.mapping()
        if "preview" in request.form:
            return _columns_page(upload, shape, form, mapping=mapping)
        statement = operations.import_upload(upload.token, mapping=mapping, actor=current_user, max_bytes=max_bytes)
    except (InvalidInput, Conflict) as error:  # a NotFound (the upload has gone) is the error page
        undo()
        _show_column_error(form, error)
        lines = error.details.get("lines", []) if isinstance(error.details, dict) else []
        return _columns_page(upload, shape, form, bad_lines=lines, status=error.status)
    flash(f"Imported {statement.new_count} new line(s); {statement.duplicate_count} already imported.", "success")
    return redirect(url_for("reconciliation.statement", statement_id=statement.id))


def _show_column_error(form: StatementColumnsForm, error: DomainError) -> None:
    """A refusal on the columns page: field messages beside the select they are about (the
    API's `<field>_position` is the page's `<field>_column`), the rest above the form."""
    placed = False
    for name, message in getattr(error, "fields", {}).items():
        field = getattr(form, name.replace("_position", "_column"), None)
        if field is not None and name != "has_header":
            field.errors = [*field.errors, message]
            placed = True
        elif message not in form.form_errors:
            form.form_errors.append(message)
    if not placed and not form.form_errors:
        form.form_errors.append(error.message)


def _columns_page(upload, shape, form: StatementColumnsForm, *, mapping: ColumnMapping | None = None,
                  bad_lines=(), status: int = 200):
    has_header = bool(form.has_header.data)
    preview = None
    try:
        mapping = mapping or form.mapping()
        preview = preview_lines(upload.data, mapping, max_bytes=current_app.config["STATEMENT_MAX_BYTES"])
    except InvalidInput:
        pass  # an incomplete choice: no preview until it is complete
    looks_like_data = shape.first_row_looks_like_data()
    return render_template(
        "reconciliation/upload_columns.html", upload=upload, form=form, has_header=has_header,
        header=shape.header(has_header), rows=shape.data_rows(has_header), column_count=shape.column_count,
        preview=preview, bad_lines=bad_lines, header_doubt=has_header == looks_like_data,
    ), status


@bp.get("/statements/<int:statement_id>")
@permission_required(Permission.RECONCILE)
def statement(statement_id: int):
    statement = db.get_or_404(Statement, statement_id)
    status = queries.line_status(request.args)
    query = queries.statement_lines(statement.id, status)
    return render_template("reconciliation/statement.html", statement=statement, status=status,
                           page=paginate(query, *page_args()))


@bp.get("/lines/<int:line_id>")
@permission_required(Permission.RECONCILE)
def line(line_id: int):
    return _line_page(db.get_or_404(StatementLine, line_id), PostLineForm(formdata=None))


@bp.post("/lines/<int:line_id>/post")
@permission_required(Permission.RECONCILE)
def post_line(line_id: int):
    line = db.get_or_404(StatementLine, line_id)
    form = PostLineForm()
    if form.validate_on_submit():
        try:
            operations.post_line_to_ledger(line.id, category=form.category.data, memo=form.memo.data,
                                           actor=current_user)
        except InvalidInput as error:  # a Conflict (the line is matched already) goes to the error page
            undo()
            show_error(form, error)
        else:
            flash("Posted to the ledger and matched.", "success")
            return redirect(url_for("reconciliation.line", line_id=line.id))
    return _line_page(db.session.get(StatementLine, line_id), form, 422)


def _line_page(line: StatementLine, post_form: PostLineForm, status: int = 200):
    window = current_app.config["MATCH_DATE_WINDOW_DAYS"]
    matches = list(db.session.scalars(
        select(Match).join(MatchAllocation).where(MatchAllocation.statement_line_id == line.id).distinct()
        .options(selectinload(Match.allocations).joinedload(MatchAllocation.ledger_entry)).order_by(Match.id)
    ))
    candidates = [] if line.remaining_pence == 0 else list(db.session.execute(
        queries.matchable_entries(around=line.value_date, window_days=max(window, 31), money_out=line.is_money_out)
        .limit(100)
    ))
    matched_entry_ids = {a.ledger_entry_id for match in matches for a in match.allocations}
    reversed_ids = set(db.session.scalars(
        select(LedgerEntry.reverses_id).where(LedgerEntry.reverses_id.in_(matched_entry_ids))))
    history = list(db.session.scalars(
        select(ReconciliationEvent).where(ReconciliationEvent.statement_line_id == line.id)
        .options(joinedload(ReconciliationEvent.actor)).order_by(ReconciliationEvent.id)
    ))
    return render_template("reconciliation/line.html", line=line, matches=matches, history=history, reversed_ids=reversed_ids,
                           proposals=queries.proposals_for(line, window_days=window), candidates=candidates,
                           window=window, post_form=post_form), status


@bp.post("/lines/<int:line_id>/proposals/<int:entry_id>/accept")
@permission_required(Permission.RECONCILE)
def accept_proposal(line_id: int, entry_id: int):
    return _act_on_line(line_id, "Matched.", lambda: operations.create_match(
        pairs=[operations.Pair(line_id, entry_id)], actor=current_user, method=MatchMethod.PROPOSAL))


@bp.post("/lines/<int:line_id>/proposals/<int:entry_id>/reject")
@permission_required(Permission.RECONCILE)
def reject_proposal(line_id: int, entry_id: int):
    return _act_on_line(line_id, "Proposal rejected; it will not be proposed again.",
                        lambda: operations.reject_proposal(line_id, entry_id, actor=current_user))


@bp.post("/lines/<int:line_id>/matches")
@permission_required(Permission.RECONCILE)
def match_line(line_id: int):
    def match():
        pairs, note = manual_match(line_id, request.form)
        return operations.create_match(pairs=pairs, actor=current_user, note=note)

    return _act_on_line(line_id, "Matched.", match)


@bp.post("/matches/<int:match_id>/delete")
@permission_required(Permission.RECONCILE)
def unmatch(match_id: int):
    form = Fields(request.form, text=True)
    line_id = form.record_id("line_id")  # whose screen to return to
    form.check()
    return _act_on_line(line_id, "Unmatched.", lambda: operations.remove_match(match_id, actor=current_user))


@bp.post("/lines/<int:line_id>/reconcile")
@permission_required(Permission.RECONCILE)
def reconcile_line(line_id: int):
    return _act_on_line(line_id, "Line marked reconciled.",
                        lambda: operations.mark_reconciled(line_id, actor=current_user))


def _act_on_line(line_id: int, success: str, use_case):
    """The reconciliation screen's buttons: run the use case and go back to the line with
    what happened (a refusal is explained there, and undone so nothing of it is written)."""
    db.get_or_404(StatementLine, line_id)
    try:
        use_case()
    except DomainError as error:
        undo()
        fields = error.details.get("fields", {}) if isinstance(error.details, dict) else {}
        flash(" ".join([error.message, *fields.values()]), "error")
    else:
        flash(success, "success")
    return redirect(url_for("reconciliation.line", line_id=line_id))


@bp.app_template_global()
def statement_allocations_of(entry_id: int) -> list[MatchAllocation]:
    """For the ledger entry page: which statement lines pay this entry."""
    return list(db.session.scalars(
        select(MatchAllocation).where(MatchAllocation.ledger_entry_id == entry_id)
        .options(joinedload(MatchAllocation.statement_line)).order_by(MatchAllocation.id)
    ))


@bp.get("/exceptions")
@permission_required(Permission.RECONCILE)
def exceptions():
    age = current_app.config["RECONCILIATION_EXCEPTION_DAYS"]
    cutoff = clock.today() - timedelta(days=age)
    show = "entries" if request.args.get("show") == "entries" else "lines"
    if show == "entries":
        page = paginate(queries.unreconciled_entries(cutoff), *page_args(), scalars=False)
    else:
        page = paginate(queries.unmatched_lines(cutoff), *page_args())
    return render_template("reconciliation/exceptions.html", age=age, cutoff=cutoff, show=show, page=page)


@bp.get("/exports")
@permission_required(Permission.RECONCILE)
def export():
    page = paginate(exports.batches(), *page_args())
    return render_template("reconciliation/export.html", page=page, formats=list(ExportFormat))


@bp.post("/exports")
@permission_required(Permission.RECONCILE)
def new_export():
    fields = Fields(request.form, text=True)
    export_format = fields.choice("format", ExportFormat)
    fields.check()
    try:
        batch = exports.export_batch(export_format, actor=current_user,
                                     settings=exports.ExportSettings.from_config(current_app.config))
    except exports.NothingToExport as refusal:
        undo()
        flash(refusal.message, "info")
        return redirect(url_for("reconciliation.export"))
    flash(f"Batch {batch.id}: {batch.entry_count} entr{'y' if batch.entry_count == 1 else 'ies'} exported for "
          f"{export_format.label}. Download the file{'s' if len(batch.files) > 1 else ''} below.", "success")
    return redirect(url_for("reconciliation.export"))


@bp.get("/exports/<int:batch_id>/files/<int:number>")
@permission_required(Permission.RECONCILE)
def export_file(batch_id: int, number: int):
    return exports.file_response(exports.export_file(batch_id, number))
