"""The studio contacts' side of partners: organizations and their members."""

from django.contrib import admin

from .models import Membership, Organization


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    search_fields = ["name"]
    inlines = [MembershipInline]
