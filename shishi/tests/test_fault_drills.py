"""Fault drills on PostgreSQL (docs/security.md, "Backups and fault drills"): a job worker killed
mid-job, two workers and one job, an import killed or cut off from its database mid-write, and
twenty approvals of one adjustment at once.

Real processes (``shishi db_worker``, ``shishi import-orgs``) run against the test database. A
process is stopped at a named point (``shishi.lib.drill``: it says so through a FIFO and waits
for a line from another) and killed or cut off there, so each drill hits the moment it means
to, never a moment guessed by a delay. The full disk drill is in
shishi/evidence/tests/test_disk_full.py (it needs no second process, and runs on SQLite too).
"""

from __future__ import annotations

import io
import os
import select
import signal
import subprocess
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django_tasks_db.models import DBTaskResult
from openpyxl import Workbook

from shishi.audit.models import Entry
from shishi.audit.verify import verify_chain
from shishi.commitments import services as cs
from shishi.commitments.models import Adjustment, Decision
from shishi.jobs.liveness import NAMESPACE
from shishi.notifications.models import Notification
from shishi.orgs.models import Org, Person
from shishi.testing import (
    commitment_data,
    make_programme,
    process_env,
    programme_of,
    run_shishi,
    shishi_command,
    sign_in_second_factor,
)

pytestmark = [pytest.mark.postgresql, pytest.mark.usefixtures("committed_db")]

# How long a drill waits for a process to reach its point before failing: a deadline, not a
# delay (the wait ends as soon as the process speaks).
DEADLINE = 90


class Stopped:
    """A ``shishi`` process started to stop at the drill point ``point``."""

    def __init__(self, tmp_path: Path, point: str, *args: str, env: dict[str, str], name: str):
        self.folder = tmp_path / f"drill-{name}"
        self.folder.mkdir()
        os.mkfifo(self.folder / "reached")
        os.mkfifo(self.folder / "go")
        self.out = open(self.folder / "out.txt", "w+")  # noqa: SIM115 - closed in result()
        self.process = subprocess.Popen(  # noqa: S603 - our own console script
            shishi_command(*args),
            env={**env, "SHISHI_DRILL": f"{point}:{self.folder}"},
            stdout=self.out,
            stderr=subprocess.STDOUT,
        )

    def reached(self) -> None:
        """Wait until the process stops at its point (fails if it ends first, or never comes)."""
        # Opened for reading and writing, the FIFO always has a writer (us): no end-of-file
        # before the process writes its line.
        fd = os.open(self.folder / "reached", os.O_RDWR | os.O_NONBLOCK)
        try:
            end = time.monotonic() + DEADLINE
            while time.monotonic() < end:
                ready, _, _ = select.select([fd], [], [], 1)
                if ready:
                    assert os.read(fd, 100).strip() == str(self.process.pid).encode()
                    return
                if self.process.poll() is not None:
                    pytest.fail(f"the process ended before its drill point:\n{self.output()}")
            pytest.fail(f"the process did not reach its drill point:\n{self.output()}")
        finally:
            os.close(fd)

    def go_on(self) -> None:
        with open(self.folder / "go", "w") as go:
            go.write("go\n")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(DEADLINE) == -signal.SIGKILL

    def result(self) -> tuple[int, str]:
        code = self.process.wait(DEADLINE)
        return code, self.output()

    def output(self) -> str:
        self.out.flush()
        self.out.seek(0)
        return self.out.read()


@pytest.fixture
def stopped(tmp_path):
    started: list[Stopped] = []

    def start(point: str, *args: str, env: dict[str, str], name: str) -> Stopped:
        process = Stopped(tmp_path, point, *args, env=env, name=name)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.process.poll() is None:
            process.process.kill()
            process.process.wait(DEADLINE)
        process.out.close()


def server() -> dict:
    s = connection.settings_dict
    params = {"dbname": s["NAME"], "user": s["USER"], "host": s["HOST"] or None}
    if s["PORT"]:
        params["port"] = s["PORT"]
    if s["PASSWORD"]:
        params["password"] = s["PASSWORD"]
    return params


def wait_until_gone(worker_id: str) -> None:
    """Block until the worker's lock is let go: PostgreSQL ends a killed process's session a
    moment after the kill, not at once. Taking the lock waits exactly that moment."""
    with psycopg.connect(autocommit=True, **server()) as db:
        db.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", [NAMESPACE, worker_id])
        db.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", [NAMESPACE, worker_id])


# --- jobs ----------------------------------------------------------------------------------------


