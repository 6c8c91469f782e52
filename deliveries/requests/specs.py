"""Delivery specs: what a request expects of its files.

Studio contacts keep spec *templates* in the admin, one default per asset type (the
ones migration 0011 ships). A request takes one template and may override some of its
fields: ``DeliveryRequest.spec_overrides``, a JSON object of field name → value, each
value cleaned by the same model field that holds it in a template. Overrides stay a
short dictionary rather than a second copy of every field on the request: most
requests take their template as it is, and one that differs says only how.

A field left empty is not checked. A request without a spec is checked only for what
every file is checked for (decoding, format, checksums).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from ..files.codecs import CODEC_NAMES
from ..numbers import grouped
from .states import AssetType


def parse_rate(value: str) -> Fraction:
    """A frame rate written as a rational ("24000/1001") or a whole number ("25")."""
    try:
        rate = Fraction(value.strip())
    except (ValueError, ZeroDivisionError):
        raise ValidationError(
            _("Write the frame rate as a fraction, such as 24000/1001 or 25/1."), code="rate"
        ) from None
    if rate <= 0 or rate > 1000:
        raise ValidationError(_("A frame rate is between 0 and 1000 fps."), code="rate")
    return rate


def validate_rate(value: str) -> None:
    parse_rate(value)


def names(value: str) -> list[str]:
    """A comma-separated list of names, in lower case."""
    return [part.strip().lower() for part in value.split(",") if part.strip()]


# What a channel layout name means, in the studio's notation.
LAYOUTS: dict[str, tuple[int, str]] = {
    "1.0": (1, "1.0 (C)"),
    "2.0": (2, "2.0 (L R)"),
    "5.1": (6, "5.1 (L R C LFE Ls Rs)"),
    "7.1": (8, "7.1 (L R C LFE Lss Rss Lrs Rrs)"),
}


# FFmpeg's names of the colour primaries and transfer characteristics a spec may ask
# for (those of deliveries/processing/media.py's metadata), with their usual names.
PRIMARIES = {
    "bt709": "BT.709",
    "bt2020": "BT.2020",
    "smpte432": "P3-D65 (SMPTE EG 432)",
    "smpte431": "DCI-P3 (SMPTE RP 431)",
}
TRANSFERS = {
    "bt709": "BT.709",
    "smpte2084": "PQ (SMPTE ST 2084)",
    "arib-std-b67": "HLG (ARIB STD-B67)",
    "bt2020-10": "BT.2020 10-bit",
    "smpte428": "SMPTE ST 428 (DCDM)",
}


def _positive(**kwargs: Any) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(null=True, blank=True, **kwargs)


class DeliverySpec(models.Model):
    name = models.CharField(gettext_lazy("name"), max_length=120, unique=True)
    asset_type = models.CharField(
        gettext_lazy("asset type"), max_length=30, choices=AssetType.choices
    )
    is_default = models.BooleanField(
        gettext_lazy("default for its asset type"),
        default=False,
        help_text=gettext_lazy("A new request of this asset type takes this spec."),
    )
    # Picture: video and image sequences.
    width = _positive(verbose_name=gettext_lazy("width (px)"))
    height = _positive(verbose_name=gettext_lazy("height (px)"))
    frame_rate = models.CharField(
        gettext_lazy("frame rate"),
        max_length=20,
        blank=True,
        validators=[validate_rate],
        help_text=gettext_lazy(
            "Exact, as a fraction: 24000/1001 for 23.976 fps, 24/1 for 24. For timed text, "
            "the rate its ttp:frameRate and ttp:frameRateMultiplier must declare."
        ),
    )
    video_codecs = models.CharField(
        gettext_lazy("allowed video codecs"),
        max_length=200,
        blank=True,
        help_text=gettext_lazy("FFmpeg's names, comma-separated: prores, jpeg2000, h264."),
    )
    progressive = models.BooleanField(
        gettext_lazy("progressive scan required"),
        default=False,
        help_text=gettext_lazy("An interlaced video is then a blocker."),
    )
    colour_primaries = models.CharField(
        gettext_lazy("colour primaries"), max_length=20, blank=True, choices=PRIMARIES.items()
    )
    transfer_characteristics = models.CharField(
        gettext_lazy("transfer characteristics"),
        max_length=20,
        blank=True,
        choices=TRANSFERS.items(),
    )
    full_decode = models.BooleanField(
        gettext_lazy("decode every frame"),
        default=False,
        help_text=gettext_lazy(
            "Without it, every packet is read but the pictures are decoded at a sample: "
            "the first, one every tenth of the running time, and the last."
        ),
    )
    # Video and audio.
    runtime_seconds = models.FloatField(gettext_lazy("runtime (s)"), null=True, blank=True)
    runtime_tolerance_seconds = models.FloatField(
        gettext_lazy("runtime tolerance (s)"), default=1.0
    )
    # Audio.
    channel_layout = models.CharField(
        gettext_lazy("channel layout"),
        max_length=10,
        blank=True,
        choices=[(key, label) for key, (_count, label) in LAYOUTS.items()],
    )
    sample_rate = _positive(verbose_name=gettext_lazy("sample rate (Hz)"))
    bit_depth = _positive(
        verbose_name=gettext_lazy("bit depth"),
        help_text=gettext_lazy(
            "Audio: bits per sample. Video and image sequence: bits per channel."
        ),
    )
    loudness_lufs = models.FloatField(
        gettext_lazy("integrated loudness (LUFS)"),
        null=True,
        blank=True,
        help_text=gettext_lazy("ITU-R BS.1770, over the whole programme: -24 for example."),
    )
    loudness_tolerance_lu = models.FloatField(gettext_lazy("loudness tolerance (LU)"), default=2.0)
    # Timed text (its language is always the request's).
    timed_text_format = models.CharField(
        gettext_lazy("timed text format"),
        max_length=20,
        blank=True,
        choices=[("ttml", "TTML"), ("imsc1.1", "IMSC 1.1 Text")],
    )
    # Image sequence.
    frame_count = _positive(verbose_name=gettext_lazy("frame count"))
    # Artwork.
    min_width = _positive(verbose_name=gettext_lazy("minimum width (px)"))
    min_height = _positive(verbose_name=gettext_lazy("minimum height (px)"))
    image_formats = models.CharField(
        gettext_lazy("allowed image formats"),
        max_length=100,
        blank=True,
        help_text=gettext_lazy("Comma-separated: png, jpeg, tiff."),
    )
    colour_modes = models.CharField(
        gettext_lazy("allowed colour modes"),
        max_length=100,
        blank=True,
        help_text=gettext_lazy("Pillow's modes, comma-separated: RGB, RGBA (not CMYK)."),
    )

    class Meta:
        app_label = "deliveries"
        ordering = ["asset_type", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset_type"],
                condition=models.Q(is_default=True),
                name="one_default_spec_per_asset_type",
                violation_error_message=gettext_lazy(
                    "Another spec is already the default for this asset type. Untick it "
                    "there first."
                ),
            )
        ]
        verbose_name = gettext_lazy("delivery spec")
        verbose_name_plural = gettext_lazy("delivery specs")

    def __str__(self) -> str:
        return self.name

    @property
    def rate(self) -> Fraction | None:
        return parse_rate(self.frame_rate) if self.frame_rate else None

    @classmethod
    def default_for(cls, asset_type: str) -> DeliverySpec | None:
        return cls.objects.filter(asset_type=asset_type, is_default=True).first()

    def with_overrides(self, overrides: dict[str, Any]) -> DeliverySpec:
        """An unsaved copy of this template with a request's overrides applied."""
        copy = DeliverySpec(**{f.attname: getattr(self, f.attname) for f in self._meta.fields})
        for name, value in clean_overrides(overrides).items():
            setattr(copy, name, value)
        return copy


