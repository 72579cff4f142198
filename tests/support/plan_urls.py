"""A URLconf a plan goes wrong against (``plan_views``), beside the stand-in's API."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter, SimpleRouter

from thebot_settings.urls import urlpatterns as project_urlpatterns

from . import plan_views


class OptionalSlashRouter(SimpleRouter):
    """The usual recipe for routes with or without their trailing slash: ``^rooms/?$``."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


#: Registered at its include's root: the list and DRF's router root share one path.
chat = DefaultRouter()
chat.register("", plan_views.ItemViewSet, basename="plan-chat")
rooms = OptionalSlashRouter()
rooms.register("test/plan/rooms", plan_views.ItemViewSet, basename="plan-room")

urlpatterns = [
    path(
        "test/plan/items/",
        plan_views.ItemViewSet.as_view({"get": "list", "post": "create"}),
        name="item-list",
    ),
    path(
        "test/plan/items/<pk>/",
        plan_views.ItemViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
        name="item-detail",
    ),
    path(
        "test/plan/items/recent/",
        plan_views.RecentItemViewSet.as_view({"get": "list"}),
        name="item-recent",
    ),
    path(
        "test/plan/gradebook/",
        plan_views.GradebookViewSet.as_view({"get": "list"}),
        name="gradebook-list",
    ),
    path(
        "test/plan/rooms/<int:room>/members/<int:member>/",
        plan_views.RoomMemberView.as_view(),
        name="room-member",
    ),
    path("test/plan/chat/", include(chat.urls)),
    *rooms.urls,
    *project_urlpatterns,
]
