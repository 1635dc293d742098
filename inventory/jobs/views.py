"""Job pages: the coordinator's list, scheduling form, loans due back and collection
booking; the fitter's "My jobs", the job (with the address on a deliberate tap), the scan
page, the handover checklist and closing."""
from datetime import timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from inventory import clock, reveals
from inventory.cases.models import Case
from inventory.errors import Conflict, InvalidInput
from inventory.extensions import db
from inventory.forms import form_page, held_form, hold_for_next_page, show_error, submitted
from inventory.jobs import queries
from inventory.jobs.booking import schedule_collection, schedule_job
from inventory.jobs.completion import complete_job
from inventory.jobs.contact import reveal_contact
from inventory.jobs.handover import involves_connected_device, record_handover_checks
from inventory.jobs.forms import (
    ChecklistForm,
    CollectionForm,
    EmptyForm,
    HandoverChecksForm,
    ReturnConditionForm,
    ScheduleForm,
)
from inventory.jobs.inputs import completion_from_form, usual_window
from inventory.jobs.issuing import record_checklist
from inventory.jobs.models import HANDOVER_CHECKS, CheckStage, NotCollectedReason, NotIssuedReason
from inventory.pagination import page_args, paginate
from inventory.parsing import Fields
from inventory.permissions import (
    Permission,
    has_permission,
    can_reveal_contact,
    can_work_on_job,
    permission_required,
)
from inventory.unit_of_work import undo

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

WHEN = {"today": "Today", "upcoming": "Upcoming", "done": "Done"}


@bp.get("/")
@permission_required(Permission.SCHEDULE_JOBS)
def index():
    page, per_page = page_args()
    result = paginate(queries.jobs_query(current_user), page, per_page)
    waiting = db.session.scalars(queries.schedulable_requests_query().limit(20)).all()
    return render_template("jobs/index.html", page=result, waiting=waiting)


def _schedule_choices(form: ScheduleForm) -> ScheduleForm:
    form.request_id.choices = [SelectChoice(r.id, f"#{r.id} · {r.case.reference} · {r.state_enum.label}")
                               for r in db.session.scalars(queries.schedulable_requests_query().limit(200))]
    form.fitter_id.choices = [SelectChoice(u.id, u.name) for u in queries.fitter_choices()]
    return form


@bp.route("/schedule", methods=["GET", "POST"])
@permission_required(Permission.SCHEDULE_JOBS)
def schedule():
    chosen = Fields(request.args, text=True).record_id("request_id", required=False)  # a bad one is ignored
    starts, ends = usual_window()
    form = _schedule_choices(ScheduleForm(request_id=chosen, window_starts=starts, window_ends=ends))
    return form_page(form, lambda: schedule_job(form.booking(), actor=current_user),
                     done=lambda job: f"Job {job.id} booked for {job.fitter.name}.", next_url=_job_url,
                     template="jobs/schedule.html")


def _job_url(job) -> str:
    return url_for("jobs.show", job_id=job.id)


LOAN_VIEWS = {"due": "Due soon or overdue", "all": "All out on loan"}


@bp.get("/loans")
@permission_required(Permission.SCHEDULE_JOBS)
def loans():
    """Loaned units out with survivors, soonest due first, to book collections from."""
    show = request.args.get("show", "due")
    show = show if show in LOAN_VIEWS else "due"
    within = current_app.config["LOANS_DUE_WITHIN_DAYS"]
    due_by = clock.today() + timedelta(days=within) if show == "due" else None
    page, per_page = page_args()
    result = paginate(queries.loans_out_query(due_by=due_by), page, per_page)
    return render_template("jobs/loans.html", page=result, loans=queries.loans_out(result.items), show=show,
                           tabs=LOAN_VIEWS, within=within)


@bp.route("/collect/<int:case_id>", methods=["GET", "POST"])
@permission_required(Permission.SCHEDULE_JOBS)
def collect(case_id: int):
    """Book a visit to take chosen items back from a case; loans due soon are ticked."""
    case = db.get_or_404(Case, case_id)
    if request.method == "GET":
        booked = queries.open_collection_for(case.id)
        if booked is not None:
            flash(f"A collection from {case.reference} is already booked: job {booked}.", "info")
            return redirect(url_for("jobs.show", job_id=booked))
    out = queries.items_out_with(case.id)
    if not out and request.method == "GET":
        flash(f"Nothing is out with {case.reference}: there is nothing to collect.", "info")
        return redirect(url_for("jobs.loans"))
    due_by = clock.today() + timedelta(days=current_app.config["LOANS_DUE_WITHIN_DAYS"])
    ticked = [item.id for item, handover in out if handover is not None and handover.return_due_on is not None
              and handover.return_due_on <= due_by]
    starts, ends = usual_window()
    form = CollectionForm(item_ids=ticked, window_starts=starts, window_ends=ends)
    form.item_ids.choices = [SelectChoice(item.id, _collect_label(item, handover)) for item, handover in out]
    form.fitter_id.choices = [SelectChoice(u.id, u.name) for u in queries.fitter_choices()]
    return form_page(form, lambda: schedule_collection(form.booking(case.id), actor=current_user),
                     done=lambda job: f"Collection booked: job {job.id} for {job.fitter.name}.", next_url=_job_url,
                     template="jobs/collect.html", case=case)


