"""Who may write what: students read, teaching roles write the objects they own."""

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from ..models import User

WRITER_ROLES = {User.Role.TEACHER, User.Role.TUTOR, User.Role.ADMIN}


class TeachingRolesWriteOwn(BasePermission):
    """Reads for everyone authenticated; writes for teaching roles on their own objects."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.method in SAFE_METHODS or request.user.role in WRITER_ROLES

    def has_object_permission(self, request: Request, view: APIView, obj: object) -> bool:
        owner_id = getattr(obj, f"{view.owner_field}_id")
        return request.method in SAFE_METHODS or owner_id == request.user.pk


class OwnedByRequesterMixin:
    """Set the owner field (``owner_field``) to the requesting user on create."""

    owner_field: str

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.save(**{self.owner_field: self.request.user})
