"""Statements and matches over the API (finance only, like the pages)."""
from flask import current_app, jsonify, request, url_for
from flask_login import current_user

from inventory.api import PAGE_PARAMS, RECORD_ID, api_route, found, page_of, pence, query_param, schema, text
from inventory.api.body import Body
from inventory.errors import InvalidInput
from inventory.extensions import db
from inventory.pagination import page_args, paginate
from inventory.permissions import Permission, permission_required
from inventory.reconciliation import exports, operations, queries
from inventory.reconciliation.models import ExportBatch, ExportFormat, Match, MatchAllocation, Statement, StatementLine
from inventory.reconciliation.statement_csv import MAPPED_FIELDS, MAX_COLUMN_NAME, MAX_COLUMNS, ColumnMapping

COLUMN_FIELDS = {f"{name}_column": {"type": "string", "maxLength": MAX_COLUMN_NAME} for name in MAPPED_FIELDS}
POSITION_FIELDS = {f"{name}_position": {"type": "integer", "minimum": 1, "maximum": MAX_COLUMNS}
                   for name in MAPPED_FIELDS}

STATEMENT_UPLOAD = {
    "type": "object",
    "required": ["file", "account"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "The statement as CSV."},
        "account": {"type": "string", "maxLength": 80, "description": "Which bank or card account."},
        "header_row": {"type": "boolean", "default": True,
                       "description": "false: the file has no header row (HSBC's export); map it by position."},
        **COLUMN_FIELDS,
        **POSITION_FIELDS,
    },
    "description": "Name each column by its header text (`<field>_column`) or give its position, 1 for the "
                   "first column (`<field>_position`); a file without a header row is mapped by position. "
                   "Date and description are required, and amount (signed, money out negative) or both "
                   "paid_in and paid_out.",
}

STATEMENT = schema("Statement", {
    "type": "object",
    "required": ["id", "account", "filename", "imported_at", "line_count", "new_count", "duplicate_count"],
    "properties": {
        "id": {"type": "integer"},
        "account": {"type": "string"},
        "filename": {"type": "string"},
        "imported_at": {"type": "string", "format": "date-time"},
        "line_count": {"type": "integer", "description": "Lines in the file."},
        "new_count": {"type": "integer", "description": "Lines stored by this import."},
        "duplicate_count": {"type": "integer", "description": "Lines already imported from an earlier file."},
    },
})

STATEMENT_LINE = schema("StatementLine", {
    "type": "object",
    "required": ["id", "statement_id", "line_number", "date", "description", "reference", "amount_pence",
                 "allocated_pence", "remaining_pence", "reconciled", "reconciled_at"],
    "properties": {
        "id": {"type": "integer"},
        "statement_id": {"type": "integer"},
        "line_number": {"type": "integer"},
        "date": {"type": "string", "format": "date"},
        "description": {"type": "string"},
        "reference": {"type": "string"},
        "amount_pence": {"type": "integer", "description": "Signed: negative is money out."},
        "allocated_pence": {"type": "integer", "minimum": 0},
        "remaining_pence": {"type": "integer", "minimum": 0},
        "reconciled": {"type": "boolean"},
        "reconciled_at": {"type": ["string", "null"], "format": "date-time"},
    },
})

ALLOCATION = {
    "type": "object",
    "required": ["statement_line_id", "ledger_entry_id", "amount_pence"],
    "properties": {
        "statement_line_id": {"type": "integer"},
        "ledger_entry_id": {"type": "integer"},
        "amount_pence": {"type": "integer", "minimum": 1},
    },
}

MATCH = schema("Match", {
    "type": "object",
    "required": ["id", "method", "note", "created_at", "allocations"],
    "properties": {
        "id": {"type": "integer"},
        "method": {"type": "string", "enum": ["proposal", "manual"]},
        "note": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "allocations": {"type": "array", "items": ALLOCATION},
    },
})

