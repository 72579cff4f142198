"""Pathological views that only tests serve: slow, N+1, failing, interrupting."""

import signal
import time

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.http import JsonResponse

SLOW_VIEW_SECONDS = 0.05
N_PLUS_ONE_ROWS = 5


def slow(request):
    time.sleep(SLOW_VIEW_SECONDS)
    return JsonResponse({"slept": SLOW_VIEW_SECONDS})


def n_plus_one(request):
    """One ORM query per row, plus a raw query per row: both must be seen."""
    names = []
    for pk in range(1, N_PLUS_ONE_ROWS + 1):
        content_type = ContentType.objects.filter(pk=pk).first()
        names.append(content_type.model if content_type else None)
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s", [pk])
    return JsonResponse({"names": names})


def broken(request):
    raise ZeroDivisionError("the stand-in divided by zero")


def interrupt(request):
    """What Ctrl-C does to a run: SIGINT arrives while a request is being served."""
    signal.raise_signal(signal.SIGINT)
    return JsonResponse({"interrupted": False})
