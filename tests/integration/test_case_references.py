"""Case references per organisation: each partner writes its own prefix, so a partner never
learns that another organisation holds a reference ("already exists" only ever speaks of
one's own organisation's cases), and references stay unique across the service."""
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from inventory.cases.details import read_new_case
from inventory.cases.operations import create_case
from inventory.errors import InvalidInput
from inventory.extensions import db
from inventory.parsing import Fields
from tests.conftest import make_app


def refusal(build, caseworker, reference):
    with pytest.raises(InvalidInput) as refused:
        create_case(read_new_case(Fields(build.case_details(reference=reference))), actor=caseworker)
    db.session.rollback()
    return refused.value.fields


@pytest.fixture
def partner_caseworker(build):
    return build.caseworker(build.organisation(case_reference_prefix="RA"))


@pytest.mark.parametrize("held_by", ["lead", "another_partner"])
def test_a_partner_asking_for_a_reference_another_organisation_holds_is_told_only_its_own_format(
        build, partner_caseworker, held_by):
    holder = build.organisation(case_reference_prefix="EV") if held_by == "another_partner" else build.lead()
    prefix = holder.case_reference_prefix or "NS"
    build.case(organisation=holder, reference=f"{prefix}-2026-0142")
    held = refusal(build, partner_caseworker, f"{prefix}-2026-0142")
    never_used = refusal(build, partner_caseworker, f"{prefix}-2026-0999")
    assert held == never_used == {"reference": "Use your organisation's format: RA, the year, a number "
                                               "(e.g. RA-2026-0142)."}


def test_a_partner_opens_cases_in_its_own_format_and_a_duplicate_within_it_is_named(build, partner_caseworker):
    case = build.case(caseworker=partner_caseworker, reference="ra-2026-0142")
    assert case.reference == "RA-2026-0142"
    colleague = build.caseworker(partner_caseworker.organisation)
    assert refusal(build, colleague, "RA-2026-0142") == {"reference": "A case with this reference already exists."}


def test_the_lead_without_a_prefix_keeps_the_old_format_but_not_a_partners_letters(build, partner_caseworker):
    lead_caseworker = build.caseworker()
    assert build.case(caseworker=lead_caseworker, reference="NS-2026-0001").reference == "NS-2026-0001"
    assert build.case(caseworker=lead_caseworker, reference="WA-2026-0002").reference == "WA-2026-0002"
    build.case(caseworker=partner_caseworker, reference="RA-2026-0003")
    held, free = (refusal(build, lead_caseworker, f"RA-2026-{n}") for n in ("0003", "0004"))
    assert held == free == {"reference": "RA is a partner agency's prefix: use other letters (e.g. NS-2026-0142)."}


def test_a_reference_from_before_prefixes_in_the_leads_format_is_refused_without_saying_whose(build,
                                                                                              partner_caseworker):
    old = build.case(caseworker=partner_caseworker)
    old.reference = "NS-2025-0007"  # written by the partner before it had a prefix
    db.session.commit()
    assert refusal(build, build.caseworker(), "NS-2025-0007") == {
        "reference": "This reference cannot be used: choose another number."}


def test_a_lead_with_a_prefix_of_its_own_must_use_it(build):
    from inventory.accounts.operations import update_organisation

    lead = build.lead()
    update_organisation(lead, name=lead.name, active=True, case_reference_prefix="nwa", actor=None)
    db.session.commit()
    assert refusal(build, build.caseworker(), "NS-2026-0001")["reference"].startswith(
        "Use your organisation's format: NWA")
    assert build.case(reference="NWA-2026-0001").reference == "NWA-2026-0001"


def test_the_migration_gives_each_existing_partner_a_prefix_no_other_organisations_cases_use(tmp_path):
    """0027: a partner keeps the letters most of its own cases use when nobody else's do;
    otherwise its initials, or its name's first letters. The lead keeps none."""
    app = make_app(f"sqlite:///{tmp_path / 'prefixes.sqlite3'}")
    with app.app_context():
        upgrade()
        from tests.support import Builders

        build = Builders()
        lead_worker = build.caseworker()
        own = build.organisation(name="Riverside Advocacy", case_reference_prefix="RA")
        shared = build.organisation(name="Northern Star Service", case_reference_prefix="ZZ")
        quiet = build.organisation(name="Equal Voices", case_reference_prefix="YY")
        clash = build.organisation(name="Eastern Vale", case_reference_prefix="XX")
        build.case(caseworker=lead_worker, reference="NS-2026-0001")
        build.case(organisation=own, reference="RA-2026-0001")
        build.case(organisation=own, reference="RA-2026-0002")
        legacy = build.case(organisation=shared, reference="ZZ-2026-0001").id
        db.session.commit()
        db.session.remove()
        downgrade(revision="0020")
        with db.engine.begin() as connection:  # as written before prefixes: the partner used the lead's letters
            connection.execute(text("UPDATE cases SET reference = 'NS-2026-0002' WHERE id = :id"), {"id": legacy})
        upgrade()
        from inventory.accounts.models import Organisation

        prefixes = dict(db.session.execute(select(Organisation.name, Organisation.case_reference_prefix)).all())
        assert prefixes == {"Lead Provider": None, "Riverside Advocacy": "RA", "Northern Star Service": "NSS",
                            "Equal Voices": "EV", "Eastern Vale": "EA"}
        db.session.remove()
        db.engine.dispose()
