from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from deliveries import glossary
from deliveries.partners import views as partner_views
from deliveries.partners.signin import SlowingLoginView
from deliveries.people import views as people_views
from deliveries.previews import views as preview_views
from deliveries.requests import actions, listing, views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="request-list", permanent=False)),
    path("favicon.ico", partner_views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("healthz/", partner_views.healthz, name="healthz"),
    # Sign-in, sign-out (POST only) and password change; no e-mailed password reset:
    # partners ask their Admin or studio contact.
    path("accounts/login/", SlowingLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("i18n/setlang/", partner_views.set_language, name="set_language"),
    path("help/codes/", glossary.finding_codes, name="finding-codes"),
    path("settings/email/", people_views.notification_settings, name="notification-settings"),
    path("unsubscribe/<str:token>/", people_views.unsubscribe, name="unsubscribe"),
    path("uploads/", include("deliveries.uploads.urls")),
    path("requests/", listing.request_list, name="request-list"),
    path("requests/<int:pk>/", views.request_detail, name="request-detail"),
    path("requests/<int:pk>/progress/", views.request_progress, name="request-progress"),
    path("requests/<int:pk>/submit/", actions.submit, name="request-submit"),
    path(
        "requests/<int:pk>/delivery-complete/",
        actions.delivery_complete,
        name="delivery-complete",
    ),
    path("requests/<int:pk>/redelivery/", actions.ask_for_redelivery, name="request-redelivery"),
    path("requests/<int:pk>/comments/", people_views.post_comment, name="request-comment"),
    path("requests/<int:pk>/files/deliver/", actions.deliver_files, name="files-deliver"),
    path("requests/<int:pk>/files/remove/", actions.remove_files, name="files-remove"),
    path("requests/<int:pk>/files/<int:file_pk>/rename/", actions.rename_file, name="file-rename"),
    path(
        "requests/<int:pk>/files/<int:file_pk>/download/",
        views.download_file,
        name="file-download",
    ),
    path(
        "requests/<int:pk>/files/<int:file_pk>/preview/<str:name>",
        preview_views.preview_part,
        name="file-preview",
    ),
]
