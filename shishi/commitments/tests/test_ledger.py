"""The commitments ledger (台账): import the list as officials keep it, export it in the same
columns, by the two workspace pages and the two commands."""

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from shishi.audit.models import Entry
from shishi.audit.services import diff
from shishi.commitments import ledger, services
from shishi.commitments.models import Commitment, Programme

pytestmark = pytest.mark.django_db

TITLE = "2021年测试县为民办实事项目清单"
HEADER_TOP = [
    "序号",
    "项目名称",
    "项目内容",
    "类别",
    "牵头领导",
    "责任单位",
    "配合单位",
    "计划投资",
    "开始时间",
    "完成时限",
    "目标任务",
    None,
    None,
    "里程碑",
    "备注",
]
HEADER_SUB = [None] * 10 + ["指标名称", "单位", "目标值", None, None]


@pytest.fixture
def programme(tree):
    return services.create_programme(None, county=tree["county"], year=2021, title=TITLE)


def officials_workbook(rows, *, merge_rows=()) -> bytes:
    """A sheet as the county office keeps it: a title row, a stamp line, two header rows with
    merged cells, then ``rows`` from row 5. ``merge_rows``: (first, last) sheet rows whose
    number and title cells are merged, as offices do for a commitment with several targets."""
    wb = Workbook()
    ws = wb.active
    ws.title = "清单"
    ws.append([TITLE])
    ws.append(["（2021年3月印发）"])
    ws.append(HEADER_TOP)
    ws.append(HEADER_SUB)
    ws.merge_cells("A1:O1")
    ws.merge_cells("A2:O2")
    ws.merge_cells("K3:M3")
    for col in "ABCDEFGHIJNO":
        ws.merge_cells(f"{col}3:{col}4")
    for row in rows:
        ws.append(row)
    for first, last in merge_rows:
        for col in "AB":
            ws.merge_cells(f"{col}{first}:{col}{last}")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def kindergartens(**changes):
    row = {
        "number": 1,
        "title": "新建公办幼儿园",
        "description": "新建5所公办幼儿园",
        "category": "教育",
        "lead": "副县长",
        "unit": "测试县教育局",
        "co": "东镇、西镇",
        "budget": "6869万元",
        "start": "2021-03-01",
        "deadline": "2021-12-15",
        "target": "新建幼儿园",
        "measure": "所",
        "value": 5,
        "milestones": "2021-05-31 开工；2021-09-30 主体完工",
        "note": "县委常委会审定",
    }
    row.update(changes)
    return list(row.values())


REALISTIC = [
    kindergartens(),
    [None] * 10 + ["新增学位", "个", 900, None, None],
    [2, "新增高中学位", None, "Education", None, "D990101001", None, "68,690,000", None]
    + ["2021年10月", "新增高中学位", "个", 535, None, None],
    [3, "农家书屋提质", None, "culture", None, "东镇", None, None, None, "9月底"] + [None] * 5,
    ["合计", None, None, None, None, None, None, 137380000],
]


def run(programme, data, name="清单.xlsx", **kwargs):
    return ledger.import_ledger(None, data, programme=programme, name=name, **kwargs)


def messages(result):
    return [(e.row, e.letter, e.message) for e in result.errors]


def counts():
    return Commitment.objects.count(), Entry.objects.count()


def commitment(programme, number):
    return (
        Commitment.objects.select_related("category", "responsible_unit")
        .prefetch_related("co_units", "targets", "milestones")
        .get(programme=programme, number=number)
    )


# --- importing the sheet as officials keep it --------------------------------------------------


