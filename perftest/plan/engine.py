"""``--engine``: which engine sends a load level's requests, checked before anything runs.

The thread engine (the default) runs every worker as a thread of this process. ``locust``
runs each level on Locust's distributed runner: worker processes on this machine
(``--processes``) and on others (``--master --expect-workers``). Locust is an optional extra;
whether it is installed is asked of the import system without importing it, because importing
Locust monkey-patches the standard library with gevent, which the process that owns the
database connection must never be.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import socket
from typing import Any

from perftest import limits
from perftest.conf import ConfigError, in_range

from .model import Engine, LoadPlan

ENGINES = ("threads", "locust")
#: Where a ``--master`` listens when ``--master-bind`` is not given: Locust's own default.
DEFAULT_MASTER_BIND = "0.0.0.0:5557"
#: Locust's options that mean nothing to the thread engine.
_LOCUST_ONLY = ("processes", "master", "expect_workers", "master_bind")


def locust_installed() -> bool:
    return importlib.util.find_spec("locust") is not None


def parse_host_port(option: str, text: str) -> tuple[str, int]:
    """``HOST:PORT`` (the host may be empty for every interface) -> (host, port)."""
    host, colon, port = text.rpartition(":")
    if not colon or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{option} takes HOST:PORT, e.g. 10.0.0.5:5557, not {text!r}.")
    return host.strip("[]") or "0.0.0.0", int(port)


def _can_listen(host: str, port: int) -> None:
    """A master that cannot bind its port fails before anything runs, with the reason."""
    try:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise ConfigError(
            f"--master-bind {host}:{port}: the master cannot listen there ({exc.strerror or exc}); "
            "give a free port of an address of this machine."
        ) from None


def _locust(options: dict[str, Any]) -> Engine:
    if not locust_installed():
        raise ConfigError(
            "--engine locust needs Locust, which is not installed: pip install 'perftest[locust]'."
        )
    processes, remote = options.get("processes"), options.get("expect_workers")
    if options.get("master"):
        if remote is None:
            raise ConfigError(
                "--master waits for workers from other machines: give --expect-workers K "
                f"({limits.EXPECT_WORKERS.describe()})."
            )
        in_range("--expect-workers", remote, limits.EXPECT_WORKERS)
        host, port = parse_host_port(
            "--master-bind", options.get("master_bind") or DEFAULT_MASTER_BIND
        )
        _can_listen(host, port)
        processes = 0 if processes is None else processes
        in_range("--processes", processes, limits.MASTER_PROCESSES)
        return Engine("locust", processes, remote, f"{host}:{port}")
    for name in ("expect_workers", "master_bind"):
        if options.get(name) is not None:
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"{flag} is for the master of several machines: add --master.")
    processes = 1 if processes is None else processes
    in_range("--processes", processes, limits.PROCESSES)
    return Engine("locust", processes)


def with_engine(load: LoadPlan, options: dict[str, Any], mode: str) -> LoadPlan:
    """``load`` with the engine the options ask for; every combination that cannot run is a
    ConfigError naming the fix."""
    name = options.get("engine") or "threads"
    if name == "threads":
        for key in _LOCUST_ONLY:
            if options.get(key):
                flag = "--" + key.replace("_", "-")
                raise ConfigError(f"{flag} is for --engine locust.")
        return load
    engine = _locust(options)
    if mode != "http":
        raise ConfigError(
            "--engine locust sends requests over HTTP from its worker processes: give "
            "--base-url (with --mode http, the default then)."
        )
    if not load.active:
        raise ConfigError("--engine locust runs load levels: give --concurrency or --rate.")
    if load.requests is not None:
        raise ConfigError(
            "--engine locust runs each level for --duration seconds; --requests counts requests "
            "across threads of one process (the thread engine)."
        )
    if options.get("login") == "per-worker":
        raise ConfigError(
            "--engine locust logs each identity in once and hands its token to the Locust users "
            "(THE_BOT rotates tokens on every login): drop --login per-worker."
        )
    return dataclasses.replace(load, engine=engine, login_mode="once")
