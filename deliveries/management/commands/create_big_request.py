"""Create a request holding many files (an image sequence), fast, for benchmarks and
for trying the Details Page at scale: rows go in with bulk_create in batches.

    manage.py create_big_request --files 250000 [--write-content] [--organization NAME]

File rows point at stored paths under one folder of the request. With
--write-content a few bytes are written at each path, so that removal and
``check_storage`` have real stored files to delete; without it, nothing is stored.
"""

from __future__ import annotations

import datetime
import os
import time
import uuid
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction

from deliveries.models import (
    AssetType,
    DeliveredFile,
    DeliveryRequest,
    Organization,
    ProcessingStatus,
    Title,
)
from deliveries.requests import counters

BATCH = 5_000


class Command(BaseCommand):
    help = "Create an Open request with --files files (default 250,000), in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--files", type=int, default=250_000)
        parser.add_argument("--organization", default="Lumen Post")
        parser.add_argument("--title", default="Scale Test")
        parser.add_argument("--name", default="Picture-mastering image sequence")
        parser.add_argument(
            "--write-content", action="store_true", help="store a few bytes for every file"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        request = create_big_request(
            options["files"],
            organization=options["organization"],
            title=options["title"],
            name=options["name"],
            write_content=options["write_content"],
        )
        self.stdout.write(
            f"Request {request.pk} has {request.file_count} files "
            f"({time.perf_counter() - started:.1f} s): /requests/{request.pk}/"
        )


def create_big_request(
    files: int,
    *,
    organization: str = "Lumen Post",
    title: str = "Scale Test",
    name: str = "Picture-mastering image sequence",
    write_content: bool = False,
) -> DeliveryRequest:
    org, _created = Organization.objects.get_or_create(name=organization)
    film, _created = Title.objects.get_or_create(name=title, season=None, episode=None)
    request = DeliveryRequest.objects.create(
        organization=org,
        title=film,
        name=name,
        asset_type=AssetType.IMAGE_SEQUENCE,
        due_date=datetime.date.today() + datetime.timedelta(days=30),
    )
    folder = f"deliveries/{request.pk}/{uuid.uuid4().hex}"
    local = isinstance(default_storage, FileSystemStorage)
    if write_content and local:
        os.makedirs(default_storage.path(folder), exist_ok=True)
    payload = b"DPX\n"
    for start in range(0, files, BATCH):
        rows = [
            DeliveredFile(
                request=request,
                name=f"frame_{n:07d}.dpx",
                size=12_441_600,
                content=f"{folder}/frame_{n:07d}.dpx",
                processing_status=ProcessingStatus.PENDING,
            )
            for n in range(start, min(start + BATCH, files))
        ]
        with transaction.atomic():
            DeliveredFile.objects.bulk_create(rows, batch_size=BATCH)
            counters.delivered(request, len(rows))
        if write_content:
            for row in rows:
                if local:
                    with open(default_storage.path(row.content.name), "wb") as handle:
                        handle.write(payload)
                else:
                    default_storage.save(row.content.name, ContentFile(payload))
    if connection.vendor == "postgresql":
        # Fresh statistics, as autovacuum would gather soon after such a load: without
        # them the planner takes 250,000 rows for a few dozen and sorts them.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {DeliveredFile._meta.db_table}")
    return DeliveryRequest.objects.get(pk=request.pk)
