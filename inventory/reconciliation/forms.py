from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from inventory.errors import InvalidInput
from inventory.money import MoneyError, parse_pounds
from inventory.reconciliation.operations import Pair


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
    category = StringField("Category", validators=[DataRequired("Enter a category, e.g. Bank charges."),
                                                   Length(max=60)])
    memo = StringField("Memo (optional)", validators=[Length(max=500)])


class ExportForm(FlaskForm):
    class Meta:
        csrf = False  # a GET download changes nothing

    start = DateField("From", validators=[DataRequired("Enter the first day.")])
    end = DateField("To", validators=[DataRequired("Enter the last day.")])
    format = RadioField("Format", choices=[SelectChoice("xero", "Xero manual journals"),
                                           SelectChoice("sage", "Sage 50 audit trail")],
                        default="xero", validators=[DataRequired()])


def manual_pairs(line_id: int, values) -> list[Pair]:
    """The manual match form: ticked entries (`entry_id`), each with an optional amount in
    pounds (`amount_<entry id>`; blank means as much as both have left)."""
    pairs, fields = [], {}
    for raw in values.getlist("entry_id"):
        try:
            entry_id = int(raw)
        except ValueError:
            raise InvalidInput("Choose entries from the list.", fields={"entry_id": "Not an entry."}) from None
        amount_text = (values.get(f"amount_{entry_id}") or "").strip()
        amount = None
        if amount_text:
            try:
                amount = parse_pounds(amount_text)
            except MoneyError as error:
                fields[f"amount_{entry_id}"] = str(error)
        pairs.append(Pair(statement_line_id=line_id, ledger_entry_id=entry_id, amount_pence=amount))
    if fields:
        raise InvalidInput("Check the amounts.", fields=fields)
    return pairs
