"""HttpTransport, check_reachable and discovery against real servers on loopback only."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.contrib.auth import get_user_model

from perftest.conf import ConfigError
from perftest.measure.transport.base import RequestSpec
from perftest.measure.transport.http import HttpTransport
from perftest.plan.preflight import check_reachable
from perftest.plan.target import describe_process, find_server_pid
from tests.support.live_server import free_port, shared_database_url, standin_server  # noqa: F401

PASSWORD = "perftest-http-pass"
PROFILE_REQUESTS = 20


def login_spec(email: str) -> RequestSpec:
    body = json.dumps({"email": email, "password": PASSWORD}).encode()
    return RequestSpec("Login", "POST", "/api/auth/login/", (), body, "application/json")


def profile_spec(token: str) -> RequestSpec:
    return RequestSpec(
        "Get Profile", "GET", "/api/profile/me/", (("Authorization", f"Token {token}"),)
    )


@contextmanager
def transport(base_url: str, **timeouts: float) -> Iterator[HttpTransport]:
    sender = HttpTransport(base_url, **timeouts)
    try:
        yield sender
    finally:
        sender.close()


@contextmanager
def closing_server(reset: bool) -> Iterator[str]:
    """A loopback socket that reads one request and closes: with RST (SO_LINGER 0) or FIN."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)

    def serve() -> None:
        with listener:
            conn, _ = listener.accept()
            conn.recv(65536)
            if reset:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        thread.join(timeout=5)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_login_then_profile_is_counted_exactly_by_the_server(standin_server):  # noqa: F811
    email = "http-transport@perftest.invalid"
    get_user_model().objects.create_user("http-transport", email, PASSWORD)
    before = standin_server.handled()

    with transport(standin_server.base_url) as sender:
        login = sender.send(login_spec(email))
        assert login.status == 200, login.body
        token = json.loads(login.body)["data"]["token"]
        samples = [sender.send(profile_spec(token)) for _ in range(PROFILE_REQUESTS)]

        assert {s.status for s in samples} == {200}
        assert all(s.error is None and s.queries is None and s.headers == {} for s in samples)
        assert all(s.elapsed_ns > 0 and s.size == len(s.body) > 0 for s in samples)
        assert json.loads(samples[0].body)["data"]["user"]["email"] == email
        assert standin_server.handled() - before == PROFILE_REQUESTS + 1

        # Each login rotates the token: the first one is now refused, headers and all.
        assert sender.send(login_spec(email)).status == 200
        refused = sender.send(profile_spec(token))
    assert refused.status == 401 and refused.error is None
    assert refused.headers["WWW-Authenticate"].startswith("Token")


def test_base_url_path_prefix_is_kept(standin_server):  # noqa: F811
    with transport(f"{standin_server.base_url}/api/") as sender:
        sample = sender.send(RequestSpec("Profile", "GET", "/profile/me/"))
    assert sample.status == 401, sample.body  # the route exists; no credentials were sent


def test_connection_refused():
    with transport(f"http://127.0.0.1:{free_port()}") as sender:
        sample = sender.send(RequestSpec("Nobody", "GET", "/"))
    assert (sample.status, sample.error) == (None, "connection refused")
    assert sample.elapsed_ns > 0


def test_read_timeout_is_a_sample_and_the_server_still_answers(standin_server):  # noqa: F811
    before = standin_server.handled()
    with transport(standin_server.base_url, read_timeout=0.01) as sender:
        sample = sender.send(RequestSpec("Slow", "GET", "/test/slow/"))
    assert (sample.status, sample.error) == (None, "timeout")
    assert 10_000_000 <= sample.elapsed_ns < 1_000_000_000
    # The abandoned request still completes on the server; wait for it, so later counts hold.
    deadline = time.monotonic() + 5
    while standin_server.handled() == before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert standin_server.handled() == before + 1


@pytest.mark.parametrize("reset", [True, False], ids=["rst", "fin"])
def test_server_dropping_the_connection_is_a_reset(reset):
    with closing_server(reset) as base_url, transport(base_url) as sender:
        sample = sender.send(RequestSpec("Dropped", "GET", "/"))
    assert (sample.status, sample.error) == (None, "connection reset")


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("127.0.0.1:8000", "is not a URL"),
        ("http://[::1", "malformed URL"),
        ("http://127.0.0.1:99999/", "malformed URL"),
        ("ftp://127.0.0.1/", "scheme 'ftp'"),
        ("http:///api/", "names no host"),
    ],
)
def test_check_reachable_rejects_bad_urls(base_url, message):
    with pytest.raises(ConfigError, match=message):
        check_reachable(base_url)


def test_check_reachable_refused_and_reached(standin_server):  # noqa: F811
    before = standin_server.handled()
    check_reachable(standin_server.base_url)
    url = f"http://127.0.0.1:{free_port()}/"
    with pytest.raises(ConfigError) as refused:
        check_reachable(url)
    assert str(refused.value) == (
        f"Cannot reach {url}: connection refused; start the server or fix --base-url."
    )
    assert standin_server.handled() == before  # a TCP connect only, never an HTTP request


def test_discovery_finds_the_gunicorn_master(standin_server):  # noqa: F811
    pid, reason = find_server_pid(standin_server.base_url)
    port = standin_server.base_url.rsplit(":", 1)[1]
    assert pid == standin_server.pid, reason
    assert f"master pid {pid} listening on 127.0.0.1:{port} with 2 workers" in reason
    assert describe_process(pid).startswith(f"gunicorn (pid {pid}) ")


def test_discovery_explains_what_it_cannot_find():
    port = free_port()
    assert find_server_pid(f"http://127.0.0.1:{port}/") == (
        None,
        f"no process on this host listens on port {port}",
    )
    pid, reason = find_server_pid("http://192.0.2.1/")  # TEST-NET-1: never this machine
    assert pid is None
    assert reason == (
        "host 192.0.2.1 is not this machine: server resources cannot be sampled; pass --server-pid"
    )
    assert find_server_pid("ftp://127.0.0.1/")[0] is None
