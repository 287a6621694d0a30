"""Taking back the jobs of workers that died while running them."""

from __future__ import annotations

import logging

from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from .liveness import Liveness

log = logging.getLogger(__name__)

# A job whose workers died this many times while running it is marked failed, not run again: a
# job that kills its worker (memory) must not take every worker down in turn.
MAX_ATTEMPTS = 3


def take_back(liveness: Liveness, backend_name: str) -> tuple[int, int]:
    """Put back in the queue every running job whose worker is gone; fail those tried
    ``MAX_ATTEMPTS`` times. Returns (queued again, failed)."""
    queued = failed = 0
    with exclusive_transaction(DBTaskResult.objects.db):
        running = (
            DBTaskResult.objects.running()
            .filter(backend_name=backend_name)
            .select_for_update(skip_locked=True)
        )
        for job in running:
            worker = job.worker_ids[-1] if job.worker_ids else ""
            if worker and liveness.alive(worker):
                continue
            if len(job.worker_ids) >= MAX_ATTEMPTS:
                job.status = "FAILED"
                job.finished_at = timezone.now()
                job.exception_class_path = "shishi.jobs.takeback.WorkerDied"
                job.traceback = (
                    f"The worker running this job died {len(job.worker_ids)} times "
                    f"({', '.join(job.worker_ids)}); it is not run again."
                )
                job.save(
                    update_fields=["status", "finished_at", "exception_class_path", "traceback"]
                )
                log.error(
                    "job %s (%s) failed: its workers died %s times",
                    job.id,
                    job.task_path,
                    len(job.worker_ids),
                )
                failed += 1
            else:
                job.status = "READY"
                job.started_at = None
                job.save(update_fields=["status", "started_at"])
                log.warning(
                    "job %s (%s) queued again: worker %s is gone", job.id, job.task_path, worker
                )
                queued += 1
    return queued, failed


class WorkerDied(Exception):
    """The exception a job taken back too often is failed with (named in its result)."""
