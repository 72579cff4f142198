"""Test-only views whose answers make a load level, or an endpoint, fail by construction.

Each view is deterministic whatever the machine's speed: a throttle of its own that refuses
exactly one request in ten, a view that answers only after an open level's whole window
has passed, so its one worker cannot take any later slot of the schedule, and a server that
answers one request at a time and stalls once, holding every request behind the stalled one.
"""

from __future__ import annotations

import itertools
import threading
import time

from django.http import JsonResponse
from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

#: Every tenth request a ``OneInTenThrottle`` sees is refused: 2 of any 20 in a row.
THROTTLE_EVERY = 10
#: What a refused request is told to wait, in seconds (DRF sends it as ``Retry-After``).
THROTTLE_WAIT_S = 1
#: Longer than any open level's window in these tests: its answer comes after the window ends.
PAST_THE_WINDOW_S = 0.75
#: How long the stalling server stalls: 8 slots of a 20 req/s schedule, so a pool of 4 workers
#: fills up behind it however fast the machine is.
SERVER_STALL_S = 0.4


class OneInTenThrottle(BaseThrottle):
    """A view's own throttle (DRF ``throttle_classes``) refusing every tenth request it sees.

    The count is the process's, across threads (``next`` on a count is atomic under the GIL).
    """

    seen = itertools.count(1)

    def allow_request(self, request, view) -> bool:
        return next(self.seen) % THROTTLE_EVERY != 0

    def wait(self) -> float:
        return THROTTLE_WAIT_S


class ThrottledProfileView(APIView):
    """The signed-in user's profile, behind a token and a throttle of its own."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [OneInTenThrottle]

    def get(self, request):
        user = request.user
        return Response({"id": user.pk, "email": user.email})


def past_the_window(request):
    """Answers after ``PAST_THE_WINDOW_S``: an open level's only worker is still waiting for it
    when the level's window ends, so every later slot of the schedule is dropped."""
    time.sleep(PAST_THE_WINDOW_S)
    return JsonResponse({"ok": True})


class StallingServer:
    """A server that answers one request at a time (as one sync worker does) and stalls on
    request number ``stall_at`` (0: never), which a test sets; ``seen`` counts requests."""

    lock = threading.Lock()
    seen = itertools.count(1)
    stall_at = 0


def stalls_the_server(request):
    """Answers at once, one request at a time, except request ``StallingServer.stall_at``:
    the server stalls for ``SERVER_STALL_S`` and every request behind it waits."""
    with StallingServer.lock:
        if next(StallingServer.seen) == StallingServer.stall_at:
            time.sleep(SERVER_STALL_S)
    return JsonResponse({"ok": True})


urlpatterns = [
    path("test/levels/throttled-profile/", ThrottledProfileView.as_view()),
    path("test/levels/past-the-window/", past_the_window),
    path("test/levels/stalls-the-server/", stalls_the_server),
]
