"""Every change to organisations, people, logins and roles goes through a function here.

Each function checks permission, validates, writes in one transaction and appends to the audit
log. ``actor=None`` means the system itself (management commands such as ``shishi demo``).
"""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from shishi.audit.services import check_version, diff, record, record_many, snapshot
from shishi.ledger.bulk import insert
from shishi.lib.masking import is_mobile, normalize_phone
from shishi.notifications.services import notify

from . import access
from .models import (
    ALLOWED_PARENTS,
    PLACE_KINDS,
    Gender,
    GrantRule,
    Org,
    OrgKind,
    OrgMove,
    Person,
    Role,
    RoleKind,
    Session,
    User,
    box,
    encode_step,
)

ORG_FIELDS = ["kind", "name", "short_name", "code", "parent", "is_active"]
PERSON_FIELDS = ["number", "name", "gender", "is_party_member", "position", "org", "is_active"]


def _check_lengths(obj) -> None:
    """Refuse text longer than its column with a message, before the database refuses it."""
    errors = {}
    for field in obj._meta.concrete_fields:
        value = getattr(obj, field.attname)
        limit = getattr(field, "max_length", None)
        if limit and isinstance(value, str) and len(value) > limit:
            errors[field.name] = _("At most %(n)d characters; this has %(m)d.") % {
                "n": limit,
                "m": len(value),
            }
    if errors:
        raise ValidationError(errors)


def _save_unique(obj, field: str, message: str) -> None:
    """Save ``obj``; a unique clash from a concurrent writer becomes a ValidationError on ``field``."""
    _check_lengths(obj)
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise ValidationError({field: message}) from None


def _insert_unique(objs: list, field: str, message: str) -> None:
    """Insert ``objs`` (of one model) in bulk; a unique clash from a concurrent writer becomes a
    ValidationError on ``field``, as ``_save_unique`` does for one."""
    if not objs:
        return
    try:
        with transaction.atomic():
            insert(type(objs[0]), objs)
    except IntegrityError:
        raise ValidationError({field: message}) from None


def _require(actor, perm: str, org: Org) -> None:
    if actor is not None and not access.has_perm_on(actor, perm, org):
        raise PermissionDenied(_("You may not do this for %(org)s.") % {"org": org.name})


# --- organisations -----------------------------------------------------------------------------


def validate_code(kind: str, code: str) -> None:
    if not code:
        raise ValidationError({"code": _("The code is required.")})
    # isascii: str.isdigit() and isalnum() also accept full-width digits (typed with a Chinese
    # input method), superscripts and Chinese characters, which would make look-alike codes.
    if kind in PLACE_KINDS and not (len(code) == 12 and code.isascii() and code.isdigit()):
        raise ValidationError(
            {
                "code": _(
                    "A place needs its 12-digit statistical division code; %(code)s is not one."
                )
                % {"code": code}
            }
        )
    if len(code) > 32 or not (code.isascii() and code.replace("-", "").isalnum()):
        raise ValidationError({"code": _("A code is up to 32 letters, digits and hyphens.")})


def validate_parent(kind: str, parent: Org | None) -> None:
    allowed = ALLOWED_PARENTS.get(kind)
    if allowed is None:
        raise ValidationError(
            {"kind": _("Unknown kind of organisation: %(kind)s.") % {"kind": kind}}
        )
    parent_kind = parent.kind if parent else None
    if parent_kind not in allowed:
        raise ValidationError(
            {
                "parent": _("A %(kind)s cannot stand under %(parent)s.")
                % {
                    "kind": OrgKind(kind).label,
                    "parent": OrgKind(parent_kind).label if parent_kind else _("nothing (the top)"),
                }
            }
        )


def _next_path(parent: Org | None) -> tuple[str, int]:
    """A fresh path under ``parent`` (locked), from the parent's counter of issued children."""
    if parent is None:
        roots = Org.objects.filter(parent__isnull=True).count()
        step = roots + 1
        while Org.objects.filter(path=encode_step(step)).exists():
            step += 1
        return encode_step(step), 0
    Org.objects.filter(pk=parent.pk).update(children_issued=F("children_issued") + 1)
    parent.refresh_from_db(fields=["children_issued"])
    return parent.path + encode_step(parent.children_issued), parent.depth + 1


