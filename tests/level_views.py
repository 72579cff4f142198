"""Test-only views whose answers make a load level, or an endpoint, fail by construction.

Each view is deterministic whatever the machine's speed: a throttle of its own that refuses
exactly one request in ten, and a view that answers only after an open level's whole window
has passed, so its one worker cannot take any later slot of the schedule.
"""

from __future__ import annotations

import itertools
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


urlpatterns = [
    path("test/levels/throttled-profile/", ThrottledProfileView.as_view()),
    path("test/levels/past-the-window/", past_the_window),
]
