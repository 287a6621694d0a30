"""``shishi db_worker``: django-tasks-db's worker, which first takes back the jobs of workers
that died while running them (``shishi.jobs.takeback``).

A worker killed mid-job (power lost, the out-of-memory killer, ``kill -9``) leaves its job
running for ever: django-tasks-db never runs it again. Each worker here holds a lock for its
whole life (``shishi.jobs.liveness``); when a worker starts (systemd restarts one that died), it
puts back in the queue every running job whose worker's lock is free. Jobs are idempotent
(CONTRIBUTING.md), so the part of a job done before the kill is not done twice.

This command takes the name of django-tasks-db's own, which it extends: ``shishi.jobs`` comes
before ``django_tasks_db`` in INSTALLED_APPS.
"""

import os

from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django.utils.translation import gettext as _
from django_tasks_db.management.commands import db_worker

from shishi.jobs.liveness import InUse, Liveness
from shishi.jobs.takeback import take_back


class Command(db_worker.Command):
    help = (
        "Run a database job worker; on start, queue again the jobs of workers that died while "
        "running them."
    )

    def handle(self, *args, worker_id: str, backend_name: str, reload: bool, **options):
        if reload and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true":
            # The reloader's parent only restarts its child, which runs the jobs.
            return super().handle(
                *args, worker_id=worker_id, backend_name=backend_name, reload=reload, **options
            )
        try:
            liveness = Liveness(worker_id).__enter__()
        except InUse:
            raise CommandError(
                _("Another worker runs with the id %(id)s.") % {"id": worker_id}
            ) from None
        try:
            queued, failed = take_back(liveness, backend_name)
            if queued or failed:
                self.stdout.write(
                    _("Jobs of workers that died: %(queued)s queued again, %(failed)s failed.")
                    % {"queued": queued, "failed": failed}
                )
            super().handle(
                *args, worker_id=worker_id, backend_name=backend_name, reload=reload, **options
            )
        finally:
            liveness.__exit__(None, None, None)
