"""Two-factor pages: the second step of signing in (a code, or a recovery code), setting it
up when a role requires it, and a person's own two-factor settings."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from inventory.accounts import devices, signing_in, throttle, two_factor
from inventory.accounts.forms import RecoveryCodeForm, SignInCodeForm, TurnOffTwoFactorForm
from inventory.accounts.reauth import reauthentication_required
from inventory.errors import InvalidInput
from inventory.forms import show_error, submitted
from inventory.permissions import login_required, public
from inventory.qr_svg import render_svg
from inventory.unit_of_work import keep

bp = Blueprint("two_factor", __name__)

QR_LABEL = "QR code that adds SafeHold to your authenticator app"


def _start_again():
    flash("Sign in again: that sign-in took too long, or was stopped.", "info")
    return redirect(url_for("accounts.login"))


def _second_step(form, field: str, check, template: str):
    """A code typed to finish a pending sign-in: on success, signed in; a wrong one is
    recorded, and after CODE_FAILURE_LIMIT of them the person starts again."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    user = signing_in.pending_user(signing_in.CODE)
    if user is None:
        return _start_again()
    status = 200
    if form.validate_on_submit():
        attempt = throttle.Attempt(user.email, request.remote_addr, devices.token_from_cookie())
        try:
            throttle.check(attempt)
            left = check(user, form[field].data)
        except throttle.LoginThrottled as error:
            keep()
            show_error(form, error)
            return (render_template(template, form=form, account_email=user.email), error.status,
                    {"Retry-After": str(error.retry_after)})
        except InvalidInput as error:
            keep()  # the wrong code counts, here and in the sign-in throttle
            throttle.failed(attempt)
            if signing_in.code_guesses_left(user) <= 0:
                signing_in.end_pending()
                flash("Too many wrong codes. Sign in again from the start.", "error")
                return redirect(url_for("accounts.login"))
            show_error(form, error)
            status = 422
        else:
            next_url = signing_in.complete_sign_in(user, signing_in.pending_next_url())
            if left is not None:
                flash(f"Recovery code accepted. You have {left} left: make new ones from your account page.",
                      "warning" if left <= 3 else "info")
            return redirect(next_url)
    elif request.method == "POST":
        status = 422
    return render_template(template, form=form, account_email=user.email), status


@bp.route("/login/code", methods=["GET", "POST"])
@public
def sign_in_code():
    return _second_step(SignInCodeForm(), "code", two_factor.check_sign_in_code, "accounts/sign_in_code.html")


@bp.route("/login/recovery", methods=["GET", "POST"])
@public
def sign_in_recovery():
    return _second_step(RecoveryCodeForm(), "recovery_code", two_factor.check_recovery_code,
                        "accounts/sign_in_recovery.html")


def _set_up_page(user, form, **context):
    enrolment = two_factor.enrolment_for(user)
    qr = render_svg(enrolment.uri, label=QR_LABEL) if enrolment else None
    return render_template("accounts/two_factor.html", form=form, enrolment=enrolment, qr=qr,
                           account_email=user.email, **context)


@bp.route("/login/set-up-two-factor", methods=["GET", "POST"])
@public
def set_up_at_sign_in():
    """A person whose role requires two-factor sets it up before they are signed in."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    user = signing_in.pending_user(signing_in.ENROL)
    if user is None:
        return _start_again()
    form = SignInCodeForm()
    codes = submitted(form, lambda: two_factor.confirm_enrolment(user, form.code.data))
    if codes:
        next_url = signing_in.complete_sign_in(user, signing_in.pending_next_url())
        return render_template("accounts/recovery_codes.html", codes=codes, next_url=next_url)
    return _set_up_page(user, form, at_sign_in=True), 422 if form.errors else 200


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def settings():
    """Two-factor on the account page: set it up (confirming with a code), or see it is on."""
    form = SignInCodeForm()
    codes = submitted(form, lambda: two_factor.confirm_enrolment(current_user, form.code.data))
    if codes:
        return render_template("accounts/recovery_codes.html", codes=codes, next_url=url_for("two_factor.settings"))
    return _settings_page(form=form, off_form=TurnOffTwoFactorForm(formdata=None))


def _settings_page(*, form, off_form):
    status = 422 if form.errors or off_form.errors else 200
    return _set_up_page(current_user, form, off_form=off_form, at_sign_in=False,
                        required=two_factor.is_required_for(current_user),
                        codes_left=two_factor.recovery_codes_left(current_user)), status


@bp.post("/account/two-factor/start")
@login_required
def start():
    two_factor.begin_enrolment(current_user)
    return redirect(url_for("two_factor.settings"))


@bp.post("/account/two-factor/recovery-codes")
@login_required
@reauthentication_required
def new_recovery_codes():
    codes = two_factor.regenerate_recovery_codes(current_user)
    return render_template("accounts/recovery_codes.html", codes=codes, next_url=url_for("two_factor.settings"))


@bp.post("/account/two-factor/off")
@login_required
def turn_off():
    off_form = TurnOffTwoFactorForm()
    if submitted(off_form, lambda: two_factor.disable_second_factor(current_user, password=off_form.password.data)):
        flash("Two-factor sign-in is off.", "success")
        return redirect(url_for("two_factor.settings"))
    return _settings_page(form=SignInCodeForm(formdata=None), off_form=off_form)
