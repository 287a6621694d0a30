from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from shishi.backup import archive


class Command(BaseCommand):
    help = (
        "Restore an archive made by `shishi backup` into the configured database and "
        "MEDIA_ROOT, then verify it: row counts, the audit chains, encrypted fields, files. "
        "Refuses, changing nothing, a damaged archive, one made with another encryption key, or "
        "a database that holds data (unless --force). See docs/deploy.md, section 11."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", metavar="ARCHIVE", help="the archive directory")
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace a database that holds data; present media files are set aside",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="only check the archive (checksums, signature, key); restore nothing",
        )

    def handle(self, *args, path: str, force: bool, check: bool, **options):
        path = Path(path)
        try:
            if check:
                manifest = archive.check(path)
                self.stdout.write(
                    _("Archive whole: %(n)s files match their checksums; made %(created)s.")
                    % {"n": len(manifest["files"]), "created": manifest["created"]}
                )
                return
            done = archive.restore(path, force=force, say=self.stdout.write)
        except archive.Refused as exc:
            raise CommandError(str(exc)) from None
        except archive.Failed as exc:
            for problem in exc.problems:
                self.stderr.write(f"  {problem}")
            raise CommandError(
                _("The restored data do not match the archive (%(n)s problems above).")
                % {"n": len(exc.problems)}
            ) from None
        m = done.manifest
        self.stdout.write(
            _(
                "Restored %(archive)s (made %(created)s by Shishi %(version)s):\n"
                "  %(tables)s tables, %(rows)s rows, as in the manifest\n"
                "  audit log whole, ending at %(head)s as in the manifest\n"
                "  %(decrypted)s encrypted values decrypted with the configured key\n"
                "  %(files)s files named by the database, all on disk"
            )
            % {
                "archive": path.name,
                "created": m["created"],
                "version": m["shishi_version"],
                "tables": done.tables,
                "rows": done.rows,
                "head": archive.head_of(m),
                "decrypted": done.decrypted,
                "files": done.files,
            }
        )
        if done.media_kept is not None:
            self.stdout.write(
                _("The media files present before were set aside in %(path)s.")
                % {"path": done.media_kept}
            )
        if done.unapplied:
            self.stdout.write(
                _(
                    "The archive is from an older release: run `shishi migrate` now (%(n)s to apply)."
                )
                % {"n": len(done.unapplied)}
            )
