"""How many requests the measured server can serve at once: its workers × threads, its *slots*.

A pre-fork server answers at most one request per thread of each worker at a time; the
requests beyond wait in the listening socket's queue, which the client sees as latency and
the server's own timing does not. To say that the workers, not the code, were the limit, a
run records how many slots the server had (``Run.environment["server"]``).

Two readings, each with what it can know: the command line says what the server was told
(gunicorn's ``--workers``/``--threads``, also from ``GUNICORN_CMD_ARGS``; uwsgi's
``--processes``/``--threads``; Django's ``runserver``), and the process tree says what runs
(the children sharing the listening socket are the workers, whatever a config file said).
The command line wins when it names a count; the tree fills what it does not. ``source``
says where each figure came from, and quotes only the options read, never the command line
(it may carry secrets).
"""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psutil

from perftest.text import quantity

from .target import sharing_children

#: gunicorn's worker classes that serve one request per thread (``--threads``); gunicorn runs
#: ``sync`` as ``gthread`` when ``--threads`` is above 1.
_THREADED_CLASSES = ("sync", "gthread")
_THREADED_WORKERS = ("syncworker", "threadworker")
#: Worker classes of gunicorn that serve up to ``--worker-connections`` requests at once.
_EVENT_CLASSES = ("gevent", "eventlet")
#: gunicorn's default ``--worker-connections``.
GUNICORN_CONNECTIONS = 1000


@dataclass(frozen=True)
class ServerSlots:
    """The server's workers and threads per worker, and where they were read.

    ``threads`` 0 means no fixed limit: Django's threaded ``runserver`` starts a thread for
    every request (its Python code still runs on one core at a time).
    """

    pid: int
    name: str
    workers: int
    threads: int
    source: str

    @property
    def slots(self) -> int:
        """Requests the server serves at once (0: no fixed limit)."""
        return self.workers * self.threads

    def to_dict(self) -> dict[str, Any]:
        """What a run stores as ``environment["server"]``."""
        return {
            "pid": self.pid,
            "name": self.name,
            "workers": self.workers,
            "threads": self.threads,
            "slots": self.slots,
            "source": self.source,
        }


@dataclass(frozen=True)
class Declared:
    """What a server's command line says: None where it says nothing."""

    name: str
    workers: int | None = None
    threads: int | None = None
    #: The options read, as a sentence ("" when none was).
    said: str = ""


def _option(args: Sequence[str], long: Sequence[str], short: Sequence[str] = ()) -> str | None:
    """The last value of an option (``--name value``, ``--name=value``, ``-n value``, ``-n4``):
    the last one wins, as with argparse."""
    found = None
    for index, arg in enumerate(args):
        name, equals, value = arg.partition("=")
        following = args[index + 1] if index + 1 < len(args) else None
        if equals and name in long:
            found = value
        elif arg in long or arg in short:
            found = following
        else:
            for flag in short:
                if arg.startswith(flag) and arg[len(flag) :].isdigit():
                    found = arg[len(flag) :]
    return found


