from django.core.management.base import BaseCommand, CommandError

from shishi.audit import checkpoints
from shishi.lib.checkpoint import KeyProblem


class Command(BaseCommand):
    help = (
        "Sign every audit chain's head with the key of AUDIT_SIGNING_KEY_FILE, store the "
        "checkpoint and write its file to AUDIT_CHECKPOINT_DIR (idempotent: nothing new when no "
        "head has moved; run daily)."
    )

    def handle(self, *args, **options):
        try:
            checkpoint, made = checkpoints.write_checkpoint()
        except KeyProblem as exc:
            raise CommandError(str(exc)) from None
        path = checkpoints.file_path(checkpoint)
        state = "written" if made else "unchanged since"
        self.stdout.write(
            f"checkpoint #{checkpoint.number} {state}: {checkpoint.entries} entries in "
            f"{checkpoint.chain_count} chains, digest {checkpoint.digest}, file {path}"
        )
