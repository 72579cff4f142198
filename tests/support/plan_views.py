"""Views of a URLconf a plan goes wrong against: a ``<pk>`` detail route that shadows a later
list, a list refused to students, a route whose two parameters no list gives, and lists that
routers write the way platforms do (at their include's root, with an optional slash)."""

from rest_framework import viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

ITEMS = [{"id": 1, "name": "first"}, {"id": 2, "name": "second"}]


class ItemViewSet(viewsets.ViewSet):
    """A bare list of two items and each item by its id; any other id is 404."""

    permission_classes = [IsAuthenticated]

    def list(self, request):
        return Response(ITEMS)

    def retrieve(self, request, pk=None):
        for item in ITEMS:
            if str(item["id"]) == pk:
                return Response(item)
        raise NotFound(f"no item {pk}")

    def create(self, request):
        return Response({"id": 3}, status=201)

    def destroy(self, request, pk=None):
        return Response(status=204)


class RecentItemViewSet(ItemViewSet):
    """The newest item as a list: a route the item detail above it shadows."""

    def list(self, request):
        return Response(ITEMS[-1:])


class IsTeacher(BasePermission):
    def has_permission(self, request, view):
        return getattr(request.user, "role", "") == "teacher"


class GradebookViewSet(viewsets.ViewSet):
    """Teachers only: a student's request is refused (403)."""

    permission_classes = [IsAuthenticated, IsTeacher]

    def list(self, request):
        return Response([])


class RoomMemberView(APIView):
    """One member of one room: two path parameters that no list route gives."""

    permission_classes = [IsAuthenticated]

    def get(self, request, room, member):
        return Response({"room": room, "member": member})
