"""A middleware that counts every request the server handles, across threads and processes.

Each handled request appends one byte to the file named by ``PERFTEST_COUNT_FILE``, a letter
for its method. Writes to a file opened with O_APPEND are atomic, so gunicorn workers and
threads need no lock, and the count is the file's size (per method: the letter's count).
The byte is written before the response leaves the server, so a client that has read a
response can read an exact count.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from django.core.exceptions import MiddlewareNotUsed

COUNT_FILE_ENV = "PERFTEST_COUNT_FILE"
#: The byte each method writes; "?" for any other.
METHOD_BYTES = {
    "GET": "G",
    "HEAD": "H",
    "OPTIONS": "O",
    "POST": "P",
    "PUT": "U",
    "PATCH": "A",
    "DELETE": "D",
}


def count_handled(path: str) -> int:
    """How many requests the server has handled so far."""
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def count_by_method(path: str) -> Counter:
    """How many requests of each method the server has handled so far."""
    try:
        written = Path(path).read_text()
    except FileNotFoundError:
        written = ""
    methods = {letter: method for method, letter in METHOD_BYTES.items()}
    return Counter(methods.get(letter, "other") for letter in written)


class CountingMiddleware:
    """Outermost middleware: counts even the requests an inner layer turns into an error."""

    def __init__(self, get_response):
        path = os.environ.get(COUNT_FILE_ENV)
        if not path:
            raise MiddlewareNotUsed(f"{COUNT_FILE_ENV} is not set")
        self.get_response = get_response
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def __call__(self, request):
        response = self.get_response(request)
        os.write(self._fd, METHOD_BYTES.get(request.method, "?").encode())
        return response
