"""Case pages: list and search by reference, open, view, reveal personal details, edit, close.

Showing personal details is a POST (it writes the access log) that redirects back to the
case page, which then shows them to that user for REVEAL_SECONDS. The session keeps only
which case was revealed and until when, never the details themselves. The edit form shows
the details too, so the Edit button reveals first.
"""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from inventory import reveals
from inventory.cases import operations
from inventory.cases.details import read_case_details, read_new_case
from inventory.cases.forms import CaseForm, NewCaseForm, RevealForm
from inventory.cases.models import Case
from inventory.errors import NotAllowed
from inventory.forms import form_page
from inventory.hooks import Hook
from inventory.pagination import page_args, paginate
from inventory.parsing import Fields
from inventory.permissions import (
    Permission,
    can_manage_case,
    can_raise_request_for,
    can_see_personal_details,
    permission_required,
)

bp = Blueprint("cases", __name__, url_prefix="/cases")

page_sections = Hook("case_page_sections",
                     "Parts of the case page that features built on cases own (its requests): receivers "
                     "`(user, case)` return the section's HTML, or None to show nothing.")

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
    return form_page(form, lambda: operations.create_case(read_new_case(Fields(form.data)), actor=current_user),
                     done=lambda case: f"Case {case.reference} opened.",
                     next_url=lambda case: url_for("cases.show", case_id=case.id), template="cases/form.html", case=None)


@bp.get("/<int:case_id>")
@permission_required(Permission.VIEW_CASES)
def show(case_id: int):
    case = operations.get_case(current_user, case_id)
    sections = [Markup(html) for html in page_sections.fire(current_user, case) if html is not None]
    return render_template(
        "cases/show.html", case=case, personal=can_see_personal_details(current_user, case),
        revealed=_revealed(case), sections=sections,
        may_manage=can_manage_case(current_user, case),
        may_raise=can_raise_request_for(current_user, case.organisation_id),
    )


@bp.post("/<int:case_id>/reveal")
@permission_required(Permission.VIEW_CASES)
def reveal(case_id: int):
    """Log a view of the personal details, then show them (on the case page, or the edit form)."""
    case = operations.get_case(current_user, case_id)
    form = RevealForm()
    purpose = form.purpose.data if form.validate_on_submit() else "show"
    if purpose == "edit" and not can_manage_case(current_user, case):
        raise NotAllowed("Only a caseworker of the case's organisation can change it.")
    if operations.reveal_personal_details(current_user, case, reason=RevealForm.REASONS[purpose]):
        reveals.remember("case", case.id)
    target = "cases.edit" if purpose == "edit" else "cases.show"
    return redirect(url_for(target, case_id=case.id), 303)


@bp.route("/<int:case_id>/edit", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_CASES)
def edit(case_id: int):
    case = operations.get_case(current_user, case_id)
    if not can_manage_case(current_user, case):
        raise NotAllowed("Only a caseworker of the case's organisation can change it.")
    if request.method == "GET" and not _revealed(case):
        flash("Editing shows the personal details: use the Edit button, which records that in the access log.",
              "info")
        return redirect(url_for("cases.show", case_id=case.id))
    form = CaseForm(obj=case, data={"flags": case.flags, "consent_given": True} if request.method == "GET" else None)
    return form_page(form, lambda: operations.update_case(case, read_case_details(Fields(form.data)),
                                                          actor=current_user),
                     done="Case saved.", next_url=url_for("cases.show", case_id=case.id), template="cases/form.html",
                     case=case)


@bp.post("/<int:case_id>/close")
@permission_required(Permission.MANAGE_CASES)
def close(case_id: int):
    case = operations.get_case(current_user, case_id)
    operations.close_case(case, actor=current_user)
    flash(f"Case {case.reference} closed.", "success")
    return redirect(url_for("cases.show", case_id=case.id))


def _revealed(case: Case) -> bool:
    """Whether this user revealed this case's details a short while ago (and may still see them)."""
    return (can_see_personal_details(current_user, case)
            and reveals.recently_revealed("case", case.id))
