from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from inventory.accounts.models import OrganisationKind
from inventory.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from inventory.forms import CheckboxesField, StaffEmail
from inventory.permissions import Role

ROLE_CHOICES = [SelectChoice(str(r), r.label) for r in Role]


# Password managers fill what `autocomplete` names (WHATWG autofill tokens).
class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)], render_kw={"autocomplete": "username"})
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired(), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})


def new_password_field(label="New password"):
    return PasswordField(label, validators=[
        DataRequired(), Length(min=MIN_LENGTH, max=MAX_LENGTH, message=f"Use at least {MIN_LENGTH} characters."),
    ], render_kw={"autocomplete": "new-password"})


def confirm_field():
    return PasswordField("Repeat the password", validators=[
        DataRequired(), EqualTo("password", message="The two passwords differ."),
    ], render_kw={"autocomplete": "new-password"})


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    password = new_password_field()
    confirm = confirm_field()


class ResetPasswordForm(FlaskForm):
    password = new_password_field()
    confirm = confirm_field()


class ApiTokenForm(FlaskForm):
    name = StringField("What is this token for?", validators=[DataRequired(), Length(max=80)])
    # The longest allowed (API_TOKEN_DAYS) when left empty; the use case checks the range.
    days = IntegerField("Days it works", validators=[Optional()], render_kw={"inputmode": "numeric", "min": 1})


class UserForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), StaffEmail(), Length(max=254)])
    organisation_id = SelectField("Organisation", coerce=int,
                                  validators=[DataRequired(message="Choose an organisation.")])
    roles = CheckboxesField("Roles", choices=ROLE_CHOICES,
                            validators=[DataRequired(message="Choose at least one role.")])


class NewUserForm(UserForm):
    password = new_password_field("Initial password")
    confirm = confirm_field()


class OrganisationForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    kind = RadioField("Kind", choices=[SelectChoice(OrganisationKind.LEAD.value, "Lead provider"),
                                       SelectChoice(OrganisationKind.PARTNER.value, "Partner agency")],
                      default=OrganisationKind.PARTNER.value, validators=[DataRequired()])
    case_reference_prefix = StringField("Case reference prefix", render_kw={"autocapitalize": "characters"})
    active = BooleanField("Active", default=True)


class SignInCodeForm(FlaskForm):
    code = StringField("Code from your authenticator app", validators=[DataRequired(), Length(max=20)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autocapitalize": "off",
                                  "spellcheck": "false", "autofocus": True})


class RecoveryCodeForm(FlaskForm):
    recovery_code = StringField("Recovery code", validators=[DataRequired(), Length(max=40)],
                                render_kw={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false",
                                           "autofocus": True})


class TurnOffTwoFactorForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired(), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})
class ButtonForm(FlaskForm):
    """A button that needs only the CSRF token (withdraw a request)."""


class DecisionForm(FlaskForm):
    """A second admin's decision on a request: why they approve or refuse it."""

    reason = TextAreaField("Why", validators=[DataRequired(message="Say why."), Length(max=500)])
