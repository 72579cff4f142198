"""``POST /api/auth/login/``: THE_BOT's token login, including its token rotation."""

from django.contrib.auth.models import update_last_login
from django.db import transaction
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import ParseError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import User, ensure_profile
from ..serializers.users import LoginSerializer, UserSerializer
from .throttling import ScopedWhenThrottling


def _failure(status_code: int, error: str) -> Response:
    return Response({"success": False, "error": error}, status=status_code)


def _first_error(errors: dict) -> str:
    """Flatten DRF's error dict into the single message THE_BOT's ``error`` carries."""
    field, messages = next(iter(errors.items()))
    message = messages[0] if isinstance(messages, list) else messages
    return str(message) if field == "non_field_errors" else f"{field}: {message}"


def _find_user(data: dict) -> User | None:
    if data.get("email"):
        lookup = {"email__iexact": data["email"].strip()}
    else:
        lookup = {"username": data["username"]}
    return User.objects.filter(**lookup).order_by("pk").first()


def _rotate_token(user: User) -> Token:
    """Replace the user's DRF tokens with a fresh one, as every THE_BOT login does.

    Locking the user row serializes concurrent logins of the same user, so two of them
    cannot both delete and then both insert (the token is one-to-one with the user).
    """
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user)


class LoginView(ScopedWhenThrottling, APIView):
    """Email (or username) and password in, a new token and the user out."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_scope = "login"

    def post(self, request: Request) -> Response:
        try:
            body = request.data
        except ParseError as exc:
            return _failure(status.HTTP_400_BAD_REQUEST, str(exc.detail))
        if not isinstance(body, dict):
            return _failure(status.HTTP_400_BAD_REQUEST, "Expected a JSON object.")
        serializer = LoginSerializer(data=body)
        if not serializer.is_valid():
            return _failure(status.HTTP_400_BAD_REQUEST, _first_error(serializer.errors))

        data = serializer.validated_data
        user = _find_user(data)
        if user is None:
            # Hash anyway, as Django's ModelBackend does, so unknown and known users cost alike.
            User().set_password(data["password"])
            return _failure(status.HTTP_401_UNAUTHORIZED, "Invalid credentials.")
        if not user.check_password(data["password"]):
            return _failure(status.HTTP_401_UNAUTHORIZED, "Invalid credentials.")
        if not user.is_active:
            return _failure(status.HTTP_403_FORBIDDEN, "This account is disabled.")

        token = _rotate_token(user)
        ensure_profile(user)
        update_last_login(None, user)
        return Response(
            {
                "success": True,
                "data": {
                    "token": token.key,
                    "user": UserSerializer(user).data,
                    "message": "Login successful.",
                },
            }
        )
