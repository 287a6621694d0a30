from django.core.management.base import BaseCommand

from shishi.audit import checkpoints
from shishi.demo.builders import COUNTY_BUILDERS
from shishi.orgs.demo import DEMO_PASSWORD, build_province, ensure_demo_logins


class Command(BaseCommand):
    help = "Build the fictional demo county (deterministic; safe to run twice) and its demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2021)

    def handle(self, *args, seed, **options):
        [(county, created)] = build_province(seed, 1)
        logins = ensure_demo_logins(county)
        for build in COUNTY_BUILDERS:
            build(county, seed)
        state = "built" if created else "already there"
        # The demo signs its log at once, making its key if there is none (production makes it
        # by hand: `shishi audit-key --create`), so the public checkpoints page has one to show.
        checkpoint, _made = checkpoints.write_checkpoint(checkpoints.ensure_key())
        self.stdout.write(f"Demo county {county.name} ({county.code}): {state}.")
        self.stdout.write(
            f"Audit log signed: checkpoint #{checkpoint.number}, {checkpoint.entries} entries "
            f"(key {checkpoints.key_path()})."
        )
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, role, org in logins:
            self.stdout.write(f"  {username:<17} {role} — {org}")