def _collect_label(item, handover) -> str:
    label = f"{item.item_type.name} {item.code}"
    if handover is None or not handover.loaned:
        return f"{label} (gifted)"
    return f"{label} (loan due back {handover.return_due_on.strftime('%d %b %Y')})"


@bp.get("/mine")
@permission_required(Permission.SCAN_ITEMS)
def mine():
    when = request.args.get("show", "today")
    when = when if when in WHEN else "today"
    page, per_page = page_args()
    result = paginate(queries.my_jobs_query(current_user, when=when), page, per_page)
    return render_template("jobs/mine.html", page=result, when=when, tabs=WHEN, today=clock.today(),
                           items=queries.items_by_job(result.items))


def _revealed_contact(job):
    """The job's survivor, if this user revealed their contact here moments ago and may still."""
    if can_reveal_contact(current_user, job) and reveals.recently_revealed("job", job.id):
        return job.case
    return None


def _job_page(job):
    """The job, with the details revealed moments ago and any refused form held for this GET."""
    view = queries.job_view(job)
    contact = _revealed_contact(job)
    forms = {row.id: _checklist_form(job, row.id) for row in view.checklists_due}
    chosen, completion_errors = held_form(f"job:{job.id}:complete") or ({}, {})
    handover = involves_connected_device(view)
    response = make_response(render_template(
        "jobs/show.html", view=view, job=job, contact=contact, checklist_forms=forms, button=EmptyForm(),
        contact_seconds=reveals.seconds_left("job", job.id) if contact is not None else 0,
        handover=handover, handover_checks=HANDOVER_CHECKS, stages=list(CheckStage),
        handover_form=_handover_form(job) if handover else None,
        reasons=list(NotCollectedReason if job.is_collection else NotIssuedReason),
        chosen_reasons=chosen, completion_errors=completion_errors,
        may_work=can_work_on_job(current_user, job), may_reveal=can_reveal_contact(current_user, job),
        label_ids=[item.id for item in view.items] if has_permission(current_user, Permission.PRINT_LABELS)
        else []))
    if contact is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


def _checklist_form(job, job_item_id: int) -> ChecklistForm:
    """A blank checklist, or the one just refused: as it was posted, with its errors."""
    return _held_or_new(ChecklistForm, f"job:{job.id}:checklist:{job_item_id}", prefix=f"c{job_item_id}")


def _handover_form(job) -> HandoverChecksForm:
    """The widened handover's form: the answers stored so far, or the one just refused."""
    stored = {check.key: getattr(job, check.key) for check in HANDOVER_CHECKS}
    return _held_or_new(HandoverChecksForm, f"job:{job.id}:handover", prefix="h", data=stored)


def _held_or_new(form_class, where: str, *, prefix: str, data: dict | None = None):
    """A form showing `data`, or the one refused at `where` moments ago: as it was posted,
    with its errors (post-redirect-get)."""
    held = held_form(where)
    if held is None:
        return form_class(formdata=None, prefix=prefix, data=data)
    posted, errors = held
    form = form_class(formdata=MultiDict([(name, value) for name, values in posted.items() for value in values]),
                      prefix=prefix, data=data)
    for name, messages in errors.items():
        if name in form and name != "csrf_token":
            form[name].errors = list(messages)
        else:
            form.form_errors.extend(messages)
    return form


def _hold_refused(where: str, form) -> None:
    """Keep a refused form's posted values and errors for the job page's next GET."""
    posted = {name: request.form.getlist(name) for name in request.form if not name.endswith("csrf_token")}
    errors = {name or "": messages for name, messages in form.errors.items()}
    errors[""] = [*errors.get("", []), *form.form_errors]
    hold_for_next_page(where, data=posted, errors={name: m for name, m in errors.items() if m})


def _back_to_the_job(job_id: int, *, at: str | None = None):
    """Post-redirect-get: after a form on the job page, its GET (Back never resubmits)."""
    return redirect(url_for("jobs.show", job_id=job_id, _anchor=at))


@bp.get("/<int:job_id>")
@permission_required(Permission.SCAN_ITEMS)
def show(job_id: int):
    return _job_page(queries.get_job(current_user, job_id))


