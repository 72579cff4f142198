"""The live server's URLs plus the static files of the installed apps (the admin's CSS)."""

from django.contrib.staticfiles.views import serve
from django.urls import re_path

from tests.support.urls import urlpatterns as served

urlpatterns = [
    re_path(r"^static/(?P<path>.*)$", serve, {"insecure": True}),
    *served,
]
