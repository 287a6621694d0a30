"""Thumbnails for the photos stored before evidence had them (shishi.evidence).

Each photo's thumbnail is written beside it (``<checksum>-thumb.jpg``) and named on its row. The
migration is not atomic: it commits photo by photo, so a large media folder is processed without
one long transaction, and running it again (or after restoring media from a backup, by migrating
back to 0003 and forward) fills only what is still missing. A photo whose file is missing or
unreadable keeps no thumbnail; the public page then links it by text instead of showing it.
"""

import logging
import posixpath

from django.core.files.base import ContentFile
from django.db import migrations

from shishi.lib import images

BATCH = 500
log = logging.getLogger("shishi.migrations")


def make_thumbnails(apps, schema_editor):
    Evidence = apps.get_model("commitments", "Evidence")
    storage = Evidence._meta.get_field("thumbnail").storage
    todo = Evidence.objects.filter(thumbnail="", content_type__startswith="image/").order_by("pk")
    last, made, skipped = 0, 0, 0
    while True:
        rows = list(todo.filter(pk__gt=last).values_list("pk", "file", "sha256")[:BATCH])
        if not rows:
            break
        for pk, name, sha256 in rows:
            last = pk
            try:
                with storage.open(name, "rb") as handle:
                    small = images.thumbnail(handle.read())
            except (OSError, images.NotAPicture):
                skipped += 1
                continue
            stored = storage.save(
                posixpath.join(posixpath.dirname(name), f"{sha256[:16]}-thumb.jpg"),
                ContentFile(small),
            )
            Evidence.objects.filter(pk=pk).update(thumbnail=stored)
            made += 1
    if made:
        log.info("evidence thumbnails: %d made", made)
    if skipped:
        log.warning("evidence thumbnails: %d photos missing or unreadable, left without", skipped)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("commitments", "0003_evidence_thumbnail"),
    ]

    operations = [
        migrations.RunPython(make_thumbnails, migrations.RunPython.noop, elidable=True),
    ]