@pytest.fixture
def overdue(tree, users):
    """Three overdue commitments of the education bureau, whose officer hears of each: the
    reminders job sends three notifications, one at a time."""
    make_programme(
        tree["county"],
        2026,
        [commitment_data(tree["dept"], f"实事{i}", due_in=-5 - i) for i in range(3)],
    )
    return users["unit_officer"]


def reminders_to(user):
    """The reminders themselves, not the digest that gathers them (items > 1) for the reader."""
    return Notification.objects.filter(user=user, items=1)


def worker_env() -> dict[str, str]:
    return process_env(TASKS_BACKEND="database")


def worker(*extra: str, worker_id: str) -> list[str]:
    return [
        "db_worker",
        "--worker-id",
        worker_id,
        "--no-startup-delay",
        "--interval",
        "0.2",
        *extra,
    ]


def enqueue_reminders() -> DBTaskResult:
    done = run_shishi("send_reminders", env=worker_env())
    assert done.returncode == 0, done.stderr
    return DBTaskResult.objects.get()


def test_a_worker_killed_mid_job_is_replaced_and_the_job_finishes_once(overdue, stopped):
    job = enqueue_reminders()
    first = stopped("reminders.sending", *worker(worker_id="drill-a"), env=worker_env(), name="a")
    first.reached()
    job.refresh_from_db()
    assert (job.status, job.worker_ids) == ("RUNNING", ["drill-a"])
    assert reminders_to(overdue).count() == 1
    first.kill()
    wait_until_gone("drill-a")
    # What systemd does when a worker dies: start another.
    second = run_shishi(*worker("--batch", worker_id="drill-b"), env=worker_env())
    assert second.returncode == 0, second.stderr
    job.refresh_from_db()
    assert (job.status, job.worker_ids) == ("SUCCESSFUL", ["drill-a", "drill-b"])
    assert DBTaskResult.objects.count() == 1
    # Each reminder once: the one sent before the kill is not sent again.
    notes = reminders_to(overdue)
    assert notes.count() == 3
    assert len(set(notes.values_list("key", flat=True))) == 3
    assert job.return_value == 2
    # A clean run now finds nothing left to send.
    assert cs.send_reminders() == 0


def test_a_second_worker_leaves_a_job_that_a_live_worker_runs(overdue, stopped):
    job = enqueue_reminders()
    first = stopped(
        "reminders.sending", *worker("--batch", worker_id="drill-a"), env=worker_env(), name="a"
    )
    first.reached()
    # Another worker starts while the first holds the job: it neither takes it back nor runs it.
    second = run_shishi(*worker("--batch", worker_id="drill-b"), env=worker_env())
    assert second.returncode == 0, second.stderr
    job.refresh_from_db()
    assert (job.status, job.worker_ids) == ("RUNNING", ["drill-a"])
    first.go_on()
    code, output = first.result()
    assert code == 0, output
    job.refresh_from_db()
    assert (job.status, job.worker_ids) == ("SUCCESSFUL", ["drill-a"])
    assert job.return_value == 3
    assert reminders_to(overdue).count() == 3


