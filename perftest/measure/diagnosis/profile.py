"""``--profile``: a few requests of one endpoint under cProfile, summarised by where code lives.

cProfile hooks the interpreter of the thread that enables it, so it can only see requests
served one at a time in this thread: these requests are sent after the measured ones, through
the in-process transport, and never counted in any figure (cProfile slows every call it sees).
A function is classified by the file it comes from: the host project's own code (under
``settings.BASE_DIR``, outside any installed package, virtualenv or perftest itself), Django,
DRF, the standard library, other installed packages, or built-ins. Own ("self") time is summed
into three shares a reader can act on: SQL (the database driver, Django's backends and the
built-in cursor calls), serialisation (DRF's serializers, fields and renderers, and ``json``)
and the rest. The profiler's entries are read directly (they are what ``pstats`` is built
from) because they keep each function's code object, whose ``co_qualname`` names a method
with its class. Only names, files, counts and times are kept, never arguments or values.

To show where an endpoint's own work starts, each profile also keeps its *spine*: from the
framework's entry point (the first function below perftest's transport) down, at each step the
callee that took the most time (a recursion, such as Django's middleware calling the next one
through the same two functions, is followed out through its heaviest exit). Every other function
is placed under the deepest spine function that reaches it through calls of at least
``PATH_SHARE`` of the request, and the heaviest few of each place are kept; each spine function
also keeps the names of the functions it called and, for each costly call off the spine, the
same figures of its own (a cheap view's handler beside a costlier authentication). Which part of
the spine is the framework's dispatch and middleware, and where the endpoint's own work starts,
is decided from the profiles of every endpoint together (``analysis.rules.diagnosis``), so no
framework function is named here.
"""

from __future__ import annotations

import cProfile
import functools
import re
import site
import sys
import sysconfig
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

import perftest

from ..transport.base import RequestSpec, Transport

HOST, PERFTEST, DJANGO, DRF = "host", "perftest", "django", "drf"
STDLIB, THIRD_PARTY, BUILTIN = "stdlib", "third-party", "built-in"
SQL, SERIALISATION, OTHER = "sql", "serialisation", "other"

#: How many functions each list keeps (and each place under the spine), how long a stored
#: name or file may be, how deep a spine is followed, and how many steps back a recursion
#: the spine follows out may reach.
TOP_FUNCTIONS = 10
SPINE_DEPTH = 120
SHORT_CYCLE = 3
#: A callee off the spine that took at least this share of the request keeps figures of its
#: own, so that the endpoint's own work can start there.
BRANCH_SHARE = 0.05
#: Only calls that took at least this share of the request lead from a function to those
#: below it: the call graph keeps who called whom, not the stacks, so a cheap call to a
#: function that did costly work elsewhere must not bring that work under its caller.
PATH_SHARE = 0.005
NAME_CHARS = 160

#: Installed code whose own time is the database's (driver packages, Django's backends).
_SQL_PACKAGES = ("psycopg", "psycopg2", "psycopg_binary", "psycopg_c", "MySQLdb", "oracledb")
_SQL_PREFIXES = ("django/db/backends/", "sqlite3/")
#: Built-ins (C functions) whose label names a database driver: the cursor calls themselves.
_SQL_BUILTINS = ("sqlite3.", "psycopg", "MySQLdb", "_mysql", "oracledb", "CursorWrapper.execute")
#: Installed and standard-library code that turns data into a response body.
_SERIALISATION_PREFIXES = (
    "rest_framework/serializers.py",
    "rest_framework/fields.py",
    "rest_framework/relations.py",
    "rest_framework/renderers.py",
    "rest_framework/utils/serializer_helpers.py",
    "rest_framework/utils/encoders.py",
    "json/",
)
_SERIALISATION_BUILTINS = ("_json.", "'json.")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


