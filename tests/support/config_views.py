"""Test-only routes a misconfigured run meets: a DRF router root and lists that are always empty."""

from django.contrib.contenttypes.models import ContentType
from django.http import JsonResponse
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.routers import APIRootView, DefaultRouter


class _ContentTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContentType
        fields = ["id", "model"]


class NothingViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """A paginated DRF list over no rows: ``{"count": 0, ..., "results": []}`` every time."""

    queryset = ContentType.objects.none()
    serializer_class = _ContentTypeSerializer


def empty_array(request):
    """A list endpoint answering a bare JSON array, always empty."""
    return JsonResponse([], safe=False)


class OpenRootView(APIRootView):
    """The router root, readable without a token so a bare HTTP request sees its links."""

    permission_classes = [AllowAny]


router = DefaultRouter()
router.APIRootView = OpenRootView
router.register("nothing", NothingViewSet, basename="nothing")
router.register("more-nothing", NothingViewSet, basename="more-nothing")
