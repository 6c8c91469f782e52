"""Still images (artwork, a sequence's frames): a scaled copy for the side panel and a
row thumbnail. Pillow reads what it knows; DPX, EXR and the rest go through FFmpeg."""

from __future__ import annotations

from typing import Any

import av
from PIL import Image

from ..processing import limits
from ..processing.decode import first_frame
from .media import PROXY_WIDTH, THUMB_SIZE, jpeg, thumbnail
from .storage import Made


def _open(source: Any) -> Image.Image:
    try:
        image = Image.open(source)
        if limits.too_large(*image.size):
            raise ValueError("too large to preview")
        image.draft("RGB", (PROXY_WIDTH, PROXY_WIDTH))  # JPEG: decode at a fraction
        image.load()
        return image
    except (OSError, Image.DecompressionBombError):
        if hasattr(source, "seek"):
            source.seek(0)
    with av.open(source, options=limits.DECODER_OPTIONS) as container:
        frame = first_frame(container, container.streams.video[0])
        if frame is not None:
            return frame.to_image()
    raise ValueError("no picture in the file")


def make(source: Any) -> Made:
    image = _open(source)
    if image.mode not in ("RGB", "L"):
        # 16-bit and alpha images: what a browser would show, on white.
        if image.mode in ("RGBA", "LA", "P"):
            background = Image.new("RGB", image.size, (255, 255, 255))
            background.paste(image.convert("RGBA"), mask=image.convert("RGBA").split()[-1])
            image = background
        else:
            image = image.convert("RGB")
    width, height = image.size
    # The row's thumbnail from the panel's copy: one resize of the full frame, not two.
    panel = thumbnail(image, (PROXY_WIDTH, PROXY_WIDTH))
    return Made(
        kind="image",
        parts={
            "image.jpg": jpeg(panel),
            "thumb.jpg": jpeg(thumbnail(panel, THUMB_SIZE), quality=70),
        },
        thumbnail="thumb.jpg",
        info={"width": width, "height": height},
    )
