"""The HTTP target: a base URL taken apart, and the process on this host that serves it.

``parse_base_url`` is the one reading of ``--base-url``: the checks and the HTTP transport both
use it. The serving process is found so that HTTP runs can sample the server's resources.
Only a server on this machine can be sampled. Its pid is found from the listening socket: a
pre-fork server (gunicorn, uwsgi) shares one socket between a master and its workers, so the
root of those pids is returned and the sampler follows its children. Every outcome comes with
a sentence a report can print: what was found, or exactly why nothing was.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import NamedTuple
from urllib.parse import urlsplit

import psutil

from perftest.conf import ConfigError

_WILDCARDS = {"0.0.0.0", "::"}
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Target(NamedTuple):
    """A base URL taken apart: where to connect, and the path prefix every request gets."""

    scheme: str
    host: str
    port: int
    prefix: str


def parse_base_url(base_url: str) -> Target:
    """Split ``base_url`` or raise ``ConfigError`` saying what is wrong with it."""
    fix = "pass a base URL like http://127.0.0.1:8000/"
    if "://" not in base_url:
        raise ConfigError(f"{base_url!r} is not a URL; {fix}.")
    try:
        parts = urlsplit(base_url)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{base_url!r} is a malformed URL ({exc}); {fix}.") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ConfigError(f"{base_url!r} uses the scheme {scheme!r}; only http and https work.")
    if not parts.hostname:
        raise ConfigError(f"{base_url!r} names no host; {fix}.")
    return Target(scheme, parts.hostname, port or _DEFAULT_PORTS[scheme], parts.path.rstrip("/"))


def _addresses_of(host: str) -> set[str]:
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return {info[4][0].split("%")[0] for info in infos}


def _local_addresses() -> set[str]:
    return {
        address.address.split("%")[0]
        for addresses in psutil.net_if_addrs().values()
        for address in addresses
        if address.family in (socket.AF_INET, socket.AF_INET6)
    }


def _is_local(addresses: set[str]) -> bool:
    if any(ipaddress.ip_address(address).is_loopback for address in addresses):
        return True
    return bool(addresses & _local_addresses())


def listens(process: psutil.Process, port: int) -> bool:
    """Whether ``process`` holds a socket listening on ``port`` (False when unreadable)."""
    try:
        connections = process.net_connections(kind="inet")
    except psutil.Error:
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in connections)


def sharing_children(process: psutil.Process, port: int) -> list[psutil.Process]:
    """The children of ``process`` that share its socket listening on ``port``: a pre-fork
    server's workers ([] when none, or when they cannot be read)."""
    try:
        return [child for child in process.children() if listens(child, port)]
    except psutil.Error:
        return []


def _root(pid: int, port: int) -> tuple[int, int]:
    """The oldest ancestor of ``pid`` holding the listening socket too, and how many of its
    children share it: psutil names one holder per socket, often a pre-fork worker."""
    try:
        process = psutil.Process(pid)
        while (parent := process.parent()) is not None and listens(parent, port):
            process = parent
    except psutil.Error:
        return pid, 0
    return process.pid, len(sharing_children(process, port))


def _name(pid: int) -> str:
    try:
        return psutil.Process(pid).name()
    except psutil.Error:
        return "process"


def find_server_pid(base_url: str) -> tuple[int | None, str]:
    """The pid of the process listening for ``base_url``, or None, with the reason; never raises."""
    try:
        target = parse_base_url(base_url)
    except ConfigError as exc:
        return None, str(exc)
    try:
        addresses = _addresses_of(target.host)
    except OSError as exc:
        return None, f"host {target.host} could not be resolved ({exc}); pass --server-pid"
    if not _is_local(addresses):
        return None, (
            f"host {target.host} is not this machine: server resources cannot be sampled; "
            "pass --server-pid"
        )
    try:
        connections = psutil.net_connections(kind="inet")
    except (psutil.Error, OSError) as exc:
        return None, f"psutil could not list connections: {type(exc).__name__} {exc}".strip()
    listeners = [
        c
        for c in connections
        if c.status == psutil.CONN_LISTEN
        and c.laddr
        and c.laddr.port == target.port
        and (c.laddr.ip in _WILDCARDS or c.laddr.ip in addresses)
    ]
    if not listeners:
        return None, f"no process on this host listens on port {target.port}"
    pids = {c.pid for c in listeners if c.pid is not None}
    where = f"{listeners[0].laddr.ip}:{target.port}"
    if not pids:
        return None, (
            f"a process listens on {where} but its pid is hidden (another user's process); "
            "pass --server-pid"
        )
    roots = sorted({_root(pid, target.port) for pid in pids})
    pid, workers = roots[0]
    name = _name(pid)
    if len(roots) == 1 and workers:
        return pid, f"{name} master pid {pid} listening on {where} with {workers} workers"
    if len(roots) == 1:
        return pid, f"{name} pid {pid} listening on {where}"
    return pid, (
        f"{name} pid {pid} listening on {where}; {len(roots)} unrelated processes share the "
        "port and only this one is sampled"
    )


def describe_process(pid: int) -> str:
    """A short "name (pid N) command line" for reports; says so when the process is unreadable."""
    try:
        process = psutil.Process(pid)
        with process.oneshot():
            name, cmdline = process.name(), " ".join(process.cmdline())
    except psutil.Error as exc:
        return f"pid {pid} (could not be read: {type(exc).__name__})"
    if len(cmdline) > 120:
        cmdline = cmdline[:117] + "..."
    return f"{name} (pid {pid}) {cmdline}".rstrip()