OVERRIDABLE = tuple(
    f.name
    for f in DeliverySpec._meta.fields
    if f.name not in ("id", "name", "asset_type", "is_default")
)


def clean_overrides(overrides: Any) -> dict[str, Any]:
    """The overrides with each value cleaned by its field; ValidationError naming the
    field and what to write when one is wrong."""
    if not isinstance(overrides, dict):
        raise ValidationError(
            _('Write the overrides as a JSON object, such as {"runtime_seconds": 2530}.')
        )
    cleaned: dict[str, Any] = {}
    for name, value in overrides.items():
        if name not in OVERRIDABLE:
            raise ValidationError(
                _("“%(name)s” is not a field of a spec. Use one of: %(fields)s.")
                % {"name": name, "fields": ", ".join(OVERRIDABLE)}
            )
        field = DeliverySpec._meta.get_field(name)
        assert isinstance(field, models.Field)  # OVERRIDABLE names concrete fields only
        try:
            cleaned[name] = field.clean(value, None)
        except ValidationError as error:
            raise ValidationError(f"{name}: {' '.join(error.messages)}") from None
    return cleaned


# In plain words, for the Details Page ------------------------------------------------


def clock(seconds: float) -> str:
    """42:10 for a runtime under an hour, 1:42:10 above."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def seconds_text(value: float) -> str:
    return f"{value:g} s"


def runtime_text(spec: DeliverySpec) -> str:
    if spec.runtime_seconds is None:
        return ""
    return f"{clock(spec.runtime_seconds)} ± {seconds_text(spec.runtime_tolerance_seconds)}"


def lufs_text(value: float) -> str:
    return f"{value:g} LUFS"


def loudness_text(spec: DeliverySpec) -> str:
    """ "-24 LUFS ± 2 LU" """
    assert spec.loudness_lufs is not None
    return f"{lufs_text(spec.loudness_lufs)} ± {spec.loudness_tolerance_lu:g} LU"


def rate_text(rate: Fraction) -> str:
    return f"{float(rate):.3f}".rstrip("0").rstrip(".") + " fps"


def sample_rate_text(hertz: int) -> str:
    return f"{hertz / 1000:g} kHz"


def codec_text(codec: str) -> str:
    return CODEC_NAMES.get(codec, codec.upper())


def one_of(labels: list[str]) -> str:
    """ "ProRes or JPEG 2000", in the viewer's language."""
    if len(labels) < 2:
        return "".join(labels)
    words = {"some": ", ".join(labels[:-1]), "last": labels[-1]}
    if labels[-1][:1].lower() == "o":
        # Spanish writes "u" for "o" before a word that starts with the sound o
        # ("TIFF u OpenEXR").
        return pgettext("before a word that starts with o", "%(some)s or %(last)s") % words
    return _("%(some)s or %(last)s") % words


