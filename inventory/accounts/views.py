"""Signing in and out, and a user's own account: password and API tokens."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from inventory.accounts import operations
from inventory.accounts.forms import ApiTokenForm, ChangePasswordForm, ConfirmPasswordForm, LoginForm
from inventory.accounts.reauth import mark_authenticated
from inventory.accounts.operations import SESSION_TOKEN_KEY
from inventory.accounts.queries import tokens_of
from inventory.forms import show_error, submitted
from inventory.permissions import login_required, public
from inventory.unit_of_work import keep

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
    status = 200
    if form.validate_on_submit():
        try:
            user = operations.authenticate(form.email.data, form.password.data)
        except (operations.InvalidCredentials, operations.LoginThrottled) as error:
            keep()  # the failed attempt counts towards the lockout
            show_error(form, error)
            status = error.status
        else:
            session.clear()  # a fresh session on every sign-in (no fixation)
            session[SESSION_TOKEN_KEY] = operations.start_login_session(user)
            login_user(user)
            mark_authenticated()
            return redirect(safe_next_url(request.args.get("next")) or url_for("main.home"))
    elif request.method == "POST":
        status = 422
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    operations.end_login_session(current_user, session.get(SESSION_TOKEN_KEY))
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    token = submitted(form, lambda: operations.change_own_password(
        current_user, current_password=form.current_password.data, new_password=form.password.data))
    if token:
        session[SESSION_TOKEN_KEY] = token
        flash("Password changed. You were signed out everywhere else.", "success")
        return redirect(url_for("main.home"))
    return render_template("accounts/change_password.html", form=form), 422 if form.errors else 200


@bp.route("/account/confirm", methods=["GET", "POST"])
@login_required
def confirm_password():
    """Type the password again before a sensitive action; then back to where it was asked."""
    form = ConfirmPasswordForm()
    if submitted(form, lambda: operations.confirm_password(current_user, form.password.data)):
        mark_authenticated()
        return redirect(safe_next_url(request.args.get("next")) or url_for("main.home"))
    return render_template("accounts/confirm_password.html", form=form), 422 if form.errors else 200


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
