"""Every route says who may call it (inventory.permissions), so none is open by oversight
and the access matrix (test_access_matrix.py) can be generated from the declarations."""
from inventory.permissions import declared_access, public


def undeclared_routes(app) -> list[str]:
    return sorted(f"{rule.rule} ({rule.endpoint})" for rule in app.url_map.iter_rules()
                  if rule.endpoint != "static"  # Flask's own: the app's CSS and scripts
                  and declared_access(app.view_functions[rule.endpoint]) is None)


def test_every_route_declares_who_may_call_it(app):
    assert undeclared_routes(app) == [], "declare each with @permission_required, @login_required or @public"


def test_a_route_without_a_declaration_is_named(app):
    app.add_url_rule("/forgotten", "forgotten", lambda: "open to anyone")
    app.add_url_rule("/declared", "declared", public(lambda: "open to anyone, on purpose"))
    assert undeclared_routes(app) == ["/forgotten (forgotten)"]
