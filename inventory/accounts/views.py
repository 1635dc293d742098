"""Signing in and out, and a user's own account: password, two-factor, devices and API tokens."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from inventory.accounts import devices, operations, two_factor
from inventory.accounts.forms import ApiTokenForm, ChangePasswordForm, ConfirmPasswordForm, LoginForm
from inventory.accounts.reauth import mark_authenticated
from inventory.accounts.signing_in import after_password
from inventory.accounts.operations import SESSION_TOKEN_KEY
from inventory.accounts.queries import tokens_of
from inventory.accounts.throttle import device_token_hash
from inventory.errors import DomainError, InvalidInput
from inventory.forms import show_error, submitted
from inventory.permissions import login_required, public
from inventory.unit_of_work import keep, undo

bp = Blueprint("accounts", __name__)


def safe_next_url(target: str | None) -> str | None:
    """Only same-site relative paths, so ?next= cannot send someone elsewhere."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    refusal = None
    if form.validate_on_submit():
        try:
            user = operations.authenticate(form.email.data, form.password.data, **_attempt_from_here())
        except (operations.InvalidCredentials, operations.LoginThrottled) as error:
            keep()  # the failed attempt counts towards the throttle
            show_error(form, error)
            refusal = error
        else:
            # Signed in now, or on to the second factor (signing_in.py).
            return after_password(user, safe_next_url(request.args.get("next")))
    return _form_page("accounts/login.html", form, refusal)


def _attempt_from_here() -> dict:
    """Where a password check comes from, for the throttle: the client's address and the
    browser's device cookie."""
    return {"address": request.remote_addr, "device_token": devices.token_from_cookie()}


def _form_page(template: str, form, refusal: DomainError | None = None):
    """The form again: 422 with its errors, or 429 with Retry-After (seconds) when throttled."""
    status = refusal.status if refusal is not None else 422 if form.errors else 200
    response = make_response(render_template(template, form=form), status)
    if isinstance(refusal, operations.LoginThrottled):
        response.headers["Retry-After"] = str(refusal.retry_after)
    return response


def _checking_own_password(form, use_case):
    """Like `forms.submitted`, for a form whose use case first checks the signed-in user's
    password: a wrong password or a throttled attempt is kept (it counts towards the
    throttle); any other refusal is undone. Returns (the use case's result or None, the
    refusal or None)."""
    if not form.validate_on_submit():
        return None, None
    try:
        result = use_case()
    except (operations.WrongPassword, operations.LoginThrottled) as error:
        keep()
        show_error(form, error)
        return None, error
    except InvalidInput as error:
        undo()
        show_error(form, error)
        return None, error
    return (True if result is None else result), None


@bp.post("/logout")
@login_required
def logout():
    operations.end_login_session(current_user, session.get(SESSION_TOKEN_KEY))
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.login"))


@bp.get("/account")
@login_required
def account():
    """A person's own account: links to their password, two-factor sign-in and API tokens."""
    return render_template("accounts/account.html", two_factor_required=two_factor.is_required_for(current_user),
                           recovery_codes_left=two_factor.recovery_codes_left(current_user))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    token, refusal = _checking_own_password(form, lambda: operations.change_own_password(
        current_user, current_password=form.current_password.data, new_password=form.password.data,
        **_attempt_from_here()))
    if token:
        session[SESSION_TOKEN_KEY] = token
        flash("Password changed. You were signed out everywhere else.", "success")
        return redirect(url_for("main.home"))
    return _form_page("accounts/change_password.html", form, refusal)


@bp.route("/account/confirm", methods=["GET", "POST"])
@login_required
def confirm_password():
    """Type the password again before a sensitive action; then back to where it was asked."""
    form = ConfirmPasswordForm()
    confirmed, refusal = _checking_own_password(form, lambda: operations.confirm_password(
        current_user, form.password.data, **_attempt_from_here()))
    if confirmed:
        mark_authenticated()
        return redirect(safe_next_url(request.args.get("next")) or url_for("main.home"))
    return _form_page("accounts/confirm_password.html", form, refusal)


@bp.get("/account/devices")
@login_required
def known_devices():
    """The browsers that have signed in as you, and which of them are new."""
    token = devices.token_from_cookie()
    return render_template("accounts/devices.html", devices=devices.devices_of(current_user),
                           new_since=devices.new_since(), this_device=token and device_token_hash(token))


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = ApiTokenForm()
    created = submitted(form, lambda: operations.create_api_token(current_user, name=form.name.data,
                                                                  days=form.days.data))
    new_token = None
    if created:
        _, new_token = created
        form = ApiTokenForm(formdata=None)
    return render_template("accounts/tokens.html", form=form, tokens=tokens_of(current_user), new_token=new_token,
                           longest_days=current_app.config["API_TOKEN_DAYS"]), 422 if form.errors else 200


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    operations.revoke_api_token(current_user, token_id, actor=current_user)
    flash("Token revoked.", "success")
    return redirect(url_for("accounts.tokens"))
