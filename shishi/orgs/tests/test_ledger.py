"""Excel import and export of organisations and people (``orgs.ledger`` and its views)."""

import io
import re
import zipfile

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from shishi.audit.models import Entry
from shishi.lib import xlsx
from shishi.orgs import ledger, services
from shishi.orgs.models import Gender, Org, OrgKind, OrgMove, Person
from shishi.testing import add_villages, sign_in_second_factor

ORG_HEADER = ["Code", "Parent code", "Kind", "Name", "Short name"]
PEOPLE_HEADER = [
    "Person number",
    "Name",
    "Gender",
    "Mobile number",
    "Party member",
    "Position",
    "Organisation code",
]
ORG_HEADER_ZH = ["编码", "上级编码", "类型", "名称", "简称"]
PEOPLE_HEADER_ZH = ["人员编号", "姓名", "性别", "手机号码", "党员", "职务", "组织编码"]


def book(orgs=None, people=None, *, org_header=ORG_HEADER, people_header=PEOPLE_HEADER) -> bytes:
    """A workbook in memory: ``orgs`` and ``people`` are lists of rows (None: no such sheet)."""
    wb = Workbook()
    wb.remove(wb.active)
    if orgs is not None:
        ws = wb.create_sheet("organisations")
        ws.append(org_header)
        for row in orgs:
            ws.append(row)
    if people is not None:
        ws = wb.create_sheet("people")
        ws.append(people_header)
        for row in people:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def export(actor=None, root=None) -> bytes:
    out = io.BytesIO()
    ledger.export_workbook(actor, out, root=root)
    return out.getvalue()


def cells(data: bytes) -> dict[str, list[list]]:
    """Every sheet's cell values exactly as stored (nothing normalised), by the sheet's place:
    the organisations first, then the people, whatever the language of their titles."""
    wb = load_workbook(io.BytesIO(data), read_only=True)
    try:
        sheets = [[list(r) for r in wb[name].iter_rows(values_only=True)] for name in wb.sheetnames]
    finally:
        wb.close()
    return dict(zip(["organisations", "people"], sheets, strict=True))


def state() -> tuple[int, int, int, int]:
    return (
        Org.objects.count(),
        Person.objects.count(),
        Entry.objects.count(),
        OrgMove.objects.count(),
    )


def where(result) -> set[tuple[int | None, str]]:
    return {(e.row, e.letter) for e in result.errors}


def counts(result, sheet) -> tuple[int, int, int]:
    c = result.counts[sheet]
    return c.created, c.changed, c.unchanged


@pytest.fixture
def people(tree):
    return {
        "zhang": services.create_person(
            None,
            org=tree["east_village"],
            name="张三",
            gender=Gender.MALE,
            phone="13900000001",
            is_party_member=True,
            position="村委会主任",
            number="P-EAST-1",
        ),
        "li": services.create_person(
            None, org=tree["west_village"], name="李四", gender=Gender.FEMALE, number="P-WEST-1"
        ),
    }


# --- round trip --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["system", "county_admin", "east_admin"])
def test_an_export_imports_back_with_nothing_to_do(tree, users, people, who):
    actor = None if who == "system" else users[who]
    # Values a spreadsheet would take for formulas, and a short name, survive the trip.
    services.update_org(None, tree["east_village"], name="=1+1 村", short_name="-东一")
    services.update_person(None, people["zhang"], position="@主任")
    first = export(actor)
    before = state()

    result = ledger.import_workbook(actor, first)

    assert result.errors == []
    orgs_in_scope = len(cells(first)["organisations"]) - 1
    people_in_scope = len(cells(first)["people"]) - 1
    assert counts(result, "orgs") == (0, 0, orgs_in_scope)
    assert counts(result, "people") == (0, 0, people_in_scope)
    assert state()[:2] == before[:2]
    assert cells(export(actor)) == cells(first)


