from django.core.management.base import BaseCommand

from shishi.workdays.services import seed_from_library


class Command(BaseCommand):
    help = (
        "Load China's public holidays and exchanged working days from the chinese-calendar package."
    )

    def handle(self, *args, **options):
        count = seed_from_library()
        self.stdout.write(f"{count} calendar days loaded; days set by an administrator kept.")
