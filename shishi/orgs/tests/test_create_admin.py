"""``shishi create-admin``: the first system administrator, on the top of the tree, through the
services (so audited), with a password the policy accepts, and never twice."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from shishi.audit.models import Entry
from shishi.orgs import services
from shishi.orgs.management.commands import create_admin
from shishi.orgs.models import Org, OrgKind, Person, Role, RoleKind, User

pytestmark = pytest.mark.django_db

PASSWORD = "Ledger-lantern-2026"


class Terminal(io.StringIO):
    """Standard input that is a terminal, so the command prompts."""

    def isatty(self):
        return True


@pytest.fixture
def no_password_variable(monkeypatch):
    monkeypatch.delenv(create_admin.ENV_VARIABLE, raising=False)


@pytest.fixture
def password_variable(monkeypatch):
    monkeypatch.setenv(create_admin.ENV_VARIABLE, PASSWORD)


@pytest.fixture
def typed(monkeypatch, no_password_variable):
    """``typed("a", "a")``: what the operator types at the password prompts, in order."""
    prompts = []

    def answer(*answers):
        pending = list(answers)

        def getpass(prompt):
            prompts.append(prompt)
            if not pending:
                raise EOFError
            return pending.pop(0)

        monkeypatch.setattr(create_admin.getpass, "getpass", getpass)
        return prompts

    return answer


def run(*args, stdin=None, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_admin", *args, stdout=out, stderr=err, stdin=stdin or io.StringIO(), **options
    )
    return out.getvalue(), err.getvalue()


def nothing_written(before: int) -> bool:
    return Entry.objects.count() == before and not Person.objects.filter(name="管理员").exists()


# --- creating ------------------------------------------------------------------------------------


def test_it_makes_a_system_administrator_on_the_top_organisation(tree, password_variable):
    out, _err = run("admin", "--name", "管理员")
    user = User.objects.get(username="admin")
    assert user.check_password(PASSWORD)
    assert user.person.name == "管理员"
    assert user.person.org == tree["province"]
    [role] = Role.objects.filter(user=user)
    assert (role.kind, role.org) == (RoleKind.SYSADMIN, tree["province"])
    assert "Created the system administrator admin on 南屿省 (990000000000)." in out


@pytest.mark.parametrize(
    ("role", "label"),
    [
        (RoleKind.SECURITY_ADMIN, "security administrator"),
        (RoleKind.AUDIT_ADMIN, "audit administrator"),
    ],
)
def test_it_makes_the_other_two_of_the_three_administrators(tree, password_variable, role, label):
    out, _err = run("keeper", "--role", role)
    [granted] = Role.objects.filter(user__username="keeper")
    assert (granted.kind, granted.org) == (role, tree["province"])
    assert f"Created the {label} keeper on 南屿省 (990000000000)." in out
    assert User.objects.get(username="keeper").person.name == label.capitalize()


def test_it_is_recorded_in_the_audit_log_as_the_system(tree, password_variable):
    before = Entry.objects.count()
    run("admin")
    entries = list(Entry.objects.order_by("seq")[before:])
    assert [e.action for e in entries] == [
        "orgs.person.created",
        "orgs.login.created",
        "orgs.role.granted",
    ]
    assert {e.actor_label for e in entries} == {"system"}
    assert PASSWORD not in str([(e.changes, e.data) for e in entries])


def test_without_a_name_the_person_is_called_system_administrator(tree, password_variable):
    run("admin")
    assert User.objects.get(username="admin").person.name == "System administrator"


def test_it_creates_the_top_organisation_when_there_is_none(password_variable):
    out, _err = run("admin", "--org-code", "440000000000", "--org-name", "某某省")
    top = Org.objects.get(code="440000000000")
    assert (top.kind, top.name, top.parent) == (OrgKind.PROVINCE, "某某省", None)
    assert Role.objects.get(user__username="admin").org == top
    assert "Created the top organisation 某某省 (440000000000)." in out
    assert Entry.objects.filter(action="orgs.org.created", object_id=str(top.pk)).exists()


def test_an_existing_top_organisation_is_chosen_by_its_code(tree, password_variable):
    services.create_org(
        None, parent=None, kind=OrgKind.PROVINCE, name="北屿省", code="980000000000"
    )
    run("admin", "--org-code", "980000000000")
    assert Role.objects.get(user__username="admin").org.name == "北屿省"


# --- the password ---------------------------------------------------------------------------------


def test_the_password_is_read_from_the_first_line_of_a_file(tree, tmp_path, no_password_variable):
    secret = tmp_path / "password"
    secret.write_text(f"{PASSWORD}\nignored\n")
    run("admin", "--password-file", str(secret))
    assert User.objects.get(username="admin").check_password(PASSWORD)


def test_the_password_is_read_from_standard_input_with_a_dash(tree, no_password_variable):
    run("admin", "--password-file", "-", stdin=io.StringIO(f"{PASSWORD}\n"))
    assert User.objects.get(username="admin").check_password(PASSWORD)


def test_at_a_terminal_it_asks_for_the_password_twice(tree, typed):
    prompts = typed(PASSWORD, PASSWORD)
    run("admin", stdin=Terminal())
    assert prompts == ["Password: ", "Password (again): "]
    assert User.objects.get(username="admin").check_password(PASSWORD)


def test_at_a_terminal_two_different_passwords_are_asked_again(tree, typed):
    typed(PASSWORD, "Ledger-lantern-2027", PASSWORD, PASSWORD)
    _out, err = run("admin", stdin=Terminal())
    assert "The two passwords differ. Try again." in err
    assert User.objects.get(username="admin").check_password(PASSWORD)


def test_at_a_terminal_a_refused_password_is_asked_again_with_the_policys_message(tree, typed):
    typed("short", "short", PASSWORD, PASSWORD)
    _out, err = run("admin", stdin=Terminal())
    assert "This password is too short." in err
    assert User.objects.get(username="admin").check_password(PASSWORD)


def test_at_a_terminal_it_gives_up_after_three_tries(tree, typed):
    typed(*["short"] * 6)
    before = Entry.objects.count()
    with pytest.raises(CommandError, match="No acceptable password after 3 tries"):
        run("admin", stdin=Terminal())
    assert nothing_written(before)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "This password is too short."),
        ("1234567890123", "This password is entirely numeric."),
        ("administrator", "This password is too common."),
    ],
)
def test_a_password_the_policy_refuses_is_refused_with_its_message(
    tree, monkeypatch, password, message
):
    monkeypatch.setenv(create_admin.ENV_VARIABLE, password)
    before = Entry.objects.count()
    with pytest.raises(CommandError, match=message):
        run("admin")
    assert nothing_written(before)
    assert not User.objects.filter(username="admin").exists()


def test_without_a_terminal_or_a_given_password_it_says_how_to_give_one(tree, no_password_variable):
    with pytest.raises(CommandError, match="--password-file") as exc:
        run("admin")
    assert create_admin.ENV_VARIABLE in str(exc.value)


def test_no_input_never_prompts_even_at_a_terminal(tree, typed):
    prompts = typed(PASSWORD, PASSWORD)
    with pytest.raises(CommandError, match="No password given"):
        run("admin", "--no-input", stdin=Terminal())
    assert prompts == []


def test_an_empty_or_missing_password_file_is_refused(tree, tmp_path, no_password_variable):
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(CommandError, match="is empty"):
        run("admin", "--password-file", str(tmp_path / "empty"))
    with pytest.raises(CommandError, match="Cannot read the password file"):
        run("admin", "--password-file", str(tmp_path / "missing"))


# --- refusals ------------------------------------------------------------------------------------


def test_running_it_twice_refuses_the_taken_username_and_writes_nothing(tree, password_variable):
    run("admin")
    before = Entry.objects.count()
    with pytest.raises(CommandError, match="The username Admin is taken; nothing was changed."):
        run("Admin")
    assert Entry.objects.count() == before
    assert Role.objects.filter(kind=RoleKind.SYSADMIN).count() == 1


def test_without_any_organisation_it_says_how_to_create_the_top_one(password_variable):
    with pytest.raises(CommandError) as exc:
        run("admin")
    assert "--org-code CODE --org-name NAME" in str(exc.value)
    assert "import-orgs" in str(exc.value)
    assert not Person.objects.exists()


def test_a_new_top_organisation_needs_its_name(password_variable):
    with pytest.raises(CommandError, match="give its name with --org-name"):
        run("admin", "--org-code", "440000000000")
    assert not Org.objects.exists()


def test_a_bad_code_for_the_top_organisation_is_refused_before_the_password_is_asked(typed):
    prompts = typed(PASSWORD, PASSWORD)
    with pytest.raises(CommandError, match="12-digit statistical division code"):
        run("admin", "--org-code", "44", "--org-name", "某某省", stdin=Terminal())
    assert prompts == []
    assert not Org.objects.exists()


def test_an_organisation_below_the_top_is_refused(tree, password_variable):
    with pytest.raises(CommandError, match="is not at the top of the tree"):
        run("admin", "--org-code", tree["county"].code)
    assert not User.objects.filter(username="admin").exists()


def test_several_top_organisations_ask_which_one(tree, password_variable):
    services.create_org(
        None, parent=None, kind=OrgKind.PROVINCE, name="北屿省", code="980000000000"
    )
    with pytest.raises(CommandError, match="980000000000, 990000000000.*--org-code"):
        run("admin")


def test_the_console_command_is_spelled_with_a_hyphen(tmp_path):
    shishi = Path(sys.executable).with_name("shishi")
    done = subprocess.run(  # noqa: S603 (our own console script)
        [str(shishi), "create-admin", "--help"],
        env={**os.environ, "SHISHI_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "--password-file" in done.stdout