def test_an_export_holds_the_scope_in_order_with_full_phone_numbers(tree, users, people):
    with translation.override("en"):
        data = cells(export(users["east_admin"]))
    orgs = data["organisations"]
    assert orgs[0] == ORG_HEADER
    # Parents first; the root's parent is named though it lies outside the scope.
    assert [r[0] for r in orgs[1:]] == [
        "990101100000",
        "990101100201",
        "B990101100201-01",
        "990101100001",
    ]
    assert orgs[1][1] == "990101000000"
    assert "990101101201" not in {r[0] for r in orgs}
    zhang = next(r for r in data["people"] if r[0] == "P-EAST-1")
    assert zhang[1:] == ["张三", "male", "13900000001", "yes", "村委会主任", "990101100201"]
    assert "P-WEST-1" not in {r[0] for r in data["people"]}


def test_an_exported_formula_is_neutralised(tree):
    services.update_org(None, tree["east"], name='=HYPERLINK("http://evil.example","x")')
    raw = load_workbook(io.BytesIO(export()))
    cell = next(
        r[3] for r in raw.worksheets[0].iter_rows(min_row=2) if r[0].value == "990101100000"
    )
    assert cell.value == '\'=HYPERLINK("http://evil.example","x")'
    assert cell.data_type == "s"


# --- writing -----------------------------------------------------------------------------------


def test_it_creates_changes_and_moves_with_parents_first(tree, users, people):
    data = book(
        orgs=[
            # A branch of a village that comes later in the file: created after its parent.
            ["B990101100202-01", "990101100202", "party branch", "东二村党支部", ""],
            ["990101100202", "990101100000", "village", "东二村", "东二"],
            ["990101100201", "990101100000", "village", "东一村（新名）", ""],
            # The community moves from the east town to the west town.
            ["990101100001", "990101101000", "community", "东社区", ""],
        ],
        people=[
            ["P-EAST-1", "张三", "男", 13900000009.0, "是", "村委会主任", "990101100201"],
            ["P-EAST-2", "王五", "female", "", "no", "", "B990101100202-01"],
            ["", "赵六", "", "", "", "", "990101100202"],
        ],
    )
    before = Entry.objects.count()

    result = ledger.import_workbook(users["county_admin"], data)

    assert result.errors == []
    assert counts(result, "orgs") == (2, 2, 0)
    assert counts(result, "people") == (2, 1, 0)
    village = Org.objects.get(code="990101100202")
    assert village.parent == tree["east"] and village.short_name == "东二"
    assert Org.objects.get(code="B990101100202-01").parent == village
    assert Org.objects.get(code="990101100201").name == "东一村（新名）"
    community = Org.objects.get(code="990101100001")
    assert community.parent == tree["west"]
    assert community.moves.get().moved_by == users["county_admin"]
    zhang = Person.objects.get(number="P-EAST-1")
    assert zhang.phone == "13900000009" and zhang.version == 2
    wang = Person.objects.get(number="P-EAST-2")
    assert (wang.gender, wang.is_party_member, wang.org.code) == ("F", False, "B990101100202-01")
    zhao = Person.objects.get(name="赵六")
    assert zhao.number and zhao.gender == Gender.UNKNOWN
    assert Entry.objects.filter(seq__gt=before, actor=users["county_admin"]).count() == 7


def test_it_changes_only_the_columns_present(tree, people):
    data = book(
        people=[["P-EAST-1", "张三", "990101100201"]],
        people_header=["Person number", "Name", "Organisation code"],
    )
    result = ledger.import_workbook(None, data)
    assert counts(result, "people") == (0, 0, 1)
    zhang = Person.objects.get(number="P-EAST-1")
    assert (zhang.phone, zhang.position, zhang.is_party_member) == (
        "13900000001",
        "村委会主任",
        True,
    )


