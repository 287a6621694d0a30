from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shishi.commitments import ledger
from shishi.commitments.models import Programme


class Command(BaseCommand):
    help = (
        "Export a programme's list of commitments to an Excel (.xlsx) or CSV file, by the file's "
        "suffix, in the columns import-commitments reads back. The export is written to the "
        "audit log."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx or .csv file to write")
        parser.add_argument("--programme", type=int, metavar="ID", required=True)

    def handle(self, *args, file, programme, **options):
        fmt = Path(file).suffix.lower().lstrip(".")
        if fmt not in ("xlsx", "csv"):
            raise CommandError("The file name ends in .xlsx or .csv.")
        found = Programme.objects.filter(pk=programme).select_related("county").first()
        if found is None:
            raise CommandError(f"No programme with the id {programme}.")
        exporter = ledger.export_ledger(None, found, fmt)
        try:
            if fmt == "xlsx":
                exporter.write_xlsx(file)
            else:
                with open(file, "wb") as out:
                    for chunk in exporter.iter_csv():
                        out.write(chunk)
        except OSError as exc:
            raise CommandError(f"Cannot write {file}: {exc}") from exc
        self.stdout.write(f"{file}: {exporter.count} commitments.")
