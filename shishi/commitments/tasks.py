"""Background jobs of the commitments mechanism, on the database queue (django-tasks-db).

Run daily, e.g. from cron: ``shishi send-reminders`` enqueues the job; a ``shishi db_worker``
process runs it (with TASKS_BACKEND=immediate, the default, it runs at once). The job is
idempotent: each reminder is sent once per commitment, light and deadline.
"""

from django_tasks import task

from . import services


@task()
def send_reminders() -> int:
    return services.send_reminders()
