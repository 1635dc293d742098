import base64
import logging

import pytest
from sqlalchemy import select, text

from inventory.audit.models import AccessLogEntry
from inventory.cases import operations
from inventory.cases.details import read_case_details, read_new_case
from inventory.sealing.cli import rotate_data_key
from inventory.sealing.keys import keyring
from inventory.cases.models import Case, SupportEnded
from inventory.cases.reviews import Closing
from inventory.errors import Conflict, InvalidInput, NotAllowed, NotFound
from inventory.extensions import db
from inventory.parsing import Fields
from inventory.permissions import (
    LEAD_ONLY_ROLES,
    CaseAccess,
    Role,
    can_manage_case,
    can_see_personal_details,
    can_view_case,
    case_access,
    personal_cases_clause,
    visible_cases_clause,
)

CLOSING = Closing(SupportEnded.NO_LONGER_NEEDED)


def raw_row(case_id):
    return db.session.execute(text("SELECT name, address, phone, safe_contact_notes FROM cases WHERE id = :id"),
                              {"id": case_id}).one()


def test_personal_details_are_stored_sealed_and_read_back_in_clear(build):
    case = build.case(name="Jo Example", address="1 Fictional Lane", phone="01632 960001")
    for stored in raw_row(case.id):
        assert stored.startswith(keyring().current_id + ":")
        assert "Example" not in stored and "Fictional" not in stored and "960001" not in stored
    db.session.expire_all()
    again = db.session.get(Case, case.id)
    assert (again.name, again.address, again.phone) == ("Jo Example", "1 Fictional Lane", "01632 960001")


def test_a_case_reference_that_already_exists_is_refused_whatever_its_case(build):
    build.case(reference="NS-2026-0142")
    caseworker = build.caseworker()
    with pytest.raises(InvalidInput) as error:
        operations.create_case(read_new_case(Fields(build.case_details(reference="ns-2026-0142"))), actor=caseworker)
    assert error.value.fields == {"reference": "A case with this reference already exists."}


@pytest.mark.parametrize("overrides, field", [
    ({"reference": "0142"}, "reference"),
    ({"name": "  "}, "name"),
    ({"phone": "call me maybe"}, "phone"),
    ({"address": "x" * 501}, "address"),
    ({"consent_given": False}, "consent_given"),
    ({"consent_on": "2099-01-01"}, "consent_on"),
    ({"risk_assessed_on": "not a date"}, "risk_assessed_on"),
    ({"risk_level": "extreme"}, "risk_level"),
    ({"risk_tool": "gut feeling"}, "risk_tool"),
    ({"flags": ["knows_where_i_live"]}, "flags"),
    ({"marac": "yes"}, "marac"),
])
def test_bad_case_details_are_named_field_by_field(build, overrides, field):
    with pytest.raises(InvalidInput) as error:
        read_new_case(Fields(build.case_details(**overrides)))
    assert field in error.value.fields


def test_an_error_message_never_repeats_the_personal_data_typed(build):
    with pytest.raises(InvalidInput) as error:
        read_new_case(Fields(build.case_details(phone="Ring Sam Secret")))
    assert "Secret" not in str(error.value.details) and "Secret" not in error.value.message


@pytest.mark.parametrize("roles, own_org, expected", [
    (["caseworker"], True, CaseAccess.PERSONAL),
    (["caseworker"], False, CaseAccess.NONE),
    (["coordinator"], True, CaseAccess.PERSONAL),
    (["finance"], True, CaseAccess.REFERENCE),
    (["auditor"], True, CaseAccess.NONE),
    (["admin"], True, CaseAccess.NONE),
    (["fitter"], True, CaseAccess.NONE),
])
def test_who_sees_how_much_of_a_case(build, roles, own_org, expected):
    partner = build.organisation()
    case = build.case(organisation=partner)
    user = build.user(roles=roles, organisation=partner if own_org and roles == ["caseworker"] else None)
    assert case_access(user, case.organisation_id) is expected
    listed = db.session.scalars(operations.visible_cases(user)).all()
    assert (case in listed) == (expected is not CaseAccess.NONE)
    if expected is CaseAccess.NONE:
        with pytest.raises(NotFound):
            operations.get_case(user, case.id)
    else:
        assert operations.get_case(user, case.id) is case


def test_search_finds_cases_by_reference_prefix_only_among_visible_ones(build):
    caseworker = build.caseworker()
    mine = build.case(caseworker=caseworker, reference="NS-2026-0142")
    build.case(caseworker=caseworker, reference="NS-2026-0999")
    other = build.case(organisation=build.organisation())
    other.reference = "NS-2026-0143"  # another organisation's, from before prefixes
    db.session.commit()
    found = db.session.scalars(operations.visible_cases(caseworker, reference="ns-2026-014")).all()
    assert found == [mine]
    assert db.session.scalars(operations.visible_cases(caseworker, reference="%")).all() == []


