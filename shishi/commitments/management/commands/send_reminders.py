from django.core.management.base import BaseCommand

from shishi.commitments.tasks import send_reminders


class Command(BaseCommand):
    help = "Queue today's reminders of commitments due soon or overdue (idempotent; run daily)."

    def handle(self, *args, **options):
        result = send_reminders.enqueue()
        self.stdout.write(f"reminders job {result.id}: {result.status}")