@dataclass(frozen=True)
class Origin:
    """Where a function's code lives: its category and its file relative to that root."""

    category: str
    file: str

    @property
    def bucket(self) -> str:
        """The share its own time counts toward: SQL, serialisation or the rest (the
        project's and perftest's own code is always the rest, whatever its files are called)."""
        if self.category in (HOST, PERFTEST):
            return OTHER
        if self.category == BUILTIN:  # ``file`` holds the built-in's label
            if any(marker in self.file for marker in _SQL_BUILTINS):
                return SQL
            serialises = any(marker in self.file for marker in _SERIALISATION_BUILTINS)
            return SERIALISATION if serialises else OTHER
        if self.file.split("/", 1)[0] in _SQL_PACKAGES or self.file.startswith(_SQL_PREFIXES):
            return SQL
        return SERIALISATION if self.file.startswith(_SERIALISATION_PREFIXES) else OTHER


@dataclass(frozen=True)
class _Roots:
    """The folders a file is classified by, read once per process."""

    installed: tuple[Path, ...]
    stdlib: tuple[Path, ...]
    perftest: Path
    project: Path | None
    python: tuple[Path, ...]

    @classmethod
    def here(cls) -> _Roots:
        folders = [*site.getsitepackages(), site.getusersitepackages(), *sys.path]
        installed = [
            Path(folder).resolve()
            for folder in dict.fromkeys(folders)
            if folder and Path(folder).name in ("site-packages", "dist-packages")
        ]
        stdlib = {Path(sysconfig.get_paths()[key]).resolve() for key in ("stdlib", "platstdlib")}
        base_dir = getattr(settings, "BASE_DIR", None)
        return cls(
            installed=tuple(installed),
            stdlib=tuple(stdlib),
            perftest=Path(perftest.__file__).resolve().parent,
            project=Path(base_dir).resolve() if base_dir else None,
            python=tuple({Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}),
        )


_roots = functools.lru_cache(maxsize=1)(_Roots.here)


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


@functools.lru_cache(maxsize=4096)
def classify(filename: str) -> Origin:
    """The origin of a Python function from its code's file name."""
    if filename.startswith("<"):  # <frozen importlib._bootstrap>, <string>
        return Origin(STDLIB if filename.startswith("<frozen") else THIRD_PARTY, filename)
    roots = _roots()
    path = Path(filename).resolve()
    if _under(path, roots.perftest):
        return Origin(PERFTEST, path.relative_to(roots.perftest.parent).as_posix())
    for root in roots.installed:
        if _under(path, root):
            relative = path.relative_to(root).as_posix()
            top = relative.split("/", 1)[0]
            category = {"django": DJANGO, "rest_framework": DRF}.get(top, THIRD_PARTY)
            return Origin(category, relative)
    for root in roots.stdlib:
        if _under(path, root):
            return Origin(STDLIB, path.relative_to(root).as_posix())
    project = roots.project
    inside_python = any(_under(path, prefix) for prefix in roots.python)  # a virtualenv
    if project is not None and _under(path, project) and not inside_python:
        return Origin(HOST, path.relative_to(project).as_posix())
    return Origin(THIRD_PARTY, path.name)


def _cut(text: str) -> str:
    return text if len(text) <= NAME_CHARS else text[: NAME_CHARS - 1] + "…"


def _qualified(code: Any, origin: Origin) -> str:
    """``tests.views.burn_cpu``, ``rest_framework.fields.Field.run_validation``; a built-in
    by its own label (``<method 'execute' of 'sqlite3.Cursor' objects>``), without the memory
    address some labels carry."""
    if isinstance(code, str):
        return _ADDRESS.sub("", code)
    module = origin.file.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    name = getattr(code, "co_qualname", code.co_name)
    return f"{module}.{name}" if module and not module.startswith("<") else name


@dataclass(frozen=True)
class _Function:
    """One profiled function: where it lives, and its calls and times over every request."""

    name: str
    origin: Origin
    line: int
    calls: int
    cumulative_s: float
    own_s: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "function": _cut(self.name),
            "file": "" if self.origin.category == BUILTIN else _cut(self.origin.file),
            "line": self.line,
            "calls": self.calls,
            "cumulative_ms": self.cumulative_s * 1e3,
            "own_ms": self.own_s * 1e3,
            "category": self.origin.category,
        }


def _function(code: Any, calls: int, cumulative_s: float, own_s: float) -> _Function:
    builtin = isinstance(code, str)  # a built-in's code is its label
    origin = Origin(BUILTIN, code) if builtin else classify(code.co_filename)
    line = 0 if builtin else code.co_firstlineno
    return _Function(_qualified(code, origin), origin, line, calls, cumulative_s, own_s)