def _county_for(kind: str, parent: Org | None) -> Org | None:
    if parent is None:
        return None
    return parent.county


@transaction.atomic
def create_org(
    actor, *, parent: Org | None, kind: str, name: str, code: str, short_name: str = ""
) -> Org:
    name, code, short_name = (name or "").strip(), (code or "").strip(), (short_name or "").strip()
    if parent is not None:
        _require(actor, access.MANAGE_ORGS, parent)
        parent = Org.objects.select_for_update().get(pk=parent.pk)
    elif actor is not None:
        raise PermissionDenied(_("Only the system can create a top-level organisation."))
    if not name:
        raise ValidationError({"name": _("The name is required.")})
    validate_code(kind, code)
    validate_parent(kind, parent)
    if Org.objects.filter(code=code).exists():
        raise ValidationError({"code": _("The code %(code)s is already used.") % {"code": code}})
    path, depth = _next_path(parent)
    org = Org(
        kind=kind,
        name=name,
        short_name=short_name,
        code=code,
        parent=parent,
        path=path,
        depth=depth,
    )
    org.county = _county_for(kind, parent)
    _save_unique(org, "code", _("The code %(code)s is already used.") % {"code": code})
    if kind == OrgKind.COUNTY:
        org.county = org
        org.save(update_fields=["county"])
    record(actor, "orgs.org.created", org, changes=diff({}, snapshot(org, ORG_FIELDS)))
    return org


@transaction.atomic
def create_orgs(actor, rows: list[dict]) -> list[Org]:
    """Many ``create_org`` at once (an import of a county's tree): the same checks, paths and
    audit entries, in a few queries per thousand organisations instead of a few per one.

    Each row holds ``create_org``'s keyword arguments, except that ``parent`` may also be the
    code of an organisation created by an earlier row. Rows come parents first. A refused row
    raises ``RowRefused`` naming it, and nothing is written.
    """
    made: dict[str, Org] = {}
    existing: dict[int, Org] = {}
    for row in rows:
        parent = row.get("parent")
        if isinstance(parent, Org):
            existing.setdefault(parent.pk, parent)
    # The parents are locked, as create_org locks its one, and their counters read afresh.
    for batch in _batches(sorted(existing)):
        for parent in Org.objects.select_for_update().filter(pk__in=batch):
            existing[parent.pk] = parent
    codes = [(row.get("code") or "").strip() for row in rows]
    for batch in _batches([c for c in codes if c]):
        taken = set(Org.objects.filter(code__in=batch).values_list("code", flat=True))
        if taken:
            index = next(i for i, code in enumerate(codes) if code in taken)
            raise RowRefused(
                index,
                ValidationError(
                    {"code": _("The code %(code)s is already used.") % {"code": codes[index]}}
                ),
            )
    orgs: list[Org] = []
    pending: list[Org] = []
    issued: dict[int | str, int] = {}
    for index, row in enumerate(rows):
        parent = row.get("parent")
        if isinstance(parent, str):
            parent = made[parent]
        elif isinstance(parent, Org):
            parent = existing[parent.pk]
        if parent is None or parent.pk is None:
            # A parent made by this call is saved before its children; a new top-level
            # organisation's path counts the roots saved so far.
            _save_orgs(pending)
            pending = []
        try:
            org = _new_org(actor, parent, row, issued)
        except (ValidationError, PermissionDenied) as exc:
            raise RowRefused(index, exc) from exc
        made[org.code] = org
        orgs.append(org)
        pending.append(org)
    _save_orgs(pending)
    counters = [o for o in [*existing.values(), *orgs] if o.pk in issued]
    for org in counters:
        org.children_issued = issued[org.pk]
    Org.objects.bulk_update(counters, ["children_issued"], batch_size=1000)
    record_many(
        actor,
        "orgs.org.created",
        ((org, diff({}, snapshot(org, ORG_FIELDS)), None) for org in orgs),
    )
    return orgs


