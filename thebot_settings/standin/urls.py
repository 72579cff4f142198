"""THE_BOT's routes, with full paths: the project includes this module at the root."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from .views.chat import ConversationViewSet
from .views.learning import AssignmentViewSet, LessonViewSet, MaterialViewSet
from .views.login import LoginView
from .views.notifications import NotificationViewSet
from .views.profile import ProfileMeView

router = DefaultRouter()
router.register("scheduling/lessons", LessonViewSet, basename="lesson")
router.register("assignments", AssignmentViewSet, basename="assignment")
router.register("chat/conversations", ConversationViewSet, basename="conversation")
router.register("materials", MaterialViewSet, basename="material")
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = [
    path("api/auth/login/", LoginView.as_view(), name="login"),
    path("api/profile/me/", ProfileMeView.as_view(), name="profile-me"),
    path("api/", include(router.urls)),
]
