"""Two people acting at once, for tests: each action in its own thread and database
connection."""

import threading

from django.db import connections

from deliveries.models import ActionRefused


def race(*actions):
    """Run each action in its own thread and connection, released at the same moment."""
    barrier = threading.Barrier(len(actions))
    results: list = [None] * len(actions)

    def worker(index, action):
        try:
            barrier.wait(timeout=10)
            results[index] = action()
        except ActionRefused as refusal:
            results[index] = refusal
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results
