import time

from django.core.management.base import BaseCommand, CommandError

from shishi.orgs.demo import build_province


class Command(BaseCommand):
    help = "Generate N fictional counties under one province with bulk inserts (deterministic)."

    def add_arguments(self, parser):
        parser.add_argument("--counties", type=int, required=True)
        parser.add_argument("--seed", type=int, default=2021)

    def handle(self, *args, counties, seed, **options):
        if not 1 <= counties <= 9900:
            raise CommandError("--counties must be between 1 and 9900.")
        started = time.monotonic()

        def progress(done, county, created):
            if done % 10 == 0 or done == counties:
                rate = done / max(time.monotonic() - started, 1e-6)
                self.stdout.write(f"{done}/{counties} counties ({rate:.1f}/s)")

        results = build_province(seed, counties, progress)
        made = sum(1 for _c, created in results if created)
        self.stdout.write(
            f"{made} counties built, {len(results) - made} already there, in {time.monotonic() - started:.1f}s."
        )
