"""Template helpers of the side panel's preview (deliveries/previews/panel.py)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format

from ..previews.panel import finding_seconds, panel_preview

register = template.Library()


@register.filter
def seek_seconds(error: dict[str, Any], preview: dict[str, Any]) -> float | None:
    """Where the player should go for this finding, None when it has no time."""
    if not preview or preview.get("kind") not in ("video", "audio"):
        return None
    return finding_seconds(error, preview.get("info") or {})


@register.filter
def decibels(value: float | None) -> str:
    """−12.0 with a true minus sign, as loudness figures are printed."""
    if value is None:
        return "—"
    return number_format(value, 1).replace("-", "\u2212")


def _seconds(value: str) -> float | None:
    """?t=12.5: where a link followed without JavaScript asks the player to start."""
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds < 10**7 else None


@register.simple_tag(takes_context=True)
def file_preview(context: template.Context) -> dict[str, Any]:
    """The side panel's preview of its file, wherever the panel is rendered from."""
    request = context.get("request")
    seek = _seconds(request.GET.get("t", "")) if request is not None else None
    return panel_preview(context["panel_file"], context["req"], seek=seek)
