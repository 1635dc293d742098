"""Admin pages: users, organisations, and the approvals one admin asks of another."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from wtforms.fields.choices import SelectChoice

from inventory.accounts import approvals, operations
from inventory.accounts.forms import (
    ButtonForm,
    DecisionForm,
    NewUserForm,
    OrganisationForm,
    ResetPasswordForm,
    UserForm,
)
from inventory.accounts.models import AdminApproval, Organisation, User
from inventory.accounts.queries import tokens_of
from inventory.accounts.reauth import reauthentication_required
from inventory.errors import Conflict
from inventory.extensions import db
from inventory.forms import form_page, on_record_page, submitted
from inventory.pagination import page_args, paginate
from inventory.parsing import Fields
from inventory.permissions import Permission, Role, permission_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _organisation_choices():
    organisations = db.session.scalars(
        select(Organisation).where(Organisation.active.is_(True)).order_by(Organisation.kind, Organisation.name)
    )
    return [SelectChoice(o.id, o.name) for o in organisations]


@bp.get("/users")
@permission_required(Permission.MANAGE_USERS)
def users():
    page, per_page = page_args()
    query = select(User).order_by(User.active.desc(), User.name, User.id)
    search = request.args.get("q", "").strip()
    if search:
        like = f"%{search.lower()}%"
        query = query.where(or_(User.email.like(like), User.name.ilike(like)))
    role = Fields(request.args, text=True).choice("role", Role, required=False)  # an unknown role is ignored
    if role is not None:
        query = query.where(User.holding(role))
    return render_template("admin/users.html", page=paginate(query, page, per_page), search=search, role=role,
                           roles=list(Role))


def _waiting_message(user: User, done: str) -> str:
    """What was done, and which roles now wait for a second admin (and, if no other admin
    can give it, the way out)."""
    waiting = approvals.pending_for(user)
    if not waiting:
        return done
    asked = "; ".join(approvals.describe(a) for a in waiting)
    message = f"{done} Waiting for a second admin's approval: {asked}."
    if not all(approvals.deciders_exist(a) for a in waiting):
        message += (" No other active admin can approve it: the server's operator can give it with "
                    "`flask --app inventory grant-role EMAIL ROLE --reason TEXT` (audited).")
    return message


def _form_roles(user: User) -> list[str]:
    """The roles ticked on the user's form: those held, and those waiting for approval."""
    waiting = [a.values["role"] for a in approvals.pending_for(user) if a.kind == "grant_role"]
    return sorted({*user.roles, *waiting})


@bp.route("/users/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_USERS)
@reauthentication_required(methods={"POST"})
def new_user():
    form = NewUserForm()
    form.organisation_id.choices = _organisation_choices()
    return form_page(form, lambda: operations.create_user(
        email=form.email.data, name=form.name.data, organisation=db.session.get(Organisation, form.organisation_id.data),
        roles=form.roles.data, password=form.password.data, actor=current_user),
        done=lambda user: _waiting_message(user, f"Created {user.email}."), next_url=url_for("admin.users"),
        template="admin/user_form.html", user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_USERS)
@reauthentication_required(methods={"POST"})
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user)
    if request.method == "GET":
        form.roles.data = _form_roles(user)  # held, and waiting for approval
    form.organisation_id.choices = _organisation_choices()
    return form_page(form, lambda: operations.update_user(
        user, email=form.email.data, name=form.name.data,
        organisation=db.session.get(Organisation, form.organisation_id.data), roles=form.roles.data,
        actor=current_user),
        done=lambda _: _waiting_message(user, "Saved."), next_url=url_for("admin.users"),
        template="admin/user_form.html", user=user, reset_form=ResetPasswordForm(formdata=None),
        tokens=tokens_of(user), waiting=approvals.pending_for(user), describe=approvals.describe)


@bp.post("/users/<int:user_id>/deactivate")
@permission_required(Permission.MANAGE_USERS)
def deactivate_user(user_id: int):
    return _change_user(user_id, operations.deactivate_user, "{email} is deactivated and signed out everywhere.")


@bp.post("/users/<int:user_id>/reactivate")
@permission_required(Permission.MANAGE_USERS)
def reactivate_user(user_id: int):
    return _change_user(user_id, operations.reactivate_user, "{email} is active again.")