def test_an_officials_workbook_imports_with_the_right_values(programme, tree):
    result = run(programme, officials_workbook(REALISTIC, merge_rows=[(5, 6)]))

    assert result.ok, messages(result)
    assert (result.total.created, result.total.changed) == (3, 0)
    assert result.ignored == ["O (备注)"]
    first = commitment(programme, 1)
    assert first.title == "新建公办幼儿园"
    assert first.category.code == "education"
    assert first.lead_official == "副县长"
    assert first.responsible_unit == tree["dept"]
    assert {u.name for u in first.co_units.all()} == {"东镇", "西镇"}
    assert first.budget_planned == Decimal("68690000")
    assert (first.start_date, first.deadline) == (dt.date(2021, 3, 1), dt.date(2021, 12, 15))
    assert [(t.name, t.unit, t.target_value) for t in first.targets.all()] == [
        ("新建幼儿园", "所", Decimal("5")),
        ("新增学位", "个", Decimal("900")),
    ]
    assert [(m.planned_date, m.title) for m in first.milestones.all()] == [
        (dt.date(2021, 5, 31), "开工"),
        (dt.date(2021, 9, 30), "主体完工"),
    ]
    second = commitment(programme, 2)
    assert second.budget_planned == Decimal("68690000")
    assert second.deadline == dt.date(2021, 10, 31)
    assert second.start_date == dt.date(2021, 1, 1)  # no start given: the programme's year
    third = commitment(programme, 3)
    assert third.deadline == dt.date(2021, 9, 30)  # 9月底 in the programme's year
    assert third.responsible_unit == tree["east"]
    assert third.targets.count() == 0


def test_a_budget_column_headed_in_ten_thousands_counts_bare_numbers_in_ten_thousands(programme):
    wb = Workbook()
    wb.active.append(["序号", "项目名称", "类别", "责任单位", "计划投资（万元）", "完成时限"])
    wb.active.append([1, "村集体经济", "poverty", "东镇", 6869, "2021年12月"])
    out = io.BytesIO()
    wb.save(out)

    result = run(programme, out.getvalue())

    assert result.ok, messages(result)
    assert commitment(programme, 1).budget_planned == Decimal("68690000")


def test_one_wrong_row_reports_row_and_column_and_writes_nothing(programme):
    rows = list(REALISTIC)
    rows[2] = list(rows[2])
    rows[2][5] = "不存在的单位"
    before = counts()

    result = run(programme, officials_workbook(rows))

    assert not result.ok
    assert messages(result) == [(7, "F", "不存在的单位 is not a unit of 测试县.")]
    assert result.errors[0].column == "Responsible unit"
    assert counts() == before


def test_errors_found_by_the_services_validator_name_their_row_and_column(programme):
    rows = [
        kindergartens(deadline="2021-02-01", value="-3"),
        [None] * 10 + [None, "个", "很多", None, None],
        [1, "重复的序号", None, "教育", None, "东镇", None, "abc", None, "2021-10-31"],
        [4, "未知类别", None, "娱乐", None, "东镇", None, None, None, "2021-10-31"],
    ]
    before = counts()

    result = run(programme, officials_workbook(rows))

    assert messages(result) == [
        (5, "J", "The deadline 2021-02-01 is before the start 2021-03-01."),
        (5, "M", "-3 is negative; amounts and targets cannot be."),
        (6, "K", "This field is required."),
        (6, "M", "很多 is not a number. Write it as 68690000, 68,690,000 or 6869万元."),
        (7, "A", "Number 1 is already on row 5."),
        (7, "H", "abc is not a number. Write it as 68690000, 68,690,000 or 6869万元."),
        (8, "D", result.errors[-1].message),
    ]
    assert result.errors[-1].message.startswith("Unknown category: 娱乐.")
    assert counts() == before


def test_a_dry_run_counts_and_writes_nothing(programme):
    before = counts()

    result = run(programme, officials_workbook(REALISTIC), dry_run=True)

    assert result.ok and result.dry_run
    assert result.total.created == 3
    assert counts() == before


def test_a_formula_without_a_cached_value_is_an_error(programme):
    rows = [kindergartens(budget="=SUM(1,2)")]

    result = run(programme, officials_workbook(rows))

    assert [(e.row, e.letter) for e in result.errors] == [(5, "H")]
    assert "formula without a value" in result.errors[0].message
    assert Commitment.objects.count() == 0


@pytest.mark.parametrize("deadline", ["2021.1", 2021.1])
def test_a_month_excel_may_have_cut_short_is_asked_for_never_read_as_january(programme, deadline):
    # 2021.10 saved by Excel in a number cell (then as CSV) reads 2021.1: October or January?
    rows = [kindergartens(deadline=deadline)]

    result = run(programme, officials_workbook(rows))

    assert messages(result) == [
        (
            5,
            "J",
            "2021.1 may mean January or October: Excel saves 2021.10 as 2021.1. Write the month "
            "as 2021-01 or 2021-10, or 2021年10月.",
        )
    ]
    assert Commitment.objects.count() == 0
    text = "编号,项目名称,类别,责任单位,完成时限\n1,新建公办幼儿园,教育,测试县教育局,2021.1\n"
    result = run(programme, text.encode("utf-8"), name="清单.csv")
    assert [e.message[:46] for e in result.errors] == [
        "2021.1 may mean January or October: Excel save"
    ]
    assert Commitment.objects.count() == 0


