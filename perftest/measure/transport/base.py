"""The one interface every way of sending a request implements.

What is measured never depends on how the request travels: a schedule hands a ``RequestSpec``
to ``Transport.send`` and gets a ``Sample`` back, in-process or over HTTP alike. A failed
request is a ``Sample`` with an ``error``, never an exception and never a retry.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from perftest.timing_header import ServerTiming


@dataclass(frozen=True)
class RequestSpec:
    """One request to send. ``headers`` may hold credentials: never store or log a spec."""

    endpoint: str
    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    content_type: str | None = None


@dataclass(slots=True)
class Sample:
    """What one request cost and returned.

    ``status`` is None when no response arrived; ``error`` then names the failure class
    ("timeout", "connection refused", an exception class...). ``queries`` holds the SQL the
    server ran for this request, when the transport can see it (in-process only), else None;
    ``server`` is the server's own account of the request over HTTP, when it gave one.
    ``body`` is the response body as received (no copy): the schedule keeps an excerpt only
    of unexpected answers, and login reads the token from it.
    """

    endpoint: str
    elapsed_ns: int
    status: int | None
    size: int = 0
    error: str | None = None
    body: bytes = b""
    queries: Sequence[str] | None = None
    sql_ns: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    #: The server's own account (``Server-Timing`` from perftest's middleware), when the
    #: answer carried one.
    server: ServerTiming | None = None


class Transport(ABC):
    """Sends requests one at a time; one instance per worker thread.

    A context manager, as httpx's transports are: ``with factory() as transport:`` closes it
    whatever ends the block.
    """

    #: "in-process" or "http": shown in reports so a reader knows what was measured.
    kind: str

    @abstractmethod
    def send(self, spec: RequestSpec) -> Sample: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class SessionKeys:
    """The session keys the target's answers set (``Set-Cookie`` of the session cookie), from
    every transport of a run, so that clean-up can delete the sessions perftest's logins left.

    A session key is a credential: it is kept here and by ``keeper`` (the clean-up's own
    records) only, never in a result, a report or a log. Transports of many threads add to it
    at once; ``keep`` hands what was gathered to the keeper between phases, so a run killed
    later has its sessions recorded for the next run's clean-up.
    """

    def __init__(self, cookie_name: str, keeper: Callable[[list[str]], None] | None = None):
        self.cookie_name = cookie_name
        self._keeper = keeper
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    def add(self, keys: Iterable[str]) -> None:
        with self._lock:
            self._keys.update(key for key in keys if key)

    def keep(self) -> None:
        """Hand the keys gathered so far to the keeper; a key is forgotten only once kept (an
        interruption meanwhile leaves it to the next ``keep``)."""
        with self._lock:
            keys = sorted(self._keys)
        if keys and self._keeper is not None:
            self._keeper(keys)
            with self._lock:
                self._keys.difference_update(keys)
