"""In-process transport: Django's test Client through the full middleware stack, with SQL capture.

SQL is seen through ``connection.execute_wrapper``, which wraps every cursor call, raw SQL
included, on the connection of the thread that runs it. The test Client serves a request in
the calling thread, so installing the wrapper on this thread's connections sees exactly the
queries of this transport's requests, and the database connections this transport opens are
its own: ``close`` closes them, so a worker thread leaves none behind. The wrapper only
appends the SQL text and adds the time: normalizing and grouping happen after the request,
outside the measured window.

A request goes through ``handler.Handler``, the test Client's handler without the signal
reconnections that leave memory behind each request (about 300 bytes, which an in-process
soak would read as the app's leak); the Client builds the environ and keeps the cookies, and
one receiver per transport keeps the exception of a 500.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import connections
from django.test import Client
from django.test.client import FakePayload

from .base import RequestSpec, Sample, SessionKeys, Transport
from .handler import close_handler, open_handler

_perf_ns = time.perf_counter_ns
_NO_TYPE = "application/octet-stream"
_NO_QUERIES: tuple[str, ...] = ()


def _server_name() -> str:
    """A host name the project's ALLOWED_HOSTS accepts, so requests are not rejected as 400."""
    allowed = list(getattr(settings, "ALLOWED_HOSTS", []))
    if not allowed or "*" in allowed or "testserver" in allowed:
        return "testserver"
    for host in allowed:
        if host.startswith("."):
            return "perftest" + host
        return host
    return "testserver"


def _meta_headers(headers: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers}


class ConnectionWrapper:
    """Wraps every cursor call on the calling thread's connections while installed: Django's
    ``execute_wrapper`` on every alias at once. Subclasses say, in ``__call__``, what they
    keep of a call; the measured path keeps the SQL text and time (``_QueryRecorder``)."""

    def __init__(self) -> None:
        self._installed: list[Any] = []

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        raise NotImplementedError

    def install(self) -> None:
        for connection in connections.all():
            connection.execute_wrappers.append(self)
            self._installed.append(connection)

    def uninstall(self) -> None:
        for connection in self._installed:
            if self in connection.execute_wrappers:
                connection.execute_wrappers.remove(self)
        self._installed.clear()

    def __enter__(self) -> ConnectionWrapper:
        self.install()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.uninstall()


class _QueryRecorder(ConnectionWrapper):
    """Collects the SQL of the current request on the calling thread's connections."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[str] = []
        self.sql_ns = 0

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        start = _perf_ns()
        try:
            return execute(sql, params, many, context)
        finally:
            self.sql_ns += _perf_ns() - start
            self.queries.append(sql)


def _open_aliases() -> set[str]:
    """The database aliases with an open connection in the calling thread."""
    return {c.alias for c in connections.all(initialized_only=True) if c.connection is not None}


class InProcessTransport(Transport):
    """Sends requests through Django's handler in this thread; one instance per thread."""

    kind = "in-process"

    def __init__(self, sessions: SessionKeys | None = None) -> None:
        # Exceptions become 500 responses, as a real server would answer; the exception
        # class and message are kept as the failure reason.
        self._client = Client(raise_request_exception=False, SERVER_NAME=_server_name())
        self._handler = open_handler()
        self._recorder = _QueryRecorder()
        self._recorder.install()
        self._environ_cache: dict[RequestSpec, dict[str, str]] = {}
        # Connections already open belong to the caller (its transaction, its run).
        self._callers = _open_aliases()
        #: Where the session keys the answers set go, for clean-up (None: not gathered).
        self._sessions = sessions
        #: The exception the handler turned into this thread's last 500, if any.
        self._exception: BaseException | None = None
        self._thread = threading.get_ident()
        self._receiver_uid = f"perftest-inprocess-{id(self)}"
        got_request_exception.connect(
            self._keep_exception, weak=False, dispatch_uid=self._receiver_uid
        )

    def _keep_exception(self, sender: Any, **kwargs: Any) -> None:
        """Every transport hears every thread's exceptions: keep only this thread's."""
        if threading.get_ident() == self._thread:
            self._exception = sys.exc_info()[1]

    def _environ(self, spec: RequestSpec) -> dict[str, str]:
        """The WSGI environ ``Client.generic`` would build, built once per distinct spec.

        Parsing the URL and the headers again for every request is client work that a
        measurement should not repeat; only the body stream must be fresh each time.
        """
        environ = self._environ_cache.get(spec)
        if environ is None:
            parsed = urlsplit(spec.path)
            environ = {
                # As Client.generic: WSGI carries the raw path bytes as latin-1.
                "PATH_INFO": unquote_to_bytes(parsed.path).decode("iso-8859-1"),
                "REQUEST_METHOD": spec.method,
                "SERVER_PORT": "80",
                "wsgi.url_scheme": "http",
                "QUERY_STRING": parsed.query.encode().decode("iso-8859-1"),
                **_meta_headers(spec.headers),
            }
            if spec.body:
                environ["CONTENT_LENGTH"] = str(len(spec.body))
                environ["CONTENT_TYPE"] = spec.content_type or _NO_TYPE
            self._environ_cache[spec] = environ
        return environ

    def send(self, spec: RequestSpec) -> Sample:
        environ = self._environ(spec)
        if spec.body:
            environ = {**environ, "wsgi.input": FakePayload(spec.body)}
        recorder, client = self._recorder, self._client
        self._exception = None
        start = _perf_ns()
        response = self._handler(client._base_environ(**environ))
        body = b"".join(response.streaming_content) if response.streaming else response.content
        self._handler.finish(response)
        elapsed = _perf_ns() - start
        if response.cookies:  # as Client.request: the next request sends them
            client.cookies.update(response.cookies)
        queries, sql_ns = recorder.queries, recorder.sql_ns
        if queries:
            recorder.queries, recorder.sql_ns = [], 0
        else:
            queries = _NO_QUERIES  # never hand out the recorder's own list
        status = response.status_code
        if self._sessions is not None:
            self._keep_session(response.cookies)
        if status < 400:
            return Sample(spec.endpoint, elapsed, status, len(body), None, body, queries, sql_ns)
        exc = self._exception
        return Sample(
            spec.endpoint,
            elapsed,
            status,
            len(body),
            f"{type(exc).__name__}: {exc}" if exc is not None else None,
            body,
            queries,
            sql_ns,
            dict(response.items()),
        )

    def _keep_session(self, cookies: Any) -> None:
        """A session cookie the answer set (an empty value deletes one: nothing to keep)."""
        assert self._sessions is not None
        morsel = cookies.get(self._sessions.cookie_name)
        if morsel is not None and morsel.value:
            self._sessions.add((morsel.value,))

    def close(self) -> None:
        """Stop capturing SQL and exceptions, and close the database connections this
        transport opened."""
        self._recorder.uninstall()
        got_request_exception.disconnect(dispatch_uid=self._receiver_uid)
        close_handler()
        for connection in connections.all(initialized_only=True):
            if connection.alias not in self._callers:
                connection.close()


@contextmanager
def quiet_request_log() -> Iterator[None]:
    """Silence Django's per-500 traceback log while measuring: the sample keeps the reason."""
    logger = logging.getLogger("django.request")
    was_disabled = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = was_disabled
