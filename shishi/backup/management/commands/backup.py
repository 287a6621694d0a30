from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from shishi.backup import archive


class Command(BaseCommand):
    help = (
        "Back up the database and the media files into a new archive directory in DIR "
        "(shishi-YYYYmmdd-HHMMSS), with a manifest of counts, the audit chains' heads, the "
        "encryption key's fingerprint and every file's checksum. See docs/deploy.md, section 10."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", metavar="DIR", help="where the archive is written")
        parser.add_argument(
            "--keep",
            type=int,
            metavar="N",
            help="then remove all but the N newest archives in DIR",
        )

    def handle(self, *args, directory, keep, **options):
        if keep is not None and keep < 1:
            raise CommandError(_("--keep must be at least 1."))
        try:
            made = archive.make(Path(directory), keep=keep)
        except archive.Refused as exc:
            raise CommandError(str(exc)) from None
        m = made.manifest
        media = sum(1 for name in m["files"] if name.startswith(f"{archive.MEDIA}/"))
        self.stdout.write(
            _(
                "Archive written: %(path)s\n"
                "  %(tables)s tables, %(rows)s rows; %(media)s media files\n"
                "  audit log: %(entries)s entries, ending at %(head)s\n"
                "  encryption key fingerprint: %(key)s"
            )
            % {
                "path": made.path,
                "tables": len(m["tables"]),
                "rows": sum(m["tables"].values()),
                "media": media,
                "entries": m["audit"]["entries"],
                "head": archive.head_of(m),
                "key": m["key_fingerprint"][:16],
            }
        )
