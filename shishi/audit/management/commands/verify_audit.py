from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shishi.audit import checkpoints
from shishi.audit.models import Checkpoint, Entry
from shishi.audit.verify import chains, check_checkpoint, verify_chain
from shishi.lib import checkpoint as signing
from shishi.lib.checkpoint import KeyProblem, Problem

UNSEEN = (
    "note: the last entries of a chain removed together with its head, or a chain rewritten "
    "with every hash recomputed, show only against a checkpoint: run with --checkpoint FILE "
    "(a checkpoint saved from the public page)"
)


class Command(BaseCommand):
    help = (
        "Re-hash the audit log, every county's chain, and check that it still extends a signed "
        "checkpoint (a saved file with --checkpoint, else the newest stored one); exit 0 when "
        "all holds, 1 naming the first wrong entry."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            type=Path,
            metavar="FILE",
            help="a checkpoint file (checkpoint-NNNNNN.json) saved from the public page or "
            "AUDIT_CHECKPOINT_DIR: the log must still extend it",
        )
        parser.add_argument(
            "--public-key",
            type=Path,
            metavar="FILE",
            help="the public key (PEM) to check signatures with, as published; by default the "
            "key of AUDIT_SIGNING_KEY_FILE",
        )

    def handle(self, *args, checkpoint, public_key, **options):
        key = self._public_key(public_key, required=checkpoint is not None)
        checked = None
        mismatches = []
        broken = verify_chain()
        if checkpoint is not None:
            try:
                body = signing.read(checkpoint.read_bytes(), key)
            except OSError as exc:
                raise CommandError(f"{checkpoint}: {exc.strerror}") from None
            except Problem as exc:
                self.stderr.write(f"checkpoint not trusted: {exc}")
                raise SystemExit(1) from None
            checked = body
        elif key is not None:
            latest = Checkpoint.objects.order_by("-number").first()
            if latest is not None and latest.key == signing.fingerprint(key):
                if not signing.holds(latest.body(), latest.signature, key):
                    self.stderr.write(
                        f"stored checkpoint #{latest.number} does not hold its signature: the "
                        "row was changed in the database"
                    )
                    raise SystemExit(1)
                checked = latest.body()
        if checked is not None:
            mismatches = check_checkpoint(checked, lambda: checkpoints.trusted(key))
        if broken is not None:
            self.stderr.write(f"audit chain broken in {broken}")
        for mismatch in mismatches:
            self.stderr.write(
                f"audit log no longer extends checkpoint #{checked['number']} of "
                f"{checked['time']}: {mismatch}"
            )
        if broken is not None or mismatches:
            raise SystemExit(1)
        count = Entry.objects.count()
        self.stdout.write(f"audit chain whole: {count} entries in {chains()} chains verified")
        if checked is not None:
            self.stdout.write(
                f"extends checkpoint #{checked['number']} of {checked['time']} "
                f"({checked['entries']} entries; digest {signing.digest(checked)}; "
                f"key {checked['key']})"
            )
        else:
            self.stdout.write(UNSEEN)

    def _public_key(self, path: Path | None, required: bool):
        try:
            if path is not None:
                try:
                    return signing.load_public_key(path.read_bytes(), str(path))
                except OSError as exc:
                    raise CommandError(f"{path}: {exc.strerror}") from None
            return checkpoints.signing_key().public_key()
        except KeyProblem as exc:
            if required or path is not None:
                raise CommandError(
                    f"{exc} To check a checkpoint elsewhere, give the published public key with "
                    "--public-key FILE."
                ) from None
            return None
