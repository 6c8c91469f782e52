from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveriesConfig(AppConfig):
    name = "deliveries"
    verbose_name = _("Deliveries")

    def ready(self) -> None:
        # Connects the receivers that start the worker's tasks.
        from . import tasks  # noqa: F401