@bp.post("/users/<int:user_id>/two-factor/reset")
@permission_required(Permission.MANAGE_USERS)
@reauthentication_required
def reset_second_factor(user_id: int):
    """Ask for someone's two-factor sign-in to be reset (a lost phone): a second admin approves
    it on the approvals page (four eyes), and only then is it done."""
    user = db.get_or_404(User, user_id)
    if user.id == current_user.id:
        raise Conflict("You cannot reset your own two-factor sign-in; ask another admin.",
                       code="cannot_reset_own_second_factor")
    approvals.request_approval("reset_second_factor", user, actor=current_user)
    flash(_waiting_message(user, "Reset of their two-factor sign-in asked for."), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


def _change_user(user_id: int, change, done: str):
    """A button on the user's page: make the change, say so, and show the page again."""
    user = db.get_or_404(User, user_id)
    change(user, actor=current_user)
    flash(done.format(email=user.email), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/password")
@permission_required(Permission.MANAGE_USERS)
def reset_password(user_id: int):
    user = db.get_or_404(User, user_id)
    reset_form = ResetPasswordForm()
    if submitted(reset_form, lambda: operations.set_password(user, reset_form.password.data, actor=current_user)):
        flash(f"Password reset for {user.email}; their sessions have ended.", "success")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    form = UserForm(obj=user)
    form.roles.data = _form_roles(user)
    form.organisation_id.choices = _organisation_choices()
    return render_template("admin/user_form.html", form=form, user=user, reset_form=reset_form,
                           tokens=tokens_of(user), waiting=approvals.pending_for(user),
                           describe=approvals.describe), 422


@bp.post("/users/<int:user_id>/tokens/<int:token_id>/revoke")
@permission_required(Permission.MANAGE_USERS)
def revoke_token(user_id: int, token_id: int):
    """An admin revokes one of any user's API tokens (audited, with the admin as actor)."""
    user = db.get_or_404(User, user_id)
    operations.revoke_api_token(user, token_id, actor=current_user)
    flash(f"Token revoked for {user.email}.", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


# Approvals (four eyes) -------------------------------------------------------------------

@bp.get("/approvals")
@permission_required(Permission.MANAGE_USERS)
def approval_list():
    """Requests waiting for a second admin (each with its decision form), and those decided."""
    return _approvals_page()


def _approvals_page(*, forms=None, status=200):
    page, per_page = page_args()
    decided = (select(AdminApproval).where(AdminApproval.outcome.is_not(None))
               .order_by(AdminApproval.decided_at.desc(), AdminApproval.id.desc()))
    waiting = db.session.scalars(approvals.pending_query()).all()
    forms = forms or {}
    return render_template(
        "admin/approvals.html", waiting=waiting, page=paginate(decided, page, per_page), describe=approvals.describe,
        forms={a.id: forms.get(a.id) or DecisionForm(prefix=f"a{a.id}", formdata=None) for a in waiting},
        button_form=ButtonForm()), status


@bp.post("/approvals/<int:approval_id>/<any(approve, refuse):decision>")
@permission_required(Permission.MANAGE_USERS)
@reauthentication_required
def decide_approval(approval_id: int, decision: str):
    """A second admin approves or refuses, saying why."""
    approval = db.get_or_404(AdminApproval, approval_id)
    form = DecisionForm(prefix=f"a{approval_id}")
    decide = approvals.approve if decision == "approve" else approvals.refuse
    return on_record_page(
        form, lambda: decide(approval, actor=current_user, reason=form.reason.data),
        record_url=url_for("admin.approval_list"),
        page=lambda: _approvals_page(forms={approval.id: form}, status=422),
        done=f"{approvals.describe(approval)} to {approval.subject_user.email}: "
             f"{'approved and done' if decision == 'approve' else 'refused'}.")


@bp.post("/approvals/<int:approval_id>/withdraw")
@permission_required(Permission.MANAGE_USERS)
def withdraw_approval(approval_id: int):
    """The admin who asked takes the request back."""
    approval = db.get_or_404(AdminApproval, approval_id)
    return on_record_page(ButtonForm(), lambda: approvals.withdraw(approval, actor=current_user),
                          record_url=url_for("admin.approval_list"), page=lambda: redirect(url_for("admin.approval_list")),
                          done="Request withdrawn.")


@bp.get("/organisations")
@permission_required(Permission.MANAGE_ORGANISATIONS)
def organisations():
    rows = db.session.scalars(select(Organisation).order_by(Organisation.kind, Organisation.name)).all()
    return render_template("admin/organisations.html", organisations=rows)


@bp.route("/organisations/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_ORGANISATIONS)
def new_organisation():
    form = OrganisationForm()
    return form_page(form, lambda: operations.create_organisation(
        name=form.name.data, kind=form.kind.data, case_reference_prefix=form.case_reference_prefix.data,
        actor=current_user),
                     done="Organisation created.", next_url=url_for("admin.organisations"),
                     template="admin/organisation_form.html", organisation=None)


@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_ORGANISATIONS)
def edit_organisation(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    form = OrganisationForm(obj=organisation)
    del form.kind  # an organisation's kind is fixed once created
    return form_page(form, lambda: operations.update_organisation(
        organisation, name=form.name.data, active=form.active.data,
        case_reference_prefix=form.case_reference_prefix.data, actor=current_user),
                     done="Saved.", next_url=url_for("admin.organisations"),
                     template="admin/organisation_form.html", organisation=organisation)
