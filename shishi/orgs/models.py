"""Organisations (one tree), people, logins and roles."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from shishi.lib.crypto import Box
from shishi.lib.masking import mask_phone

# Each level of the materialised path is four base-36 characters: 1.6 million children a parent.
STEP = 4
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def encode_step(number: int) -> str:
    if not 0 < number < 36**STEP:
        raise ValueError("too many children under one organisation")
    out = ""
    for _i in range(STEP):
        number, rem = divmod(number, 36)
        out = ALPHABET[rem] + out
    return out


class OrgKind(models.TextChoices):
    PROVINCE = "province", _("province")
    CITY = "city", _("city")
    COUNTY = "county", _("county")
    TOWN = "town", _("town / township / subdistrict")
    VILLAGE = "village", _("village")
    COMMUNITY = "community", _("community")
    DEPARTMENT = "department", _("department")
    BRANCH = "branch", _("party branch")


# Plural labels, for counts ("12 villages"); Chinese uses the same word.
KIND_PLURALS = {
    OrgKind.PROVINCE: _("provinces"),
    OrgKind.CITY: _("cities"),
    OrgKind.COUNTY: _("counties"),
    OrgKind.TOWN: _("towns"),
    OrgKind.VILLAGE: _("villages"),
    OrgKind.COMMUNITY: _("communities"),
    OrgKind.DEPARTMENT: _("departments"),
    OrgKind.BRANCH: _("party branches"),
}

# Which kinds of organisation may stand directly under which.
ALLOWED_PARENTS: dict[str, set[str | None]] = {
    OrgKind.PROVINCE: {None},
    OrgKind.CITY: {OrgKind.PROVINCE},
    OrgKind.COUNTY: {OrgKind.CITY, OrgKind.PROVINCE},
    OrgKind.TOWN: {OrgKind.COUNTY},
    OrgKind.VILLAGE: {OrgKind.TOWN},
    OrgKind.COMMUNITY: {OrgKind.TOWN},
    OrgKind.DEPARTMENT: {OrgKind.COUNTY},
    OrgKind.BRANCH: {
        OrgKind.COUNTY,
        OrgKind.TOWN,
        OrgKind.VILLAGE,
        OrgKind.COMMUNITY,
        OrgKind.DEPARTMENT,
    },
}
# Places carry the 12-digit statistical division code (统计用区划代码).
PLACE_KINDS = {
    OrgKind.PROVINCE,
    OrgKind.CITY,
    OrgKind.COUNTY,
    OrgKind.TOWN,
    OrgKind.VILLAGE,
    OrgKind.COMMUNITY,
}


class Org(models.Model):
    """A node of the one organisation tree, stored as a materialised path.

    ``path`` is the concatenation of the ancestors' steps, so a subtree is one indexed prefix
    query (``path LIKE 'ABCD0001%'``) however many nodes the province has.
    """

    kind = models.CharField(_("kind"), max_length=20, choices=OrgKind.choices)
    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    code = models.CharField(_("code"), max_length=32, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # unique=True also gives PostgreSQL a varchar_pattern_ops index for prefix (LIKE) queries.
    path = models.CharField(_("tree path"), max_length=255, unique=True)
    depth = models.PositiveSmallIntegerField(_("depth"))
    children_issued = models.PositiveIntegerField(default=0, editable=False)
    # The county this node belongs to (itself for a county): the future distribution key.
    county = models.ForeignKey(
        "self",
        verbose_name=_("county"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["path"]
        indexes = [
            # Children of one node in order: the organisation browser.
            models.Index(fields=["parent", "path"], name="org_parent_path"),
            # Counts by kind within a county: the browser's figures at each level.
            models.Index(fields=["county", "kind"], name="org_county_kind"),
            # Search by name (the code has its unique index).
            models.Index(fields=["name"], name="org_name"),
        ]

    def __str__(self):
        return self.name

    def ancestor_paths(self) -> list[str]:
        return [self.path[:i] for i in range(STEP, len(self.path), STEP)]

    def is_descendant_of(self, other: Org) -> bool:
        return self.path.startswith(other.path) and self.path != other.path


class OrgMove(models.Model):
    """The history of a node's place in the tree: every move, why, and by whom."""

    org = models.ForeignKey(
        Org, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="moves"
    )
    from_parent = models.ForeignKey(
        Org, verbose_name=_("from"), on_delete=models.PROTECT, related_name="+", null=True
    )
    to_parent = models.ForeignKey(
        Org, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+"
    )
    old_path = models.CharField(_("old path"), max_length=255)
    new_path = models.CharField(_("new path"), max_length=255)
    reason = models.TextField(_("reason"))
    moved_at = models.DateTimeField(_("moved at"), auto_now_add=True)
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("moved by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("organisation move")
        verbose_name_plural = _("organisation moves")
        ordering = ["-moved_at"]

    def __str__(self):
        return f"{self.org} → {self.to_parent}"


def credentials_stamp(password: str, signed_out_at) -> str:
    """What ``User.credentials_stamp`` hashes, from the two values (the API's migration stamps
    the tokens made before stamps with it)."""
    moment = signed_out_at.isoformat() if signed_out_at else ""
    return hashlib.sha256(f"{password}|{moment}".encode()).hexdigest()


class User(AbstractUser):
    """A login. The person behind it (name, phone, organisation) is ``user.person``."""

    # Set when the login is disabled or its password is set: what was issued before (sessions,
    # API tokens) no longer counts, and does not come back if the login is enabled again.
    signed_out_at = models.DateTimeField(_("signed out everywhere"), null=True, blank=True)

    class Meta:
        verbose_name = _("login")
        verbose_name_plural = _("logins")

    def credentials_stamp(self) -> str:
        """A value that changes whenever the password is set (by any path, the console's
        ``changepassword`` too) or the login is signed out everywhere.

        An API token keeps the stamp of its making and works only while it still matches, so
        the API needs no call from here to end a login's tokens. A plain hash suffices: it is
        compared, not kept secret, and the password hash it covers is itself salted.
        """
        return credentials_stamp(self.password, self.signed_out_at)


class Session(AbstractBaseSession):
    """A signed-in session (Django's database sessions) with the login it belongs to, so that
    a login's sessions can be ended together (``orgs.services.end_sessions``)."""

    # Indexed (a foreign key): the lookup made when a login is disabled or its password set.
    user = models.ForeignKey(
        User,
        verbose_name=_("login"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )

    class Meta(AbstractBaseSession.Meta):
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    @classmethod
    def get_session_store_class(cls):
        from .sessions import SessionStore

        return SessionStore


class Gender(models.TextChoices):
    MALE = "M", _("male")
    FEMALE = "F", _("female")
    UNKNOWN = "U", _("not stated")


_box: Box | None = None


def box() -> Box:
    global _box
    if _box is None:
        _box = Box(settings.FIELD_ENCRYPTION_KEY)
    return _box


class Person(models.Model):
    """A cadre, member or other person on an organisation's roster; optionally with a login.

    The phone number is encrypted at rest; ``phone_digest`` (a keyed hash) finds a person by
    phone without storing it in the clear.
    """

    number = models.CharField(_("person number"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=50)
    gender = models.CharField(
        _("gender"), max_length=1, choices=Gender.choices, default=Gender.UNKNOWN
    )
    phone_encrypted = models.TextField(_("phone (encrypted)"), blank=True, editable=False)
    phone_digest = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    is_party_member = models.BooleanField(_("party member"), default=False)
    position = models.CharField(_("position"), max_length=100, blank=True)
    org = models.ForeignKey(
        Org, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="people"
    )
    county = models.ForeignKey(
        Org,
        verbose_name=_("county"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    user = models.OneToOneField(
        User,
        verbose_name=_("login"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="person",
    )
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["org_id", "name", "id"]
        indexes = [
            # The roster of one organisation, by name.
            models.Index(fields=["org", "name"], name="person_org_name"),
            models.Index(fields=["county", "name"], name="person_county_name"),
        ]

    def __str__(self):
        return self.name

    @cached_property
    def phone(self) -> str:
        return box().decrypt(self.phone_encrypted)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    def set_phone(self, phone: str) -> None:
        self.phone_encrypted = box().encrypt(phone)
        self.phone_digest = box().digest(phone)
        self.__dict__.pop("phone", None)


class RoleKind(models.TextChoices):
    COUNTY_ADMIN = "county_admin", _("county office administrator")
    LEADER = "leader", _("county leader")
    TOWN_ADMIN = "town_admin", _("town administrator")
    UNIT_OFFICER = "unit_officer", _("unit officer")
    BRANCH_SECRETARY = "branch_secretary", _("branch secretary")
    CADRE = "cadre", _("cadre")
    SUPERVISOR = "supervisor", _("supervisor")
    AUDITOR = "auditor", _("auditor")
    SYSADMIN = "sysadmin", _("system administrator")
    SECURITY_ADMIN = "security_admin", _("security administrator")
    AUDIT_ADMIN = "audit_admin", _("audit administrator")


# The three administrators of 三员分立 (separation of duties): the system administrator keeps
# accounts and settings, the security administrator grants roles, the audit administrator reads
# the audit log. One login holds at most one of them, and none of them with a programme role, so
# no single login both changes the system and decides who may, or both acts and reviews the log.
ADMIN_KINDS = frozenset({RoleKind.SYSADMIN, RoleKind.SECURITY_ADMIN, RoleKind.AUDIT_ADMIN})


class Role(models.Model):
    """A role granted to a login on an organisation; it covers that organisation's subtree."""

    user = models.ForeignKey(
        User, verbose_name=_("login"), on_delete=models.CASCADE, related_name="roles"
    )
    org = models.ForeignKey(
        Org, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="roles"
    )
    kind = models.CharField(_("role"), max_length=20, choices=RoleKind.choices)
    granted_at = models.DateTimeField(_("granted"), auto_now_add=True)
    granted_by = models.ForeignKey(
        User,
        verbose_name=_("granted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "org", "kind"], name="role_unique_user_org_kind"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} @ {self.org}"


class GrantRule(models.Model):
    """Who may grant which role (授权规则): one row says that a holder of ``grantor`` on an
    organisation may grant ``grantee`` on that organisation or any below it, to any login but
    their own, and revoke it the same way. Whatever this table does not allow, nobody may do
    (``orgs.services.grant_role``). The defaults are set by migration 0003 and listed in
    docs/security.md; the security administrator at the top of the tree changes them, audited.
    """

    grantor = models.CharField(_("granting role"), max_length=20, choices=RoleKind.choices)
    grantee = models.CharField(_("role granted"), max_length=20, choices=RoleKind.choices)

    class Meta:
        verbose_name = _("grant rule")
        verbose_name_plural = _("grant rules")
        ordering = ["grantor", "grantee"]
        constraints = [
            models.UniqueConstraint(fields=["grantor", "grantee"], name="grantrule_unique")
        ]

    def __str__(self):
        return f"{self.get_grantor_display()} → {self.get_grantee_display()}"
