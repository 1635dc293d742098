"""Case pages: list and search by reference, open, view (personal details on request,
logged), edit, close."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from inventory.cases import operations
from inventory.cases.forms import CaseForm, NewCaseForm
from inventory.cases.models import Case
from inventory.extensions import db
from inventory.forms import submitted
from inventory.pagination import page_args, paginate
from inventory.permissions import (
    CaseAccess,
    Permission,
    case_access,
    can_raise_request_for,
    permission_required,
)
from inventory.requests.models import EquipmentRequest

bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.get("")
@permission_required(Permission.VIEW_CASES)
def index():
    page, per_page = page_args()
    search = request.args.get("q", "").strip()
    query = operations.visible_cases(current_user, reference=search).options(selectinload(Case.organisation))
    return render_template("cases/index.html", page=paginate(query, page, per_page), search=search)


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_CASES)
def new():
    form = NewCaseForm()
    case = submitted(form, lambda: operations.create_case(form.details(), actor=current_user))
    if case is not None:
        flash(f"Case {case.reference} opened.", "success")
        return redirect(url_for("cases.show", case_id=case.id))
    return render_template("cases/form.html", form=form, case=None), 422 if form.errors else 200


@bp.get("/<int:case_id>")
@permission_required(Permission.VIEW_CASES)
def show(case_id: int):
    case = operations.get_case(current_user, case_id)
    revealed = False
    if request.args.get("reveal") == "1":
        revealed = operations.reveal_personal_details(current_user, case, reason="Opened on the case page")
        db.session.commit()
    access = case_access(current_user, case.organisation_id)
    requests = db.session.scalars(
        select(EquipmentRequest).where(EquipmentRequest.case_id == case.id)
        .order_by(EquipmentRequest.submitted_at.desc())).all() if access is CaseAccess.PERSONAL else []
    return render_template(
        "cases/show.html", case=case, revealed=revealed, requests=requests, access=access, CaseAccess=CaseAccess,
        may_manage=access is CaseAccess.PERSONAL and can_raise_request_for(current_user, case.organisation_id),
    )


@bp.route("/<int:case_id>/edit", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_CASES)
def edit(case_id: int):
    case = operations.get_case(current_user, case_id)
    data = None
    if request.method == "GET":
        operations.reveal_personal_details(current_user, case, reason="Editing the case")
        db.session.commit()
        data = {"flags": case.flags, "consent_given": True}
    form = CaseForm(obj=case, data=data)
    if submitted(form, lambda: operations.update_case(case, form.details(), actor=current_user)):
        flash("Case saved.", "success")
        return redirect(url_for("cases.show", case_id=case.id))
    return render_template("cases/form.html", form=form, case=case), 422 if form.errors else 200


@bp.post("/<int:case_id>/close")
@permission_required(Permission.MANAGE_CASES)
def close(case_id: int):
    case = operations.get_case(current_user, case_id)
    operations.close_case(case, actor=current_user)
    db.session.commit()
    flash(f"Case {case.reference} closed.", "success")
    return redirect(url_for("cases.show", case_id=case.id))
