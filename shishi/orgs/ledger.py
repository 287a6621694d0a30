"""The organisation ledger in Excel: one workbook, a sheet of organisations and a sheet of people.

Import runs in two phases. First every row of both sheets is read and checked against the file
and the database, and every problem is collected as a ``RowError`` naming sheet, row and column
in the user's language. Only when there is none does the second phase write, in one transaction,
through the functions of ``services`` (which check permission and write the audit log again).
Should a service still refuse a row, the whole transaction rolls back and that row is reported.
A dry run does the same and rolls back at the end, so it finds what a real run would.

Rows are matched by key: an organisation by its code, a person by their person number. A row that
matches changes only what differs; a file exported here imports back with nothing to do.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, ClassVar

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from shishi.audit.services import record
from shishi.lib import xlsx

from . import access, services
from .models import STEP, Gender, Org, OrgKind, Person, box

CHUNK = 500  # keys per IN (...) query; SQLite allows 999 parameters in older builds
EXPORT_CHUNK = 2000  # rows fetched at a time while exporting


def fold(text: str) -> str:
    """The form in which headings and choices are compared: NFKC, one space, case folded."""
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _key(value: Any) -> str:
    """A code or number as typed, with full-width digits and letters made plain (NFKC)."""
    return unicodedata.normalize("NFKC", _text(value)).strip()


def _chunks(items: Iterable, size: int = CHUNK) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _labels(text: Promise | str) -> set[str]:
    """``text`` translated into every language Shishi speaks, folded."""
    out = {fold(str(text))}
    for language in _languages():
        with translation.override(language):
            out.add(fold(str(text)))
    return out


# --- choices: codes, labels in every language, and the words people type ---------------------

KIND_ALIASES = {
    OrgKind.PROVINCE: ["省", "自治区", "直辖市"],
    OrgKind.CITY: ["市", "地级市", "州", "盟"],
    OrgKind.COUNTY: ["县", "县级市", "区", "旗", "县（市、区）"],
    OrgKind.TOWN: ["town", "township", "subdistrict", "乡", "镇", "乡镇", "街道", "乡镇（街道）"],
    OrgKind.VILLAGE: ["村", "行政村"],
    OrgKind.COMMUNITY: ["社区"],
    OrgKind.DEPARTMENT: ["部门", "单位", "县直部门", "县直单位"],
    OrgKind.BRANCH: ["branch", "党支部", "支部"],
}
GENDER_ALIASES = {
    Gender.MALE: ["男", "男性", "m"],
    Gender.FEMALE: ["女", "女性", "f"],
    Gender.UNKNOWN: ["未说明", "未知", "不详", "u"],
}
YES_WORDS = ["yes", "y", "true", "1", "是", "√", "✓"]
NO_WORDS = ["no", "n", "false", "0", "否", "×", "✗"]


def _choice_map(choices: type, aliases: dict[str, list[str]]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value, label in choices.choices:
        mapping[fold(value)] = value
        for text in _labels(label):
            mapping[text] = value
        for alias in aliases.get(value, []):
            mapping[fold(alias)] = value
    return mapping


# Built once per process: the catalogues of every language are fixed while it runs.
@functools.cache
def _kind_map() -> dict[str, str]:
    return _choice_map(OrgKind, KIND_ALIASES)


@functools.cache
def _gender_map() -> dict[str, str]:
    return _choice_map(Gender, GENDER_ALIASES)


@functools.cache
def _yes_no_map() -> dict[str, bool]:
    mapping = {fold(word): True for word in YES_WORDS}
    mapping.update({fold(word): False for word in NO_WORDS})
    mapping.update(dict.fromkeys(_labels(gettext_lazy("yes")), True))
    mapping.update(dict.fromkeys(_labels(gettext_lazy("no")), False))
    return mapping


def parse_kind(value: Any) -> str | None:
    return _kind_map().get(fold(_text(value)))


def parse_gender(value: Any) -> str | None:
    if value is None:
        return Gender.UNKNOWN
    return _gender_map().get(fold(_text(value)))


def parse_yes_no(value: Any) -> bool | None:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    return _yes_no_map().get(fold(_text(value)))


# --- columns, errors, results ------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: Promise
    # Other headings people use for this column (matched after ``fold``), in any language.
    aliases: tuple[str, ...] = ()
    required: bool = True
    max_length: int | None = None

    def names(self) -> set[str]:
        return (
            _labels(self.label)
            | {fold(self.key.replace("_", " "))}
            | {fold(a) for a in self.aliases}
        )


@dataclass
class RowError:
    """One problem: where (sheet, row, column) and what, in the language active when found."""

    sheet: str
    row: int | None
    column: str
    letter: str
    message: str

    @property
    def where(self) -> str:
        """``people, row 3, column D (Mobile number)``, in the active language."""
        if self.row is None:
            return self.sheet
        column = self.letter or self.column
        if self.letter and self.column:
            column = f"{self.letter} ({self.column})"
        if not column:
            return _("%(sheet)s, row %(row)d") % {"sheet": self.sheet, "row": self.row}
        return _("%(sheet)s, row %(row)d, column %(column)s") % {
            "sheet": self.sheet,
            "row": self.row,
            "column": column,
        }

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass
class Counts:
    created: int = 0
    changed: int = 0
    unchanged: int = 0


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do). With errors, nothing was written."""

    dry_run: bool
    counts: dict[str, Counts] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def sheets(self) -> list[tuple[str, Counts]]:
        return [(self.labels.get(key, key), counts) for key, counts in self.counts.items()]


