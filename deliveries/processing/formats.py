"""Which content each file extension may hold.

Processing picks its inspection by the extension, and FFmpeg then opens whatever the
bytes are: PNG bytes named ``.mov`` passed as a 25 fps PNG "video", MP4 bytes named
``.png`` as an H.264 "image". So the format found must be one the extension names.

Each row: a label for messages, its extensions, and the names the content may be
found as: FFmpeg's demuxer names (PyAV's ``container.format.name``, such as
``mov,mp4,m4a,3gp,3g2,mj2``, compared name by name) and Pillow's ``Image.format``, in
lower case. FFmpeg's ``image2`` reads a picture by its file name's extension, so
decoding it checks the content. An extension in no row is not checked.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from .result import Finding

_IMAGE_FILE = "image2"
_FORMATS: tuple[tuple[str, frozenset[str], frozenset[str]], ...] = tuple(
    (label, frozenset(extensions.split()), frozenset(names.split()))
    for label, extensions, names in (
        ("QuickTime/MP4", "mov mp4 m4v m4a 3gp 3g2 mj2", "mov mp4 m4a 3gp 3g2 mj2"),
        ("MXF", "mxf", "mxf"),
        ("WAV", "wav", "wav"),
        ("AIFF", "aif aiff", "aiff"),
        ("Matroska/WebM", "mkv mka webm", "matroska webm"),
        ("AVI", "avi", "avi"),
        ("MPEG-TS", "ts m2ts mts", "mpegts"),
        ("MPEG-PS", "mpg mpeg vob", "mpeg"),
        ("MP3", "mp3", "mp3"),
        ("FLAC", "flac", "flac"),
        ("AAC", "aac", "aac"),
        ("Dolby Digital", "ac3", "ac3"),
        ("Dolby Digital Plus", "eac3 ec3", "eac3"),
        ("PNG", "png", f"png png_pipe {_IMAGE_FILE}"),
        ("JPEG", "jpg jpeg", f"jpeg mpo jpeg_pipe {_IMAGE_FILE}"),
        ("TIFF", "tif tiff", f"tiff tiff_pipe {_IMAGE_FILE}"),
        ("DPX", "dpx", f"dpx dpx_pipe {_IMAGE_FILE}"),
        ("OpenEXR", "exr", f"exr_pipe {_IMAGE_FILE}"),
        ("BMP", "bmp", f"bmp bmp_pipe {_IMAGE_FILE}"),
        ("GIF", "gif", f"gif gif_pipe {_IMAGE_FILE}"),
        ("WebP", "webp", f"webp webp_pipe {_IMAGE_FILE}"),
    )
)


def mismatch(name: str, extension: str, found: str, found_label: str) -> Finding | None:
    """A finding when content found as `found` (a demuxer's comma-separated names,
    or a Pillow format) may not be named `.extension`; `found_label` names the
    content when the table does not know it."""
    found_names = set(found.lower().split(","))
    row = next((row for row in _FORMATS if extension in row[1]), None)
    if row is None or found_names & row[2]:
        return None
    label = next(
        (label for label, _, names in _FORMATS if found_names & (names - {_IMAGE_FILE})),
        found_label,
    )
    return Finding(
        "FILE-ExtensionMismatch",
        gettext_noop(
            "%(name)s is named .%(extension)s, but its content is in the %(format)s format. "
            "Deliver it again under a name with the right extension, or deliver the right "
            "file."
        ),
        {"name": name, "extension": extension, "format": label},
        expected=row[0],
        found=label,
    )