def test_a_formula_reads_as_the_value_excel_saved_with_it(programme):
    data = officials_workbook([kindergartens(budget="=SUM(1,2)")])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"<f>SUM(1,2)</f><v />", b"<f>SUM(1,2)</f><v>3</v>")
            dst.writestr(info, content)

    result = run(programme, out.getvalue())

    assert result.ok, messages(result)
    assert commitment(programme, 1).budget_planned == Decimal("3")


@pytest.mark.parametrize(
    "data, name, message",
    [
        (b"just some text\n", "清单.xlsx", "This is neither an Excel (.xlsx) file nor a CSV file."),
        (b"", "清单.xlsx", "The file is empty."),
        (b"", "清单.csv", "The file is empty."),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "清单.xls", "old Excel (.xls)"),
    ],
)
def test_a_file_that_is_not_a_ledger_is_refused_with_a_clear_message(
    programme, data, name, message
):
    result = run(programme, data, name=name)

    assert len(result.errors) == 1
    assert message in result.errors[0].message


def test_a_sheet_without_a_recognisable_header_is_refused(programme):
    wb = Workbook()
    wb.active.append(["姓名", "电话"])
    wb.active.append(["张三", "13800000000"])
    out = io.BytesIO()
    wb.save(out)

    result = run(programme, out.getvalue())

    assert [e.message[:40] for e in result.errors] == ["No header row found in the first 10 rows"]


def test_a_header_without_data_rows_is_refused(programme):
    result = run(programme, officials_workbook([]))

    assert [e.message for e in result.errors] == ["The file has no commitments below its header."]


def test_a_workbook_with_macros_is_read_for_its_values_and_the_macros_are_dropped(programme):
    data = officials_workbook([kindergartens()])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename))
        dst.writestr("xl/vbaProject.bin", b"Attribute VB_Name = Shell(calc.exe)")

    result = run(programme, out.getvalue(), name="清单.xlsm")

    assert result.ok, messages(result)
    assert Commitment.objects.filter(programme=programme).count() == 1


def test_importing_into_a_published_programme_is_refused(programme, tree):
    services.add_commitment(None, programme, exported_data(tree, 1))
    services.publish_programme(None, programme)
    before = counts()

    result = run(programme, officials_workbook(REALISTIC))

    assert len(result.errors) == 1
    assert "changes only by adjustments" in result.errors[0].message
    assert counts() == before


# --- export, and the round trip ----------------------------------------------------------------


def exported_data(tree, number, **changes):
    data = {
        "number": number,
        "title": f"实事{number}",
        "description": "建设内容",
        "category": "health",
        "lead_official": "副县长",
        "responsible_unit": tree["dept"],
        "co_units": [tree["east"], tree["west"]],
        "budget_planned": "68690000.00",
        "budget_spent": "1234.56",
        "start_date": dt.date(2021, 2, 1),
        "deadline": dt.date(2021, 11, 30),
        "targets": [
            {"name": "新增学位", "unit": "个", "baseline": "10", "target_value": "535"},
            {"name": "覆盖率", "unit": "%", "target_value": "98.5", "actual_value": "12"},
        ],
        "milestones": [
            {"title": "开工", "planned_date": dt.date(2021, 5, 31)},
            {"title": "主体 完工", "planned_date": dt.date(2021, 9, 30)},
        ],
    }
    data.update(changes)
    return data


def fill(programme, tree, n):
    for number in range(1, n + 1):
        services.add_commitment(None, programme, exported_data(tree, number))
    services.add_commitment(
        None, programme, exported_data(tree, n + 1, targets=[], milestones=[], co_units=[])
    )


def listing(programme):
    return [
        {k: v for k, v in services.public_fields(c).items()}
        for c in services.with_details(programme.commitments.order_by("number"))
    ]


