"""The pixel limit every decoder the worker runs is held to.

A picture's memory is set by its dimensions, not its file size: a 600 KB OpenEXR of
10000×10000 half-float pixels decodes to 600 MB. So dimensions are read from the
header first (Pillow's ``Image.open`` size, PyAV's codec context before any frame)
and a picture above ``MAX_PIXELS`` is refused undecoded.

FFmpeg decodes a frame while it opens some files (a PNG-coded QuickTime movie: the
container does not say its pixel format), so the same figure is handed to every
``av.open`` as the decoders' ``max_pixels``. A decoder then refuses a larger frame,
whatever the header said, and leaves the stream's size at 0×0: such a stream is
refused too, with the limit but without its size, which FFmpeg no longer gives.

``MAX_PIXELS`` is 8192×8192, 67 megapixels: room for the largest frames studios ask
for (8K, 8192×4320) and for large key art; a 16-bit RGBA frame of that size takes
512 MB, the most one file may cost the worker.
"""

from __future__ import annotations

import math

from django.utils.translation import gettext_noop

from .result import Finding

MAX_PIXELS = 8192 * 8192
DECODER_OPTIONS = {"max_pixels": str(MAX_PIXELS)}


def too_large(width: int, height: int) -> bool:
    """Above the limit, or of a size FFmpeg would not give within it (0×0)."""
    return not (width and height) or width * height > MAX_PIXELS


def too_large_finding(code: str, name: str, width: int, height: int) -> Finding:
    if not (width and height):
        return Finding(
            code,
            gettext_noop(
                "%(name)s: the size of its pictures can't be read within the %(limit)s "
                "megapixels the portal reads; they are larger, or the file is damaged. It was "
                "not decoded. Deliver it at a smaller size, or deliver it again."
            ),
            {"name": name, "limit": MAX_PIXELS // 1_000_000},
        )
    return Finding(
        code,
        gettext_noop(
            "%(name)s is %(width)s×%(height)s pixels (%(megapixels)s megapixels), more than "
            "the %(limit)s megapixels the portal reads; it was not decoded. Deliver it at a "
            "smaller size, or ask your studio contact."
        ),
        {
            "name": name,
            "width": width,
            "height": height,
            "megapixels": math.ceil(width * height / 1_000_000),
            "limit": MAX_PIXELS // 1_000_000,
        },
    )


def beyond_pillow_finding(code: str, name: str, pixels: int) -> Finding:
    """For a picture Pillow refuses to open at all, so that its exact size is unknown."""
    return Finding(
        code,
        gettext_noop(
            "%(name)s is larger than %(megapixels)s megapixels, more than the %(limit)s "
            "megapixels the portal reads; it was not decoded. Deliver it at a smaller size, "
            "or ask your studio contact."
        ),
        {"name": name, "megapixels": pixels // 1_000_000, "limit": MAX_PIXELS // 1_000_000},
    )
