"""Pathological views that only tests serve: slow, N+1, failing, interrupting."""

import itertools
import os
import signal
import time
from pathlib import Path

from django.contrib.auth import login
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.http import JsonResponse
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle
from rest_framework.views import APIView

from thebot_settings.standin.models import Subject, User
from thebot_settings.standin.views.login import LoginView

SLOW_VIEW_SECONDS = 0.05
QUEUEING_VIEW_SECONDS = 0.2
STALL_SECONDS = 1.0
#: Long enough that a few answers' squared nanoseconds exceed 64 bits (2 s: 4·10¹⁸ each).
LONG_ANSWER_SECONDS = 2.0
N_PLUS_ONE_ROWS = 5
#: The tunable view's cost, which baseline tests change between two runs (monkeypatch).
TUNABLE_DELAY_S = 0.03
TUNABLE_EXTRA_QUERIES = 0
#: The throttled view's Retry-After values, in turn: more distinct values than a class keeps.
RETRY_AFTER_VALUES = ("1", "2", "3", "4", "5", "6", "7")
_retry_after = itertools.cycle(RETRY_AFTER_VALUES)
#: Rounds of the deliberately slow helper: a few milliseconds of pure Python per request.
BURN_ROUNDS = 300_000
#: The subject name the unindexed filter looks for: token-like, so a test can prove that no
#: parameter value reaches a stored plan or a report.
SECRET_NAME = "tok-3f9a1c7e5b2d4a6c8e0f1a3b5c7d9e1f"


def slow(request):
    time.sleep(SLOW_VIEW_SECONDS)
    return JsonResponse({"slept": SLOW_VIEW_SECONDS})


def sleep_view(request):
    """Sleeps ``?ms=`` milliseconds (default 50) and answers: a server of N sync workers then
    serves N × 1000 / ms requests a second, whatever else the machine does."""
    seconds = int(request.GET.get("ms", "50")) / 1000
    time.sleep(seconds)
    return JsonResponse({"slept": seconds})


def long_answer(request):
    time.sleep(LONG_ANSWER_SECONDS)
    return JsonResponse({"slept": LONG_ANSWER_SECONDS})


def tunable(request):
    """One fixed cheap query and a sleep of TUNABLE_DELAY_S, plus TUNABLE_EXTRA_QUERIES
    lookups of another statement: a cost a test changes between two runs of one plan."""
    rows = ContentType.objects.count()
    for pk in range(1, TUNABLE_EXTRA_QUERIES + 1):
        ContentType.objects.filter(pk=pk).exists()
    time.sleep(TUNABLE_DELAY_S)
    return JsonResponse({"rows": rows})


def queueing(request):
    """200 ms per request: one worker serves 5 per second, so a faster arrival rate queues."""
    time.sleep(QUEUEING_VIEW_SECONDS)
    return JsonResponse({"slept": QUEUEING_VIEW_SECONDS})


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


def throttled(request):
    """A throttle that refuses everything, after its own lookups in the database (as DRF's
    throttles read their cache): 429 with a Retry-After that changes answer by answer."""
    for pk in range(1, N_PLUS_ONE_ROWS + 1):
        ContentType.objects.filter(pk=pk).exists()
    response = JsonResponse({"detail": "Request was throttled."}, status=429)
    response["Retry-After"] = next(_retry_after)
    return response


class TenPerMinute(SimpleRateThrottle):
    """A limit of one view's own: 10 requests a minute per client (DRF's default cache)."""

    scope = "ten-per-minute"
    rate = "10/min"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class OwnThrottle(APIView):
    """Throttled by its own ``throttle_classes``, whatever the project's defaults say."""

    permission_classes = [AllowAny]
    throttle_classes = [TenPerMinute]

    def get(self, request):
        return Response({"throttled": False})


