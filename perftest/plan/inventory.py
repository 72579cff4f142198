"""The target's endpoints as facts read off its URLconf: ``perftest --list-endpoints``.

For each route: the methods it answers, the view, whether it needs authentication and whether
it is a list, the path parameters a request must fill, and whether its paths reach it at all:
a route whose paths ``resolve()`` hands to an earlier pattern (a ``<pk>`` detail route above
a list of the same prefix) is *shadowed*, and its requests would measure that other view.
DRF views say most of this about themselves (a viewset's ``actions``, ``permission_classes``,
``ListModelMixin``); a plain Django view does not, so for it the methods and the
authentication are "unknown" rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from .discover import patterns
from .model import Throttle

#: A parameter of a route pattern: ``<pk>``, ``<int:pk>``.
ROUTE_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")
#: Methods a view answers that are not requests worth measuring on their own.
_PLUMBING = frozenset({"OPTIONS", "HEAD", "TRACE"})
#: DRF's ``.json``-style twins of every route: the same view again, left out.
_FORMAT_SUFFIX = "<drf_format_suffix:"
#: Values tried for a path parameter when a path is checked against the URLconf: a number
#: fits Django's int, str and slug converters and DRF's default lookup; a UUID fits uuid ones.
PROBES = ("1", "00000000-0000-0000-0000-000000000001")


@dataclass(frozen=True)
class Route:
    """One route of the target, as ``--list-endpoints`` prints it."""

    path: str
    methods: tuple[str, ...]
    name: str
    view: str
    #: True: needs an authenticated user; False: open to anyone; None: cannot be told.
    auth: bool | None
    is_list: bool
    parameters: tuple[str, ...]
    #: The resolved view callable: two paths are the same route when they resolve to it.
    callback: Callable = field(compare=False, repr=False, default=None)
    #: The pattern that ``resolve()`` hands this route's paths to instead, as "path (name,
    #: view)"; "" when they reach this route (or no probe value fits its parameters).
    shadowed_by: str = ""


def view_class(callback: Callable) -> type | None:
    """The class of a class-based view (a DRF viewset's or APIView's, Django's), else None."""
    view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    return view if isinstance(view, type) else None


def _dotted(callback: Callable, view: type | None) -> str:
    target: Any = view or callback
    return f"{target.__module__}.{target.__qualname__}"


def _methods(callback: Callable, view: type | None) -> tuple[str, ...]:
    """The methods the route answers: a viewset's action map, a class view's handlers."""
    actions = getattr(callback, "actions", None)
    if actions:
        # DRF adds "head" to a viewset's actions at its first GET: read it as plumbing too.
        answered = [method.upper() for method in actions]
    elif view is not None:
        names = getattr(view, "http_method_names", ())
        answered = [name.upper() for name in names if hasattr(view, name)]
    else:
        return ()
    return tuple(method for method in answered if method not in _PLUMBING)


def view_name(callback: Callable) -> str:
    """The dotted name of a resolved view: its class for class-based views."""
    return _dotted(callback, view_class(callback))


def is_list(callback: Callable, path: str) -> bool:
    """Whether a resolved view answers with a list at ``path`` (by what DRF says of it)."""
    return _is_list(callback, view_class(callback), tuple(ROUTE_PARAMETER.findall(path)))


def allowed_methods(callback: Callable) -> tuple[str, ...]:
    """The methods a resolved view answers; () when it does not say (a plain function)."""
    return _methods(callback, view_class(callback))


def _needs_auth(view: type | None, methods: tuple[str, ...]) -> bool | None:
    """DRF's permission classes decide; anything else cannot be told from the URLconf."""
    try:
        from rest_framework.permissions import AllowAny, IsAuthenticatedOrReadOnly
        from rest_framework.views import APIView
    except ImportError:
        return None
    if view is None or not issubclass(view, APIView):
        return None
    classes = [c for c in view.permission_classes if isinstance(c, type)]
    if all(issubclass(c, AllowAny) for c in classes):
        return False
    reads_only = set(methods) <= {"GET"}
    return not (reads_only and all(issubclass(c, IsAuthenticatedOrReadOnly) for c in classes))


def _rate(throttle: type, scope: str | None) -> tuple[str, int | None]:
    """A throttle's rate as DRF reads it (its ``rate``, else ``THROTTLE_RATES[scope]``) and the
    seconds it counts over; ("", None) when it has none or is no rate throttle."""
    from rest_framework.throttling import SimpleRateThrottle

    if not issubclass(throttle, SimpleRateThrottle):
        return "", None
    probe = throttle.__new__(throttle)  # DRF's __init__ raises for a scope with no rate
    probe.scope = scope
    try:
        rate = getattr(probe, "rate", None) or probe.get_rate()
        _, window = probe.parse_rate(rate)
    except Exception:  # the target's own class may fail its own way: discovery never stops a run
        return "", None
    return (str(rate), window) if window else ("", None)


def throttles(callback: Callable) -> tuple[Throttle, ...]:
    """The DRF throttles a resolved view applies, each with its scope and rate: the view's own
    (its ``throttle_classes``, or its action's) told apart from REST_FRAMEWORK's
    ``DEFAULT_THROTTLE_CLASSES``, which a view's own list replaces; () for any other view."""
    try:
        from rest_framework.throttling import ScopedRateThrottle
        from rest_framework.views import APIView
    except ImportError:
        return ()
    view = view_class(callback)
    if view is None or not issubclass(view, APIView):
        return ()
    initkwargs = getattr(callback, "initkwargs", None) or {}
    classes = initkwargs.get("throttle_classes", view.throttle_classes)
    chosen = classes is not APIView.throttle_classes
    found = []
    for throttle in classes:
        if not isinstance(throttle, type):
            continue
        scoped = issubclass(throttle, ScopedRateThrottle)
        scope = (
            getattr(view, throttle.scope_attr, None) if scoped else getattr(throttle, "scope", None)
        )
        if scoped and not scope:
            continue  # a scoped throttle lets every request of a view without a scope through
        rate, window = _rate(throttle, scope)
        found.append(
            Throttle(_dotted(throttle, throttle), chosen or scoped, scope or "", rate, window)
        )
    return tuple(found)


def _is_list(callback: Callable, view: type | None, parameters: tuple[str, ...]) -> bool:
    actions = getattr(callback, "actions", None)
    if actions:
        return "list" in actions.values()
    try:
        from rest_framework.mixins import ListModelMixin
    except ImportError:
        return False
    return view is not None and issubclass(view, ListModelMixin) and not parameters


def _admin_prefix(urlconf: str | None) -> str | None:
    """Where Django's admin site is mounted: a site of its own, not part of the API."""
    try:
        return reverse("admin:index", urlconf=urlconf)
    except NoReverseMatch:
        return None


def _probed(path: str) -> list[str]:
    """``path`` (``<pk>`` parameters) with its parameters filled by each probe value."""
    if not ROUTE_PARAMETER.search(path):
        return [path]
    return [ROUTE_PARAMETER.sub(probe, path) for probe in PROBES]


def _shadow(path: str, route: str, described: dict[str, str], urlconf: str | None) -> str:
    """Which pattern the paths of ``route`` reach instead of it ("" when one reaches it, or
    when no probe value resolves at all: then nothing can be told)."""
    reached = []
    for candidate in _probed(path):
        try:
            match = resolve(candidate, urlconf)
        except Resolver404:
            continue
        if match.route == route:
            return ""
        reached.append(described.get(match.route, match.route))
    return reached[0] if reached else ""


def inventory(urlconf: str | None = None) -> tuple[list[Route], int]:
    """The target's routes, and how many routes of Django's admin site were left out."""
    admin_prefix = _admin_prefix(urlconf)
    found = list(patterns(urlconf))
    described = {}
    for path, pattern, route in found:
        view = _dotted(pattern.callback, view_class(pattern.callback))
        described.setdefault(route, f"{path} ({pattern.name or 'unnamed'}, {view})")
    routes, admin = [], 0
    for path, pattern, route in found:
        if admin_prefix and path.startswith(admin_prefix):
            admin += 1
            continue
        if _FORMAT_SUFFIX in path:
            continue
        callback = pattern.callback
        view = view_class(callback)
        dotted = _dotted(callback, view)
        methods = _methods(callback, view)
        parameters = tuple(ROUTE_PARAMETER.findall(path))
        routes.append(
            Route(
                path=path,
                methods=methods,
                name=pattern.name or "",
                view=dotted,
                auth=_needs_auth(view, methods),
                is_list=_is_list(callback, view, parameters),
                parameters=parameters,
                callback=callback,
                shadowed_by=_shadow(path, route, described, urlconf),
            )
        )
    return routes, admin
