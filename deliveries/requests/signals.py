"""What the request side tells the worker side (deliveries/tasks.py listens), so that
the models never import the worker's code. Each is sent inside the transaction of the
change; the listener acts once it commits."""

from django.dispatch import Signal

# Files were removed: their rows (hidden ones) or stored content wait for the worker.
# Sent with `request_id`.
files_removed = Signal()
