"""Scale to 250,000 files a request: a maintained file count, O(1) removal of every
file (hidden rows the worker purges), the queue of stored content to delete, and on
PostgreSQL the byte-order ("C") collation on file names so that a prefix filter and
keyset pagination both run on the (request, name) index."""

import django.db.models.functions.datetime
from django.db import migrations, models

COUNT_FILES = """
UPDATE deliveries_deliveryrequest SET file_count = (
    SELECT COUNT(*) FROM deliveries_deliveredfile
    WHERE deliveries_deliveredfile.request_id = deliveries_deliveryrequest.id
)
"""


def byte_order_names(apps, schema_editor):
    # SQLite compares names byte by byte (BINARY) already. On PostgreSQL, only the "C"
    # collation lets LIKE 'prefix%' use the btree index; it also sorts names the same
    # way as SQLite. A later AlterField on `name` would drop it: add it back there.
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        'ALTER TABLE deliveries_deliveredfile ALTER COLUMN name TYPE varchar(255) COLLATE "C"'
    )


class Migration(migrations.Migration):
    dependencies = [
        ("deliveries", "0002_default_redelivery_reasons"),
    ]

    operations = [
        migrations.AddField(
            model_name="deliveryrequest",
            name="file_count",
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name="files"),
        ),
        migrations.AddField(
            model_name="deliveryrequest",
            name="files_removed_through",
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="deliveryrequest",
            name="files_to_purge",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunSQL(COUNT_FILES, migrations.RunSQL.noop),
        migrations.CreateModel(
            name="StorageDeletion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("request_id", models.BigIntegerField(db_index=True, null=True)),
                ("path", models.CharField(max_length=500)),
                (
                    "queued_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
                ),
            ],
            options={
                "verbose_name": "stored file to delete",
                "verbose_name_plural": "stored files to delete",
            },
        ),
        migrations.RunPython(byte_order_names, migrations.RunPython.noop),
    ]
