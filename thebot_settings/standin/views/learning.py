"""Lessons, assignments and materials: ModelViewSets scoped to the requesting user."""

from django.db.models import QuerySet
from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated

from ..models import Assignment, Lesson, Material
from ..serializers.learning import AssignmentSerializer, LessonSerializer, MaterialSerializer
from .ownership import OwnedByRequesterMixin, TeachingRolesWriteOwn
from .throttling import ScopedWhenThrottling


class LessonViewSet(ScopedWhenThrottling, OwnedByRequesterMixin, viewsets.ModelViewSet):
    """``/api/scheduling/lessons/``: lessons the user teaches or attends, soonest first."""

    serializer_class = LessonSerializer
    permission_classes = [IsAuthenticated, TeachingRolesWriteOwn]
    throttle_scope = "lessons"
    owner_field = "teacher"

    def get_queryset(self) -> QuerySet[Lesson]:
        return Lesson.objects.visible_to(self.request.user).select_related(
            "teacher", "student", "subject"
        )


class AssignmentViewSet(OwnedByRequesterMixin, viewsets.ModelViewSet):
    """``/api/assignments/``: assignments the user authored or is assigned, newest first."""

    serializer_class = AssignmentSerializer
    permission_classes = [IsAuthenticated, TeachingRolesWriteOwn]
    owner_field = "author"

    def get_queryset(self) -> QuerySet[Assignment]:
        return Assignment.objects.visible_to(self.request.user).select_related("author", "subject")


class MaterialViewSet(OwnedByRequesterMixin, viewsets.ModelViewSet):
    """``/api/materials/``: public, own and shared materials, newest first."""

    serializer_class = MaterialSerializer
    permission_classes = [IsAuthenticated, TeachingRolesWriteOwn]
    owner_field = "author"

    def get_queryset(self) -> QuerySet[Material]:
        return Material.objects.visible_to(self.request.user).select_related("author", "subject")
