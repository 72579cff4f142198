"""``ServerTimingMiddleware``: the server's own account of perftest's requests, over HTTP.

A client outside the server sees one number per request. This middleware, installed in the
target's ``MIDDLEWARE``, tells perftest what only the server knows: how long Django spent on
the request and how much of that went to SQL, and which statement it repeated most. It answers
only requests carrying the run's signed header (``perftest.timing_header``), so nobody else
learns anything about the server's insides; every other request costs one ``request.META``
look-up and is otherwise untouched.

Put it first in ``MIDDLEWARE`` (outermost), so ``app`` covers every other middleware too::

    MIDDLEWARE = ["perftest.middleware.ServerTimingMiddleware", *MIDDLEWARE]

The header is signed with ``PERFTEST["TIMING_KEY"]``, or ``SECRET_KEY`` when that is unset
(``conf.timing_secret``), read once when the server loads its middleware: the server and the
measuring process must share it. ``app`` ends when the view's response is returned, so a
streamed body's generation is not in it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponse

from perftest.conf import timing_secret
from perftest.timing_header import ANSWER, META_KEY, format_server_timing, verify

_perf_ns = time.perf_counter_ns
#: Tokens verified lately, with their expiry: a run sends one token, so a valid header costs a
#: dict look-up instead of two HMACs; a few kept cover runs that overlap.
VERIFIED_KEPT = 8


class _SqlTally:
    """An ``execute_wrapper``: every statement's count and time within one request, counted
    by its SQL text as the ORM passes it (placeholders, not values), so repeats add up."""

    __slots__ = ("queries", "sql_ns", "statements")

    def __init__(self) -> None:
        self.queries = 0
        self.sql_ns = 0
        self.statements: dict[str, int] = {}

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        start = _perf_ns()
        try:
            return execute(sql, params, many, context)
        finally:
            self.sql_ns += _perf_ns() - start
            self.queries += 1
            statements = self.statements
            statements[sql] = statements.get(sql, 0) + 1

    def repeated(self) -> tuple[str, int] | None:
        """The statement run most often, when it ran at least twice."""
        if self.queries == len(self.statements):  # each statement ran once (or none ran)
            return None
        return max(self.statements.items(), key=lambda item: item[1])


class ServerTimingMiddleware:
    """Times signed requests inside Django and in SQL; answers them a ``Server-Timing`` header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self._secret = timing_secret()
        #: token -> its expiry (Unix seconds), for tokens that verified.
        self._verified: dict[str, int] = {}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = request.META.get(META_KEY)
        if token is None or not self._valid(token):
            return self.get_response(request)
        return self._timed(request)

    def _valid(self, token: str) -> bool:
        expires = self._verified.get(token)
        if expires is not None:
            return expires >= time.time()
        if not verify(self._secret, token):
            return False
        if len(self._verified) >= VERIFIED_KEPT:
            self._verified.clear()
        self._verified[token] = int(token.split(".")[1])
        return True

    def _timed(self, request: HttpRequest) -> HttpResponse:
        tally = _SqlTally()
        with ExitStack() as wrappers:
            for alias in connections:
                wrappers.enter_context(connections[alias].execute_wrapper(tally))
            start = _perf_ns()
            response = self.get_response(request)
            app_ns = _perf_ns() - start
        timing = format_server_timing(app_ns, tally.sql_ns, tally.queries, tally.repeated())
        earlier = response.get(ANSWER)
        response[ANSWER] = f"{earlier}, {timing}" if earlier else timing
        return response