def test_each_view_of_personal_details_is_logged_and_finance_gets_none(build):
    case = build.case()
    coordinator = build.user(roles=["coordinator"])
    finance = build.user(roles=["finance"])
    assert operations.reveal_personal_details(coordinator, case, reason="Deciding a request") is True
    assert operations.reveal_personal_details(finance, case, reason="Curious") is False
    db.session.commit()
    entries = db.session.scalars(select(AccessLogEntry)).all()
    assert [(e.user_id, e.case_id, e.reason) for e in entries] == [(coordinator.id, case.id, "Deciding a request")]


def test_only_a_caseworker_of_the_organisation_changes_or_closes_a_case(build):
    case = build.case(organisation=build.organisation())
    with pytest.raises(NotAllowed):
        operations.close_case(case, CLOSING, actor=build.caseworker())
    with pytest.raises(NotAllowed):
        operations.create_case(read_new_case(Fields(build.case_details())), actor=build.user(roles=["coordinator"]))


def test_a_coordinator_who_is_also_a_caseworker_manages_only_their_own_organisations_cases(build):
    # Seeing every case (as a coordinator) is not managing it: that stays with the case's own
    # organisation's caseworkers. The case page and the operations once disagreed here.
    both = build.user(roles=["coordinator", "caseworker"])
    theirs = build.case(organisation=build.organisation())
    ours = build.case(organisation=both.organisation)
    assert not can_manage_case(both, theirs) and can_see_personal_details(both, theirs)
    with pytest.raises(NotAllowed):
        operations.update_case(theirs, read_case_details(Fields(build.case_details())), actor=both)
    with pytest.raises(NotAllowed):
        operations.close_case(theirs, CLOSING, actor=both)
    operations.close_case(ours, CLOSING, actor=both)
    assert not ours.is_open


ROLE_SETS = [["caseworker"], ["coordinator"], ["finance"], ["auditor"], ["admin"], ["fitter"],
             ["coordinator", "caseworker"], ["finance", "caseworker"], ["auditor", "caseworker"]]


def test_the_case_filters_select_exactly_the_cases_the_predicates_allow(build):
    organisations = [build.lead(), build.organisation(), build.organisation()]
    cases = [build.case(organisation=organisation) for organisation in organisations for _ in range(2)]
    for roles in ROLE_SETS:
        at_lead_only = bool(LEAD_ONLY_ROLES & {Role(role) for role in roles})
        for organisation in organisations[:1] if at_lead_only else organisations:
            user = build.user(roles=roles, organisation=organisation)
            visible = set(db.session.scalars(select(Case.id).where(visible_cases_clause(user, Case.organisation_id))))
            personal = set(db.session.scalars(select(Case.id).where(personal_cases_clause(user, Case.organisation_id))))
            assert visible == {case.id for case in cases if can_view_case(user, case)}, roles
            assert personal == {case.id for case in cases if can_see_personal_details(user, case)}, roles


def test_closing_a_case_records_the_date_and_twice_is_a_conflict(build):
    caseworker = build.caseworker()
    case = build.case(caseworker=caseworker)
    operations.close_case(case, CLOSING, actor=caseworker)
    assert case.status == "closed" and case.closed_on is not None
    with pytest.raises(Conflict):
        operations.close_case(case, CLOSING, actor=caseworker)


def test_personal_data_never_reaches_the_log(build, caplog):
    caplog.set_level(logging.DEBUG)
    case = build.case(name="Zebedee Unlikelyname", address="99 Nowhere Close", phone="01632 960999")
    operations.reveal_personal_details(build.user(roles=["coordinator"]), case, reason="test")
    db.session.commit()
    for secret in ("Unlikelyname", "Nowhere Close", "960999"):
        assert secret not in caplog.text


def test_rotating_the_data_key_reseals_everything_and_the_old_key_can_go(app, build):
    case = build.case(name="Rota Example", safe_contact_notes=None)
    old_key = app.config["DATA_ENCRYPTION_KEY"]
    old_id = keyring().current_id
    app.config.update(DATA_ENCRYPTION_KEY=base64.urlsafe_b64encode(b"n" * 32).decode(),
                      DATA_ENCRYPTION_OLD_KEYS=[old_key])
    assert raw_row(case.id)[0].startswith(old_id + ":")
    assert rotate_data_key() == {"cases": 1}
    assert rotate_data_key() == {}
    name, address, phone, notes = raw_row(case.id)
    assert all(value.startswith(keyring().current_id + ":") for value in (name, address, phone))
    assert notes is None
    app.config["DATA_ENCRYPTION_OLD_KEYS"] = []
    db.session.expire_all()
    assert db.session.get(Case, case.id).name == "Rota Example"


def test_the_rotate_command_reports_what_it_did(app, build, runner):
    build.case()
    result = runner.invoke(args=["rotate-data-key"])
    assert result.exit_code == 0, result.output
    assert "none needed it" in result.output
