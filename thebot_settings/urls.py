"""URLs of the perftest project: the admin and THE_BOT stand-in's API."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("thebot_settings.standin.urls")),
]
