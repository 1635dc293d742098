"""`form_page`: a page whose one form runs a use case. First shown it is 200; refused (by the
form's checks or by the use case) it is the form again with its errors, 422, and nothing the
use case wrote is kept; done, it flashes, redirects and the change is committed."""
import pytest
from flask import Blueprint
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired

from inventory.accounts.models import Organisation
from inventory.errors import InvalidInput
from inventory.extensions import db
from inventory.forms import form_page
from inventory.permissions import public


class NameForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired()])


def _add_partner(name: str) -> Organisation:
    organisation = Organisation(name=name, kind="partner", case_reference_prefix=name[:6].upper())
    db.session.add(organisation)
    db.session.flush()
    if name == "Taken":  # refused after writing: the refusal must undo the write
        raise InvalidInput("That name is taken.", fields={"name": "Already in use."})
    return organisation


@pytest.fixture
def probe(app, tmp_path):
    (tmp_path / "form_probe.html").write_text("{{ heading }}: {{ form.errors }}")
    bp = Blueprint("form_probe", __name__, url_prefix="/form-probe", template_folder=str(tmp_path))

    @bp.route("/new", methods=["GET", "POST"])
    @public
    def new():
        form = NameForm()
        return form_page(form, lambda: _add_partner(form.name.data),
                         done=lambda organisation: f"Added {organisation.name}.",
                         next_url=lambda organisation: f"/form-probe/{organisation.id}",
                         template="form_probe.html", heading="New partner")

    app.register_blueprint(bp)
    return app.test_client()


def _names() -> set[str]:
    return set(db.session.scalars(select(Organisation.name)))


def test_a_form_page_first_shown_is_200(probe):
    response = probe.get("/form-probe/new")
    assert response.status_code == 200
    assert response.text == "New partner: {}"


@pytest.mark.parametrize(("name", "error"), [("", "This field is required."), ("Taken", "Already in use.")])
def test_a_refused_form_is_shown_again_with_its_errors_and_keeps_nothing(probe, name, error):
    before = _names()
    response = probe.post("/form-probe/new", data={"name": name})
    assert response.status_code == 422
    assert error in response.text
    assert _names() == before


def test_a_done_form_flashes_redirects_and_is_committed(probe):
    response = probe.post("/form-probe/new", data={"name": "Fresh"})
    added = db.session.scalar(select(Organisation).where(Organisation.name == "Fresh"))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/form-probe/{added.id}"
    with probe.session_transaction() as session:
        assert session["_flashes"] == [("success", "Added Fresh.")]
    db.session.rollback()
    assert "Fresh" in _names()
