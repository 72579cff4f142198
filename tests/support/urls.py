"""The project's URLs plus test-only pathological views under /test/."""

from django.urls import include, path

from thebot_settings.urls import urlpatterns as project_urlpatterns

from . import config_views, soak_views, views

urlpatterns = [
    path("test/slow/", views.slow),
    path("test/sleep/", views.sleep_view),
    path("test/long-answer/", views.long_answer),
    path("test/tunable/", views.tunable),
    path("test/sleep-200/", views.queueing),
    path("test/n-plus-one/", views.n_plus_one),
    path("test/broken/", views.broken),
    path("test/interrupt/", views.interrupt),
    path("test/session-login/", views.SessionLogin.as_view()),
    path("test/throttled/", views.throttled),
    path("test/own-throttle/", views.OwnThrottle.as_view()),
    path("test/scoped-throttle/", views.ScopedThrottle.as_view()),
    path("test/stall-once/", views.stall_once),
    path("test/cpu-bound/", views.cpu_bound),
    path("test/subjects-by-name/", views.subjects_by_name),
    path("test/sleep/", views.sleep_ms),
    path("test/cpu/", views.cpu_ms),
    path("test/leak/", soak_views.leak),
    path("test/sawtooth/", soak_views.sawtooth),
    path("test/n-plus-one-sql/", views.n_plus_one_sql),
    path("test/empty-array/", config_views.empty_array),
    path("test/router/", include(config_views.router.urls)),
    *project_urlpatterns,
]
