"""Still images: format and dimensions with Pillow, and FFmpeg for what Pillow can't
read (DPX and OpenEXR, the usual picture-mastering sequence formats)."""

from __future__ import annotations

import warnings
from typing import Any

import av
from django.utils.translation import gettext_noop
from PIL import Image, UnidentifiedImageError

from . import formats, limits
from .decode import first_frame
from .result import Finding


def inspect(
    source: Any, name: str, *, extension: str, whole: bool = True
) -> tuple[dict[str, Any], list[Finding]]:
    """(metadata, findings); not `whole`: only the header is there (the first bytes of
    an upload), so the pixels are not verified."""
    try:
        with warnings.catch_warnings():
            # Our own limit, lower than Pillow's warning, is checked below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                found = image.format or ""
                mismatch = formats.mismatch(name, extension, found, found)
                if mismatch:
                    return {}, [mismatch]
                if limits.too_large(image.width, image.height):
                    return {}, [limits.too_large_finding("IMAGE-TooLarge", name, *image.size)]
                metadata = _metadata(
                    image.format or "",
                    image.width,
                    image.height,
                    image.mode,
                    _bit_depth(image, source),
                )
                if whole:
                    image.verify()
    except UnidentifiedImageError:
        return _inspect_with_ffmpeg(source, name, extension, whole=whole)
    except Image.DecompressionBombError:
        # Pillow refuses to open it at twice its own limit, far above ours.
        pixels = 2 * (Image.MAX_IMAGE_PIXELS or 0)
        return {}, [limits.beyond_pillow_finding("IMAGE-TooLarge", name, pixels)]
    except Exception as error:  # Pillow raises many types for damaged files
        return {}, [
            Finding(
                "IMAGE-DecodeError",
                gettext_noop("%(name)s can't be read as an image: %(error)s. Deliver it again."),
                {"name": name, "error": str(error)},
            )
        ]
    return metadata, []


_MODE_BITS = {"1": 1, "I": 32, "F": 32}
_PNG_BIT_DEPTH_AT = 24  # signature (8), IHDR length and type (8), width and height (8)


def _bit_depth(image: Image.Image, source: Any) -> int:
    """Bits per channel. Pillow's mode says 8 for a 16-bit RGB PNG or TIFF (it reads
    them down), so those formats are asked their header: PNG's IHDR, TIFF's tag 258."""
    if image.format == "PNG":
        header = _first_bytes(source, _PNG_BIT_DEPTH_AT + 1)
        if len(header) > _PNG_BIT_DEPTH_AT:
            return header[_PNG_BIT_DEPTH_AT]
    tags = getattr(image, "tag_v2", None)
    if tags is not None and 258 in tags:
        bits = tags[258]
        return max(bits) if isinstance(bits, tuple) else int(bits)
    if image.mode.startswith("I;16"):
        return 16
    return _MODE_BITS.get(image.mode, 8)


def _first_bytes(source: Any, count: int) -> bytes:
    if hasattr(source, "read"):
        position = source.tell()
        source.seek(0)
        data = source.read(count)
        source.seek(position)
        return data
    with open(source, "rb") as handle:
        return handle.read(count)


def _metadata(
    fmt: str, width: int, height: int, mode: str, bit_depth: int | None = None
) -> dict[str, Any]:
    dimensions = f"{width}×{height}"
    # A sequence's spec names a bit depth: the row says it as "16-bit".
    bits = f"{bit_depth}-bit" if bit_depth else ""
    metadata: dict[str, Any] = {
        "format": fmt,
        "dimensions": dimensions,
        "width": width,
        "height": height,
        "color_mode": mode,
        "summary": " · ".join(p for p in (fmt, dimensions, mode, bits) if p),
    }
    if bit_depth:
        metadata["bit_depth"] = bit_depth
    return metadata


def _inspect_with_ffmpeg(
    source: Any, name: str, extension: str, *, whole: bool = True
) -> tuple[dict[str, Any], list[Finding]]:
    if hasattr(source, "seek"):
        source.seek(0)
    try:
        with av.open(source, options=limits.DECODER_OPTIONS) as container:
            found = container.format
            mismatch = formats.mismatch(name, extension, found.name, found.long_name)
            if mismatch:
                return {}, [mismatch]
            stream = container.streams.video[0]
            context = stream.codec_context
            if limits.too_large(context.width, context.height):
                return {}, [
                    limits.too_large_finding("IMAGE-TooLarge", name, context.width, context.height)
                ]
            if not whole:
                # A frame's first bytes: DPX and EXR headers give the size, and the
                # pixel format only once the whole frame decodes.
                fmt = context.name.upper()
                return _metadata(fmt, context.width, context.height, context.pix_fmt or ""), []
            frame = first_frame(container, stream)
            if frame is None:
                raise StopIteration
            fmt = stream.codec_context.name.upper()
            metadata = _metadata(
                fmt,
                frame.width,
                frame.height,
                frame.format.name,
                max(c.bits for c in frame.format.components),
            )
            return metadata, []
    except (av.FFmpegError, IndexError, StopIteration, ValueError, OSError):
        return {}, [
            Finding(
                "IMAGE-DecodeError",
                gettext_noop(
                    "%(name)s is not an image that can be read (tried PNG, JPEG, TIFF, DPX, "
                    "EXR and other formats). Deliver it again."
                ),
                {"name": name},
            )
        ]
