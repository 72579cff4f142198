"""A throwaway host project shaped like THE_BOT's backend, written into a temporary folder.

Its own ``config/settings.py``, a custom user model that logs in by email and has a role, a
token login answering as THE_BOT's does (``{"success": true, "data": {"token": ...}}``, old
tokens deleted), and a lessons API registered on a DRF router. perftest is not in it: the
layered settings (``THEBOT_BACKEND``) add it, as they would to the real platform.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

FILES = {
    "manage.py": """
        import os
        import sys

        if __name__ == "__main__":
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
            from django.core.management import execute_from_command_line

            execute_from_command_line(sys.argv)
    """,
    "config/__init__.py": "",
    "config/settings.py": """
        import json
        import os
        from pathlib import Path

        import dj_database_url

        BASE_DIR = Path(__file__).resolve().parent.parent
        SECRET_KEY = "host-project-test-key"
        DEBUG = False
        ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
        INSTALLED_APPS = [
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "rest_framework",
            "rest_framework.authtoken",
            "accounts",
            "lessons",
        ]
        MIDDLEWARE = [
            "django.middleware.common.CommonMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
        ]
        ROOT_URLCONF = "config.urls"
        TEMPLATES = [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {},
            }
        ]
        DATABASES = {
            "default": dj_database_url.config(
                env="HOST_DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'host.sqlite3'}"
            )
        }
        AUTH_USER_MODEL = "accounts.User"
        # A test project: a fast hasher, as Django's testing documentation advises.
        PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
        USE_TZ = True
        REST_FRAMEWORK = {
            "DEFAULT_AUTHENTICATION_CLASSES": [
                "rest_framework.authentication.TokenAuthentication"
            ],
            "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
            "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
            "PAGE_SIZE": 20,
        }
        PERFTEST = {
            "ENDPOINTS": [
                {"name": "Login", "method": "POST", "path": "/api/auth/login/"},
                {"name": "Get Lessons", "method": "GET", "path": "/api/lessons/"},
            ],
            "LOGIN": {
                "PATH": "/api/auth/login/",
                "BODY": {"email": "{email}", "password": "{password}"},
                "TOKEN_PATH": "data.token",
            },
            "IDENTITY": {
                "FIELDS": {"role": "student"},
                # The test's roles (JSON), as a platform would list its kinds of user.
                "ROLES": json.loads(os.environ.get("HOST_PERFTEST_ROLES", "[]")),
            },
            "SEEDER": "lessons.seed.seed_lessons",
        }
    """,
    "config/urls.py": """
        from django.urls import include, path
        from rest_framework.routers import DefaultRouter

        from accounts.views import login
        from lessons.views import LessonViewSet

        router = DefaultRouter()
        router.register("lessons", LessonViewSet, basename="lesson")

        urlpatterns = [
            path("api/auth/login/", login),
            path("api/", include(router.urls)),
        ]
    """,
    "config/wsgi.py": """
        import os

        from django.core.wsgi import get_wsgi_application

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        application = get_wsgi_application()
    """,
    "accounts/__init__.py": "",
    "accounts/migrations/__init__.py": "",
    "accounts/models.py": """
        from django.contrib.auth.models import AbstractUser, UserManager
        from django.db import models


        class User(AbstractUser):
            username = None
            email = models.EmailField(unique=True)
            role = models.CharField(max_length=20, default="student")

            USERNAME_FIELD = "email"
            REQUIRED_FIELDS = []
            objects = UserManager()
    """,
    "accounts/views.py": """
        from django.contrib.auth import authenticate
        from rest_framework.authtoken.models import Token
        from rest_framework.decorators import api_view, permission_classes
        from rest_framework.permissions import AllowAny
        from rest_framework.response import Response


        @api_view(["POST"])
        @permission_classes([AllowAny])
        def login(request):
            user = authenticate(
                request,
                email=request.data.get("email"),
                password=request.data.get("password"),
            )
            if user is None:
                return Response({"success": False, "error": "bad credentials"}, status=401)
            Token.objects.filter(user=user).delete()
            token = Token.objects.create(user=user)
            return Response({"success": True, "data": {"token": token.key, "role": user.role}})
    """,
    "lessons/__init__.py": "",
    "lessons/migrations/__init__.py": "",
    "lessons/models.py": """
        from django.conf import settings
        from django.db import models


        class Lesson(models.Model):
            student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
            topic = models.CharField(max_length=100)
            start_time = models.DateTimeField()
    """,
    "lessons/views.py": """
        from rest_framework import serializers, viewsets

        from .models import Lesson


        class LessonSerializer(serializers.ModelSerializer):
            class Meta:
                model = Lesson
                fields = ["id", "topic", "start_time"]


        class LessonViewSet(viewsets.ReadOnlyModelViewSet):
            serializer_class = LessonSerializer

            def get_queryset(self):
                return Lesson.objects.filter(student=self.request.user).order_by("start_time")
    """,
    "lessons/seed.py": """
        from django.utils import timezone

        from .models import Lesson


        def seed_lessons(users):
            now = timezone.now()
            return Lesson.objects.bulk_create(
                Lesson(student=user, topic=f"Topic {n}", start_time=now)
                for user in users
                for n in range(3)
            )
    """,
}


def write(folder: Path) -> Path:
    """Write the host project into ``folder``; return the folder of its ``manage.py``."""
    for name, text in FILES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return folder
