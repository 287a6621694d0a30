"""API tokens expire (``API_TOKEN_DAYS`` after they are made) and carry their login's credentials
stamp. Tokens made before this get both here: an expiry counted from their making, and the stamp
of their login as it is now, so they keep working until their login's password is set or the
login is disabled."""

import datetime as dt

from django.conf import settings
from django.db import migrations, models


def stamp_existing(apps, schema_editor):
    from shishi.orgs.models import credentials_stamp

    Token = apps.get_model("api", "Token")
    days = dt.timedelta(days=settings.API_TOKEN_DAYS)
    for token in Token.objects.select_related("user").iterator():
        token.expires_at = token.created_at + days
        token.stamp = credentials_stamp(token.user.password, token.user.signed_out_at)
        token.save(update_fields=["expires_at", "stamp"])


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("orgs", "0004_user_signed_out_at_session"),
    ]

    operations = [
        migrations.AddField(
            model_name="token",
            name="expires_at",
            field=models.DateTimeField(null=True, verbose_name="expires"),
        ),
        migrations.AddField(
            model_name="token",
            name="stamp",
            field=models.CharField(
                default="", editable=False, max_length=64, verbose_name="credentials stamp"
            ),
            preserve_default=False,
        ),
        migrations.RunPython(stamp_existing, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="token",
            name="expires_at",
            field=models.DateTimeField(verbose_name="expires"),
        ),
    ]