def export(programme, fmt) -> bytes:
    exporter = ledger.export_ledger(None, programme, fmt)
    if fmt == "csv":
        return b"".join(exporter.iter_csv())
    out = io.BytesIO()
    exporter.write_xlsx(out)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_export_imports_into_a_new_programme_with_the_same_public_fields(programme, tree, fmt):
    fill(programme, tree, 3)
    data = export(programme, fmt)
    other = services.create_programme(None, county=tree["county"], year=2022, title="2022年清单")

    result = run(other, data, name=f"export.{fmt}")

    assert result.ok, messages(result)
    assert result.total.created == 4
    assert listing(other) == listing(programme)


def test_the_export_has_one_header_row_and_one_row_per_target(programme, tree):
    fill(programme, tree, 1)

    rows = list(csv.reader(io.StringIO(export(programme, "csv").decode("utf-8-sig"))))

    assert rows[0][:3] == ["Number", "Title", "Description"]
    assert rows[1][:11] == [
        "1",
        "实事1",
        "建设内容",
        "医疗卫生",
        "副县长",
        "测试县教育局",
        "东镇、西镇",
        "68690000.00",
        "1234.56",
        "2021-02-01",
        "2021-11-30",
    ]
    assert rows[1][11:] == [
        "新增学位",
        "个",
        "10.00",
        "535.00",
        "0.00",
        "2021-05-31 开工；2021-09-30 主体 完工",
    ]
    assert rows[2] == [""] * 11 + ["覆盖率", "%", "0.00", "98.50", "12.00", ""]
    assert rows[3][:2] == ["2", "实事2"]
    assert len(rows) == 4


def test_re_importing_the_export_into_the_same_draft_changes_nothing(programme, tree):
    fill(programme, tree, 2)
    data = export(programme, "xlsx")
    before = listing(programme)
    entries = Entry.objects.count()

    result = run(programme, data)

    assert result.ok, messages(result)
    assert (result.total.created, result.total.changed, result.total.unchanged) == (0, 0, 3)
    assert listing(programme) == before
    assert Entry.objects.count() == entries + 1  # the import itself, nothing else


def test_a_changed_row_updates_its_commitment_on_the_draft_list(programme, tree):
    fill(programme, tree, 2)
    text = export(programme, "csv").decode("utf-8-sig").replace("实事2", "实事二")

    result = run(programme, text.encode("utf-8"), name="清单.csv")

    assert result.ok, messages(result)
    assert (result.total.created, result.total.changed, result.total.unchanged) == (0, 1, 2)
    assert commitment(programme, 2).title == "实事二"


def test_an_edit_made_between_the_check_and_the_write_is_a_conflict_not_overwritten(
    programme, tree, users
):
    fill(programme, tree, 2)
    text = export(programme, "csv").decode("utf-8-sig").replace("实事2", "实事二")

    class Meanwhile(ledger.CommitmentSheet):
        def validate(self):
            super().validate()
            # Someone saves the same commitment while the import is between its phases.
            edited = commitment(programme, 2)
            services.update_commitment(
                users["county_admin"], edited, {"title": "别人改的"}, version=edited.version
            )

    class Import(ledger.CommitmentLedgerImport):
        sheets = (Meanwhile,)

    result = Import(None, programme=programme).run(text.encode("utf-8"), name="清单.csv")

    assert not result.ok and result.errors[0].row is not None
    assert commitment(programme, 2).title == "别人改的"


def test_a_csv_in_gb18030_imports(programme):
    text = "序号,项目名称,类别,责任单位,完成时限\n1,新增高中学位,教育,东镇,2021年10月\n"

    result = run(programme, text.encode("gb18030"), name="清单.csv")

    assert result.ok, messages(result)
    assert commitment(programme, 1).title == "新增高中学位"


def test_cells_that_a_spreadsheet_would_run_are_neutralised_and_read_back(programme, tree):
    evil = "=cmd|' /C calc'!A0"
    services.add_commitment(
        None, programme, exported_data(tree, 1, title=evil, lead_official="+SUM(1)")
    )

    text = export(programme, "csv").decode("utf-8-sig")
    sheet = load_workbook(io.BytesIO(export(programme, "xlsx"))).active

    assert "'=cmd|' /C calc'!A0" in text and "'+SUM(1)" in text
    assert sheet["B2"].value == "'" + evil and sheet["B2"].data_type == "s"
    other = services.create_programme(None, county=tree["county"], year=2022, title="2022")
    assert run(other, text.encode(), name="x.csv").ok
    assert commitment(other, 1).title == evil