class WriteFailed(Exception):
    """A service refused a row during the write phase; raised to roll the transaction back."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__(errors)


@dataclass
class Row:
    number: int
    values: dict[str, Any]
    plan: dict[str, Any] = field(default_factory=dict)


# --- importing ---------------------------------------------------------------------------------


class ImportContext:
    """What the sheets of one import share: the actor, their scope, the errors, found objects."""

    def __init__(self, actor):
        self.actor = actor
        self.errors: list[RowError] = []
        self.orgs: OrgImporter | None = None

    def in_scope(self, perm: str, org: Org) -> bool:
        """Whether the actor holds ``perm`` on ``org``; the system (``None``) holds everything."""
        return self.actor is None or access.has_perm_on(self.actor, perm, org)


class LedgerImporter:
    """One sheet of the workbook: read it, check every row, then write it through the services.

    Subclasses name their sheet and columns and implement ``validate`` (fill each row's ``plan``,
    report with ``error``) and ``write`` (call the services in the order the plan says).
    """

    key: ClassVar[str]
    sheet_label: ClassVar[Promise]
    sheet_aliases: ClassVar[tuple[str, ...]] = ()
    columns: ClassVar[tuple[Column, ...]]
    # ValidationError keys from the services, by the column they belong to.
    service_fields: ClassVar[dict[str, str]] = {}

    def __init__(self, context: ImportContext):
        self.ctx = context
        self.actor = context.actor
        self.rows: list[Row] = []
        self.counts = Counts()
        self.present: set[str] = set()
        self.letters: dict[str, str] = {}
        self.header_row = 1

    @classmethod
    def sheet_names(cls) -> set[str]:
        return _labels(cls.sheet_label) | {fold(cls.key)} | {fold(a) for a in cls.sheet_aliases}

    @property
    def sheet(self) -> str:
        return str(self.sheet_label)

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def error(self, row: int | None, key: str | None, message: str) -> None:
        self.ctx.errors.append(
            RowError(
                sheet=self.sheet,
                row=row,
                column=str(self.column(key).label) if key else "",
                letter=self.letters.get(key, "") if key else "",
                message=str(message),
            )
        )

    def service_error(self, row: Row, exc: ValidationError | PermissionDenied) -> list[RowError]:
        """A service's refusal as errors on ``row``, by column where the service names a field."""
        start = len(self.ctx.errors)
        if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
            for name, errors in exc.error_dict.items():
                for error in errors:
                    self.error(row.number, self.service_fields.get(name), " ".join(error.messages))
        elif isinstance(exc, ValidationError):
            for message in exc.messages:
                self.error(row.number, None, message)
        else:
            self.error(row.number, None, str(exc) or _("You may not do this."))
        return self.ctx.errors[start:]

    # reading

    def read(self, sheet: Any, max_rows: int | None = None) -> None:
        """Map the first non-empty row's headings to columns, then keep each non-empty row."""
        names = {c.key: c.names() for c in self.columns}
        positions: dict[int, str] = {}
        header_seen = False
        for number, values in xlsx.iter_rows(sheet):
            if not any(v is not None for v in values):
                continue
            if not header_seen:
                header_seen = True
                self.header_row = number
                positions = self._read_header(number, values, names)
                if positions is None:
                    return
                continue
            if max_rows is not None and len(self.rows) >= max_rows:
                self.error(
                    number,
                    None,
                    _("The sheet has more than %(n)d rows; split it into several files.")
                    % {"n": max_rows},
                )
                return
            self.rows.append(
                Row(
                    number,
                    {key: values[i] if i < len(values) else None for i, key in positions.items()},
                )
            )

    def _read_header(self, number: int, values: list, names: dict) -> dict[int, str] | None:
        positions: dict[int, str] = {}
        ok = True
        for index, heading in enumerate(values):
            if heading is None:
                continue
            letter = xlsx.column_letter(index)
            folded = fold(_text(heading))
            key = next((k for k, n in names.items() if folded in n), None)
            if key is None:
                ok = False
                self.ctx.errors.append(
                    RowError(
                        self.sheet,
                        number,
                        _text(heading),
                        letter,
                        _("Unknown column heading %(heading)s. The headings are: %(all)s.")
                        % {
                            "heading": _text(heading),
                            "all": ", ".join(str(c.label) for c in self.columns),
                        },
                    )
                )
            elif key in self.present:
                ok = False
                self.error(
                    number,
                    key,
                    _("The column %(column)s appears twice.")
                    % {"column": str(self.column(key).label)},
                )
            else:
                positions[index] = key
                self.present.add(key)
                self.letters[key] = letter
        for column in self.columns:
            if column.required and column.key not in self.present:
                ok = False
                self.error(
                    number, None, _("The column %(column)s is missing.") % {"column": column.label}
                )
        return positions if ok else None

    # helpers for subclasses

    def text(self, row: Row, key: str, *, as_key: bool = False) -> str:
        """The cell as text (``as_key``: a code, see ``_key``), checked against its max length."""
        value = _key(row.values.get(key)) if as_key else _text(row.values.get(key)).strip()
        limit = self.column(key).max_length
        if limit and len(value) > limit:
            self.error(
                row.number,
                key,
                _("At most %(n)d characters; this has %(m)d.") % {"n": limit, "m": len(value)},
            )
        return value

    def validate(self) -> None:
        raise NotImplementedError

    def write(self) -> None:
        raise NotImplementedError


