"""A case's privacy pages: "anonymise now" (coordinators) and the subject-access export
(whoever sees the case's details). Both ask for the password again when it was typed a
while ago; the export is recorded in the access log before anything is shown.

The export is a POST (it writes the access log), answered with the printable page or the
JSON file itself; its GET is the page that explains it and offers both.
"""
import json

from flask import Blueprint, Response, render_template, url_for
from flask_login import current_user

from inventory.accounts.reauth import reauthentication_required
from inventory.audit.operations import record_access
from inventory.cases import operations as cases
from inventory.cases.models import Case
from inventory.errors import NotFound
from inventory.forms import form_page
from inventory.permissions import (
    Permission,
    can_anonymise_case,
    can_export_subject_access,
    permission_required,
)
from inventory.privacy.forms import AnonymiseForm, ExportForm
from inventory.privacy.operations import anonymise_case
from inventory.privacy.subject_access import subject_access_export

bp = Blueprint("privacy", __name__, url_prefix="/cases")

EXPORT_WHAT = "subject access export"  # as the access log records it


@bp.route("/<int:case_id>/anonymise", methods=["GET", "POST"])
@permission_required(Permission.ANONYMISE_CASES)
@reauthentication_required
def anonymise(case_id: int):
    case = cases.get_case(current_user, case_id)
    form = AnonymiseForm()
    return form_page(form, lambda: anonymise_case(case, reason=form.chosen, actor=current_user),
                     done=f"Case {case.reference} is anonymised: its personal data is erased.",
                     next_url=url_for("cases.show", case_id=case.id), template="privacy/anonymise.html", case=case)


@bp.route("/<int:case_id>/subject-access", methods=["GET", "POST"])
@permission_required(Permission.VIEW_CASES)
@reauthentication_required
def subject_access(case_id: int):
    case = _exportable(case_id)
    form = ExportForm()
    if not form.validate_on_submit():
        return render_template("privacy/subject_access.html", case=case, form=form), 422 if form.errors else 200
    record_access(current_user, case_id=case.id, case_reference=case.reference, what=EXPORT_WHAT,
                  reason="Subject-access request")
    export = subject_access_export(case)
    if form.format.data == "json":
        return Response(json.dumps(export, indent=2, ensure_ascii=False), mimetype="application/json", headers={
            "Content-Disposition": f'attachment; filename="subject-access-{case.reference}.json"',
            "Cache-Control": "no-store"})
    return render_template("privacy/export.html", case=case, export=export)


def _exportable(case_id: int) -> Case:
    case = cases.get_case(current_user, case_id)
    if not can_export_subject_access(current_user, case):
        raise NotFound("No such case.")
    return case


def case_privacy_section(user, case: Case) -> str | None:
    """The case page's privacy part: when it was anonymised and why, or the ways to export or
    anonymise it (connected to `cases.views.page_sections` at app start)."""
    may_export, may_anonymise = can_export_subject_access(user, case), can_anonymise_case(user, case)
    if not (case.is_anonymised or may_export or may_anonymise):
        return None
    return render_template("privacy/_case_section.html", case=case, may_export=may_export,
                           may_anonymise=may_anonymise and not case.is_anonymised)
