"""The one place a user's roles change, and which roles open survivors' personal data.

Whether a change is made at once or waits for a second admin is decided by the callers
(`operations.create_user`/`update_user`, and `approvals` when one is approved); writing the
role rows, and what must happen whenever roles change (the user's API tokens are revoked), is here.
"""
from inventory.accounts.models import Organisation, TokenRevocation, User, UserRole
from inventory.accounts.revocation import revoke_all_tokens
from inventory.audit.models import AuditEventKind
from inventory.audit.operations import record_event
from inventory.errors import InvalidInput
from inventory.permissions import LEAD_ONLY_ROLES, Role

# Roles that open survivors' personal data, and admin (an admin could otherwise make a
# puppet admin to approve their own requests): giving one needs a second admin's approval.
PERSONAL_DATA_ROLES = frozenset({Role.ADMIN, Role.COORDINATOR, Role.CASEWORKER, Role.FITTER})


def refuse_lead_only_elsewhere(roles, organisation: Organisation) -> None:
    """Coordinators, fitters, finance and admins belong to the lead provider."""
    lead_only = sorted(str(r) for r in set(roles) & LEAD_ONLY_ROLES)
    if lead_only and not organisation.is_lead:
        raise InvalidInput(
            f"Only staff of the lead provider can hold: {', '.join(lead_only)}.",
            fields={"roles": f"{', '.join(lead_only)} must belong to the lead provider."},
        )


def apply_role_change(user: User, *, added=(), removed=(), actor: User | None) -> None:
    """Give `added` and take away `removed` now, and audit it (a role already held, or not
    held, is no change)."""
    held = user.role_set
    added, removed = set(map(Role, added)) - held, set(map(Role, removed)) & held
    if not added and not removed:
        return
    kept = [row for row in user.role_rows if Role(row.role) not in removed]
    user.role_rows = kept + [UserRole(role=str(r)) for r in sorted(added)]
    record_event(AuditEventKind.ROLES_CHANGED, actor=actor, subject_user=user,
                 added=sorted(map(str, added)), removed=sorted(map(str, removed)))
    revoke_all_tokens(user, TokenRevocation.ROLES_CHANGED, actor)
