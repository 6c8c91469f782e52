"""Previews of delivered files: thumbnails, audio waveforms, a browser-playable proxy.

Made by the worker after a file's inspection result is stored (``tasks.py``), stored
beside the file and removed with it (``models.py``, ``storage.py``), served with the
file's own access rules and HTTP range requests (``views.py``)."""
