"""``manage.py db_worker`` with each claimed file held for a while before it is
examined, so that a test can kill the worker mid-request. Usage:
``python tests/slow_worker.py SECONDS [db_worker options]``."""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from deliveries.processing import runner  # noqa: E402

delay = float(sys.argv[1])
examine = runner.examine


def slow_examine(*args, **kwargs):
    time.sleep(delay)
    return examine(*args, **kwargs)


runner.examine = slow_examine
call_command("db_worker", *sys.argv[2:])
