"""What gave way first: at the knee of the scaling curve and at a capacity search's limit, the
resource that reached its bound first, its lever, and the other candidates ranked with their
figures (``analysis.candidates``).

One finding per level looked at (the knee and the capacity limit, once when they are the same
level). It is told from measured figures only: what a run did not measure (no server account,
no worker count, no CPU of the server) is said, with why and how to measure it.
"""

from __future__ import annotations

from typing import Any

from perftest.store.read import StoredRun
from perftest.text import level_label

from .. import capacity, summaries
from ..candidates import Ranking, app_growth_text, rank
from ..server_account import MIDDLEWARE
from .base import BOTTLENECK, RUN, Finding, bottleneck, level_rule
from .scaling import knee

FIRST_TO_BREAK = "bottleneck.first_to_break"


def looked_at(stored: StoredRun) -> list[tuple[str, Any]]:
    """The levels to rank, each with what it is: the knee, then the capacity limit."""
    found: list[tuple[str, Any]] = []
    step = knee(summaries.curve(stored.levels))
    if step is not None:
        found.append(("the knee", step.level))
    search = capacity.search(stored)
    failed = search.failed_step if search else None
    level = capacity.level_of(stored, failed) if failed else None
    if level is not None:
        if any(seen.pk == level.pk for _, seen in found):
            return [("the knee and the capacity limit", level)]
        found.append(("the capacity limit", level))
    return found


def _title(where: str, ranking: Ranking) -> str:
    at = f"At {where}, {level_label(ranking.level)}"
    first = ranking.first
    if first is not None:
        return f"{at}, {first.resource} gave way first: {first.why}"
    if ranking.ranked:
        nearest = ranking.ranked[0]
        return (
            f"{at}, no measured resource reached its bound; the nearest was {nearest.resource}: "
            f"{nearest.why}"
        )
    return f"{at}, what gave way cannot be told from what was measured"


def _evidence(ranking: Ranking) -> str:
    lines = [app_growth_text(ranking)] if app_growth_text(ranking) else []
    lines += [
        f"{index}. {c.resource}{' (gave way)' if c.gave_way else ''}: {c.figures}"
        for index, c in enumerate(ranking.ranked, 1)
    ]
    lines += [f"Cannot be told: {line}." for line in ranking.untold]
    return "\n".join(lines)


@level_rule(
    FIRST_TO_BREAK,
    BOTTLENECK,
    RUN,
    "what gave way first at the knee and at the capacity limit",
    "Measure what the server did per request: add "
    f"{MIDDLEWARE} to the target's MIDDLEWARE and run over HTTP against a server perftest "
    "can find (its workers, CPU and the database's connections are then read too).",
)
def _first_to_break(stored: StoredRun) -> list[Finding]:
    found = []
    for where, level in looked_at(stored):
        ranking = rank(stored, level)
        lever = ranking.first.lever if ranking.first else ""
        found.append(
            bottleneck(
                FIRST_TO_BREAK,
                level_label(level),
                _title(where, ranking),
                _evidence(ranking),
                lever,
            )
        )
    return found
