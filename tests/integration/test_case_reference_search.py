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
