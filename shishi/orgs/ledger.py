"""The organisation ledger: a workbook with a sheet of organisations and a sheet of people.

Two sheets of the shared ledger framework (``shishi.ledger``): this module says what their columns
are, how a row is checked against the file and the database, and which service writes it. Rows
are matched by key: an organisation by its code, a person by their person number. A row that
matches changes only what differs; a file exported here imports back with nothing to do.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from shishi.audit.services import record
from shishi.ledger.columns import Choices, Column, yes_no
from shishi.ledger.exporter import Exporter, write_workbook
from shishi.ledger.importer import Import, Row, Sheet, WriteFailed
from shishi.ledger.results import Result
from shishi.lib.sheets import chunks, key, squash, text
from shishi.lib.spill import Spill

from . import access, services
from .models import STEP, Gender, Org, OrgKind, Person, box

EXPORT_CHUNK = 2000  # rows fetched at a time while exporting

KINDS = Choices(
    OrgKind,
    {
        OrgKind.PROVINCE: ["省", "自治区", "直辖市"],
        OrgKind.CITY: ["市", "地级市", "州", "盟"],
        OrgKind.COUNTY: ["县", "县级市", "区", "旗", "县（市、区）"],
        OrgKind.TOWN: [
            "town",
            "township",
            "subdistrict",
            "乡",
            "镇",
            "乡镇",
            "街道",
            "乡镇（街道）",
        ],
        OrgKind.VILLAGE: ["村", "行政村"],
        OrgKind.COMMUNITY: ["社区"],
        OrgKind.DEPARTMENT: ["部门", "单位", "县直部门", "县直单位"],
        OrgKind.BRANCH: ["branch", "党支部", "支部"],
    },
)
GENDERS = Choices(
    Gender,
    {
        Gender.MALE: ["男", "男性", "m"],
        Gender.FEMALE: ["女", "女性", "f"],
        Gender.UNKNOWN: ["未说明", "未知", "不详", "u"],
    },
)


class OrgNames:
    """The organisations of one county by code, name or short name, loaded in one query, for a
    ledger column that names them (a commitment's responsible unit): ``find`` gives the one a
    cell names, or the words that say why none."""

    def __init__(self, county: Org | None):
        self.county = county
        self.by_code: dict[str, Org] = {}
        self.by_name: dict[str, list[Org]] = {}
        if county is None:
            return
        orgs = (
            Org.objects.filter(county=county, is_active=True)
            .exclude(kind=OrgKind.COUNTY)
            .only("id", "code", "name", "short_name", "county_id", "kind", "path")
        )
        for org in orgs:
            self.by_code[org.code] = org
            for name in {org.name, org.short_name} - {""}:
                self.by_name.setdefault(squash(name), []).append(org)

    def find(self, value: str) -> tuple[Org | None, str]:
        org = self.by_code.get(key(value))
        if org is not None:
            return org, ""
        found = self.by_name.get(squash(value), [])
        if len(found) == 1:
            return found[0], ""
        county = self.county.name if self.county is not None else ""
        if found:
            return None, _(
                "Several units of %(county)s are named %(value)s; write its code instead."
            ) % {"county": county, "value": value}
        return None, _("%(value)s is not a unit of %(county)s.") % {
            "value": value,
            "county": county,
        }


class OrgSheet(Sheet):
    """Organisations by code. A row's plan holds the existing ``org`` (or None: create it), its
    ``fields`` to change and whether it must ``move``; ``order`` lists rows parents first."""

    key = "orgs"
    label = gettext_lazy("organisations")
    strict_headings = True
    aliases = ("organisation", "orgs", "组织", "组织机构", "单位")
    columns = (
        Column("code", gettext_lazy("Code"), ("编码", "代码", "组织编码", "组织代码", "区划代码")),
        Column(
            "parent_code",
            gettext_lazy("Parent code"),
            ("上级编码", "上级代码", "上级组织编码", "上级组织代码", "parent"),
        ),
        Column("kind", gettext_lazy("Kind"), ("类型", "组织类型", "类别")),
        Column("name", gettext_lazy("Name"), ("名称", "组织名称", "单位名称"), max_length=100),
        Column("short_name", gettext_lazy("Short name"), ("简称",), False, max_length=50),
    )
    service_fields = {
        "code": "code",
        "name": "name",
        "short_name": "short_name",
        "kind": "kind",
        "parent": "parent_code",
        "reason": "parent_code",
    }

    def __init__(self, run: OrgLedgerImport, title: str = ""):
        super().__init__(run, title)
        self.by_code: dict[str, Row] = {}
        self.db_by_code: dict[str, Org] = {}
        self.db_by_path: dict[str, Org] = {}
        self.order: list[Row] = []

    def _load(self, codes: set[str]) -> None:
        """Fetch the orgs named in the file and all their ancestors: a few queries in all."""
        fields = ("id", "code", "kind", "name", "short_name", "path", "depth", "county_id")
        for batch in chunks(sorted(codes)):
            for org in Org.objects.filter(code__in=batch).only(*fields):
                self.db_by_code[org.code] = org
                self.db_by_path[org.path] = org
        wanted = {p for org in self.db_by_code.values() for p in org.ancestor_paths()}
        for batch in chunks(sorted(wanted - set(self.db_by_path))):
            for org in Org.objects.filter(path__in=batch).only(*fields):
                self.db_by_code[org.code] = org
                self.db_by_path[org.path] = org

    def db_parent(self, org: Org) -> Org | None:
        return self.db_by_path.get(org.path[:-STEP]) if len(org.path) > STEP else None

    def validate(self) -> None:
        for row in self.rows:
            v = row.values
            code = key(v.get("code"))
            kind = KINDS.parse(v.get("kind"))
            row.plan = {
                "code": code,
                "parent_code": key(v.get("parent_code")),
                "kind": kind,
                "name": self.text(row, "name"),
                "short_name": self.text(row, "short_name")
                if "short_name" in self.present
                else None,
                "ok_parent": False,
            }
            if not code:
                self.error(row.number, "code", _("The code is required."))
            elif code in self.by_code:
                self.error(
                    row.number,
                    "code",
                    _("The code %(code)s is already on row %(row)d.")
                    % {"code": code, "row": self.by_code[code].number},
                )
            else:
                self.by_code[code] = row
            if kind is None:
                self.error(
                    row.number,
                    "kind",
                    _("Unknown kind: %(value)s. Use one of: %(kinds)s.")
                    % {
                        "value": text(v.get("kind")) or "-",
                        "kinds": ", ".join(str(label) for label in OrgKind.labels),
                    },
                )
            if not row.plan["name"]:
                self.error(row.number, "name", _("The name is required."))
        self._load(
            {r.plan["code"] for r in self.rows if r.plan["code"]}
            | {r.plan["parent_code"] for r in self.rows if r.plan["parent_code"]}
        )
        for row in self.rows:
            if row.plan["code"] and self.by_code.get(row.plan["code"]) is row:
                self._check_row(row)
        self._order()

    def _check_row(self, row: Row) -> None:
        p = row.plan
        org = self.db_by_code.get(p["code"])
        p["org"] = org
        if org is not None:
            if not self.run.in_scope(access.MANAGE_ORGS, org):
                self.error(
                    row.number,
                    "code",
                    _("%(code)s is outside the part of the tree you manage.") % {"code": p["code"]},
                )
                return
            if p["kind"] and p["kind"] != org.kind:
                self.error(
                    row.number,
                    "kind",
                    _("An import cannot change the kind of %(code)s (it is %(kind)s).")
                    % {"code": p["code"], "kind": OrgKind(org.kind).label},
                )
            current = self.db_parent(org)
            if (current.code if current else "") == p["parent_code"]:
                p["ok_parent"] = True  # stays where it is, whoever manages its parent
                return
            if not p["parent_code"]:
                self.error(
                    row.number,
                    "parent_code",
                    _("An import cannot move %(code)s to the top of the tree.")
                    % {"code": org.code},
                )
                return
        elif p["kind"]:
            try:
                services.validate_code(p["kind"], p["code"])
            except ValidationError as exc:
                self.service_error(row.number, exc)
        if not p["parent_code"]:
            if self.actor is not None:
                self.error(
                    row.number,
                    "parent_code",
                    _("Only the system can create a top-level organisation."),
                )
            elif p["kind"]:
                self._check_kind(row, None)
            p["ok_parent"] = True
            return
        if p["parent_code"] == p["code"]:
            p["ok_parent"] = True  # reported as a loop by _order
            return
        parent_row = self.by_code.get(p["parent_code"])
        parent_org = self.db_by_code.get(p["parent_code"])
        if parent_row is not None:
            parent_kind = parent_row.plan["kind"]
        elif parent_org is not None and self.run.in_scope(access.MANAGE_ORGS, parent_org):
            parent_kind = parent_org.kind
        else:
            self.error(
                row.number,
                "parent_code",
                _(
                    "No organisation with the code %(code)s in this file or in your part of the tree."
                )
                % {"code": p["parent_code"]},
            )
            return
        p["ok_parent"] = True
        if p["kind"] and parent_kind:
            self._check_kind(row, parent_kind)

    def _check_kind(self, row: Row, parent_kind: str | None) -> None:
        try:
            services.validate_parent(
                row.plan["kind"], Org(kind=parent_kind) if parent_kind else None
            )
        except ValidationError as exc:
            self.service_error(row.number, exc)

    _UNKNOWN = object()

    def final_parent(self, code: str) -> Any:
        """The parent code ``code`` will have after the import; None at the top, _UNKNOWN if unsure."""
        row = self.by_code.get(code)
        if row is not None:
            if not row.plan.get("ok_parent"):
                return self._UNKNOWN
            return row.plan["parent_code"] or None
        org = self.db_by_code.get(code)
        if org is None:
            return self._UNKNOWN
        parent = self.db_parent(org)
        if parent is None and len(org.path) > STEP:
            return self._UNKNOWN
        return parent.code if parent else None

    def _order(self) -> None:
        """Report loops; order the rows by their depth after the import, so parents come first.

        Depth counts through organisations that are not in the file as well: moving A under B
        must wait until B's own ancestors in the file have moved, or B could still sit under A.
        """
        depth: dict[str, int | None] = {}
        for start in self.by_code:
            chain: list[str] = []
            on_chain: set[str] = set()
            current: Any = start
            base: int | None = None
            while True:
                if current in depth:
                    base = depth[current]
                    break
                if current in on_chain:
                    loop = chain[chain.index(current) :] + [current]
                    text = " → ".join(loop)
                    for code in loop[:-1]:
                        if code in self.by_code and depth.get(code, 0) is not None:
                            self.error(
                                self.by_code[code].number,
                                "parent_code",
                                _("This makes a loop: %(chain)s.") % {"chain": text},
                            )
                            depth[code] = None
                    base = None
                    break
                chain.append(current)
                on_chain.add(current)
                parent = self.final_parent(current)
                if parent is None:
                    base = -1
                    break
                if parent is self._UNKNOWN:
                    chain.pop()
                    depth[current] = None
                    base = None
                    break
                current = parent
            for code in reversed(chain):
                if base is not None:
                    base += 1
                depth.setdefault(code, base)
        self.order = sorted(
            (r for r in self.by_code.values() if depth.get(r.plan["code"]) is not None),
            key=lambda r: (depth[r.plan["code"]], r.number),
        )
        for row in self.order:
            p, org = row.plan, row.plan.get("org")
            if org is None:
                self.counts.created += 1
                continue
            p["fields"] = {}
            if p["name"] != org.name:
                p["fields"]["name"] = p["name"]
            if p["short_name"] is not None and p["short_name"] != org.short_name:
                p["fields"]["short_name"] = p["short_name"]
            current = self.db_parent(org)
            p["move"] = (current.code if current else "") != p["parent_code"]
            if p["fields"] or p["move"]:
                self.counts.changed += 1
            else:
                self.counts.unchanged += 1

    def anchor(self, code: str) -> Org | None:
        """The existing organisation ``code`` is or will stand under (the nearest in the DB)."""
        seen: set[str] = set()
        while code in self.by_code and self.by_code[code].plan.get("org") is None:
            if code in seen:
                return None
            seen.add(code)
            code = self.by_code[code].plan["parent_code"]
        return self.db_by_code.get(code)

    def write(self) -> None:
        """New organisations in one bulk write (``services.create_orgs``, parents first), then
        each change of name or place through ``update_org`` and ``move_org``."""
        new = [row for row in self.order if row.plan["org"] is None]
        wanted = {row.plan["parent_code"] for row in self.order if row.plan["parent_code"]}
        wanted -= {row.plan["code"] for row in new}
        parents: dict[str, Org] = {}
        for batch in chunks(sorted(wanted)):
            parents.update({o.code: o for o in Org.objects.filter(code__in=batch)})
        rows = [
            {
                "parent": parents.get(row.plan["parent_code"], row.plan["parent_code"] or None),
                "kind": row.plan["kind"],
                "name": row.plan["name"],
                "code": row.plan["code"],
                "short_name": row.plan["short_name"] or "",
            }
            for row in new
        ]
        created = {org.code: org for org in _bulk(self, new, services.create_orgs, rows)}
        reason = _("Excel import")
        for row in self.order:
            p = row.plan
            if p["org"] is None:
                continue
            try:
                if p["fields"]:
                    services.update_org(self.actor, p["org"], **p["fields"])
                if p["move"]:
                    parent = created.get(p["parent_code"]) or Org.objects.get(code=p["parent_code"])
                    services.move_org(self.actor, p["org"], parent, reason=reason)
            except (ValidationError, PermissionDenied) as exc:
                self.service_error(row.number, exc)
                raise WriteFailed from exc


class PersonSheet(Sheet):
    """People by person number (empty: a new person, numbered by the service). A column left out
    of the sheet leaves that field as it is; an empty cell in a present column clears it."""

    key = "people"
    label = gettext_lazy("people")
    strict_headings = True
    aliases = ("persons", "person", "人员", "人员名单", "花名册")
    columns = (
        Column("number", gettext_lazy("Person number"), ("人员编号", "编号"), max_length=32),
        Column("name", pgettext_lazy("person", "Name"), ("姓名", "名字"), max_length=50),
        Column("gender", gettext_lazy("Gender"), ("性别",), False),
        Column(
            "phone",
            gettext_lazy("Mobile number"),
            ("手机号", "手机号码", "手机", "联系电话", "phone", "mobile"),
            False,
        ),
        Column("is_party_member", gettext_lazy("Party member"), ("党员", "是否党员"), False),
        Column("position", gettext_lazy("Position"), ("职务", "职位"), False, max_length=100),
        Column(
            "org_code",
            gettext_lazy("Organisation code"),
            ("组织编码", "组织代码", "所在组织编码", "单位编码", "organisation"),
        ),
    )
    service_fields = {
        "number": "number",
        "name": "name",
        "gender": "gender",
        "phone": "phone",
        "is_party_member": "is_party_member",
        "position": "position",
        "org": "org_code",
    }

    def __init__(self, run: OrgLedgerImport, title: str = ""):
        super().__init__(run, title)
        self.db_people: dict[str, Person] = {}
        self.db_orgs: dict[str, Org] = {}
        self.codes: set[str] = set()  # the organisations the rows name
        # A roster may hold 100,000 rows: they wait for the next step in temporary files (memory
        # stays flat), first as read, then with what the write is to do.
        self.read_rows: Spill[Row] = Spill()
        self.planned: Spill[Row] = Spill()

    def take(self, number: int, cells: dict[str, Any], bad: set[str]) -> None:
        self.check_count(number, len(self.read_rows) + 1)
        self.read_rows.append(Row(number, cells))

    def close(self) -> None:
        self.read_rows.close()
        self.planned.close()

    def _load(self, numbers: set[str], codes: set[str]) -> None:
        for batch in chunks(sorted(numbers)):
            for person in Person.objects.filter(number__in=batch).select_related("org"):
                self.db_people[person.number] = person
        for batch in chunks(sorted(codes)):
            for org in Org.objects.filter(code__in=batch).only("id", "code", "path", "kind"):
                self.db_orgs[org.code] = org

    def validate(self) -> None:
        """Each row on its own, then (with the people and organisations it names loaded in a few
        queries) against the database and the user's part of the tree."""
        seen: dict[str, int] = {}
        with Spill() as checked:
            for row in self.read_rows:
                self._read_row(row, seen)
                if row.plan["org_code"]:
                    self.codes.add(row.plan["org_code"])
                row.values = {}  # read: the plan holds what the rest needs
                checked.append(row)
            self.read_rows.close()
            self._load(set(seen), self.codes)
            for row in checked:
                self._check_row(row)
                self.planned.append(row)

    def _read_row(self, row: Row, seen: dict[str, int]) -> None:
        v = row.values
        p = row.plan = {
            "number": self.text(row, "number", as_key=True),
            "name": self.text(row, "name"),
            "org_code": key(v.get("org_code")),
        }
        if p["number"]:
            if p["number"] in seen:
                self.error(
                    row.number,
                    "number",
                    _("The person number %(number)s is already on row %(row)d.")
                    % {"number": p["number"], "row": seen[p["number"]]},
                )
            seen.setdefault(p["number"], row.number)
        if not p["name"]:
            self.error(row.number, "name", _("The name is required."))
        if "gender" in self.present:
            p["gender"] = (
                GENDERS.parse(v.get("gender")) if v.get("gender") is not None else Gender.UNKNOWN
            )
            if p["gender"] is None:
                self.error(
                    row.number,
                    "gender",
                    _("Unknown gender: %(value)s.") % {"value": text(v.get("gender"))},
                )
        if "phone" in self.present:
            try:
                p["phone"] = services.clean_phone(key(v.get("phone")))
            except ValidationError as exc:
                self.service_error(row.number, exc)
        if "is_party_member" in self.present:
            p["is_party_member"] = yes_no.parse(v.get("is_party_member"))
            if p["is_party_member"] is None:
                self.error(
                    row.number,
                    "is_party_member",
                    _("Write yes or no, not %(value)s.")
                    % {"value": text(v.get("is_party_member"))},
                )
        if "position" in self.present:
            p["position"] = self.text(row, "position")
        if not p["org_code"]:
            self.error(row.number, "org_code", _("The organisation code is required."))

    def _target_in_scope(self, code: str) -> bool | None:
        """Whether people may be managed in org ``code``: None when there is no such org."""
        orgs = self.run.sheet(OrgSheet)
        if orgs is not None and code in orgs.by_code:
            anchor = orgs.anchor(code)
            if anchor is None:
                return self.actor is None
            return self.run.in_scope(access.MANAGE_PEOPLE, anchor)
        org = self.db_orgs.get(code)
        if org is None:
            return None
        return self.run.in_scope(access.MANAGE_PEOPLE, org)

    def _check_row(self, row: Row) -> None:
        p = row.plan
        person = self.db_people.get(p["number"]) if p["number"] else None
        p["existing"] = person is not None
        p["changes"] = {}
        if person is not None and not self.run.in_scope(access.MANAGE_PEOPLE, person.org):
            self.error(
                row.number,
                "number",
                _("%(number)s belongs to an organisation outside the part of the tree you manage.")
                % {"number": p["number"]},
            )
            return
        if p["org_code"] and not (person is not None and person.org.code == p["org_code"]):
            allowed = self._target_in_scope(p["org_code"])
            if not allowed:
                self.error(
                    row.number,
                    "org_code",
                    _(
                        "No organisation with the code %(code)s in this file or in your part of "
                        "the tree."
                    )
                    % {"code": p["org_code"]},
                )
                return
        if person is None:
            self.counts.created += 1
            return
        changes: dict[str, Any] = {}
        if p["name"] != person.name:
            changes["name"] = p["name"]
        for name in ("gender", "is_party_member", "position"):
            if name in p and p[name] != getattr(person, name):
                changes[name] = p[name]
        if "phone" in p and box().digest(p["phone"]) != person.phone_digest:
            changes["phone"] = p["phone"]
        if p["org_code"] != person.org.code:
            changes["org"] = p["org_code"]
        p["changes"] = changes
        if changes:
            self.counts.changed += 1
        else:
            self.counts.unchanged += 1

    def write(self) -> None:
        """New people in bulk writes, changed people in others (``services.create_people``,
        ``update_people``), a batch of rows at a time: the same checks and audit entries as one
        by one, at a few queries per thousand rows."""
        # Fetched afresh: the organisations sheet may just have created or moved them.
        orgs: dict[str, Org] = {}
        for batch in chunks(sorted(self.codes)):
            found = Org.objects.filter(code__in=batch).select_related("county")
            orgs.update({o.code: o for o in found})
        for rows in self.planned.batches():
            new = [row for row in rows if not row.plan["existing"]]
            changed = [r for r in rows if r.plan["existing"] and r.plan["changes"]]
            creations = [
                {
                    "org": orgs[row.plan["org_code"]],
                    "name": row.plan["name"],
                    "gender": row.plan.get("gender", Gender.UNKNOWN),
                    "phone": row.plan.get("phone", ""),
                    "is_party_member": row.plan.get("is_party_member", False),
                    "position": row.plan.get("position", ""),
                    "number": row.plan["number"],
                }
                for row in new
            ]
            updates = []
            for row in changed:
                fields = dict(row.plan["changes"])
                if "org" in fields:
                    fields["org"] = orgs[fields["org"]]
                updates.append((self.db_people[row.plan["number"]], fields))
            if creations:
                _bulk(self, new, services.create_people, creations)
            if updates:
                _bulk(self, changed, services.update_people, updates)


def _bulk(sheet: Sheet, rows: list[Row], service, items: list) -> Any:
    """``service(actor, items)``, a bulk service of ``services``; a refusal is reported on the row
    it names (``RowRefused``) and the write rolls back."""
    try:
        return service(sheet.actor, items)
    except services.RowRefused as exc:
        sheet.service_error(rows[exc.index].number, exc.error)
        raise WriteFailed from exc
    except (ValidationError, PermissionDenied) as exc:
        sheet.service_error(None, exc)
        raise WriteFailed from exc


class OrgLedgerImport(Import):
    """One import of an organisation workbook (either sheet, or both)."""

    sheets = (OrgSheet, PersonSheet)

    def in_scope(self, perm: str, org: Org) -> bool:
        """Whether the actor holds ``perm`` on ``org``; the system (``None``) holds everything."""
        return self.actor is None or access.has_perm_on(self.actor, perm, org)


def import_workbook(
    actor, source: Any, *, dry_run: bool = False, max_rows: int | None = None, name: str = ""
) -> Result:
    """Check every row of the workbook, then (if all are right) write them in one transaction.

    ``actor`` is the user importing (``None``: the system, which may do everything). With
    ``dry_run`` the writes run and are rolled back, so the result counts what a real run would
    do and finds what the services would refuse. Errors come in the active language.
    """
    run = OrgLedgerImport(actor, dry_run=dry_run, max_rows=max_rows)
    return run.run(source, name)


# --- exporting ---------------------------------------------------------------------------------


class OrgExporter(Exporter):
    sheet_class = OrgSheet

    def __init__(self, actor, root: Org | None = None):
        super().__init__()
        self.actor = actor
        self.root = root

    def header(self) -> list[str]:
        return [str(c.label) for c in self.sheet_class.columns]

    def keys(self) -> list[str]:
        return [c.key for c in self.sheet_class.columns]

    def sheet_title(self) -> str:
        return str(self.sheet_class.label)

    def queryset(self):
        """Active organisations in the actor's scope (under ``root``), parents before children."""
        qs = (
            Org.objects.all()
            if self.actor is None
            else access.orgs_for(self.actor, access.MANAGE_ORGS)
        )
        if self.root is not None:
            qs = qs.filter(path__startswith=self.root.path)
        return qs.filter(is_active=True).order_by("path")

    def rows(self) -> Iterator[list[Any]]:
        kinds = {value: str(label) for value, label in OrgKind.choices}
        values = self.queryset().values_list("code", "parent__code", "kind", "name", "short_name")
        for code, parent_code, kind, name, short_name in values.iterator(chunk_size=EXPORT_CHUNK):
            yield [code, parent_code, kinds.get(kind, kind), name, short_name]


class PersonExporter(OrgExporter):
    sheet_class = PersonSheet

    def queryset(self):
        """Active people of active organisations the actor manages people in (under ``root``)."""
        qs = (
            Person.objects.all()
            if self.actor is None
            else access.people_for(self.actor, access.MANAGE_PEOPLE)
        )
        if self.root is not None:
            qs = qs.filter(org__path__startswith=self.root.path)
        return qs.filter(is_active=True, org__is_active=True).order_by("org__path", "number")

    def rows(self) -> Iterator[list[Any]]:
        genders = {value: str(label) for value, label in Gender.choices}
        yes, no = _("yes"), _("no")
        values = self.queryset().values_list(
            "number",
            "name",
            "gender",
            "phone_encrypted",
            "is_party_member",
            "position",
            "org__code",
        )
        cipher = box()
        for number, name, gender, phone, member, position, org_code in values.iterator(
            chunk_size=EXPORT_CHUNK
        ):
            yield [
                number,
                name,
                genders.get(gender, gender),
                cipher.decrypt(phone),
                yes if member else no,
                position,
                org_code,
            ]


def export_workbook(actor, target: IO[bytes] | str, *, root: Org | None = None) -> dict[str, int]:
    """Write the organisations ``actor`` manages (under ``root``) and their people to ``target``.

    Headings and labels come in the active language; phone numbers are written in full, which is
    why only managers may export and why every export is written to the audit log. Returns the
    number of rows per sheet.
    """
    exporters = [OrgExporter(actor, root), PersonExporter(actor, root)]
    write_workbook(target, exporters)
    counts = {e.sheet_class.key: e.count for e in exporters}
    record(
        actor,
        "orgs.ledger.exported",
        root,
        data={"root": root.code if root else "", **counts},
        public=False,
    )
    return counts
