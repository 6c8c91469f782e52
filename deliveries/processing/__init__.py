"""Processing delivered files in the worker queue: checksums, manifest verification,
audio/video inspection (PyAV), timed-text validation, images (Pillow).

``runner`` runs a request and explains how work survives a killed worker;
``inspection`` processes one file; the other modules each know one kind of file.
The tasks that run them are in deliveries/tasks.py.
"""
