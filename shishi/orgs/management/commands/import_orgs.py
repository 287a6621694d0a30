from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shishi.orgs import ledger


class Command(BaseCommand):
    help = (
        "Import organisations and people from an Excel workbook, as the system. Every row is "
        "checked first; with any error nothing is written and the command exits with status 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx workbook (sheets: organisations, people)")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and count only; write nothing"
        )

    def handle(self, *args, file, dry_run, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        result = ledger.import_workbook(None, path, dry_run=dry_run)
        if result.errors:
            for line in result.error_lines():
                self.stderr.write(line)
            raise CommandError(f"{result.error_count} error(s); nothing was written.", returncode=1)
        for label, counts in ((part.label, part.counts) for part in result.parts):
            self.stdout.write(
                f"{label}: {counts.created} created, {counts.changed} changed, "
                f"{counts.unchanged} unchanged"
            )
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