def test_a_dry_run_writes_nothing(tree, users, people):
    data = book(
        orgs=[
            ["990101100202", "990101100000", "村", "东二村", ""],
            ["990101100001", "990101101000", "社区", "东社区", ""],
        ],
        people=[["P-NEW-1", "王五", "女", "13900000002", "否", "", "990101100202"]],
    )
    before = state()

    result = ledger.import_workbook(users["county_admin"], data, dry_run=True)

    assert result.ok and result.dry_run
    assert counts(result, "orgs") == (1, 1, 0)
    assert counts(result, "people") == (1, 0, 0)
    assert state() == before
    assert tree["east_community"].parent_id == Org.objects.get(code="990101100001").parent_id


def test_a_service_refusal_while_writing_rolls_everything_back(tree, monkeypatch):
    def refuse(actor, org, **fields):
        raise services.ValidationError({"name": "refused by the service"})

    monkeypatch.setattr(services, "update_org", refuse)
    data = book(
        orgs=[
            ["990101100202", "990101100000", "village", "东二村", ""],
            ["990101100201", "990101100000", "village", "东一村改名", ""],
        ]
    )
    before = state()

    result = ledger.import_workbook(None, data)

    assert where(result) == {(3, "D")}
    assert result.errors[0].message == "refused by the service"
    assert result.counts == {}
    assert state() == before


# --- refusing ----------------------------------------------------------------------------------

GOOD_ORG = ["990101100202", "990101100000", "village", "东二村", ""]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param(
            [["990101100203", "990101999999", "village", "东三村", ""]],
            {(3, "B")},
            id="unknown-parent",
        ),
        pytest.param([GOOD_ORG], {(3, "A")}, id="duplicate-code"),
        pytest.param(
            [["990101100203", "990101100000", "village", "", ""]], {(3, "D")}, id="empty-name"
        ),
        pytest.param(
            [["990101100203", "990101000000", "village", "东三村", ""]],
            {(3, "B")},
            id="kind-under-parent",
        ),
        pytest.param(
            [["99010110", "990101100000", "village", "东三村", ""]],
            {(3, "A")},
            id="short-place-code",
        ),
        pytest.param(
            [["990101100203", "990101100000", "hamlet", "东三村", ""]],
            {(3, "C")},
            id="unknown-kind",
        ),
        pytest.param(
            [["990101100201", "990101100000", "community", "东一村", ""]],
            {(3, "C")},
            id="kind-change",
        ),
        pytest.param(
            [["990101101201", "990101101000", "village", "西一村改名", ""]],
            {(3, "A")},
            id="outside-scope",
        ),
        pytest.param(
            [["990101101202", "990101101000", "village", "西二村", ""]],
            {(3, "B")},
            id="parent-outside-scope",
        ),
        pytest.param([["990101100000", "", "town", "东镇", ""]], {(3, "B")}, id="to-the-top"),
        pytest.param(
            [["990101100203", "990101100000", "village", "东三村" * 40, ""]],
            {(3, "D")},
            id="too-long",
        ),
    ],
)
def test_a_bad_organisation_row_is_named_and_nothing_is_written(tree, users, rows, expected):
    data = book(orgs=[GOOD_ORG, *rows])
    before = state()

    result = ledger.import_workbook(users["east_admin"], data)

    assert where(result) == expected
    assert all(e.sheet == str(ledger.OrgSheet.label) for e in result.errors)
    assert all(e.message for e in result.errors)
    assert result.counts == {}
    assert state() == before


def test_a_loop_is_named_on_every_row_in_it(tree):
    data = book(
        orgs=[
            GOOD_ORG,
            ["D990101002", "D990101003", "department", "甲局", ""],
            ["D990101003", "D990101002", "department", "乙局", ""],
        ]
    )
    before = state()

    result = ledger.import_workbook(None, data)

    loops = [e for e in result.errors if "D990101002 → D990101003 → D990101002" in e.message]
    assert {(e.row, e.letter) for e in loops} == {(3, "B"), (4, "B")}
    assert state() == before


