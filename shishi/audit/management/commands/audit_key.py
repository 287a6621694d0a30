from django.core.management.base import BaseCommand, CommandError

from shishi.audit import checkpoints
from shishi.lib import checkpoint as signing
from shishi.lib.checkpoint import KeyProblem


class Command(BaseCommand):
    help = (
        "Show the audit signing key's fingerprint and public key, or create the key once "
        "(--create) in AUDIT_SIGNING_KEY_FILE, readable by its owner only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--create",
            action="store_true",
            help="create the key; refused if the file already exists",
        )

    def handle(self, *args, create, **options):
        path = checkpoints.key_path()
        try:
            key = checkpoints.create_key() if create else checkpoints.signing_key()
        except KeyProblem as exc:
            raise CommandError(str(exc)) from None
        public = key.public_key()
        if create:
            self.stdout.write(
                f"created {path} (mode 0600). Back it up now, apart from the database "
                "(docs/deploy.md, section 10)."
            )
        self.stdout.write(f"key file: {path}")
        self.stdout.write(f"fingerprint (SHA-256): {signing.fingerprint(public)}")
        self.stdout.write(signing.public_pem(public).rstrip())
