"""Case pages: list and search by reference, open, view, reveal personal details, edit,
record a review, close (with the closing review).

Showing personal details is a POST (it writes the access log) that redirects back to the
case page, which then shows them to that user for REVEAL_SECONDS. The session keeps only
which case was revealed and until when, never the details themselves. The edit form shows
the details too, so the Edit button reveals first.
"""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from inventory import clock, reveals
from inventory.cases import operations, reviews
from inventory.cases.details import read_case_details, read_new_case
from inventory.cases.forms import CaseForm, NewCaseForm, RevealForm, close_form, review_form
from inventory.cases.models import Case, ReviewKind
from inventory.errors import Conflict, NotAllowed
from inventory.extensions import db
from inventory.forms import form_page
from inventory.hooks import Hook
from inventory.pagination import page_args, paginate
from inventory.parsing import Fields
from inventory.permissions import (
    Permission,
    can_manage_case,
    can_raise_request_for,
    can_record_review,
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
    return form_page(form, lambda: operations.create_case(read_new_case(Fields(form.data), source_required=True),
                                                          actor=current_user),
                     done=lambda case: f"Case {case.reference} opened.",
                     next_url=lambda case: url_for("cases.show", case_id=case.id), template="cases/form.html", case=None)


@bp.get("/<int:case_id>")
@permission_required(Permission.VIEW_CASES)
def show(case_id: int):
    case = operations.get_case(current_user, case_id)
    sections = [Markup(html) for html in page_sections.fire(current_user, case) if html is not None]
    personal = can_see_personal_details(current_user, case)
    recorded = db.session.scalars(reviews.reviews_query(case)).all() if personal else []
    return render_template(
        "cases/show.html", case=case, personal=personal, revealed=_revealed(case), sections=sections,
        may_manage=can_manage_case(current_user, case),
        may_raise=can_raise_request_for(current_user, case.organisation_id),
        reviews=recorded, due=reviews.reviews_due(case, {ReviewKind(r.kind) for r in recorded}) if personal else [],
        may_review=can_record_review(current_user, case), today=clock.today(),
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
    # The stored details fill the form only on the GET that follows a logged reveal; a posted
    # form shows back only what was posted (and the recorded referral source, which a radio
    # button cannot unchoose), so a bare POST cannot read them unlogged.
    if request.method == "GET":
        form = CaseForm(obj=case, data={"flags": case.flags, "consent_given": True})
    else:
        form = CaseForm(data={"referral_source": case.referral_source})

    def save():
        # A source once recorded stays; a case from before sources were recorded may stay without one.
        details = read_case_details(Fields(form.data), source_required=case.referral_source is not None)
        return operations.update_case(case, details, actor=current_user)

    return form_page(form, save,
                     done="Case saved.", next_url=url_for("cases.show", case_id=case.id), template="cases/form.html",
                     case=case)


@bp.route("/<int:case_id>/close", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_CASES)
def close(case_id: int):
    """Close the case: the form asks why support ended and the closing review's questions."""
    case = operations.get_case(current_user, case_id)
    if not can_manage_case(current_user, case):
        raise NotAllowed("Only a caseworker of the case's organisation can change it.")
    if not case.is_open:
        raise Conflict("This case is already closed.", code="case_closed")
    form = close_form(reviews.issued_items(case))
    return form_page(form, lambda: operations.close_case(case, form.closing(), actor=current_user),
                     done=f"Case {case.reference} closed; its closing review is recorded.",
                     next_url=url_for("cases.show", case_id=case.id), template="cases/close.html", case=case)


@bp.route("/<int:case_id>/reviews/new", methods=["GET", "POST"])
@permission_required(Permission.RECORD_REVIEWS)
def record_review(case_id: int):
    """Record a 3- or 6-month review (or the closing review of a case closed without one)."""
    case = operations.get_case(current_user, case_id)
    if not can_record_review(current_user, case):
        raise NotAllowed("Only a caseworker of the case's organisation or a coordinator records its reviews.")
    recorded = reviews.recorded_kinds(case)
    kinds = [kind for kind in ReviewKind if kind not in recorded
             and (kind is not ReviewKind.CLOSING or not case.is_open)]
    if not kinds:
        flash("Every review of this case is recorded.", "info")
        return redirect(url_for("cases.show", case_id=case.id))
    wanted = request.args.get("kind", "")
    form = review_form(reviews.issued_items(case), kinds, data={
        "kind": wanted if wanted in kinds else None, "reviewed_on": clock.today()} if request.method == "GET" else None)
    return form_page(form, lambda: reviews.record_review(case, form.review(), actor=current_user),
                     done=lambda review: f"The {review.kind_label.lower()} of case {case.reference} is recorded.",
                     next_url=url_for("cases.show", case_id=case.id, _anchor="reviews"),
                     template="cases/review.html", case=case)


def _revealed(case: Case) -> bool:
    """Whether this user revealed this case's details a short while ago (and may still see them)."""
    return (can_see_personal_details(current_user, case)
            and reveals.recently_revealed("case", case.id))