def expected_parts(spec: DeliverySpec) -> list[str]:
    """What a spec asks, piece by piece, in the viewer's language: "3840×2160",
    "23.976 fps", "ProRes or JPEG 2000", "runtime 42:10 ± 1 s"."""
    parts = []
    if spec.width and spec.height:
        parts.append(f"{spec.width}×{spec.height}")
    if spec.rate:
        parts.append(rate_text(spec.rate))
    if spec.video_codecs:
        parts.append(one_of([codec_text(c) for c in names(spec.video_codecs)]))

    if spec.channel_layout:
        parts.append(LAYOUTS[spec.channel_layout][1])
    if spec.sample_rate:
        parts.append(sample_rate_text(spec.sample_rate))
    if spec.bit_depth:
        parts.append(_("%(bits)s-bit") % {"bits": spec.bit_depth})
    if spec.loudness_lufs is not None:
        parts.append(loudness_text(spec))
    if spec.runtime_seconds is not None:
        parts.append(_("runtime %(runtime)s") % {"runtime": runtime_text(spec)})
    # After the runtime, so that the first words stay the ones partners check first.
    if spec.progressive:
        parts.append(_("progressive"))
    if spec.colour_primaries:
        parts.append(_("%(name)s primaries") % {"name": PRIMARIES[spec.colour_primaries]})
    if spec.transfer_characteristics:
        parts.append(_("%(name)s transfer") % {"name": TRANSFERS[spec.transfer_characteristics]})
    if spec.frame_count:
        parts.append(_("%(count)s frames") % {"count": grouped(spec.frame_count)})
    if spec.min_width and spec.min_height:
        parts.append(_("at least %(size)s") % {"size": f"{spec.min_width}×{spec.min_height}"})
    if spec.image_formats:
        parts.append(one_of([f.upper() for f in names(spec.image_formats)]))
    if spec.colour_modes:
        parts.append(one_of([mode.upper() for mode in names(spec.colour_modes)]))
    if spec.timed_text_format:
        parts.append(spec.get_timed_text_format_display())
    if spec.full_decode:
        parts.append(_("every frame decoded"))
    return parts