@dataclass
class _Graph:
    """The profiler's functions and who called whom, with the time of each call edge.

    ``callees[f]`` maps each function ``f`` called to the time spent in it when called from
    ``f`` (cProfile's sub-entries, whose time counts a recursion once)."""

    functions: dict[Any, _Function]
    callees: dict[Any, dict[Any, float]]

    @classmethod
    def of(cls, profiler: cProfile.Profile) -> _Graph:
        functions, callees = {}, {}
        for entry in profiler.getstats():
            functions[entry.code] = _function(
                entry.code, entry.callcount, entry.totaltime, entry.inlinetime
            )
            callees[entry.code] = {sub.code: sub.totaltime for sub in entry.calls or ()}
        return cls(functions, callees)

    def _heaviest(self, callers: Iterable[Any], skip: set[Any]) -> Any | None:
        edges = [
            (time_s, callee)
            for caller in callers
            for callee, time_s in self.callees.get(caller, {}).items()
            if callee not in skip and callee in self.functions
        ]
        return max(edges, key=lambda edge: edge[0])[1] if edges else None

    def _entry(self) -> Any | None:
        """The first function below perftest's own frames on the heaviest path from the top."""
        called = {callee for edges in self.callees.values() for callee in edges}
        tops = [code for code in self.functions if code not in called]
        node = max(tops, key=lambda code: self.functions[code].cumulative_s, default=None)
        seen: set[Any] = set()
        while node is not None and self.functions[node].origin.category == PERFTEST:
            seen.add(node)
            node = self._heaviest([node], seen)
        return node

    def spine(self) -> list[Any]:
        """The heaviest path from the framework's entry point down (see the module's note).

        When the heaviest callee is a function a few steps up the path (a short recursion,
        such as a middleware calling the next through the same wrapper), the next step is the
        heaviest callee of that cycle not yet on the path. So is a wrapper every later step
        was called by directly, however many steps up (Django's middleware chain: each
        middleware class of its own, perftest's timing middleware among them, calls the next
        through the one wrapper); any other longer cycle (a helper reached again from deep
        below) ends the path."""
        node = self._entry()
        path = [] if node is None else [node]
        while path and len(path) < SPINE_DEPTH:
            heaviest = self._heaviest([path[-1]], set())
            cycle_from = path.index(heaviest) if heaviest in path else len(path) - 1
            called = self.callees.get(heaviest, {})
            dispatcher = all(step in called for step in path[cycle_from + 1 :])
            if cycle_from < len(path) - SHORT_CYCLE and not dispatcher:
                break
            node = self._heaviest(path[cycle_from:], set(path))
            if node is None:
                break
            path.append(node)
        return path

    def _called(self, code: Any, least_s: float) -> list[Any]:
        """The functions ``code`` called in calls that took at least ``least_s`` in all."""
        edges = self.callees.get(code, {})
        return [c for c, time_s in edges.items() if time_s >= least_s and c in self.functions]

    def below(self, code: Any, least_s: float) -> list[_Function]:
        """Every function ``code`` reaches through calls of at least ``least_s``, itself
        left out (a cheaper call, such as a cached attribute, is no path to the costly work
        that ran elsewhere in the request)."""
        seen, waiting = {code}, self._called(code, least_s)
        while waiting:
            node = waiting.pop()
            if node not in seen:
                seen.add(node)
                waiting.extend(self._called(node, least_s))
        seen.discard(code)
        return [self.functions[c] for c in seen if self.functions[c].origin.category != PERFTEST]

    def places(self, spine: list[Any], least_s: float) -> dict[Any, int]:
        """Each function reached from the spine through calls of at least ``least_s``, by the
        index of the deepest spine function that reaches it (the spine's own included)."""
        place: dict[Any, int] = {}
        for index in range(len(spine) - 1, -1, -1):
            waiting = [spine[index]]
            while waiting:
                node = waiting.pop()
                if node in place or self.functions[node].origin.category == PERFTEST:
                    continue
                place[node] = index
                waiting.extend(self._called(node, least_s))
        return place


