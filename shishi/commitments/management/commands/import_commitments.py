from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shishi.commitments import ledger
from shishi.commitments.models import Programme
from shishi.orgs.models import Org, OrgKind


class Command(BaseCommand):
    help = (
        "Import a programme's list of commitments from an Excel (.xlsx) or CSV ledger, as the "
        "system, into a draft programme (--programme), or into a new draft programme created in "
        "the same transaction (--county, --year, --title). Every row is checked first; with any "
        "error nothing is written and the command exits with status 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx or .csv ledger")
        parser.add_argument("--programme", type=int, metavar="ID", help="a draft programme")
        parser.add_argument("--county", metavar="CODE", help="the county of a new programme")
        parser.add_argument("--year", type=int, help="the year of a new programme")
        parser.add_argument("--title", help="the title of a new programme")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and count only; write nothing"
        )

    def handle(self, *args, file, programme, county, year, title, dry_run, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        target: dict = {}
        if programme is not None:
            if county or year or title:
                raise CommandError("Give either --programme or --county, --year and --title.")
            found = Programme.objects.filter(pk=programme).select_related("county").first()
            if found is None:
                raise CommandError(f"No programme with the id {programme}.")
            target["programme"] = found
        else:
            if not (county and year and title):
                raise CommandError(
                    "Give --programme ID, or --county CODE --year YYYY --title TEXT."
                )
            org = Org.objects.filter(code=county.strip(), kind=OrgKind.COUNTY).first()
            if org is None:
                raise CommandError(f"No county with the code {county}.")
            target.update(county=org, year=year, title=title)
        result = ledger.import_ledger(None, path, dry_run=dry_run, **target)
        if result.errors:
            for line in result.error_lines():
                self.stderr.write(line)
            raise CommandError(f"{result.error_count} error(s); nothing was written.", returncode=1)
        for column in result.ignored:
            self.stdout.write(f"Column not imported: {column}")
        counts = result.total
        self.stdout.write(
            f"{counts.created} created, {counts.changed} changed, {counts.unchanged} unchanged"
        )
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
        elif result.target is not None:
            self.stdout.write(f"Programme {result.target.pk}: {result.target.title}")
