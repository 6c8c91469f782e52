"""The films and episodes that requests ask deliverables for."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy


class Title(models.Model):
    name = models.CharField(gettext_lazy("name"), max_length=300)
    season = models.PositiveSmallIntegerField(gettext_lazy("season"), null=True, blank=True)
    episode = models.PositiveSmallIntegerField(gettext_lazy("episode"), null=True, blank=True)

    class Meta:
        app_label = "deliveries"
        ordering = ["name", "season", "episode"]
        verbose_name = gettext_lazy("title")
        verbose_name_plural = gettext_lazy("titles")

    def __str__(self) -> str:
        if self.season is not None and self.episode is not None:
            return f"{self.name} S{self.season:02d}E{self.episode:02d}"
        if self.season is not None:
            return f"{self.name} S{self.season:02d}"
        return self.name