def _new_org(actor, parent: Org | None, row: dict, issued: dict) -> Org:
    """An unsaved organisation with its path, checked as ``create_org`` checks one."""
    name = (row.get("name") or "").strip()
    code = (row.get("code") or "").strip()
    kind = row["kind"]
    if parent is not None:
        _require(actor, access.MANAGE_ORGS, parent)
    elif actor is not None:
        raise PermissionDenied(_("Only the system can create a top-level organisation."))
    if not name:
        raise ValidationError({"name": _("The name is required.")})
    validate_code(kind, code)
    validate_parent(kind, parent)
    if parent is None:
        path, depth = _next_path(None)
    else:
        count = issued.get(parent.pk, parent.children_issued) + 1
        issued[parent.pk] = count
        path, depth = parent.path + encode_step(count), parent.depth + 1
    org = Org(
        kind=kind,
        name=name,
        short_name=(row.get("short_name") or "").strip(),
        code=code,
        parent=parent,
        path=path,
        depth=depth,
        county=_county_for(kind, parent),
    )
    _check_lengths(org)
    return org


def _save_orgs(orgs: list[Org]) -> None:
    if not orgs:
        return
    _insert_unique(orgs, "code", _("A code in the file was used by someone else meanwhile."))
    counties = [org for org in orgs if org.kind == OrgKind.COUNTY]
    for org in counties:
        org.county = org
    Org.objects.bulk_update(counties, ["county"])


@transaction.atomic
def update_org(actor, org: Org, *, version: int | None = None, **fields) -> Org:
    """Change name, short name, code or active flag. Moving is ``move_org``."""
    org = Org.objects.select_for_update().get(pk=org.pk)
    _require(actor, access.MANAGE_ORGS, org)
    before = snapshot(org, ORG_FIELDS)
    check_version(org, version)
    allowed = {"name", "short_name", "code", "is_active"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"update_org cannot change {sorted(unknown)}")
    for key, value in fields.items():
        setattr(org, key, value.strip() if isinstance(value, str) else value)
    if not org.name:
        raise ValidationError({"name": _("The name is required.")})
    validate_code(org.kind, org.code)
    if Org.objects.filter(code=org.code).exclude(pk=org.pk).exists():
        raise ValidationError(
            {"code": _("The code %(code)s is already used.") % {"code": org.code}}
        )
    changes = diff(before, snapshot(org, ORG_FIELDS))
    if changes:
        org.version += 1
        _save_unique(org, "code", _("The code %(code)s is already used.") % {"code": org.code})
        record(actor, "orgs.org.changed", org, changes=changes)
    return org