MATCH_REQUEST = {
    "type": "object",
    "required": ["allocations"],
    "properties": {
        "allocations": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["statement_line_id", "ledger_entry_id"],
            "properties": {
                "statement_line_id": RECORD_ID,
                "ledger_entry_id": RECORD_ID,
                "amount_pence": pence(description="Omit to pair as much as the line and the entry both have left."),
            },
        }},
        "note": text(operations.MAX_NOTE),
    },
}

UNMATCHED = schema("Unmatched", {
    "type": "object", "required": ["id", "deleted"],
    "properties": {"id": {"type": "integer"}, "deleted": {"type": "boolean", "const": True}},
})


def serialise_statement(statement: Statement) -> dict:
    return {"id": statement.id, "account": statement.account, "filename": statement.filename,
            "imported_at": statement.imported_at.isoformat(), "line_count": statement.line_count,
            "new_count": statement.new_count, "duplicate_count": statement.duplicate_count}


def serialise_line(line: StatementLine) -> dict:
    return {"id": line.id, "statement_id": line.statement_id, "line_number": line.line_number,
            "date": line.value_date.isoformat(), "description": line.description, "reference": line.reference,
            "amount_pence": line.amount_pence, "allocated_pence": line.allocated_pence,
            "remaining_pence": line.remaining_pence, "reconciled": line.is_reconciled,
            "reconciled_at": line.reconciled_at.isoformat() if line.reconciled_at else None}


def serialise_allocation(allocation: MatchAllocation) -> dict:
    return {"statement_line_id": allocation.statement_line_id, "ledger_entry_id": allocation.ledger_entry_id,
            "amount_pence": allocation.amount_pence}


def serialise_match(match: Match) -> dict:
    return {"id": match.id, "method": match.method, "note": match.note, "created_at": match.created_at.isoformat(),
            "allocations": [serialise_allocation(allocation) for allocation in match.allocations]}


@api_route("/statements", "POST", summary="Import a bank or card statement (CSV, all or nothing; lines already "
           "imported are skipped), its columns named by header or given by position. 413 if too large; 422 lists "
           "bad lines in details.lines.",
           response=STATEMENT, status=201, request_body=STATEMENT_UPLOAD,
           request_content_type="multipart/form-data", tag="reconciliation")
@permission_required(Permission.RECONCILE)
def import_statement():
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("Attach the statement as the multipart field 'file'.",
                           fields={"file": "Attach a CSV file."})
    statement = operations.import_statement(
        data=upload.read(), filename=upload.filename or "statement.csv", account=request.form.get("account", ""),
        mapping=ColumnMapping.from_fields(request.form), actor=current_user,
        max_bytes=current_app.config["STATEMENT_MAX_BYTES"],
    )
    return jsonify(serialise_statement(statement)), 201


@api_route("/statements/<int:statement_id>/lines", summary="A statement's lines, in file order.",
           response=page_of(STATEMENT_LINE), tag="reconciliation",
           query=[query_param("status", {"type": "string", "enum": list(queries.LineStatus)},
                              "open: not yet reconciled."), *PAGE_PARAMS])
@permission_required(Permission.RECONCILE)
def statement_lines(statement_id: int):
    page, per_page = page_args()
    statement = db.get_or_404(Statement, statement_id)
    query = queries.statement_lines(statement.id, queries.line_status(request.args))
    return jsonify(paginate(query, page, per_page).as_json(serialise_line))


@api_route("/reconciliation/matches", "POST", summary="Match statement lines to ledger entries (one to many, "
           "many to one). 409 over_allocated if a line or entry would be matched beyond its amount.",
           response=MATCH, status=201, request_body=MATCH_REQUEST, tag="reconciliation")