def _spine_rows(graph: _Graph) -> list[dict[str, Any]]:
    """The stored spine: each function on it, with the part of the request spent outside it
    and the heaviest functions of its place by cumulative time (the report's table below any
    point of the spine is the heaviest of the places at and below that point); the names of
    every function it called with the share of the request each call took (``callees``); and
    for each callee off the spine that took at least ``BRANCH_SHARE`` of the request, the same
    figures of its own (``branches``), so that the endpoint's own work can start off the spine.
    Every function carries its cumulative time as a share of the request (the framework's
    entry point's cumulative time)."""
    spine = graph.spine()
    if not spine:
        return []
    request_s = graph.functions[spine[0]].cumulative_s
    least_s = PATH_SHARE * request_s
    groups: list[list[_Function]] = [[] for _ in spine]
    for code, index in graph.places(spine, least_s).items():
        groups[index].append(graph.functions[code])

    def share(seconds: float) -> float:
        return seconds / request_s if request_s else 0.0

    def with_share(function: _Function, group: Iterable[_Function]) -> dict[str, Any]:
        heaviest = sorted(group, key=lambda f: f.cumulative_s, reverse=True)[:TOP_FUNCTIONS]
        return {
            **function.as_dict(),
            "share": share(function.cumulative_s),
            "outside_share": 1.0 - share(function.cumulative_s),
            "heaviest": [{**f.as_dict(), "share": share(f.cumulative_s)} for f in heaviest],
        }

    rows = []
    for index, (code, group) in enumerate(zip(spine, groups, strict=True)):
        calls = sorted(graph.callees.get(code, {}).items(), key=lambda call: -call[1])
        calls = [(callee, seconds) for callee, seconds in calls if callee in graph.functions]
        after = spine[index + 1] if index + 1 < len(spine) else None
        branches = [
            callee
            for callee, seconds in calls
            if callee != after and share(seconds) >= BRANCH_SHARE
        ]
        rows.append(
            {
                **with_share(graph.functions[code], group),
                "callees": [[_cut(graph.functions[c].name), share(t)] for c, t in calls],
                "branches": [
                    with_share(graph.functions[callee], graph.below(callee, least_s))
                    for callee in branches
                ],
            }
        )
    return rows


def _shares(
    functions: Iterable[_Function], total_s: float, key: Callable[[_Function], str]
) -> dict[str, float]:
    """Own time summed by ``key`` (a function's bucket or category), as fractions of the total."""
    sums: dict[str, float] = {}
    for function in functions:
        sums[key(function)] = sums.get(key(function), 0.0) + function.own_s
    return {name: own / total_s for name, own in sorted(sums.items())} if total_s else {}


def _summary(profiler: cProfile.Profile, requests: int, unexpected: int) -> dict[str, Any]:
    """The stored profile: totals, shares of own time, the spine with the heaviest functions
    below each of its points (perftest's own frames, which wrap every request, left out) and
    the host's own functions by own time (a view's cumulative time includes all the framework
    work below it; its own time is the code to change)."""
    graph = _Graph.of(profiler)
    functions = list(graph.functions.values())
    total_s = sum(function.own_s for function in functions)
    host = [f for f in functions if f.origin.category == HOST]
    host = sorted(host, key=lambda f: f.own_s, reverse=True)[:TOP_FUNCTIONS]
    shares = _shares(functions, total_s, lambda f: f.origin.bucket)
    return {
        "requests": requests,
        "unexpected": unexpected,
        "total_ms": total_s * 1e3,
        "shares": {name: shares.get(name, 0.0) for name in (SQL, SERIALISATION, OTHER)},
        "origins": _shares(functions, total_s, lambda f: f.origin.category),
        "spine": _spine_rows(graph),
        "host": [function.as_dict() for function in host],
    }


def profile(transport: Transport, spec: RequestSpec, count: int, expected: int) -> dict[str, Any]:
    """Send ``spec`` ``count`` times under one profiler, one at a time; the summary counts the
    answers other than ``expected`` so a report can say what was profiled."""
    profiler = cProfile.Profile()
    unexpected = 0
    for _ in range(count):
        profiler.enable()
        try:
            sample = transport.send(spec)
        finally:
            profiler.disable()
        unexpected += sample.status != expected or sample.error is not None
    return _summary(profiler, count, unexpected)
