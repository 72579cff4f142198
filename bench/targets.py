"""The loopback targets the HTTP benches measure, started here and stopped by pid.

- ``nginx(location)``: nginx on a free 127.0.0.1 port, answering every path with the given
  ``location`` block (``return 200 "ok\\n";`` from memory, or a small static file), with its
  access log as its own count of the requests it handled.
- ``sleeping_view(ms)``: the settings that measure one view sleeping ``ms`` milliseconds.
- the stand-in under gunicorn: ``tests.support.live_server.run_gunicorn`` on the file database that
  ``use_temporary_database`` points Django at, with ``tests.support.counting``'s count.

Import this module before Django is set up: ``use_temporary_database`` must run first.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

NGINX_CONF = """\
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections {connections}; }}
http {{
    access_log {dir}/access.log;
    keepalive_requests {keepalive_requests};
    client_body_temp_path {dir};
    proxy_temp_path {dir};
    fastcgi_temp_path {dir};
    uwsgi_temp_path {dir};
    scgi_temp_path {dir};
    server {{
        listen 127.0.0.1:{port};
        root {dir}/www;
        location / {{ {location} }}
    }}
}}
"""
#: nginx answering from memory: the fastest answer it has.
FROM_MEMORY = 'return 200 "ok\\n";'
#: nginx serving ``www/small.txt`` (``STATIC_BODY``) for every path.
STATIC_FILE = "try_files /small.txt =404;"
STATIC_BODY = b"perftest bench: a small static file\n"


def sleeping_view(sleep_ms: int, **perftest: object) -> dict:
    """The settings (for ``override_settings``) that measure one endpoint sleeping
    ``sleep_ms`` (``/test/sleep/`` of ``tests.support.urls``; no login, no data), with
    ``perftest`` over the project's ``PERFTEST``. Call it once Django is set up."""
    from django.conf import settings  # set up by use_temporary_database, after this import

    sleep = {"name": "Sleep", "method": "GET", "path": "/test/sleep/", "auth": False}
    return {
        "ROOT_URLCONF": "tests.support.urls",
        "PERFTEST": {
            **settings.PERFTEST,
            "SEEDER": None,
            "ENDPOINTS": [{**sleep, "query": {"ms": str(sleep_ms)}}],
            **perftest,
        },
    }


def use_temporary_database() -> None:
    """Point Django at a SQLite file in a temporary folder (removed at exit), then set it up."""
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thebot_settings.settings")
    database = Path(tempfile.mkdtemp(prefix="perftest-bench-")) / "bench.sqlite3"
    atexit.register(shutil.rmtree, database.parent, True)
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    import django

    django.setup()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(process: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.02)
    sys.exit(f"nginx did not start on port {port}")


@contextmanager
def nginx(
    location: str = FROM_MEMORY,
    *,
    body: bytes = STATIC_BODY,
    connections: int = 256,
    keepalive_requests: int = 1000,
) -> Iterator[tuple[str, Path]]:
    """nginx on a free loopback port, in the foreground of its own process group: its base
    URL and its access log. ``body`` is ``www/small.txt``; ``connections`` and
    ``keepalive_requests`` are nginx's settings of those names (1000: nginx's default)."""
    if not shutil.which("nginx"):
        sys.exit("This bench needs nginx: apt-get install -y nginx")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="perftest-nginx-") as workdir:
        (Path(workdir) / "www").mkdir()
        (Path(workdir) / "www" / "small.txt").write_bytes(body)
        conf = Path(workdir) / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                dir=workdir,
                port=port,
                location=location,
                connections=connections,
                keepalive_requests=keepalive_requests,
            )
        )
        process = subprocess.Popen(
            ["nginx", "-p", workdir, "-e", f"{workdir}/error.log", "-c", str(conf)],
            start_new_session=True,
        )
        try:
            wait_for_port(process, port)
            yield f"http://127.0.0.1:{port}", Path(workdir) / "access.log"
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)


def lines(path: Path) -> int:
    """How many requests nginx has logged (one line each)."""
    return path.read_bytes().count(b"\n") if path.exists() else 0


def settled(count: Callable[[], int], quiet_s: float = 0.3, limit_s: float = 10.0) -> int:
    """``count()`` once it stops changing: nginx logs a request after answering it, and a
    server may still be serving what another client sent, which must not be counted here."""
    value, deadline = count(), time.monotonic() + limit_s
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        again = count()
        if again == value:
            return value
        value = again
    return value
