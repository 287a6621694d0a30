"""Notifications sent before they had kinds and parameters (the workspace kept their text): each
keeps its text as a parameter and reads as it always did, in the language it was written in."""

from django.db import migrations


def copy(apps, schema_editor):
    Old = apps.get_model("workspace", "Notification")
    New = apps.get_model("notifications", "Notification")
    # Keep each notification's own time (this historical model only; the real one stamps new
    # rows).
    New._meta.get_field("created_at").auto_now_add = False
    rows = [
        New(
            user_id=old.user_id,
            kind="notifications.text",
            params={"text": old.text, "was": old.kind},
            url=old.url,
            key=old.key,
            created_at=old.created_at,
            read_at=old.read_at,
        )
        for old in Old.objects.order_by("id").iterator(chunk_size=2000)
    ]
    New.objects.bulk_create(rows, batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("workspace", "0001_initial"),
    ]
    run_before = [("workspace", "0002_delete_notification")]

    operations = [migrations.RunPython(copy, migrations.RunPython.noop)]
