from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from inventory.budget.forms import category_field
from inventory.parsing import Fields
from inventory.reconciliation.operations import MAX_NOTE, Pair
from inventory.reconciliation.statement_csv import MAPPED_FIELDS, ColumnMapping, FileShape


class StatementUploadForm(FlaskForm):
    """Step 1 of an upload: the file and its account (the columns come next)."""

    file = FileField("Statement file (CSV)", validators=[FileRequired("Choose the CSV file your bank exported.")])
    account = StringField("Bank or card account", validators=[DataRequired("Name the account."), Length(max=80)])
    no_header = BooleanField("My file has no header row (the first line is already a transaction, as in HSBC's "
                             "export)")


# What each select offers when nothing is chosen.
NOT_CHOSEN = {
    "date": "Choose a column",
    "description": "Choose a column",
    "amount": "None: the file has separate paid-in and paid-out columns",
    "paid_in": "None: the file has one amount column",
    "paid_out": "None: the file has one amount column",
    "reference": "None",
}


class StatementColumnsForm(FlaskForm):
    """Step 2 of an upload: which of the file's columns holds what, chosen from the file's
    own header names (or, without a header row, its columns by position)."""

    has_header = BooleanField("The first row holds the column names")
    date_column = SelectField("Date", validate_choice=True)
    description_column = SelectField("Description")
    amount_column = SelectField("Amount (money out negative)")
    paid_in_column = SelectField("Paid in")
    paid_out_column = SelectField("Paid out")
    reference_column = SelectField("Reference (optional)")

    def offer(self, shape: FileShape, has_header: bool) -> "StatementColumnsForm":
        """Each select offers the file's columns (value: the column's position)."""
        options = [(str(position), label) for position, label in shape.options(has_header)]
        for name in MAPPED_FIELDS:
            getattr(self, f"{name}_column").choices = [("", NOT_CHOSEN[name]), *options]
        return self

    def mapping(self) -> ColumnMapping:
        """The chosen columns, by position; InvalidInput if they do not make a mapping."""
        chosen = {name: int(getattr(self, f"{name}_column").data) if getattr(self, f"{name}_column").data else None
                  for name in MAPPED_FIELDS}
        return ColumnMapping(**chosen, has_header=bool(self.has_header.data))


class PostLineForm(FlaskForm):
    category = category_field("Category", default="Bank charges")
    memo = StringField("Memo (optional)", validators=[Length(max=500)])


def manual_match(line_id: int, values) -> tuple[list[Pair], str]:
    """The manual match form: ticked entries (`entry_id`), each with an optional amount in
    pounds (`amount_<entry id>`; blank means as much as both have left), and a note."""
    fields = Fields(values, text=True)
    pairs = [Pair(statement_line_id=line_id, ledger_entry_id=entry_id,
                  amount_pence=fields.pence(f"amount_{entry_id}", required=False))
             for entry_id in fields.ids("entry_id", required=False)]
    note = fields.text("note", required=False, max_length=MAX_NOTE)
    fields.check()
    return pairs, note or ""