class OrgImporter(LedgerImporter):
    """Organisations by code. A row's plan holds the existing ``org`` (or None: create it), its
    ``fields`` to change and whether it must ``move``; ``order`` lists rows parents first."""

    key = "orgs"
    sheet_label = gettext_lazy("organisations")
    sheet_aliases = ("organisation", "orgs", "组织", "组织机构", "单位")
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

    def __init__(self, context: ImportContext):
        super().__init__(context)
        self.by_code: dict[str, Row] = {}
        self.db_by_code: dict[str, Org] = {}
        self.db_by_path: dict[str, Org] = {}
        self.order: list[Row] = []

    def _load(self, codes: set[str]) -> None:
        """Fetch the orgs named in the file and all their ancestors: a few queries in all."""
        fields = ("id", "code", "kind", "name", "short_name", "path", "depth", "county_id")
        for batch in _chunks(sorted(codes)):
            for org in Org.objects.filter(code__in=batch).only(*fields):
                self.db_by_code[org.code] = org
                self.db_by_path[org.path] = org
        wanted = {p for org in self.db_by_code.values() for p in org.ancestor_paths()}
        for batch in _chunks(sorted(wanted - set(self.db_by_path))):
            for org in Org.objects.filter(path__in=batch).only(*fields):
                self.db_by_code[org.code] = org
                self.db_by_path[org.path] = org

    def db_parent(self, org: Org) -> Org | None:
        return self.db_by_path.get(org.path[:-STEP]) if len(org.path) > STEP else None

    def validate(self) -> None:
        for row in self.rows:
            v = row.values
            code = _key(v.get("code"))
            kind = parse_kind(v.get("kind"))
            row.plan = {
                "code": code,
                "parent_code": _key(v.get("parent_code")),
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
                        "value": _text(v.get("kind")) or "-",
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
            if not self.ctx.in_scope(access.MANAGE_ORGS, org):
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
                self.service_error(row, exc)
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
        elif parent_org is not None and self.ctx.in_scope(access.MANAGE_ORGS, parent_org):
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
            self.service_error(row, exc)

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
        created: dict[str, Org] = {}
        reason = _("Excel import")
        for row in self.order:
            p = row.plan
            try:
                if p["org"] is None:
                    parent = None
                    if p["parent_code"]:
                        parent = created.get(p["parent_code"]) or Org.objects.get(
                            code=p["parent_code"]
                        )
                    created[p["code"]] = services.create_org(
                        self.actor,
                        parent=parent,
                        kind=p["kind"],
                        name=p["name"],
                        code=p["code"],
                        short_name=p["short_name"] or "",
                    )
                    continue
                if p["fields"]:
                    services.update_org(self.actor, p["org"], **p["fields"])
                if p["move"]:
                    parent = created.get(p["parent_code"]) or Org.objects.get(code=p["parent_code"])
                    services.move_org(self.actor, p["org"], parent, reason=reason)
            except (ValidationError, PermissionDenied) as exc:
                raise WriteFailed(self.service_error(row, exc)) from exc


class PersonImporter(LedgerImporter):
    """People by person number (empty: a new person, numbered by the service). A column left out
    of the sheet leaves that field as it is; an empty cell in a present column clears it."""

    key = "people"
    sheet_label = gettext_lazy("people")
    sheet_aliases = ("persons", "person", "人员", "人员名单", "花名册")
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

    def __init__(self, context: ImportContext):
        super().__init__(context)
        self.db_people: dict[str, Person] = {}
        self.db_orgs: dict[str, Org] = {}

    def _load(self) -> None:
        numbers = {r.plan["number"] for r in self.rows if r.plan["number"]}
        for batch in _chunks(sorted(numbers)):
            for person in Person.objects.filter(number__in=batch).select_related("org"):
                self.db_people[person.number] = person
        codes = {r.plan["org_code"] for r in self.rows if r.plan["org_code"]}
        for batch in _chunks(sorted(codes)):
            for org in Org.objects.filter(code__in=batch).only("id", "code", "path", "kind"):
                self.db_orgs[org.code] = org

    def validate(self) -> None:
        seen: dict[str, int] = {}
        for row in self.rows:
            v = row.values
            p = row.plan = {
                "number": self.text(row, "number", as_key=True),
                "name": self.text(row, "name"),
                "org_code": _key(v.get("org_code")),
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
                p["gender"] = parse_gender(v.get("gender"))
                if p["gender"] is None:
                    self.error(
                        row.number,
                        "gender",
                        _("Unknown gender: %(value)s.") % {"value": _text(v.get("gender"))},
                    )
            if "phone" in self.present:
                try:
                    p["phone"] = services.clean_phone(_key(v.get("phone")))
                except ValidationError as exc:
                    self.service_error(row, exc)
            if "is_party_member" in self.present:
                p["is_party_member"] = parse_yes_no(v.get("is_party_member"))
                if p["is_party_member"] is None:
                    self.error(
                        row.number,
                        "is_party_member",
                        _("Write yes or no, not %(value)s.")
                        % {"value": _text(v.get("is_party_member"))},
                    )
            if "position" in self.present:
                p["position"] = self.text(row, "position")
            if not p["org_code"]:
                self.error(row.number, "org_code", _("The organisation code is required."))
        self._load()
        for row in self.rows:
            self._check_row(row)

    def _target_in_scope(self, code: str) -> bool | None:
        """Whether people may be managed in org ``code``: None when there is no such org."""
        orgs = self.ctx.orgs
        if orgs is not None and code in orgs.by_code:
            anchor = orgs.anchor(code)
            if anchor is None:
                return self.actor is None
            return self.ctx.in_scope(access.MANAGE_PEOPLE, anchor)
        org = self.db_orgs.get(code)
        if org is None:
            return None
        return self.ctx.in_scope(access.MANAGE_PEOPLE, org)

    def _check_row(self, row: Row) -> None:
        p = row.plan
        person = self.db_people.get(p["number"]) if p["number"] else None
        p["person"] = person
        if person is not None and not self.ctx.in_scope(access.MANAGE_PEOPLE, person.org):
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
        for key in ("gender", "is_party_member", "position"):
            if key in p and p[key] != getattr(person, key):
                changes[key] = p[key]
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
        # Fetched afresh: the organisations sheet may just have created or moved them.
        codes = {r.plan["org_code"] for r in self.rows}
        orgs: dict[str, Org] = {}
        for batch in _chunks(sorted(codes)):
            orgs.update({o.code: o for o in Org.objects.filter(code__in=batch)})
        for row in self.rows:
            p = row.plan
            try:
                if p["person"] is None:
                    services.create_person(
                        self.actor,
                        org=orgs[p["org_code"]],
                        name=p["name"],
                        gender=p.get("gender", Gender.UNKNOWN),
                        phone=p.get("phone", ""),
                        is_party_member=p.get("is_party_member", False),
                        position=p.get("position", ""),
                        number=p["number"],
                    )
                elif p["changes"]:
                    changes = dict(p["changes"])
                    if "org" in changes:
                        changes["org"] = orgs[changes["org"]]
                    services.update_person(self.actor, p["person"], **changes)
            except (ValidationError, PermissionDenied) as exc:
                raise WriteFailed(self.service_error(row, exc)) from exc


IMPORTERS: tuple[type[LedgerImporter], ...] = (OrgImporter, PersonImporter)

NOT_XLSX_MESSAGES = {
    "empty": gettext_lazy("The file is empty."),
    "xls": gettext_lazy(
        "This is an old Excel (.xls) file. Open it in Excel or WPS and save it as .xlsx."
    ),
    "not_zip": gettext_lazy("This is not an Excel (.xlsx) file."),
    "too_big": gettext_lazy("The workbook unpacks to too much data; split it into several files."),
    "damaged": gettext_lazy("The file could not be read as an Excel workbook; it may be damaged."),
}


def import_workbook(
    actor, source: xlsx.Source, *, dry_run: bool = False, max_rows: int | None = None
) -> ImportResult:
    """Check every row of the workbook, then (if all are right) write them in one transaction.

    ``actor`` is the user importing (``None``: the system, which may do everything). With
    ``dry_run`` the writes run and are rolled back, so the result counts what a real run would
    do and finds what the services would refuse. Errors come in the active language.
    """
    context = ImportContext(actor)
    result = ImportResult(dry_run=dry_run)
    importers: list[LedgerImporter] = []
    try:
        with xlsx.open_workbook(source) as workbook:
            for cls in IMPORTERS:
                names = cls.sheet_names()
                sheet = next((workbook[t] for t in workbook.sheetnames if fold(t) in names), None)
                if sheet is None:
                    continue
                importer = cls(context)
                importer.read(sheet, max_rows=max_rows)
                importers.append(importer)
    except xlsx.NotXlsxError as exc:
        result.errors.append(RowError("", None, "", "", str(NOT_XLSX_MESSAGES[exc.reason])))
        return result
    if not importers:
        result.errors.append(
            RowError(
                "",
                None,
                "",
                "",
                _("The workbook has no sheet named %(orgs)s or %(people)s.")
                % {"orgs": OrgImporter.sheet_label, "people": PersonImporter.sheet_label},
            )
        )
        return result
    for importer in importers:
        if isinstance(importer, OrgImporter):
            context.orgs = importer
    for importer in importers:
        importer.validate()
    result.labels = {i.key: i.sheet for i in importers}
    if not context.errors:
        try:
            with transaction.atomic():
                for importer in importers:
                    importer.write()
                if dry_run:
                    transaction.set_rollback(True)
        except WriteFailed:
            pass  # the errors are in context.errors; the transaction rolled back
    result.errors = context.errors
    if result.ok:
        result.counts = {i.key: i.counts for i in importers}
    return result


# --- exporting ---------------------------------------------------------------------------------


class LedgerExporter:
    """One sheet of the export: a header in the active language and rows streamed from a query."""

    importer: ClassVar[type[LedgerImporter]]

    def __init__(self, actor, root: Org | None = None):
        self.actor = actor
        self.root = root
        self.count = 0

    def header(self) -> list[str]:
        return [str(c.label) for c in self.importer.columns]

    def rows(self) -> Iterator[list[Any]]:
        raise NotImplementedError

    def _counted(self) -> Iterator[list[Any]]:
        for row in self.rows():
            self.count += 1
            yield row

    def sheet(self) -> tuple[str, list[str], Iterator[list[Any]]]:
        return str(self.importer.sheet_label), self.header(), self._counted()


class OrgExporter(LedgerExporter):
    importer = OrgImporter

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


class PersonExporter(LedgerExporter):
    importer = PersonImporter

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


EXPORTERS: tuple[type[LedgerExporter], ...] = (OrgExporter, PersonExporter)


def export_workbook(actor, target: IO[bytes] | str, *, root: Org | None = None) -> dict[str, int]:
    """Write the organisations ``actor`` manages (under ``root``) and their people to ``target``.

    Headings and labels come in the active language; phone numbers are written in full, which is
    why only managers may export and why every export is written to the audit log. Returns the
    number of rows per sheet.
    """
    exporters = [cls(actor, root) for cls in EXPORTERS]
    xlsx.write_workbook(target, (e.sheet() for e in exporters))
    counts = {e.importer.key: e.count for e in exporters}
    record(
        actor,
        "orgs.ledger.exported",
        root,
        data={"root": root.code if root else "", **counts},
        public=False,
    )
    return counts