def test_moving_an_organisation_under_its_own_descendant_is_a_loop(tree):
    data = book(orgs=[["990101100201", "B990101100201-01", "village", "东一村", ""]])
    result = ledger.import_workbook(None, data)
    assert any(
        e.row == 2 and e.letter == "B" and "990101100201 → B990101100201-01" in e.message
        for e in result.errors
    )
    assert Org.objects.get(code="990101100201").parent == tree["east"]


def test_an_organisation_may_move_under_one_created_later_in_the_file(tree):
    data = book(
        orgs=[
            ["B990101100201-01", "990101100202", "party branch", "东一村党支部", ""],
            ["990101100202", "990101100000", "village", "东二村", ""],
        ]
    )
    result = ledger.import_workbook(None, data)
    assert result.ok, [str(e) for e in result.errors]
    assert counts(result, "orgs") == (1, 1, 0)
    branch = Org.objects.get(code="B990101100201-01")
    assert branch.parent.code == "990101100202"
    assert branch.path.startswith(tree["east"].path)
    assert branch.moves.get().to_parent.code == "990101100202"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        pytest.param(
            ["P-NEW-2", "王五", "男", "12345", "是", "", "990101100201"], {(3, "D")}, id="bad-phone"
        ),
        pytest.param(
            ["P-NEW-2", "", "男", "", "是", "", "990101100201"], {(3, "B")}, id="empty-name"
        ),
        pytest.param(
            ["P-NEW-2", "王五", "unknown", "", "是", "", "990101100201"],
            {(3, "C")},
            id="bad-gender",
        ),
        pytest.param(
            ["P-NEW-2", "王五", "男", "", "maybe", "", "990101100201"], {(3, "E")}, id="bad-yes-no"
        ),
        pytest.param(
            ["P-NEW-2", "王五", "男", "", "是", "", "990101999999"], {(3, "G")}, id="unknown-org"
        ),
        pytest.param(
            ["P-NEW-2", "王五", "男", "", "是", "", "990101101201"],
            {(3, "G")},
            id="org-outside-scope",
        ),
        pytest.param(
            ["P-WEST-1", "李四", "女", "", "否", "", "990101101201"],
            {(3, "A")},
            id="person-outside-scope",
        ),
        pytest.param(
            ["P-NEW-1", "王五", "男", "", "是", "", "990101100201"],
            {(3, "A")},
            id="duplicate-number",
        ),
    ],
)
def test_a_bad_person_row_is_named_and_nothing_is_written(tree, users, people, row, expected):
    good = ["P-NEW-1", "赵六", "男", "13900000003", "是", "", "990101100201"]
    data = book(orgs=[GOOD_ORG], people=[good, row])
    before = state()

    result = ledger.import_workbook(users["east_admin"], data)

    assert where(result) == expected
    assert {e.sheet for e in result.errors} == {str(ledger.PersonSheet.label)}
    assert state() == before


def test_a_person_may_join_an_organisation_created_in_the_same_file(tree, users):
    data = book(orgs=[GOOD_ORG], people=[["P-NEW-1", "赵六", "男", "", "是", "", "990101100202"]])
    result = ledger.import_workbook(users["east_admin"], data)
    assert result.ok
    assert Person.objects.get(number="P-NEW-1").org.code == "990101100202"


@pytest.mark.parametrize(
    "data",
    [b"code,name\n990101100201,east\n", b"", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512],
)
def test_a_file_that_is_not_xlsx_is_refused(tree, data):
    result = ledger.import_workbook(None, data)
    assert len(result.errors) == 1 and result.errors[0].row is None
    assert result.errors[0].message


def test_missing_and_unknown_columns_are_named(tree):
    data = book(orgs=[GOOD_ORG], org_header=["Code", "Kind", "Name", "Remarks"])
    with translation.override("en"):
        result = ledger.import_workbook(None, data)
    messages = " ".join(e.message for e in result.errors)
    assert (1, "D") in where(result)  # Remarks
    assert "Parent code" in messages


def test_a_workbook_without_either_sheet_is_refused(tree):
    wb = Workbook()
    out = io.BytesIO()
    wb.save(out)
    result = ledger.import_workbook(None, out.getvalue())
    assert len(result.errors) == 1 and not result.ok


