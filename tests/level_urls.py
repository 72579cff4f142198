"""The project's and the test views' URLs plus the views of ``tests.level_views``."""

from tests import level_views
from tests.urls import urlpatterns as test_urlpatterns

urlpatterns = [*level_views.urlpatterns, *test_urlpatterns]
