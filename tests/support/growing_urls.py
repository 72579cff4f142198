"""A URLconf a test can add a route to after a run (``--check --baseline`` new routes)."""

from .urls import urlpatterns as test_urlpatterns

urlpatterns = [*test_urlpatterns]
