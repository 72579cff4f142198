"""The project's and the test views' URLs plus the views of ``tests.support.level_views``."""

from tests.support import level_views
from tests.support.urls import urlpatterns as test_urlpatterns

urlpatterns = [*level_views.urlpatterns, *test_urlpatterns]
