from django.core.management.base import BaseCommand, CommandError

from shishi.orgs import ledger
from shishi.orgs.models import Org


class Command(BaseCommand):
    help = (
        "Export organisations and their people (with full phone numbers) to an Excel workbook "
        "that import-orgs reads back. The export is written to the audit log."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx workbook to write")
        parser.add_argument("--org", metavar="CODE", help="only this organisation's subtree")

    def handle(self, *args, file, org, **options):
        root = None
        if org:
            root = Org.objects.filter(code=org.strip()).first()
            if root is None:
                raise CommandError(f"No organisation with the code {org}.")
        try:
            counts = ledger.export_workbook(None, file, root=root)
        except OSError as exc:
            raise CommandError(f"Cannot write {file}: {exc}") from exc
        self.stdout.write(f"{file}: {counts['orgs']} organisations, {counts['people']} people.")