def _count(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() and int(text) > 0 else None


def _gunicorn(args: Sequence[str], env_args: str | None) -> Declared:
    """gunicorn's settings: the command line overrides ``GUNICORN_CMD_ARGS``, as in gunicorn."""
    sources = [(list(args), "command line")]
    if env_args:
        # Unparsable, gunicorn itself would refuse it; the command line and the tree remain.
        with contextlib.suppress(ValueError):
            sources.insert(0, (shlex.split(env_args), "GUNICORN_CMD_ARGS"))
    values: dict[str, tuple[str, str]] = {}
    options = {
        "workers": (("--workers",), ("-w",)),
        "threads": (("--threads",), ()),
        "class": (("--worker-class",), ("-k",)),
        "connections": (("--worker-connections",), ()),
    }
    for words, where in sources:
        for key, (long, short) in options.items():
            value = _option(words, long, short)
            if value is not None:
                values[key] = (value, where)
    said = [f"{options[key][0][0]} {value} ({where})" for key, (value, where) in values.items()]
    workers = _count(values.get("workers", ("", ""))[0])
    threads = _count(values.get("threads", ("", ""))[0]) or 1
    if "threads" not in values:
        said.append("threads: gunicorn's default 1 (a config file may set more)")
    worker_class = values.get("class", ("sync", ""))[0].rsplit(".", 1)[-1].lower()
    if worker_class in _THREADED_CLASSES or worker_class.endswith(_THREADED_WORKERS):
        if threads > 1:
            said.append("gthread: one request per thread")
        return Declared("gunicorn", workers, threads, ", ".join(said))
    if worker_class in _EVENT_CLASSES or worker_class.startswith(_EVENT_CLASSES):
        connections = _count(values.get("connections", ("", ""))[0]) or GUNICORN_CONNECTIONS
        said.append(f"{worker_class} workers: up to {connections} requests each")
        return Declared("gunicorn", workers, connections, ", ".join(said))
    said.append(f"worker class {worker_class}: requests per worker unknown")
    return Declared("gunicorn", workers, None, ", ".join(said))


def _uwsgi(args: Sequence[str]) -> Declared:
    """uwsgi's ``--processes`` (the tree counts them when a config file sets them) and
    ``--threads`` (1 unless given)."""
    workers = _option(args, ("--processes", "--workers"), ("-p",))
    threads = _option(args, ("--threads",))
    said = [
        f"{flag} {value} (command line)"
        for flag, value in (("--processes", workers), ("--threads", threads))
        if value is not None
    ]
    if threads is None:
        said.append("threads: uwsgi's default 1 (a config file may set more)")
    return Declared("uwsgi", _count(workers), _count(threads) or 1, ", ".join(said))


def _runserver(args: Sequence[str]) -> Declared:
    if "--nothreading" in args:
        return Declared("Django runserver", 1, 1, "--nothreading: one request at a time")
    return Declared(
        "Django runserver", 1, 0, "threaded (the default): a new thread per request, no fixed limit"
    )


def _program(word: str) -> str:
    return os.path.basename(word).lower()


def parse_command_line(argv: Sequence[str], gunicorn_env: str | None = None) -> Declared | None:
    """What ``argv`` tells of a known server's workers and threads; None for an unknown one.

    ``gunicorn_env`` is the server's ``GUNICORN_CMD_ARGS`` (None when unset or unreadable).
    A gunicorn whose title was rewritten (``gunicorn: master [app]``, setproctitle) has no
    options left to read: the process tree counts its workers.
    """
    if not argv:
        return None
    if argv[0].startswith("gunicorn:"):
        return _gunicorn((), gunicorn_env)
    for index, word in enumerate(argv):
        program = _program(word)
        module = word == "-m" and index + 1 < len(argv)
        if program == "gunicorn" or (module and argv[index + 1] == "gunicorn"):
            return _gunicorn(argv[index + 1 + module :], gunicorn_env)
        if program in ("uwsgi", "pyuwsgi"):
            return _uwsgi(argv[index + 1 :])
        if word == "runserver" and index > 0:
            return _runserver(argv[index + 1 :])
    return None


def combine(pid: int, name: str, declared: Declared | None, tree_workers: int) -> ServerSlots:
    """The slots from both readings: the command line's counts, else the process tree's
    workers (the server itself when no child shares its socket) and one thread each."""
    parts = [f"{declared.name}: {declared.said}"] if declared and declared.said else []
    tree = (
        f"process tree: {quantity(tree_workers, 'worker process', 'worker processes')} "
        "sharing the listening socket"
        if tree_workers
        else "process tree: no child sharing the listening socket"
    )
    workers = (declared.workers if declared else None) or tree_workers or 1
    if not tree_workers and workers == 1:
        tree += " (the process serves itself)"
    elif tree_workers != workers:
        tree += f" (the command line's {workers} is used)"
    parts.append(tree)
    threads = declared.threads if declared else None
    if threads is None:
        threads = 1
        parts.append("threads per worker unknown, counted as 1")
    return ServerSlots(pid, declared.name if declared else name, workers, threads, "; ".join(parts))


def _gunicorn_env(process: psutil.Process) -> str | None:
    """The server's ``GUNICORN_CMD_ARGS``: only this variable of its environment is read."""
    try:
        return process.environ().get("GUNICORN_CMD_ARGS")
    except (psutil.Error, OSError):
        return None


def read_server(pid: int, port: int | None) -> ServerSlots | None:
    """The slots of the server process ``pid`` listening on ``port``; None when it cannot be
    read (gone, another user's). Never raises."""
    try:
        process = psutil.Process(pid)
        with process.oneshot():
            name, argv = process.name(), process.cmdline()
    except (psutil.Error, OSError):
        return None
    declared = parse_command_line(argv, _gunicorn_env(process))
    workers = len(sharing_children(process, port)) if port is not None else 0
    return combine(pid, name, declared, workers)
