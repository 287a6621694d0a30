from django.core.management.base import BaseCommand

from shishi.audit.models import Entry
from shishi.audit.verify import verify_chain


class Command(BaseCommand):
    help = "Re-hash the audit log; exit 0 when the chain is whole, 1 naming the first broken entry."

    def handle(self, *args, **options):
        broken = verify_chain()
        if broken is None:
            count = Entry.objects.count()
            self.stdout.write(f"audit chain whole: {count} entries verified")
            return
        self.stderr.write(
            f"audit chain broken at entry {broken.seq}: {broken.reason} ({broken.detail})"
        )
        raise SystemExit(1)
