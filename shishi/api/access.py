"""Who may see and revoke API tokens besides their owners.

``REVOKE_TOKENS`` lets a role list and revoke the tokens of the logins of people in its scope
(someone leaving, a token leaked). It belongs to the security administrator (三员: who decides
what a login may do). ``orgs.access.permissions()`` merges this table
with every other app's (``role_permissions`` on the AppConfig).
"""

from shishi.orgs.models import RoleKind

REVOKE_TOKENS = "tokens.revoke"

ROLE_PERMISSIONS: dict[str, set[str]] = {
    RoleKind.SECURITY_ADMIN: {REVOKE_TOKENS},
}
