"""``shishi create-api-token USERNAME``: make an API token for a login and print it once."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from shishi.api.services import create_token


class Command(BaseCommand):
    help = "Create an API token for a login and print it. It is shown only this once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="a label to tell the token apart")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No login named {username!r}.")
        try:
            token, plain = create_token(None, user, name=name)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(plain)
        self.stderr.write(
            f"Token {token.prefix}… for {user.get_username()}: store it now, "
            "it cannot be shown again."
        )
