"""``shishi revoke-api-token PREFIX``: revoke an API token at once, by the start of it that lists
show (``shishi_AbCd12``), or every live token of a login with ``--user``."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from shishi.api.models import Token
from shishi.api.services import revoke_token


class Command(BaseCommand):
    help = "Revoke an API token by its visible prefix, or all live tokens of a login (--user)."

    def add_arguments(self, parser):
        parser.add_argument("prefix", nargs="?", default="", help="the token's visible start")
        parser.add_argument("--user", default="", help="revoke every live token of this login")

    def handle(self, *args, prefix, user, **options):
        if bool(prefix) == bool(user):
            raise CommandError("Give a token's prefix, or --user USERNAME, not both.")
        live = Token.objects.filter(revoked_at__isnull=True).select_related("user")
        if user:
            login = get_user_model().objects.filter(username=user).first()
            if login is None:
                raise CommandError(f"No login named {user!r}.")
            tokens = list(live.filter(user=login))
        else:
            tokens = list(live.filter(prefix=prefix.rstrip("…").strip()))
            if len(tokens) > 1:
                raise CommandError(
                    f"{len(tokens)} live tokens start with {prefix!r}; revoke by --user instead."
                )
        if not tokens:
            raise CommandError("No live token matches.")
        for token in tokens:
            try:
                revoke_token(None, token)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            self.stdout.write(f"revoked {token.prefix}… of {token.user.get_username()}")
