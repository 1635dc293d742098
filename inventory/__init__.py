"""SafeHold: a ringfenced budget, a priority queue, stock and QR-tagged issuing of safety
equipment for a stalking advocacy service."""
import os
from pathlib import Path

from flask import Flask
from werkzeug.routing import IntegerConverter

from config import config_by_name
from inventory.extensions import csrf, db, login_manager, migrate
from inventory.parsing import MAX_ID
from inventory.unit_of_work import SafeHoldFlask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    app = SafeHoldFlask(
        __name__,
        instance_path=os.environ.get("SAFEHOLD_INSTANCE_PATH", str(PROJECT_ROOT / "instance")),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    config_name = (test_config or {}).get("CONFIG_NAME") or os.environ.get("SAFEHOLD_CONFIG", "development")
    config_class = config_by_name[config_name]
    app.config.from_object(config_class)
    if config_name != "test":
        # Any setting can be overridden as SAFEHOLD_<NAME>, its value read as JSON where it
        # parses (SAFEHOLD_VAT_RECLAIMED=true, SAFEHOLD_MATCH_DATE_WINDOW_DAYS=7).
        app.config.from_prefixed_env("SAFEHOLD")
    app.config.update(test_config or {})
    config_class.prepare(app.config, app.instance_path)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)

    with app.app_context():
        from inventory.database import install_engine_hooks

        install_engine_hooks(db.engine)

    _register_models()
    _connect_hooks(app)
    _register_blueprints(app)
    _register_web_plumbing(app)
    _register_commands(app)
    if app.config["SCHEDULER_IN_PROCESS"]:  # the development server only (`make run`)
        from inventory.scheduling.scheduler import start_in_background

        start_in_background(app)
    return app


def _register_models() -> None:
    # Importing the model modules puts every table on the metadata (for Alembic too).
    from inventory.accounts import models as _accounts  # noqa: F401
    from inventory.api import idempotency as _idempotency  # noqa: F401
    from inventory.audit import models as _audit  # noqa: F401
    from inventory.procurement import models as _procurement  # noqa: F401  (imports catalogue and stock)
    from inventory.budget import models as _budget  # noqa: F401
    from inventory.reconciliation import models as _reconciliation  # noqa: F401
    from inventory.requests import models as _requests  # noqa: F401  (and the cases they are for)
    from inventory.jobs import models as _jobs  # noqa: F401
    from inventory.notifications import models as _notifications  # noqa: F401
    from inventory.scheduling import models as _scheduling  # noqa: F401


def _connect_hooks(app: Flask) -> None:
    """Cross-feature reactions, all in one place: a lower layer fires a hook (inventory.hooks)
    and a higher one reacts, so no feature imports one built on top of it."""
    from inventory.budget.categories import category_deactivating
    from inventory.budget.ledger import entry_reversed, entry_reversing
    from inventory.budget.operations import refuse_to_reverse_refunded
    from inventory.budget.verification import open_commitment_owners
    from inventory.scheduling.jobs import deliver_notices
    from inventory.scheduling.runner import job_finished
    from inventory.catalogue.operations import refuse_to_retire_budget_category_in_use
    from inventory.jobs.queries import item_on_open_job_of, review_dates_for_case
    from inventory.accounts.operations import reference_prefix_claiming
    from inventory.cases.operations import need_changed
    from inventory.cases.references import refuse_prefix_used_elsewhere
    from inventory.cases.reviews import review_dates
    from inventory.cases.views import page_sections
    from inventory.privacy.views import case_privacy_section
    from inventory.procurement.invoices import react_to_reversal
    from inventory.procurement.orders import (
        lines_ordered_for,
        order_cancelling,
        order_raising,
        orders_owning_commitments,
        outstanding_units,
    )
    from inventory.reconciliation.operations import refuse_to_reverse_matched
    from inventory.requests.holdings import requests_owning_commitments, reserve_arrivals
    from inventory.requests.ordering import convert_when_raised, ordered_for_labels, recommit_when_cancelled
    from inventory.requests.priority import rescore_open_requests_for_case
    from inventory.requests.views import case_requests_section
    from inventory.stock.operations import item_on_jobs_of
    from inventory.stock.queries import units_on_order
    from inventory.stock.receiving import units_received
    from inventory.notices import announced, announcement_over
    from inventory.notifications.announcements import close_announced, deliver_now

    # An entry matched to a statement line cannot be reversed until it is unmatched.
    entry_reversing.connect(app, refuse_to_reverse_matched)
    # A budget category that active item types are charged to stays active until they move.
    category_deactivating.connect(app, refuse_to_retire_budget_category_in_use)
    # A direct purchase with refunds standing cannot be reversed (the money would come back twice).
    entry_reversing.connect(app, refuse_to_reverse_refunded)
    # Reversing an invoice's actual or a credit note's credit reverses the whole document;
    # the invoice's order awaits invoicing again, committing what is still to be invoiced.
    entry_reversed.connect(app, react_to_reversal)
    # verify-ledger: money still committed must belong to an open order or a waiting request.
    open_commitment_owners.connect(app, orders_owning_commitments)
    open_commitment_owners.connect(app, requests_owning_commitments)
    # Units that approved requests are waiting for go to them at once: the request they
    # were ordered for first, then highest priority first.
    units_received.connect(app, reserve_arrivals)
    # Stock levels count as on order what raised purchase orders have still to deliver.
    units_on_order.connect(app, outstanding_units)
    # An order raised for requests takes over their commitment for the units it brings;
    # cancelled, it hands the need back to them, committed again.
    order_raising.connect(app, convert_when_raised)
    order_cancelling.connect(app, recommit_when_cancelled)
    # An order's page says which request and case reference each line is for.
    lines_ordered_for.connect(app, ordered_for_labels)
    # A case's risk or flags changed: its open requests move in the queue.
    need_changed.connect(app, rescore_open_requests_for_case)
    # The case page lists the case's requests, which the requests feature finds and shows.
    page_sections.connect(app, case_requests_section)
    # ... and its privacy part: anonymised when and why, or the export and "anonymise now".
    page_sections.connect(app, case_privacy_section)
    # The case page and API list the 3- and 6-month reviews due, from the handovers' review dates.
    review_dates.connect(app, review_dates_for_case)
    # An organisation may not take a case reference prefix that another's cases start with.
    reference_prefix_claiming.connect(app, refuse_prefix_used_elsewhere)
    # A fitter resolves the codes of items on their own open jobs, and no others.
    item_on_jobs_of.connect(app, item_on_open_job_of)
    # What a scheduled job found reaches people as notifications (and closes once it is gone).
    job_finished.connect(app, deliver_notices)
    # What must be told at once (a request for a second admin, reveals beyond the rate) too;
    # a decided request's notifications close.
    announced.connect(app, deliver_now)
    announcement_over.connect(app, close_announced)