@permission_required(Permission.RECONCILE)
def create_match():
    body = Body(required=False)
    pairs = [operations.Pair(statement_line_id=allocation.record_id("statement_line_id"),
                             ledger_entry_id=allocation.record_id("ledger_entry_id"),
                             amount_pence=allocation.pence("amount_pence", required=False))
             for allocation in body.objects("allocations")]
    note = body.text("note", required=False, max_length=operations.MAX_NOTE)
    body.check()
    match = operations.create_match(pairs=pairs, actor=current_user, note=note or "")
    return jsonify(serialise_match(match)), 201


@api_route("/reconciliation/matches/<int:match_id>", "DELETE", summary="Unmatch (the event log keeps the story).",
           response=UNMATCHED, tag="reconciliation")
@permission_required(Permission.RECONCILE)
def delete_match(match_id: int):
    operations.remove_match(match_id, actor=current_user)
    return jsonify({"id": match_id, "deleted": True})


EXPORT_FILE = {
    "type": "object",
    "required": ["name", "url", "sha256"],
    "properties": {
        "name": {"type": "string"},
        "url": {"type": "string", "description": "Serves the CSV, byte-identical on every download."},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    },
}

EXPORT_BATCH = schema("ExportBatch", {
    "type": "object",
    "required": ["id", "format", "created_at", "created_by", "entry_count", "vat_reclaimed", "files"],
    "properties": {
        "id": {"type": "integer"},
        "format": {"type": "string", "enum": list(ExportFormat)},
        "created_at": {"type": "string", "format": "date-time"},
        "created_by": {"type": "integer", "description": "The user who made it."},
        "entry_count": {"type": "integer", "minimum": 1},
        "vat_reclaimed": {"type": "boolean", "description": "The VAT_RECLAIMED setting the files were written under."},
        "files": {"type": "array", "minItems": 1, "items": EXPORT_FILE},
    },
})


def serialise_batch(batch: ExportBatch) -> dict:
    return {"id": batch.id, "format": batch.format, "created_at": batch.created_at.isoformat(),
            "created_by": batch.created_by_id, "entry_count": batch.entry_count, "vat_reclaimed": batch.vat_reclaimed,
            "files": [{"name": file.name, "sha256": file.sha256,
                       "url": url_for("api.export_file", batch_id=batch.id, number=file.number)}
                      for file in batch.files]}


@api_route("/exports", "POST", summary="Export, for Xero or Sage, every payment and refund (and reversal of one) "
           "dated up to today that has not yet left in that format, as a recorded batch. 409 nothing_to_export "
           "when there is none.", response=EXPORT_BATCH, status=201, tag="reconciliation", request_body={
               "type": "object", "required": ["format"],
               "properties": {"format": {"type": "string", "enum": list(ExportFormat)}}})
@permission_required(Permission.RECONCILE)
def create_export():
    body = Body()
    export_format = body.choice("format", ExportFormat)
    body.check()
    batch = exports.export_batch(export_format, actor=current_user,
                                 settings=exports.ExportSettings.from_config(current_app.config))
    return jsonify(serialise_batch(batch)), 201


@api_route("/exports", summary="Export batches, newest first.", response=page_of(EXPORT_BATCH),
           query=PAGE_PARAMS, tag="reconciliation")
@permission_required(Permission.RECONCILE)
def export_batches():
    page, per_page = page_args()
    return jsonify(paginate(exports.batches(), page, per_page).as_json(serialise_batch))


@api_route("/exports/<int:batch_id>", summary="One export batch.", response=EXPORT_BATCH, tag="reconciliation")
@permission_required(Permission.RECONCILE)
def export_batch(batch_id: int):
    batch = found(ExportBatch, batch_id, "export batch")
    return jsonify(serialise_batch(batch))


@api_route("/exports/<int:batch_id>/files/<int:number>", summary="One file of a batch (CSV), byte-identical to "
           "the first download.", response={"type": "string"}, tag="reconciliation", media_type="text/csv")
@permission_required(Permission.RECONCILE)
def export_file(batch_id: int, number: int):
    return exports.file_response(exports.export_file(batch_id, number))