def test_two_workers_started_together_run_a_job_once(overdue):
    job = enqueue_reminders()
    workers = [
        subprocess.Popen(  # noqa: S603 - our own console script
            shishi_command(*worker("--batch", worker_id=f"drill-{n}")),
            env=worker_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in "ab"
    ]
    for process in workers:
        _, err = process.communicate(timeout=DEADLINE)
        assert process.returncode == 0, err
    job.refresh_from_db()
    assert job.status == "SUCCESSFUL"
    assert len(job.worker_ids) == 1
    assert reminders_to(overdue).count() == 3


def test_a_job_whose_workers_keep_dying_is_failed_not_run_for_ever(overdue, stopped):
    job = enqueue_reminders()
    for n in "abc":
        process = stopped(
            "reminders.sending", *worker(worker_id=f"drill-{n}"), env=worker_env(), name=n
        )
        process.reached()
        process.kill()
        wait_until_gone(f"drill-{n}")
    last = run_shishi(*worker("--batch", worker_id="drill-d"), env=worker_env())
    assert last.returncode == 0, last.stderr
    job.refresh_from_db()
    assert job.status == "FAILED"
    assert job.worker_ids == ["drill-a", "drill-b", "drill-c"]
    assert "died 3 times" in job.traceback


# --- imports ---------------------------------------------------------------------------------------


def workbook(path: Path) -> Path:
    """Five new villages under 东镇 and two people in each, with mobile numbers."""
    wb = Workbook()
    wb.remove(wb.active)
    orgs = wb.create_sheet("organisations")
    orgs.append(["Code", "Parent code", "Kind", "Name", "Short name"])
    people = wb.create_sheet("people")
    people.append(
        [
            "Person number",
            "Name",
            "Gender",
            "Mobile number",
            "Party member",
            "Position",
            "Organisation code",
        ]
    )
    for i in range(5):
        code = f"99010110{i + 300:04d}"
        orgs.append([code, "990101100000", "village", f"东新{i}村", ""])
        for p in range(2):
            people.append([f"P-D{i}{p}", f"村民{i}{p}", "男", f"1390000{i}{p:03d}", "否", "", code])
    out = io.BytesIO()
    wb.save(out)
    path.write_bytes(out.getvalue())
    return path


def state() -> tuple[int, int, int]:
    return Org.objects.count(), Person.objects.count(), Entry.objects.count()


def clean_run(path: Path) -> tuple[str, tuple[int, int, int]]:
    done = run_shishi("import_orgs", str(path), env=process_env())
    assert done.returncode == 0, done.stderr
    return done.stdout, state()


def test_an_import_killed_mid_write_writes_nothing_and_runs_again_alike(tree, tmp_path, stopped):
    path = workbook(tmp_path / "orgs.xlsx")
    before = state()
    process = stopped(
        "ledger.import.writing", "import_orgs", str(path), env=process_env(), name="i"
    )
    process.reached()
    # The organisations are written in the import's transaction, not committed.
    assert state() == before
    process.kill()
    assert state() == before
    assert verify_chain() is None
    out, after = clean_run(path)
    assert after == (before[0] + 5, before[1] + 10, after[2])
    assert after[2] > before[2]
    assert "5 created" in out and "10 created" in out


def test_an_import_cut_off_from_its_database_says_so_writes_nothing_and_runs_again_alike(
    tree, tmp_path, stopped
):
    path = workbook(tmp_path / "orgs.xlsx")
    before = state()
    name = "drill-import"
    env = process_env()
    env["DATABASE_URL"] += f"&application_name={name}"
    process = stopped("ledger.import.writing", "import_orgs", str(path), env=env, name="i")
    process.reached()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s",
            [name],
        )
        assert cursor.fetchone()[0] == 1
    process.go_on()
    code, output = process.result()
    assert code == 1
    assert "Traceback" not in output
    with translation.override("zh-hans"):
        gone = translation.gettext(
            "The database went away during the import; nothing was written. Run the import "
            "again once the database is back."
        )
    assert gone in output
    assert state() == before
    out, after = clean_run(path)
    assert after[:2] == (before[0] + 5, before[1] + 10)
    assert "5 created" in out and "10 created" in out


# --- twenty approvals at once ----------------------------------------------------------------------


def test_twenty_approvals_of_one_adjustment_at_once_apply_it_once(tree, users):
    programme = programme_of(tree, n=2, published=True, levels=1)
    commitment = programme.commitments.order_by("number").first()
    adjustment = cs.propose_adjustment(
        users["unit_officer"],
        programme,
        kind="cancel",
        commitments=[commitment],
        payload={},
        reason="并入其他项目",
    )
    url = reverse("commitments:adjustment", args=[adjustment.pk])
    clients = []
    for _ in range(20):
        client = Client()
        client.force_login(
            users["county_admin"], backend="shishi.orgs.backends.UsernameOrPhoneBackend"
        )
        sign_in_second_factor(client, users["county_admin"])
        client.cookies["django_language"] = "en"
        clients.append(client)
    start = threading.Barrier(len(clients))
    pages: list[str] = []
    errors: list[BaseException] = []

    def approve(client):
        try:
            start.wait()
            response = client.post(
                url, {"action": "approve", "state": "proposed", "note": ""}, follow=True
            )
            assert response.status_code == 200
            pages.append(response.text)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=[c]) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE)
    close_old_connections()
    assert not errors, errors
    assert len(pages) == 20
    applied = [p for p in pages if "approved and applied" in p and "already been decided" not in p]
    refused = [p for p in pages if "This adjustment has already been decided." in p]
    assert len(applied) == 1
    assert len(refused) == 19
    adjustment.refresh_from_db()
    assert adjustment.state == Adjustment.State.APPROVED
    assert Decision.objects.filter(adjustment=adjustment).count() == 1
    assert (
        Entry.objects.filter(
            action="commitments.adjustment.decided", object_id=str(adjustment.pk)
        ).count()
        == 1
    )
    commitment.refresh_from_db()
    assert commitment.status == "cancelled"
    assert verify_chain() is None
