"""One hash chain per county, and the public generation on each chain's head.

The entries written so far form one chain: they become the global chain (chain 0) at the same
positions, and hash exactly as before (``Entry.payload`` leaves ``chain`` out for chain 0). The
append-only triggers are lifted for the one statement that fills ``chain_seq`` and put back at
the end. ``seq`` becomes an identity column, continuing after the last entry.
"""

from django.db import migrations, models

from ._append_only import install, remove


def lift(apps, schema_editor):
    remove(schema_editor)


def fill_positions(apps, schema_editor):
    schema_editor.execute("UPDATE audit_entry SET chain_seq = seq")
    schema_editor.execute("UPDATE audit_head SET id = 0 WHERE id = 1")


def continue_identity(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "SELECT setval(pg_get_serial_sequence('audit_entry', 'seq'), "
            "COALESCE((SELECT MAX(seq) FROM audit_entry), 0) + 1, false)"
        )


def restore(apps, schema_editor):
    install(schema_editor)


def noop(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_append_only")]

    operations = [
        migrations.RunPython(lift, restore),
        migrations.AddField(
            model_name="entry",
            name="chain",
            field=models.BigIntegerField(default=0, verbose_name="chain"),
        ),
        migrations.AddField(
            model_name="entry",
            name="chain_seq",
            field=models.BigIntegerField(null=True, verbose_name="position in its chain"),
        ),
        migrations.AddField(
            model_name="head",
            name="public",
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunPython(fill_positions, noop),
        migrations.AlterField(
            model_name="entry",
            name="chain_seq",
            field=models.BigIntegerField(verbose_name="position in its chain"),
        ),
        migrations.AlterField(
            model_name="entry",
            name="seq",
            field=models.BigAutoField(
                primary_key=True, serialize=False, verbose_name="sequence"
            ),
        ),
        migrations.RunPython(continue_identity, noop),
        migrations.AddConstraint(
            model_name="entry",
            constraint=models.UniqueConstraint(
                fields=("chain", "chain_seq"), name="audit_chain_position"
            ),
        ),
        migrations.AlterField(
            model_name="head",
            name="id",
            field=models.BigIntegerField(primary_key=True, serialize=False),
        ),
        migrations.RenameField(model_name="head", old_name="id", new_name="chain"),
        migrations.RunPython(restore, lift),
    ]