# --- languages and spreadsheet details ---------------------------------------------------------


def test_chinese_headings_and_words_are_accepted(tree):
    data = book(
        orgs=[["990101100202", "990101100000", "村", "东二村", ""]],
        people=[["P-NEW-1", "王五", "男", "139 0000 0004", "是", "", "990101100202"]],
        org_header=ORG_HEADER_ZH,
        people_header=PEOPLE_HEADER_ZH,
    )
    result = ledger.import_workbook(None, data)
    assert result.ok, [str(e) for e in result.errors]
    wang = Person.objects.get(number="P-NEW-1")
    assert (wang.gender, wang.is_party_member, wang.phone) == ("M", True, "13900000004")
    assert Org.objects.get(code="990101100202").kind == OrgKind.VILLAGE


def test_english_headings_and_words_are_accepted_in_any_case(tree):
    data = book(
        orgs=[["990101100202", "990101100000", "Village", "东二村", ""]],
        people=[["P-NEW-1", "Wang Wu", "Female", 13900000004, True, "", "990101100202"]],
        org_header=[h.upper() for h in ORG_HEADER],
        people_header=[h.lower() for h in PEOPLE_HEADER],
    )
    with translation.override("zh-hans"):
        result = ledger.import_workbook(None, data)
    assert result.ok, [str(e) for e in result.errors]
    wang = Person.objects.get(number="P-NEW-1")
    assert (wang.gender, wang.is_party_member) == ("F", True)


def test_an_export_in_one_language_imports_in_the_other(tree, people):
    with translation.override("en"):
        data = export()
    with translation.override("zh-hans"):
        result = ledger.import_workbook(None, data)
    assert result.ok
    assert counts(result, "orgs")[:2] == (0, 0)


def test_a_formula_is_read_as_its_cached_value_and_never_run(tree):
    data = book(
        orgs=[
            ["990101100202", "990101100000", "village", "PLACEHOLDER2", ""],
            ["990101100203", "990101100000", "village", "PLACEHOLDER3", ""],
        ]
    )

    def formulas(xml):
        # Row 2: a formula Excel had calculated; row 3: one never calculated (no cached value).
        xml = re.sub(
            r'<c r="D2"[^>]*>.*?</c>',
            '<c r="D2" t="str"><f>CONCAT("东","二村")</f><v>东二村</v></c>',
            xml,
        )
        return re.sub(r'<c r="D3"[^>]*>.*?</c>', '<c r="D3"><f>1+1</f></c>', xml)

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = formulas(content.decode()).encode()
            dst.writestr(info, content)

    result = ledger.import_workbook(None, out.getvalue())

    assert where(result) == {(3, "D")}  # the uncalculated formula is an empty name
    assert not Org.objects.filter(name__startswith="=").exists()


# --- views -------------------------------------------------------------------------------------


def upload(client, data, *, dry_run=False, name="orgs.xlsx"):
    payload = {"file": SimpleUploadedFile(name, data, content_type=xlsx.XLSX_CONTENT_TYPE)}
    if dry_run:
        payload["dry_run"] = "on"
    return client.post(reverse("orgs:import"), payload)


@pytest.mark.parametrize("name", ["cadre", "secretary", "auditor", "nobody"])
def test_the_import_and_export_pages_answer_404_to_other_roles(users, client_for, name):
    client = client_for(users[name])
    assert client.get(reverse("orgs:import")).status_code == 404
    assert upload(client, book(orgs=[GOOD_ORG])).status_code == 404
    assert client.get(reverse("orgs:export")).status_code == 404
    assert not Org.objects.filter(code=GOOD_ORG[0]).exists()


def test_the_import_page_still_checks_the_csrf_token(users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["east_admin"], backend="shishi.orgs.backends.UsernameOrPhoneBackend")
    sign_in_second_factor(client, users["east_admin"])
    assert upload(client, book(orgs=[GOOD_ORG])).status_code == 403
    assert not Org.objects.filter(code=GOOD_ORG[0]).exists()