# --- the pages ---------------------------------------------------------------------------------


def test_the_county_office_imports_through_the_page(programme, users, client_for):
    client = client_for(users["county_admin"])
    url = reverse("commitments:import", args=[programme.pk])
    upload = SimpleUploadedFile("清单.xlsx", officials_workbook(REALISTIC))

    page = client.post(url, {"file": upload})

    assert page.status_code == 200
    assert 'data-count="created">3<' in page.content.decode()
    assert programme.commitments.count() == 3
    assert Entry.objects.filter(action="commitments.ledger.imported", actor=users["county_admin"])


def test_the_page_lists_errors_by_row_and_column(programme, users, client_for):
    client = client_for(users["county_admin"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    rows = [kindergartens(unit="不存在的单位")]

    page = client.post(
        reverse("commitments:import", args=[programme.pk]),
        {"file": SimpleUploadedFile("清单.xlsx", officials_workbook(rows)), "dry_run": "on"},
    )

    html = page.content.decode()
    assert 'data-row="5" data-column="F"' in html
    assert "不存在的单位 is not a unit of 测试县." in html
    assert programme.commitments.count() == 0


def test_the_page_of_a_published_programme_says_it_changes_only_by_adjustments(
    programme, tree, users, client_for
):
    services.add_commitment(None, programme, exported_data(tree, 1))
    services.publish_programme(None, programme)
    client = client_for(users["county_admin"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    url = reverse("commitments:import", args=[programme.pk])

    page = client.get(url)
    posted = client.post(url, {"file": SimpleUploadedFile("x.xlsx", officials_workbook(REALISTIC))})

    assert "changes only by adjustments" in page.content.decode()
    assert "changes only by adjustments" in posted.content.decode()
    assert programme.commitments.count() == 1


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_county_office_downloads_the_ledger(programme, tree, users, client_for, fmt):
    fill(programme, tree, 1)
    client = client_for(users["county_admin"])

    response = client.get(reverse("commitments:export", args=[programme.pk, fmt]))

    assert response.status_code == 200
    assert response.streaming
    data = b"".join(response.streaming_content)
    assert f'.{fmt}"' in response["Content-Disposition"]
    other = services.create_programme(None, county=tree["county"], year=2022, title="2022")
    assert run(other, data, name=f"x.{fmt}").ok
    assert Entry.objects.filter(action="commitments.ledger.exported").count() == 1


@pytest.mark.parametrize("who", ["unit_officer", "east_admin", "auditor", "supervisor"])
def test_other_roles_get_404_on_both_pages(programme, users, client_for, who):
    client = client_for(users[who])

    imported = client.post(
        reverse("commitments:import", args=[programme.pk]),
        {"file": SimpleUploadedFile("x.xlsx", officials_workbook(REALISTIC))},
    )
    exported = client.get(reverse("commitments:export", args=[programme.pk, "xlsx"]))

    assert (imported.status_code, exported.status_code) == (404, 404)
    assert programme.commitments.count() == 0


def test_an_unknown_format_is_404(programme, users, client_for):
    client = client_for(users["county_admin"])

    assert client.get(reverse("commitments:export", args=[programme.pk, "pdf"])).status_code == 404


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_export_takes_the_same_number_of_queries_for_a_longer_list(
    programme, tree, users, client_for, fmt
):
    client = client_for(users["county_admin"])
    url = reverse("commitments:export", args=[programme.pk, fmt])

    def queries(n):
        Commitment.objects.all().delete()
        fill(programme, tree, n)
        with CaptureQueriesContext(connection) as captured:
            b"".join(client.get(url).streaming_content)
        return len(captured)

    assert queries(2) == queries(8)


# --- the commands ------------------------------------------------------------------------------


def test_the_command_creates_a_draft_programme_and_imports_into_it(tree, tmp_path):
    path = tmp_path / "清单.xlsx"
    path.write_bytes(officials_workbook(REALISTIC))
    out = io.StringIO()

    call_command(
        "import_commitments",
        str(path),
        county=tree["county"].code,
        year=2021,
        title=TITLE,
        stdout=out,
    )

    programme = Programme.objects.get(county=tree["county"], year=2021)
    assert programme.status == Programme.Status.DRAFT
    assert programme.commitments.count() == 3
    assert "3 created" in out.getvalue()


def test_the_command_writes_nothing_when_a_row_is_wrong_not_even_the_programme(tree, tmp_path):
    path = tmp_path / "清单.xlsx"
    path.write_bytes(officials_workbook([kindergartens(unit="不存在的单位")]))
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command(
            "import_commitments",
            str(path),
            county=tree["county"].code,
            year=2021,
            title=TITLE,
            stderr=err,
        )

    assert "row 5, column F" in err.getvalue()
    assert not Programme.objects.exists()


def test_the_command_dry_run_writes_nothing(programme, tmp_path):
    path = tmp_path / "清单.xlsx"
    path.write_bytes(officials_workbook(REALISTIC))
    out = io.StringIO()

    call_command("import_commitments", str(path), programme=programme.pk, dry_run=True, stdout=out)

    assert "Dry run" in out.getvalue()
    assert programme.commitments.count() == 0


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_the_export_command_writes_a_file_the_import_command_reads(
    programme, tree, tmp_path, suffix
):
    fill(programme, tree, 2)
    path = tmp_path / f"ledger.{suffix}"

    call_command("export_commitments", str(path), programme=programme.pk, stdout=io.StringIO())
    call_command(
        "import_commitments",
        str(path),
        county=tree["county"].code,
        year=2022,
        title="2022",
        stdout=io.StringIO(),
    )

    other = Programme.objects.get(year=2022)
    assert listing(other) == listing(programme)


def test_the_export_command_refuses_an_unknown_suffix(programme, tmp_path):
    with pytest.raises(CommandError, match=r"\.xlsx or \.csv"):
        call_command("export_commitments", str(tmp_path / "x.pdf"), programme=programme.pk)


def test_the_county_office_imports_a_csv_through_the_page(programme, users, client_for):
    client = client_for(users["county_admin"])
    text = "\ufeff序号,项目名称,类别,责任单位,完成时限,计划投资\n1,新增高中学位,教育,东镇,10月底,6869万元\n"

    page = client.post(
        reverse("commitments:import", args=[programme.pk]),
        {"file": SimpleUploadedFile("清单.csv", text.encode("utf-8"))},
    )

    assert 'data-count="created">1<' in page.content.decode()
    assert commitment(programme, 1).deadline == dt.date(2021, 10, 31)
    assert commitment(programme, 1).budget_planned == Decimal("68690000")


def test_a_long_list_is_written_a_chunk_at_a_time_with_every_row_and_entry(
    programme, tree, monkeypatch
):
    """add_commitments writes in chunks (memory), yet adds and audits every row as one list."""
    monkeypatch.setattr(services, "WRITE_CHUNK", 3)
    rows = [exported_data(tree, n) for n in range(1, 8)] + [
        exported_data(tree, None, title="未编号", targets=[], milestones=[], co_units=[])
    ]
    before = Entry.objects.count()
    assert services.add_commitments(None, programme, rows) == 8
    made = list(programme.commitments.order_by("number"))
    assert [c.number for c in made] == list(range(1, 9))
    assert sum(c.targets.count() for c in made) == 14
    assert made[0].co_units.count() == 2
    created = Entry.objects.filter(action="commitments.commitment.created").order_by("seq")
    assert Entry.objects.count() - before == 8 == created.count()
    assert [e.object_id for e in created] == [str(c.pk) for c in made]
    # Each entry holds what a fresh read of the commitment shows, units and milestones in order.
    fresh = services.with_details(programme.commitments.order_by("number"))
    expected = [diff({}, services.public_fields(c)) for c in fresh]
    assert [e.changes for e in created] == expected


def test_a_bad_row_in_the_last_chunk_writes_nothing_of_the_first(programme, tree, monkeypatch):
    monkeypatch.setattr(services, "WRITE_CHUNK", 3)
    rows = [exported_data(tree, n) for n in range(1, 8)] + [exported_data(tree, 3)]
    with pytest.raises(ValidationError):
        services.add_commitments(None, programme, rows)
    assert not programme.commitments.exists()