@transaction.atomic
def move_org(actor, org: Org, new_parent: Org, *, reason: str) -> Org:
    """Move ``org`` and its whole subtree under ``new_parent``; the move is kept in OrgMove."""
    org = Org.objects.select_for_update().get(pk=org.pk)
    new_parent = Org.objects.select_for_update().get(pk=new_parent.pk)
    _require(actor, access.MANAGE_ORGS, org)
    _require(actor, access.MANAGE_ORGS, new_parent)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the organisation moves.")})
    if new_parent.path.startswith(org.path):
        raise ValidationError(
            {
                "parent": _("%(org)s cannot move under itself or its own descendant %(parent)s.")
                % {"org": org.name, "parent": new_parent.name}
            }
        )
    if org.parent_id == new_parent.pk:
        raise ValidationError({"parent": _("%(org)s is already there.") % {"org": org.name}})
    validate_parent(org.kind, new_parent)
    old_path, old_parent_id = org.path, org.parent_id
    new_path, new_depth = _next_path(new_parent)
    delta = new_depth - org.depth
    subtree = Org.objects.filter(path__startswith=old_path)
    subtree.update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + delta,
    )
    if org.kind not in {OrgKind.PROVINCE, OrgKind.CITY, OrgKind.COUNTY}:
        Org.objects.filter(path__startswith=new_path).update(county=new_parent.county_id)
        Person.objects.filter(org__path__startswith=new_path).update(county=new_parent.county_id)
    Org.objects.filter(pk=org.pk).update(parent=new_parent, version=F("version") + 1)
    org.refresh_from_db()
    OrgMove.objects.create(
        org=org,
        from_parent_id=old_parent_id,
        to_parent=new_parent,
        old_path=old_path,
        new_path=new_path,
        reason=reason.strip(),
        moved_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record(
        actor,
        "orgs.org.moved",
        org,
        changes={"parent": [old_parent_id, new_parent.pk]},
        data={"reason": reason.strip()},
    )
    return org


# --- people ------------------------------------------------------------------------------------


def clean_phone(value: str) -> str:
    phone = normalize_phone(value)
    if phone and not is_mobile(phone):
        raise ValidationError(
            {"phone": _("%(value)s is not an 11-digit mobile number.") % {"value": value}}
        )
    return phone


def _next_person_number(org: Org) -> str:
    county = org.county or org
    prefix = f"P{county.code[:6]}"
    last = (
        Person.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    seq = int(last[len(prefix) :]) + 1 if last and last[len(prefix) :].isdigit() else 1
    return f"{prefix}{seq:06d}"


def _new_person(
    actor,
    org: Org,
    name: str,
    gender: str,
    phone: str,
    is_party_member: bool,
    position: str,
    number: str,
) -> Person:
    """An unsaved person, checked as ``create_person`` checks one (the number apart)."""
    _require(actor, access.MANAGE_PEOPLE, org)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("The name is required.")})
    if gender not in Gender.values:
        raise ValidationError({"gender": _("Unknown gender: %(value)s.") % {"value": gender}})
    person = Person(
        number=(number or "").strip(),
        name=name,
        gender=gender,
        is_party_member=is_party_member,
        position=(position or "").strip(),
        org=org,
        county_id=org.county_id,
    )
    person.set_phone(clean_phone(phone))
    return person


def _created(person: Person, phone: bool) -> dict:
    after = snapshot(person, PERSON_FIELDS)
    # The log keeps that the phone changed, never the number itself.
    after["phone"] = "***" if phone else ""
    return diff({}, after)


@transaction.atomic
def create_person(
    actor,
    *,
    org: Org,
    name: str,
    gender: str = Gender.UNKNOWN,
    phone: str = "",
    is_party_member: bool = False,
    position: str = "",
    number: str = "",
) -> Person:
    person = _new_person(actor, org, name, gender, phone, is_party_member, position, number)
    number = person.number = person.number or _next_person_number(org)
    if Person.objects.filter(number=number).exists():
        raise ValidationError(
            {"number": _("The person number %(number)s is already used.") % {"number": number}}
        )
    _save_unique(
        person, "number", _("The person number %(number)s is already used.") % {"number": number}
    )
    record(actor, "orgs.person.created", person, changes=_created(person, bool(phone)))
    return person


class RowRefused(ValidationError):
    """A bulk service refused one of its rows: ``index`` says which (from 0)."""

    def __init__(self, index: int, error: ValidationError | PermissionDenied):
        self.index = index
        self.error = error
        if isinstance(error, ValidationError):
            super().__init__(error.error_dict if hasattr(error, "error_dict") else error.messages)
        else:
            super().__init__(str(error) or _("You may not do this."))


