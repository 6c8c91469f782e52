"""Data migrations bring rows already in the database along."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("deliveries", "0008_page_version")]
AFTER = [("deliveries", "0009_processing_progress")]


@pytest.fixture
def at_0008(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_requests_already_submitted_keep_their_processing_progress(at_0008):
    apps = at_0008
    organization = apps.get_model("deliveries", "Organization").objects.create(name="Lumen")
    title = apps.get_model("deliveries", "Title").objects.create(name="Night Harbor")
    Request = apps.get_model("deliveries", "DeliveryRequest")
    File = apps.get_model("deliveries", "DeliveredFile")

    def request(status: str):
        return Request.objects.create(
            organization=organization,
            title=title,
            name=status,
            asset_type="timed_text",
            due_date=datetime.date(2026, 12, 1),
            status=status,
        )

    submitted, accepted = request("submitted"), request("accepted")
    removed = File.objects.create(
        request=submitted, name="gone.mov", size=1, processing_status="passed"
    )
    Request.objects.filter(pk=submitted.pk).update(files_removed_through=removed.pk)
    for n, state in enumerate(["passed", "passed", "failed", "pending", "processing"]):
        File.objects.create(request=submitted, name=f"f{n}.mov", size=1, processing_status=state)
    File.objects.create(request=accepted, name="done.mov", size=1, processing_status="passed")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    Request = executor.loader.project_state(AFTER).apps.get_model("deliveries", "DeliveryRequest")
    counted = {r.name: (r.files_processed, r.files_failed) for r in Request.objects.all()}
    # Only Submitted requests are counted, and only their files still shown.
    assert counted == {"submitted": (3, 1), "accepted": (0, 0)}
