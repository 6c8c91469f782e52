from django.urls import path

from . import views

# Mounted at /uploads/: POST here creates an upload, its Location takes HEAD/PATCH/DELETE.
urlpatterns = [
    path("", views.create, name="tus-create"),
    path("<uuid:upload_id>/", views.upload, name="tus-upload"),
]