def test_the_import_page_requires_a_login(tree, client):
    response = client.get(reverse("orgs:import"))
    assert response.status_code == 302


def test_the_import_page_checks_then_imports(tree, users, client_for):
    client = client_for(users["east_admin"])
    assert client.get(reverse("orgs:import")).status_code == 200
    data = book(orgs=[GOOD_ORG])

    response = upload(client, data, dry_run=True)
    assert response.status_code == 200
    assert b'data-count="created">1<' in response.content
    assert not Org.objects.filter(code=GOOD_ORG[0]).exists()

    response = upload(client, data)
    assert b'data-count="created">1<' in response.content
    assert Org.objects.get(code=GOOD_ORG[0]).parent == tree["east"]


def test_the_import_page_lists_errors_in_chinese_by_default(tree, users, client_for):
    client = client_for(users["east_admin"])
    data = book(orgs=[GOOD_ORG, ["990101100203", "990101100000", "village", "", ""]])

    response = upload(client, data)

    assert response.status_code == 200
    assert response.wsgi_request.LANGUAGE_CODE == "zh-hans"
    assert b'<html lang="zh-hans">' in response.content
    assert b'data-row="3" data-column="D"' in response.content
    assert not Org.objects.filter(code=GOOD_ORG[0]).exists()


def test_the_import_page_lists_errors_in_english_when_chosen(tree, users, client_for):
    client = client_for(users["east_admin"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    data = book(orgs=[GOOD_ORG, ["990101100203", "990101100000", "village", "", ""]])

    response = upload(client, data)

    assert response.wsgi_request.LANGUAGE_CODE == "en"
    assert b'data-row="3" data-column="D"' in response.content
    assert "The name is required." in response.content.decode()


def test_the_import_page_refuses_a_renamed_text_file(tree, users, client_for):
    client = client_for(users["east_admin"])
    response = upload(client, b"code,name\n990101100202,east\n", name="orgs.xlsx")
    assert response.status_code == 200
    assert b'class="import-error" data-row="" data-column=""' in response.content


def test_the_import_page_refuses_a_file_over_10_mb(tree, users, client_for):
    client = client_for(users["east_admin"])
    response = upload(client, b"PK\x03\x04" + b"\0" * (10 * 1024 * 1024))
    assert response.status_code == 200
    assert b"10 MB" in response.content
    assert response.context["result"] is None


def test_the_export_is_a_download_of_the_scope(tree, users, people, client_for):
    client = client_for(users["east_admin"])
    response = client.get(reverse("orgs:export"))
    assert response.status_code == 200
    assert response["Content-Type"] == xlsx.XLSX_CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]
    data = cells(b"".join(response.streaming_content))
    assert {r[0] for r in data["organisations"][1:]} == {
        "990101100000",
        "990101100201",
        "990101100001",
        "B990101100201-01",
    }
    assert Entry.objects.filter(action="orgs.ledger.exported", actor=users["east_admin"]).exists()


def test_the_export_narrows_to_one_subtree(tree, users, client_for):
    client = client_for(users["county_admin"])
    response = client.get(reverse("orgs:export"), {"org": tree["east_village"].pk})
    data = cells(b"".join(response.streaming_content))
    assert [r[0] for r in data["organisations"][1:]] == ["990101100201", "B990101100201-01"]


@pytest.mark.parametrize("org", ["west", "city"])
def test_the_export_of_a_subtree_outside_the_scope_answers_404(tree, users, client_for, org):
    client = client_for(users["east_admin"])
    assert client.get(reverse("orgs:export"), {"org": tree[org].pk}).status_code == 404
    assert client.get(reverse("orgs:export"), {"org": "x"}).status_code == 404


@pytest.mark.parametrize("size", [2, 40])
def test_the_export_takes_the_same_few_queries_however_large(
    tree, users, client_for, django_assert_max_num_queries, size
):
    add_villages(tree["west"], 0, size)
    client = client_for(users["county_admin"])
    with django_assert_max_num_queries(12):
        response = client.get(reverse("orgs:export"))
        data = b"".join(response.streaming_content)
    assert len(cells(data)["people"]) > size


# --- commands ----------------------------------------------------------------------------------


def test_the_import_command_prints_errors_and_exits_1(tree, tmp_path, capsys):
    path = tmp_path / "orgs.xlsx"
    path.write_bytes(book(orgs=[GOOD_ORG, ["990101100203", "990101999999", "village", "", ""]]))
    with pytest.raises(CommandError) as info, translation.override("en"):
        call_command("import_orgs", str(path))
    assert info.value.returncode == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert all(", row 3, column " in line for line in lines)
    assert not Org.objects.filter(code=GOOD_ORG[0]).exists()


def test_the_import_command_dry_run_and_real_run(tree, tmp_path, capsys):
    path = tmp_path / "orgs.xlsx"
    path.write_bytes(book(orgs=[GOOD_ORG]))
    call_command("import_orgs", str(path), "--dry-run")
    assert not Org.objects.filter(code=GOOD_ORG[0]).exists()
    call_command("import_orgs", str(path))
    assert Org.objects.filter(code=GOOD_ORG[0]).exists()
    assert "1" in capsys.readouterr().out


def test_the_export_command_writes_a_workbook(tree, people, tmp_path):
    path = tmp_path / "east.xlsx"
    call_command("export_orgs", str(path), "--org", "990101100000")
    data = cells(path.read_bytes())
    assert data["organisations"][1][0] == "990101100000"
    assert {r[0] for r in data["people"][1:]} == {"P-EAST-1"}
    with pytest.raises(CommandError):
        call_command("export_orgs", str(path), "--org", "no-such-code")


def test_a_formula_without_a_value_is_reported_once_as_such_not_emptied(tree):
    # As in the commitments ledger (the shared reader reports it): the cell is a formula to
    # recalculate, not an empty name or a cleared mobile number, and nothing is written.
    data = book(
        orgs=[["990101100202", "990101100000", "village", "PLACEHOLDER", ""]],
        people=[["", "王五", "男", "13800000001", "是", "主任", "990101100000"]],
    )

    def formulas(xml):
        return re.sub(r'<c r="D2"[^>]*>.*?</c>', '<c r="D2"><f>1+1</f></c>', xml)

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename).decode(errors="replace")
            if info.filename in ("xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"):
                content = formulas(content)
            dst.writestr(info, content.encode())
    before = state()

    result = ledger.import_workbook(None, out.getvalue())

    formula = "The cell holds a formula without a value"
    messages = [(e.sheet, e.row, e.letter, e.message[: len(formula)]) for e in result.errors]
    assert messages == [("organisations", 2, "D", formula), ("people", 2, "D", formula)]
    assert state() == before


def with_empty_rows(data: bytes, rows: int) -> bytes:
    """The workbook with ``rows`` empty row elements after the first sheet's data, deflated:
    the reliability drill's file (16 million of them took a worker 3.7 GB)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst,
    ):
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"</sheetData>", b"<row/>" * rows + b"</sheetData>")
            dst.writestr(info.filename, content)
    return out.getvalue()


def test_a_workbook_of_millions_of_empty_rows_is_refused_unread_in_the_users_language(
    users, client_for
):
    data = with_empty_rows(book(orgs=[GOOD_ORG]), 3_000_000)
    assert len(data) < 100_000
    client = client_for(users["east_admin"])
    client.cookies["django_language"] = "zh-hans"
    before = state()

    response = upload(client, data)

    assert response.status_code == 200
    assert "解压后超过其压缩大小的 200 倍" in response.content.decode()
    assert state() == before
    client.cookies["django_language"] = "en"
    text = upload(client, data).content.decode()
    assert "unpacks to more than 200 times its packed size" in text
    assert not Org.objects.filter(code=GOOD_ORG[0]).exists()
