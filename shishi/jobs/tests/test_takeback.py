"""A worker starting up takes back the jobs of workers that died while running them, and leaves
those of live workers alone (the drills with real processes are in
shishi/tests/test_fault_drills.py)."""

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from shishi.jobs.liveness import InUse, Liveness
from shishi.jobs.takeback import take_back

pytestmark = pytest.mark.django_db


def job(*workers: str) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status="RUNNING",
        args_kwargs={"args": [], "kwargs": {}},
        task_path="shishi.commitments.tasks.send_reminders",
        backend_name="default",
        run_after=get_date_max(),
        worker_ids=list(workers),
        started_at=timezone.now(),
    )


def test_the_job_of_a_worker_that_is_gone_is_queued_again():
    orphan = job("gone")
    with Liveness("starting") as me:
        assert take_back(me, "default") == (1, 0)
    orphan.refresh_from_db()
    assert (orphan.status, orphan.started_at, orphan.worker_ids) == ("READY", None, ["gone"])


def test_the_job_of_a_live_worker_is_left_to_it():
    running = job("alive")
    with Liveness("alive"), Liveness("starting") as me:
        assert take_back(me, "default") == (0, 0)
    running.refresh_from_db()
    assert running.status == "RUNNING"


def test_a_job_whose_workers_died_three_times_is_failed():
    doomed = job("a", "b", "c")
    with Liveness("starting") as me:
        assert take_back(me, "default") == (0, 1)
    doomed.refresh_from_db()
    assert doomed.status == "FAILED"
    assert "died 3 times" in doomed.traceback


def test_a_worker_id_is_held_by_one_live_worker_at_a_time():
    with Liveness("one") as first:
        with pytest.raises(InUse):
            Liveness("one").__enter__()
        assert first.alive("one")
    with Liveness("two") as second:
        assert not second.alive("one")