class RecordIdConverter(IntegerConverter):
    """`<int:...>` in a route matches record ids only (1 to 2⁶³−1): a larger number names no
    record, so it is a 404 rather than an error from the database driver."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def _register_blueprints(app: Flask) -> None:
    app.url_map.converters["int"] = RecordIdConverter
    from inventory.accounts.admin_views import bp as admin_bp
    from inventory.accounts.audit_views import bp as audit_bp
    from inventory.accounts.two_factor_views import bp as two_factor_bp
    from inventory.accounts.views import bp as accounts_bp
    from inventory.api import bp as api_bp, register_api_modules
    from inventory.budget.views import bp as budget_bp
    from inventory.cases.views import bp as cases_bp
    from inventory.catalogue.views import bp as catalogue_bp
    from inventory.jobs.views import bp as jobs_bp
    from inventory.main.views import bp as main_bp
    from inventory.notifications.views import bp as notifications_bp
    from inventory.privacy.views import bp as privacy_bp
    from inventory.procurement.views import bp as procurement_bp
    from inventory.reconciliation.views import bp as reconciliation_bp
    from inventory.reports.views import bp as reports_bp
    from inventory.requests.views import bp as requests_bp
    from inventory.scheduling.views import bp as scheduling_bp
    from inventory.stock.views import bp as stock_bp

    register_api_modules()
    for blueprint in (main_bp, accounts_bp, two_factor_bp, admin_bp, audit_bp, budget_bp, reconciliation_bp,
                      catalogue_bp, stock_bp, procurement_bp, cases_bp, privacy_bp, requests_bp, jobs_bp,
                      notifications_bp, scheduling_bp, reports_bp,
                      api_bp):
        app.register_blueprint(blueprint)


def _register_web_plumbing(app: Flask) -> None:
    from inventory import web

    web.init_app(app)


def _register_commands(app: Flask) -> None:
    from inventory.accounts.cli import create_admin_command, create_token_command, grant_role_command
    from inventory.audit.cli import verify_access_log_command
    from inventory.backups.cli import backup_command, restore_command
    from inventory.budget.cli import ledger_checkpoint_command, verify_ledger_command
    from inventory.sealing.cli import rotate_data_key_command
    from inventory.demo import seed_demo_command
    from inventory.requests.cli import recompute_priorities_command
    from inventory.scheduling.cli import run_job_command, scheduler_command

    for command in (create_admin_command, create_token_command, seed_demo_command, verify_ledger_command,
                    ledger_checkpoint_command, rotate_data_key_command, recompute_priorities_command,
                    backup_command, restore_command, scheduler_command, run_job_command, grant_role_command,
                    verify_access_log_command):
        app.cli.add_command(command)
