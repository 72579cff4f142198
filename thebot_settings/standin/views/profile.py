"""``GET /api/profile/me/``: the requesting user and their role profile."""

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import ensure_profile
from ..serializers.users import PROFILE_SERIALIZERS, UserSerializer


class ProfileMeView(APIView):
    """THE_BOT's envelope: ``{"data": {"user", "profile"}, "message", "errors": null}``.

    Admins have no role profile, so their ``profile`` is ``null``.
    """

    def get(self, request: Request) -> Response:
        profile = ensure_profile(request.user)
        profile_data = None
        if profile is not None:
            profile_data = PROFILE_SERIALIZERS[type(profile)](profile).data
        return Response(
            {
                "data": {"user": UserSerializer(request.user).data, "profile": profile_data},
                "message": "Profile retrieved.",
                "errors": None,
            }
        )