@transaction.atomic
def create_people(actor, rows: list[dict]) -> list[Person]:
    """Many ``create_person`` at once (an import of a county's roster): the same checks and the
    same audit entries, in a few queries per thousand people instead of a few per person.

    Each row holds ``create_person``'s keyword arguments. A refused row raises ``RowRefused``
    naming it, and nothing is written.
    """
    people: list[Person] = []
    phones: list[bool] = []
    for index, row in enumerate(rows):
        try:
            people.append(
                _new_person(
                    actor,
                    row["org"],
                    row.get("name", ""),
                    row.get("gender", Gender.UNKNOWN),
                    row.get("phone", ""),
                    row.get("is_party_member", False),
                    row.get("position", ""),
                    row.get("number", ""),
                )
            )
            phones.append(bool(row.get("phone")))
            _check_lengths(people[-1])
        except (ValidationError, PermissionDenied) as exc:
            raise RowRefused(index, exc) from exc
    given = [p.number for p in people if p.number]
    for batch in _batches(given):
        taken = set(Person.objects.filter(number__in=batch).values_list("number", flat=True))
        if taken:
            index = next(i for i, p in enumerate(people) if p.number in taken)
            number = people[index].number
            raise RowRefused(
                index,
                ValidationError(
                    {
                        "number": _("The person number %(number)s is already used.")
                        % {"number": number}
                    }
                ),
            )
    _number_people([p for p in people if not p.number])
    _insert_unique(
        people, "number", _("A person number in the file was used by someone else meanwhile.")
    )
    record_many(
        actor,
        "orgs.person.created",
        ((p, _created(p, phone), None) for p, phone in zip(people, phones, strict=True)),
    )
    return people


