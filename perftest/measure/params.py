"""Filling the ``{placeholders}`` of an endpoint's path, as ``Endpoint.params`` says.

A value comes from the seeder (a named value it returned, per identity or the same for all)
or is captured from an earlier endpoint's answer at a dotted JSON path (``results.0.id``).
A value that is not there is a configuration problem of the endpoint (``PathProblem``): it
names the path and what the answer held where the lookup stopped, and the endpoint is not
measured, as with a path that has no route.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from perftest.plan.model import ConfigurationProblem, Endpoint, ParamSource

from .transport.base import RequestSpec, Sample, Transport

#: ``ConfigurationProblem.problem`` of an endpoint whose path could not be filled.
PATH_PARAMETER = "path parameter"


def _holds(value: Any) -> str:
    """What a JSON value is, in a few words: its keys for an object."""
    if isinstance(value, dict):
        keys = sorted(map(str, value))
        shown = ", ".join(keys[:12]) + (", …" if len(keys) > 12 else "")
        return f"keys {shown}" if keys else "an empty object"
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    return f"the {type(value).__name__} {json.dumps(value)[:40]}"


def value_at(payload: Any, path: str) -> Any:
    """The value at a dotted path in parsed JSON (a number steps into a list); LookupError
    naming where the path stopped and what that level held otherwise."""
    here, walked = payload, []
    for part in path.split("."):
        if isinstance(here, dict) and part in here:
            here = here[part]
        elif isinstance(here, list) and part.isdigit() and int(part) < len(here):
            here = here[int(part)]
        else:
            level = ".".join(walked) or "the top level"
            raise LookupError(f"no {part!r} at {level}, which holds {_holds(here)}")
        walked.append(part)
    return here


class PathProblem(Exception):
    """The path of an endpoint cannot be filled; ``problem`` is its configuration problem."""

    def __init__(self, endpoint: Endpoint, detail: str):
        self.problem = ConfigurationProblem(PATH_PARAMETER, f"{endpoint.path}: {detail}", skip=True)
        super().__init__(self.problem.detail)


def _value(
    endpoint: Endpoint, param: ParamSource, seeded: Mapping[str, Any], answers: Mapping
) -> Any:
    if param.seed:
        if param.seed not in seeded:
            named = ", ".join(sorted(seeded)) or "none"
            raise PathProblem(
                endpoint,
                f"{{{param.name}}}: the seeder returned no value {param.seed!r} for this "
                f"identity (values it returned: {named})",
            )
        return seeded[param.seed]
    if param.source not in answers:
        raise PathProblem(
            endpoint,
            f"{{{param.name}}}: {param.source} gave no JSON answer as expected to capture "
            f"{param.json_path!r} from",
        )
    try:
        return value_at(answers[param.source], param.json_path)
    except LookupError as exc:
        raise PathProblem(
            endpoint,
            f"{{{param.name}}}: no value at {param.json_path!r} in the answer of "
            f"{param.source}: {exc}",
        ) from None


def filled_path(endpoint: Endpoint, seeded: Mapping[str, Any], answers: Mapping[str, Any]) -> str:
    """The endpoint's path with every placeholder filled (URL-quoted); ``seeded`` is the
    identity's named values, ``answers`` the parsed first expected answer of each endpoint
    measured so far. Raises PathProblem when a value is missing or not a single value."""
    if not endpoint.params:
        return endpoint.path
    values = {}
    for param in endpoint.params:
        value = _value(endpoint, param, seeded, answers)
        if isinstance(value, (dict, list)) or value is None:
            raise PathProblem(
                endpoint,
                f"{{{param.name}}} would be {_holds(value)}, not a single value",
            )
        values[param.name] = quote(str(value), safe="")
    return endpoint.path.format(**values)


class FirstAnswers(Transport):
    """A transport that keeps the first expected JSON answer of the endpoints named in
    ``expected`` (name -> expected status), so later endpoints can capture values from it."""

    def __init__(self, inner: Transport, expected: Mapping[str, int]):
        self.inner = inner
        self.kind = inner.kind
        self.expected = expected
        self.answers: dict[str, Any] = {}

    def send(self, spec: RequestSpec) -> Sample:
        sample = self.inner.send(spec)
        name = spec.endpoint
        if (
            name in self.expected
            and name not in self.answers
            and sample.error is None
            and sample.status == self.expected[name]
        ):
            # Not JSON: nothing to capture; the endpoint that needs a value says so.
            with contextlib.suppress(ValueError):
                self.answers[name] = json.loads(sample.body)
        return sample

    def close(self) -> None:
        self.inner.close()


def capture_sources(endpoints: Any) -> dict[str, int]:
    """The endpoints some later endpoint captures a value from, with their expected status."""
    wanted = {param.source for e in endpoints for param in e.params if param.source}
    return {e.name: e.expected_status for e in endpoints if e.name in wanted}
