"""The studio's view of the emails: what was owed to whom, sent or not, and why a send
failed. Read-only: the worker alone writes these rows."""

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "recipient",
        "event",
        "request",
        "digest",
        "sent_at",
        "attempts",
        "given_up_at",
    ]
    list_filter = ["event", "digest", ("sent_at", admin.EmptyFieldListFilter), "given_up_at"]
    list_select_related = ["recipient", "request__title"]
    search_fields = ["recipient__username", "recipient__email", "request__name"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