def _batches(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _number_people(people: list[Person]) -> None:
    """Person numbers for new people, as ``_next_person_number`` would give them one by one."""
    last: dict[str, int] = {}
    for person in people:
        county = person.org.county or person.org
        prefix = f"P{county.code[:6]}"
        if prefix not in last:
            found = _next_person_number(person.org)
            last[prefix] = int(found[len(prefix) :]) - 1
        last[prefix] += 1
        person.number = f"{prefix}{last[prefix]:06d}"


def _apply_person(actor, person: Person, fields: dict) -> dict:
    """Set ``fields`` on ``person`` (loaded with its org) as ``update_person`` does; the changes
    for the audit log (the phone only as ``***``)."""
    _require(actor, access.MANAGE_PEOPLE, person.org)
    before = snapshot(person, PERSON_FIELDS)
    before["phone"] = person.phone_digest
    allowed = {"name", "gender", "phone", "is_party_member", "position", "org", "is_active"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"update_person cannot change {sorted(unknown)}")
    if "org" in fields and fields["org"].pk != person.org_id:
        _require(actor, access.MANAGE_PEOPLE, fields["org"])
        person.county_id = fields["org"].county_id
    for name, value in fields.items():
        if name == "phone":
            person.set_phone(clean_phone(value))
        else:
            setattr(person, name, value.strip() if isinstance(value, str) else value)
    if not person.name:
        raise ValidationError({"name": _("The name is required.")})
    if person.gender not in Gender.values:
        raise ValidationError(
            {"gender": _("Unknown gender: %(value)s.") % {"value": person.gender}}
        )
    after = snapshot(person, PERSON_FIELDS)
    after["phone"] = person.phone_digest
    changes = diff(before, after)
    if "phone" in changes:
        changes["phone"] = ["***", "***"]
    if changes:
        person.version += 1
        _check_lengths(person)
    return changes


@transaction.atomic
def update_person(actor, person: Person, *, version: int | None = None, **fields) -> Person:
    person = Person.objects.select_for_update().select_related("org").get(pk=person.pk)
    check_version(person, version)
    changes = _apply_person(actor, person, fields)
    if changes:
        person.save()
        record(actor, "orgs.person.changed", person, changes=changes)
    return person


PERSON_COLUMNS = [
    "name",
    "gender",
    "phone_encrypted",
    "phone_digest",
    "is_party_member",
    "position",
    "org",
    "county",
    "is_active",
    "version",
]


@transaction.atomic
def update_people(actor, changes: list[tuple[Person, dict]]) -> int:
    """Many ``update_person`` at once (a re-imported roster): the same checks and audit entries,
    in a few queries per thousand. Each person is locked and changed from its stored version;
    a refused row raises ``RowRefused`` naming it, and nothing is written. Returns how many
    people changed."""
    locked: dict[int, Person] = {}
    for batch in _batches([person.pk for person, _fields in changes]):
        found = Person.objects.select_for_update().filter(pk__in=batch).select_related("org")
        locked.update({person.pk: person for person in found})
    changed: list[Person] = []
    entries = []
    for index, (given, fields) in enumerate(changes):
        person = locked[given.pk]
        try:
            if person.version != given.version:
                check_version(person, given.version)
            diffs = _apply_person(actor, person, fields)
        except (ValidationError, PermissionDenied) as exc:
            raise RowRefused(index, exc) from exc
        if diffs:
            changed.append(person)
            entries.append((person, diffs, None))
    Person.objects.bulk_update(changed, PERSON_COLUMNS, batch_size=1000)
    record_many(actor, "orgs.person.changed", entries)
    return len(changed)


# --- logins and roles --------------------------------------------------------------------------


def _refuse(actor, action: str, message: str, data: dict, county_id: int | None) -> None:
    """Write the refused attempt to the audit log (in its own transaction, so it stays when the
    caller's work is refused) and raise."""
    record(actor, action, data=data, county_id=county_id, public=False)
    raise PermissionDenied(message)


def _user_label(user: User) -> str:
    person = getattr(user, "person", None)
    return person.name if person is not None else user.username


def _require_account(actor, user: User, org: Org | None, what: str) -> None:
    """Whether ``actor`` may manage ``user``'s login (create it, set its password, disable it).

    Never one's own through these (one's own password has its own page). An account that holds
    one of the three administrators' roles is managed only by whoever may grant that role (the
    security administrator), so the system administrator cannot take over the security
    administrator's account by resetting its password; any other account by a holder of
    ``MANAGE_ACCOUNTS`` over its person's organisation and over every organisation it holds a
    role on, so a county's administrator cannot reset the password of a province's role.
    """
    if actor is None:
        return
    county_id = org.county_id if org is not None else None
    data = {"login": user.pk, "what": what}
    if actor.pk == user.pk:
        _refuse(
            actor,
            "orgs.account.refused",
            _("Nobody manages their own login here; change your password on your own page."),
            data,
            county_id,
        )
    roles = list(Role.objects.filter(user=user).select_related("org"))
    admin = [r for r in roles if access.is_admin_kind(r.kind)]
    if admin:
        rules = access.grant_rules()
        allowed = all(access.can_grant(actor, r.kind, r.org, rules) for r in admin)
    else:
        orgs = [r.org for r in roles] + ([org] if org is not None else [])
        allowed = bool(orgs) and all(
            access.has_perm_on(actor, access.MANAGE_ACCOUNTS, o) for o in orgs
        )
    if not allowed:
        _refuse(
            actor,
            "orgs.account.refused",
            _("You may not manage the login of %(name)s: it holds a role beyond yours.")
            % {"name": _user_label(user)},
            data,
            county_id,
        )


@transaction.atomic
def create_login(actor, person: Person, *, username: str, password: str) -> User:
    person = Person.objects.select_for_update().select_related("org").get(pk=person.pk)
    _require(actor, access.MANAGE_ACCOUNTS, person.org)
    username = (username or "").strip()
    if person.user_id:
        raise ValidationError(
            {"username": _("%(name)s already has a login.") % {"name": person.name}}
        )
    if not username:
        raise ValidationError({"username": _("The username is required.")})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(
            {"username": _("The username %(name)s is taken.") % {"name": username}}
        )
    user = User(username=username, first_name=person.name)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    user.save()
    person.user = user
    person.save(update_fields=["user"])
    record(
        actor,
        "orgs.login.created",
        person,
        changes={"username": [None, username]},
        public=False,
    )
    return user


def end_sessions(user: User, *, keep: str | None = None) -> int:
    """Delete the login's sessions but ``keep`` (a session key): each of them is signed out at
    its next request. Called inside the services that end a login's sessions; returns how many."""
    sessions = Session.objects.filter(user=user)
    if keep:
        sessions = sessions.exclude(session_key=keep)
    return sessions.delete()[0]


def set_password(actor, user: User, password: str, *, keep_session: str | None = None) -> None:
    """Set the login's password (its owner on their own page, or an account manager); this ends
    its other sessions and all its API tokens.

    ``keep_session`` is the session of a person changing their own password, which stays signed
    in (the view then calls ``update_session_auth_hash``). The tokens end by their stamp
    (``User.credentials_stamp``), which the new password and ``signed_out_at`` change.
    """
    person = getattr(user, "person", None)
    if actor is not None and actor.pk != user.pk:
        if person is None:
            raise PermissionDenied(_("This login has no person."))
        _require_account(actor, user, person.org, "password")
    with transaction.atomic():
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
        user.set_password(password)
        user.signed_out_at = timezone.now()
        user.save(update_fields=["password", "signed_out_at"])
        ended = end_sessions(user, keep=keep_session)
        record(
            actor,
            "orgs.login.password_set",
            person or user,
            data={"user": user.pk, "sessions_ended": ended},
            public=False,
        )


def set_active(actor, user: User, active: bool) -> User:
    """Enable or disable a login. Disabling signs it out everywhere at once: its sessions are
    deleted and its API tokens stop working (their stamp no longer matches), and neither comes
    back when the login is enabled again. An account manager whose scope covers the login (see
    ``_require_account``) may do it, never to their own login."""
    person = Person.objects.select_related("org").filter(user=user).first()
    if actor is not None:
        if person is None:
            raise PermissionDenied(_("This login has no person."))
        if actor.pk == user.pk and not active:
            raise ValidationError(_("You cannot disable your own login."))
        _require_account(actor, user, person.org, "enable" if active else "disable")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_active == active:
            return user
        user.is_active = active
        fields = ["is_active"]
        ended = 0
        if not active:
            user.signed_out_at = timezone.now()
            fields.append("signed_out_at")
            ended = end_sessions(user)
        user.save(update_fields=fields)
        record(
            actor,
            "orgs.login.enabled" if active else "orgs.login.disabled",
            person or user,
            changes={"is_active": [not active, active]},
            data={"user": user.pk, "username": user.get_username(), "sessions_ended": ended},
            public=False,
        )
        return user


def _check_grant(actor, user: User, org: Org, kind: str, action: str) -> None:
    """Refuse (audited) a grant or revocation the grant table does not allow to ``actor``."""
    if actor is None:
        return
    data = {"login": user.pk, "role": kind, "org": org.pk, "action": action}
    if actor.pk == user.pk:
        _refuse(
            actor,
            "orgs.role.refused",
            _("Nobody grants or revokes a role on their own login."),
            data,
            org.county_id,
        )
    if not access.can_grant(actor, kind, org):
        _refuse(
            actor,
            "orgs.role.refused",
            _("Your role may not grant or revoke %(role)s on %(org)s.")
            % {"role": RoleKind(kind).label, "org": org.name},
            data,
            org.county_id,
        )


def _check_exclusive(user: User, kind: str) -> None:
    """三员分立: one login holds at most one of the three administrators' roles, and none of
    them beside a programme role."""
    held = set(Role.objects.filter(user=user).exclude(kind=kind).values_list("kind", flat=True))
    if not held:
        return
    if access.is_admin_kind(kind) or any(access.is_admin_kind(k) for k in held):
        labels = ", ".join(str(RoleKind(k).label) for k in sorted(held))
        raise ValidationError(
            {
                "kind": _(
                    "%(name)s holds %(roles)s. The system, security and audit administrators "
                    "each hold that role alone: one login never holds two of them, nor one of "
                    "them and a programme role."
                )
                % {"name": _user_label(user), "roles": labels}
            }
        )


def _by(actor) -> str:
    return _user_label(actor) if actor is not None else _("the system")


def grant_role(actor, user: User, org: Org, kind: str) -> Role:
    """Grant ``kind`` on ``org`` to ``user``, as the grant table allows ``actor`` (the system
    itself when None); audited, and the login hears of it."""
    from .notices import ROLE_GRANTED

    if kind not in RoleKind.values:
        raise ValidationError({"kind": _("Unknown role: %(value)s.") % {"value": kind}})
    _check_grant(actor, user, org, kind, "grant")
    with transaction.atomic():
        # Two grants to one login at once must not both pass the 三员 check.
        User.objects.select_for_update().filter(pk=user.pk).first()
        _check_exclusive(user, kind)
        role, created = Role.objects.get_or_create(
            user=user,
            org=org,
            kind=kind,
            defaults={"granted_by": actor if getattr(actor, "is_authenticated", False) else None},
        )
        if created:
            record(
                actor,
                "orgs.role.granted",
                role,
                changes={"role": [None, kind], "org": [None, org.pk], "user": [None, user.pk]},
                county_id=org.county_id,
            )
            if actor is not None:  # the installation's own grants (demo, create-admin) are no news
                notify(
                    user,
                    ROLE_GRANTED,
                    {"role": kind, "org": org.name, "by": _by(actor)},
                    about=role,
                )
    return role


def revoke_role(actor, role: Role) -> None:
    """Take a role away, as the grant table allows ``actor``; audited, and the login hears."""
    from .notices import ROLE_REVOKED

    _check_grant(actor, role.user, role.org, role.kind, "revoke")
    with transaction.atomic():
        record(
            actor,
            "orgs.role.revoked",
            role,
            changes={
                "role": [role.kind, None],
                "org": [role.org_id, None],
                "user": [role.user_id, None],
            },
            county_id=role.org.county_id,
        )
        if actor is not None:
            notify(
                role.user,
                ROLE_REVOKED,
                {"role": role.kind, "org": role.org.name, "by": _by(actor)},
            )
        role.delete()


def set_grant_rule(actor, grantor: str, grantee: str, *, allowed: bool) -> bool:
    """Allow or forbid holders of ``grantor`` to grant ``grantee``: the security administrator
    at the top of the tree only. Two rules hold whatever the table says: only the security
    administrator grants the three administrators' roles, and the system and audit
    administrators grant none. Returns whether the table changed."""
    for kind in (grantor, grantee):
        if kind not in RoleKind.values:
            raise ValidationError({"kind": _("Unknown role: %(value)s.") % {"value": kind}})
    if actor is not None and not access.has_perm_at_top(actor, access.MANAGE_ROLES):
        _refuse(
            actor,
            "orgs.grant_rule.refused",
            _(
                "Only a security administrator at the top of the tree changes who may grant "
                "which role."
            ),
            {"grantor": grantor, "grantee": grantee, "allowed": allowed},
            None,
        )
    with transaction.atomic():
        return _set_grant_rule(actor, grantor, grantee, allowed)


def _set_grant_rule(actor, grantor: str, grantee: str, allowed: bool) -> bool:
    if allowed and (
        (access.is_admin_kind(grantee) and grantor != RoleKind.SECURITY_ADMIN)
        or grantor in (RoleKind.SYSADMIN, RoleKind.AUDIT_ADMIN)
    ):
        raise ValidationError(
            _(
                "Only the security administrator grants the system, security and audit "
                "administrators' roles, and the system and audit administrators grant none."
            )
        )
    if allowed:
        _rule, changed = GrantRule.objects.get_or_create(grantor=grantor, grantee=grantee)
    else:
        changed = bool(GrantRule.objects.filter(grantor=grantor, grantee=grantee).delete()[0])
    if changed:
        record(
            actor,
            "orgs.grant_rule.changed",
            data={"grantor": grantor, "grantee": grantee, "allowed": allowed},
            public=False,
        )
    return changed


def find_user_by_phone(phone: str) -> User | None:
    digest = box().digest(normalize_phone(phone))
    if not digest:
        return None
    people = list(
        Person.objects.filter(phone_digest=digest, user__isnull=False, user__is_active=True)
        .select_related("user")
        .order_by("pk")[:2]
    )
    # A number on two logins' records names neither: signing in by it would pick one of them.
    return people[0].user if len(people) == 1 else None
