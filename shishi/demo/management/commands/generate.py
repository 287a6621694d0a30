import time

from django.core.management.base import BaseCommand, CommandError

from shishi.demo.builders import GENERATE_BUILDERS
from shishi.orgs.demo import COUNTIES_PER_PROVINCE, MAX_COUNTIES, build_province


class Command(BaseCommand):
    help = "Generate N fictional counties (990 to a province) with bulk inserts, deterministically."

    def add_arguments(self, parser):
        parser.add_argument("--counties", type=int, required=True)
        parser.add_argument("--seed", type=int, default=2021)

    def handle(self, *args, counties, seed, **options):
        if not 1 <= counties <= MAX_COUNTIES:
            raise CommandError(
                f"--counties must be between 1 and {MAX_COUNTIES} "
                f"({COUNTIES_PER_PROVINCE} to a province, then further provinces)."
            )
        started = time.monotonic()

        def progress(done, county, created):
            for build in GENERATE_BUILDERS:
                build(county, seed)
            if done % 10 == 0 or done == counties:
                rate = done / max(time.monotonic() - started, 1e-6)
                self.stdout.write(f"{done}/{counties} counties ({rate:.1f}/s)")

        results = build_province(seed, counties, progress)
        made = sum(1 for _c, created in results if created)
        self.stdout.write(
            f"{made} counties built, {len(results) - made} already there, in {time.monotonic() - started:.1f}s."
        )
