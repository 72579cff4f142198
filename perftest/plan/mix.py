"""Which endpoints a load level sends, and in what proportion: ``Mix``.

Parsed once from ``--mix`` (or the endpoints' weights) when the plan is built, then read by
both engines, which draw each worker's next endpoint from ``Mix.sequence``; kept apart from
``plan.model`` because choosing endpoints in proportion is a job of its own.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from perftest import limits
from perftest.conf import ConfigError

if TYPE_CHECKING:
    from .model import Endpoint


@dataclass(frozen=True)
class Mix:
    """Which endpoints a level sends, and in what proportion (positive weights).

    ``text`` is the mix as the user wrote it (``--mix``), or None for the default mix.
    """

    weights: tuple[tuple[str, float], ...]
    text: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.weights)

    @classmethod
    def parse(cls, text: str, endpoints: Sequence[Endpoint]) -> Mix:
        """``"Get Lessons=2,Get Profile=1"``: configured names in any case; weight 1 if omitted."""
        by_name = {e.name.casefold(): e.name for e in endpoints}
        weights: dict[str, float] = {}
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            raw_name, equals, raw_weight = part.rpartition("=")
            if not equals:
                raw_name, raw_weight = part, "1"
            name = by_name.get(raw_name.strip().casefold())
            if name is None:
                known = ", ".join(e.name for e in endpoints)
                raise ConfigError(
                    f"--mix names an unknown endpoint {raw_name.strip()!r}; known: {known}."
                )
            try:
                weight = float(raw_weight)
            except ValueError:
                weight = math.nan
            if limits.WEIGHT.problem(weight):
                raise ConfigError(
                    f"--mix weight for {name!r} must be {limits.WEIGHT.describe()}, "
                    f"not {raw_weight!r}."
                )
            if name in weights:
                raise ConfigError(f"--mix names {name!r} twice; give each endpoint once.")
            weights[name] = weight
        if not weights:
            raise ConfigError("--mix names no endpoint; give name=weight pairs split by commas.")
        return cls(tuple(weights.items()), text)

    @classmethod
    def default(cls, endpoints: Sequence[Endpoint]) -> Mix:
        """Every endpoint but the login one, each by its ``weight``: logging in is a worker's
        setup, not load."""
        names = [e.name for e in endpoints if not e.is_login]
        if not names:
            raise ConfigError(
                "A load level needs an endpoint other than the login one; add one to "
                "PERFTEST['ENDPOINTS'] or name it with --mix."
            )
        weights = {e.name: e.weight for e in endpoints}
        return cls(tuple((name, weights[name]) for name in names))

    def sequence(self, offset: int) -> Iterator[str]:
        """Endless endpoint names in proportion, spread evenly (nginx's smooth round-robin).

        Deterministic; ``offset`` skips that many picks so that workers started together do
        not all send the same endpoint at the same moment.
        """
        return itertools.islice(self._smooth(), offset, None)

    def _smooth(self) -> Iterator[str]:
        names = self.names
        weights = [weight for _, weight in self.weights]
        total = sum(weights)
        current = [0.0] * len(names)
        while True:
            for index, weight in enumerate(weights):
                current[index] += weight
            best = max(range(len(names)), key=current.__getitem__)
            current[best] -= total
            yield names[best]