class ScopedThrottle(OwnThrottle):
    """Throttled by DRF's ``ScopedRateThrottle`` at the rate of the scope it names."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "lessons"


def stall_file(count_file: str | Path) -> Path:
    """Where a test arms the one-time stall of ``stall_once``: beside the server's count file."""
    return Path(count_file).with_name("stall")


def stall_once(request):
    """Answers at once, except one request that stalls for STALL_SECONDS, as a paused server.

    A test arms the stall by writing N to ``stall_file``: N more requests pass, then one
    stalls and removes the file, so the stall lands inside a load level without the test
    waiting on anything.
    """
    trigger = stall_file(os.environ.get("PERFTEST_COUNT_FILE", "/nonexistent/handled"))
    try:
        remaining = int(trigger.read_text())
    except (FileNotFoundError, ValueError):
        return JsonResponse({"stalled": False})
    if remaining > 0:
        trigger.write_text(str(remaining - 1))
        return JsonResponse({"stalled": False})
    trigger.unlink()
    time.sleep(STALL_SECONDS)
    return JsonResponse({"stalled": True})


def burn_cpu(rounds: int) -> int:
    """Deliberately slow host code: arithmetic in pure Python, which --profile must name."""
    total = 0
    for i in range(rounds):
        total += i * i % 7
    return total


def cpu_bound(request):
    return JsonResponse({"total": burn_cpu(BURN_ROUNDS)})


def _number(request, name: str, default: int) -> int:
    """A whole-number query parameter (``?ms=50``), or ``default`` when absent."""
    return int(request.GET.get(name, default))


def sleep_ms(request):
    """``/test/sleep/?ms=50``: waits ``ms`` milliseconds without using the CPU or the database,
    as a view waiting on an outside service: its time is all app, none SQL."""
    ms = _number(request, "ms", 50)
    time.sleep(ms / 1000)
    return JsonResponse({"slept_ms": ms})


def cpu_ms(request):
    """``/test/cpu/?ms=20``: ``ms`` milliseconds of this thread's CPU time in pure Python, so
    each request costs the server the same CPU however busy the machine is (on a busy one
    it takes longer on the clock)."""
    ms = _number(request, "ms", 20)
    end = time.thread_time_ns() + ms * 1_000_000
    total = 0
    while time.thread_time_ns() < end:
        total += burn_cpu(1000)
    return JsonResponse({"cpu_ms": ms, "total": total})


#: The statement ``n_plus_one_sql`` runs once per item: rows counted by a recursive query,
#: a millisecond or a few of database work on SQLite and PostgreSQL alike.
N_PLUS_ONE_SQL = (
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < %s) "
    "SELECT count(*) + %s FROM c"
)


def n_plus_one_sql(request):
    """``/test/n-plus-one-sql/?times=6&rows=5000``: an N+1 whose time is SQL. One query counts
    the items, then the same statement (``N_PLUS_ONE_SQL``) runs once per item, ``times``
    times, each counting ``rows`` rows in the database."""
    times, rows = _number(request, "times", 6), _number(request, "rows", 5000)
    items = ContentType.objects.count()
    counted = []
    with connection.cursor() as cursor:
        for item in range(times):
            cursor.execute(N_PLUS_ONE_SQL, [rows, item])
            counted.append(cursor.fetchone()[0])
    return JsonResponse({"items": items, "counted": counted})


def subjects_by_name(request):
    """Filters the stand-in's subjects on ``name``, which has no index: PostgreSQL reads the
    whole table until a test adds one."""
    ids = Subject.objects.filter(name=SECRET_NAME).order_by().values_list("id", flat=True)
    return JsonResponse({"ids": list(ids[:20])})


class SessionLogin(LoginView):
    """The stand-in's token login that also opens a Django session, as a platform whose login
    view calls ``django.contrib.auth.login`` does: one ``django_session`` row per login."""

    def post(self, request):
        response = super().post(request)
        if response.status_code == 200:
            user = User.objects.get(pk=response.data["data"]["user"]["id"])
            login(request._request, user, backend="django.contrib.auth.backends.ModelBackend")
        return response
