"""Django's test ``ClientHandler``, without what makes it grow with every request.

``ClientHandler`` keeps the test's database connections open by taking
``close_old_connections`` off the request signals around each request and putting it back
after. Each ``Signal.connect`` registers a ``weakref.finalize`` on the receiver, even one
already connected, and ``close_old_connections`` (a module's function) never dies: two
finalizers a request that nothing frees, about 200 bytes. The Client's own ``request`` adds
one more per request (its exception receiver, bound to the client). A test of a few hundred
requests never notices; an in-process soak of hours would read perftest's own growth as the
app's leak.

So ``Handler`` serves a request as ``ClientHandler`` does (``request_started``, the
middleware chain, the content removed from a HEAD answer, ``request_finished`` when the answer
is closed), taking ``close_old_connections`` off the two signals before it sends them, as
``ClientHandler`` does, but never putting it back between requests: disconnecting leaves
nothing behind, connecting does. (A test Client used meanwhile puts it back; the next request
takes it off again.) The last transport to close puts it back once, so the process is left
as the test Client leaves it.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test.client import ClientHandler, conditional_content_removal

_lock = threading.Lock()
_open = 0


class Handler(ClientHandler):
    """A request through the full middleware chain, CSRF checks off as the test Client has
    them; the caller reads the answer, then closes it (``request_finished``)."""

    def __init__(self) -> None:
        super().__init__(enforce_csrf_checks=False)

    def __call__(self, environ: dict[str, Any]) -> Any:
        if self._middleware_chain is None:
            self.load_middleware()
        request_started.disconnect(close_old_connections)
        request_started.send(sender=ClientHandler, environ=environ)
        request = WSGIRequest(environ)
        request._dont_enforce_csrf_checks = True
        response = self.get_response(request)
        conditional_content_removal(request, response)
        return response

    @staticmethod
    def finish(response: Any) -> None:
        """Close the answer once read, as a WSGI server does: ``request_finished``."""
        request_finished.disconnect(close_old_connections)
        response.close()


def open_handler() -> Handler:
    """A handler for one transport, counted until ``close_handler``."""
    global _open
    with _lock:
        _open += 1
    return Handler()


def close_handler() -> None:
    """One transport fewer; the last puts ``close_old_connections`` back."""
    global _open
    with _lock:
        _open -= 1
        if _open == 0:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
