from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from inventory.budget.forms import category_field
from inventory.parsing import Fields
from inventory.reconciliation.operations import MAX_NOTE, Pair


class StatementUploadForm(FlaskForm):
    file = FileField("Statement file (CSV)", validators=[FileRequired("Choose the CSV file your bank exported.")])
    account = StringField("Bank or card account", validators=[DataRequired("Name the account."), Length(max=80)])
    date_column = StringField("Date column", default="Date", validators=[Length(max=80)])
    description_column = StringField("Description column", default="Description", validators=[Length(max=80)])
    amount_column = StringField("Amount column (money out negative)", default="Amount",
                                validators=[Length(max=80)])
    paid_in_column = StringField("Paid-in column", validators=[Length(max=80)])
    paid_out_column = StringField("Paid-out column", validators=[Length(max=80)])
    reference_column = StringField("Reference column (optional)", validators=[Length(max=80)])


class PostLineForm(FlaskForm):
    category = category_field("Category", default="Bank charges")
    memo = StringField("Memo (optional)", validators=[Length(max=500)])


class ExportForm(FlaskForm):
    class Meta:
        csrf = False  # a GET download changes nothing

    start = DateField("From", validators=[DataRequired("Enter the first day.")])
    end = DateField("To", validators=[DataRequired("Enter the last day.")])
    format = RadioField("Format", choices=[SelectChoice("xero", "Xero manual journals"),
                                           SelectChoice("sage", "Sage 50 audit trail")],
                        default="xero", validators=[DataRequired()])


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