@bp.post("/<int:job_id>/contact")
@permission_required(Permission.SCAN_ITEMS)
def contact(job_id: int):
    """Log the reveal, then show the job page with the details (post-redirect-get)."""
    job = queries.get_job(current_user, job_id)
    if EmptyForm().validate_on_submit():
        reveal_contact(job, actor=current_user)
        reveals.remember("job", job.id)
    return redirect(url_for("jobs.show", job_id=job_id), 303)


@bp.post("/<int:job_id>/contact/hide")
@permission_required(Permission.SCAN_ITEMS)
def hide_contact(job_id: int):
    """Hide the revealed details again before their time is up (nothing to log: nothing is shown)."""
    queries.get_job(current_user, job_id)  # 404 unless this user may see the job
    if EmptyForm().validate_on_submit():
        reveals.forget("job", job_id)
    return _back_to_the_job(job_id)


@bp.post("/<int:job_id>/checklist/<int:job_item_id>")
@permission_required(Permission.SCAN_ITEMS)
def checklist(job_id: int, job_item_id: int):
    queries.get_job(current_user, job_id)  # 404 unless this user may see the job
    form = ChecklistForm(prefix=f"c{job_item_id}")
    if submitted(form, lambda: record_checklist(job_id, job_item_id, form.ticked(), actor=current_user)):
        flash("Handover checklist done.", "success")
        return _back_to_the_job(job_id)
    # Refused: the job page shows the checklist as posted, with its errors, on the next GET.
    _hold_refused(f"job:{job_id}:checklist:{job_item_id}", form)
    return _back_to_the_job(job_id, at=f"checklist-{job_item_id}")


@bp.post("/<int:job_id>/handover")
@permission_required(Permission.SCAN_ITEMS)
def handover_checks(job_id: int):
    """Save the widened handover's answers given so far, then back to the job."""
    job = queries.get_job(current_user, job_id)
    stored = {check.key: getattr(job, check.key) for check in HANDOVER_CHECKS}
    form = HandoverChecksForm(prefix="h", data=stored)
    at_install = any(f"h-{check.key}" in request.form for check in HANDOVER_CHECKS
                     if check.stage is CheckStage.AT_INSTALL)
    anchor = "handover-install" if at_install else "handover"
    if not form.validate_on_submit():
        _hold_refused(f"job:{job_id}:handover", form)
        return _back_to_the_job(job_id, at=anchor)
    try:
        record_handover_checks(job_id, form.answers(), actor=current_user)
    except InvalidInput as error:
        undo()
        show_error(form, error)
        _hold_refused(f"job:{job_id}:handover", form)
        return _back_to_the_job(job_id, at=anchor)
    except Conflict as error:  # the job is closed, or has nothing connected: nothing to show the form for
        undo()
        flash(error.message, "error")
        return redirect(url_for("jobs.show", job_id=job_id), 303)
    left = job.unanswered()
    flash("Handover answers saved." + (f" {len(left)} still to answer." if left else " Every point is answered."),
          "success")
    return _back_to_the_job(job_id, at=anchor)


@bp.post("/<int:job_id>/complete")
@permission_required(Permission.SCAN_ITEMS)
def complete(job_id: int):
    job = queries.get_job(current_user, job_id)  # 404 unless this user may see the job
    if not EmptyForm().validate_on_submit():
        return _back_to_the_job(job_id)
    try:
        complete_job(job_id, completion_from_form(request.form, collection=job.is_collection), actor=current_user)
    except InvalidInput as error:
        undo()
        # The reasons chosen so far, and which items still need one, for the job page's next GET.
        chosen = {name: value for name, value in request.form.items()
                  if name.startswith("reason_") and name.removeprefix("reason_").isdecimal()}
        hold_for_next_page(f"job:{job_id}:complete", data=chosen, errors=error.fields)
        return _back_to_the_job(job_id, at="close-the-job")
    except Conflict as error:
        undo()
        flash(error.message, "error")
        return _back_to_the_job(job_id)
    flash("Job completed.", "success")
    return redirect(url_for("jobs.mine", show="done"))


@bp.get("/<int:job_id>/scan")
@permission_required(Permission.SCAN_ITEMS)
def scan(job_id: int):
    """Scan items on a job: hand them over, or take them back (always, on a collection)."""
    job = queries.get_job(current_user, job_id)
    action = "return" if job.is_collection or request.args.get("action") == "return" else "issue"
    return render_template("jobs/scan.html", job=job, action=action, view=queries.job_view(job),
                           condition_form=ReturnConditionForm(formdata=None))


@bp.get("/scan")
@permission_required(Permission.SCAN_ITEMS)
def scan_any():
    """Look an item up, or take one back at the office."""
    action = "return" if request.args.get("action") == "return" and has_permission(
        current_user, Permission.MANAGE_STOCK) else "lookup"
    return render_template("jobs/scan.html", job=None, action=action, view=None,
                           condition_form=ReturnConditionForm(formdata=None))
