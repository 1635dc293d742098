"""The reference search index holds exactly every tail of each case's reference key, and
follows a reference that changes."""
from sqlalchemy import select

from inventory.cases.models import CaseReferenceSuffix, reference_suffixes
from inventory.extensions import db


def suffixes_of(case_id):
    return sorted(db.session.scalars(select(CaseReferenceSuffix.suffix).where(CaseReferenceSuffix.case_id == case_id)))


def test_the_suffixes_follow_the_reference_as_it_is_written_and_changed(build):
    case = build.case(reference="NS-2026-0142")
    assert suffixes_of(case.id) == sorted(reference_suffixes("NS-2026-0142"))
    case.reference = "NS-2026-0999"
    db.session.commit()
    assert suffixes_of(case.id) == sorted(reference_suffixes("NS-2026-0999"))
    assert "20260999" in suffixes_of(case.id)


def test_a_case_search_costs_the_same_statements_for_two_or_eight_matches(client, build, login):
    from tests.support import recorded_statements

    caseworker = login(build.caseworker())
    costs = []
    for year, many in (("2031", 2), ("2032", 8)):
        for n in range(many):
            build.case(caseworker=caseworker, reference=f"NS-{year}-{n:04d}")
        db.session.expire_all()
        with recorded_statements() as seen:
            page = client.get(f"/cases?q={year}").get_data(as_text=True)
        assert f"NS-{year}-0001" in page
        costs.append(len(seen))
    assert costs[0] == costs[1]
