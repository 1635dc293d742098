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
from wtforms.fields.choices import SelectChoice

from inventory import clock, reveals
from inventory.cases.models import Case
from inventory.errors import Conflict, InvalidInput
from inventory.extensions import db
from inventory.forms import form_page, submitted
from inventory.jobs import queries
from inventory.jobs.booking import schedule_collection, schedule_job
from inventory.jobs.completion import complete_job
from inventory.jobs.contact import reveal_contact
from inventory.jobs.forms import (
    ChecklistForm,
    CollectionForm,
    EmptyForm,
    ReturnConditionForm,
    ScheduleForm,
)
from inventory.jobs.inputs import completion_from_form, usual_window
from inventory.jobs.issuing import record_checklist
from inventory.jobs.models import NotCollectedReason, NotIssuedReason
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


def _job_page(job, *, status=200, checklist_forms=None, completion_errors=None):
    view = queries.job_view(job)
    contact = _revealed_contact(job)
    forms = {row.id: ChecklistForm(formdata=None, prefix=f"c{row.id}") for row in view.checklists_due}
    forms.update(checklist_forms or {})
    response = make_response(render_template(
        "jobs/show.html", view=view, job=job, contact=contact, checklist_forms=forms, button=EmptyForm(),
        reasons=list(NotCollectedReason if job.is_collection else NotIssuedReason),
        completion_errors=completion_errors or {},
        may_work=can_work_on_job(current_user, job), may_reveal=can_reveal_contact(current_user, job),
        label_ids=[item.id for item in view.items] if has_permission(current_user, Permission.PRINT_LABELS)
        else []), status)
    if contact is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


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


@bp.post("/<int:job_id>/checklist/<int:job_item_id>")
@permission_required(Permission.SCAN_ITEMS)
def checklist(job_id: int, job_item_id: int):
    job = queries.get_job(current_user, job_id)
    form = ChecklistForm(prefix=f"c{job_item_id}")
    if submitted(form, lambda: record_checklist(job_id, job_item_id, form.ticked(), actor=current_user)):
        flash("Handover checklist done.", "success")
        return redirect(url_for("jobs.show", job_id=job_id))
    return _job_page(job, status=422, checklist_forms={job_item_id: form})


@bp.post("/<int:job_id>/complete")
@permission_required(Permission.SCAN_ITEMS)
def complete(job_id: int):
    job = queries.get_job(current_user, job_id)  # 404 unless this user may see the job
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("jobs.show", job_id=job_id))
    try:
        complete_job(job_id, completion_from_form(request.form, collection=job.is_collection), actor=current_user)
    except InvalidInput as error:
        undo()
        return _job_page(queries.get_job(current_user, job_id), status=422, completion_errors=error.fields)
    except Conflict as error:
        undo()
        flash(error.message, "error")
        return redirect(url_for("jobs.show", job_id=job_id))
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
