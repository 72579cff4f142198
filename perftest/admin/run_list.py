"""The admin's list of stored runs: each column computed by the database in the list's query.

Every figure is an annotation (a correlated subquery per column) on the one query that reads
the page of runs, or a column of the run's own row (its verdict, stored when its analysis
ended), so the list costs the same few queries for five runs or five hundred. The figures
mean what ``perftest_runs`` prints (``reports.run_list``): the endpoints "ok" are the
sequential ones judged whose every answer was as expected, the worst p95 is the slowest judged
endpoint's under test (the login set apart, ``EndpointResult.set_apart``), the regressions are
the baseline findings that are one, and a threshold is red when it failed or could not be
measured.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    JSONField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.html import format_html, format_html_join

from perftest import models
from perftest.analysis import verdict as run_verdict
from perftest.analysis.rules.base import BASELINE, BOTTLENECK, CONFIGURATION, KEY, THRESHOLD
from perftest.analysis.rules.baseline import REGRESSION
from perftest.analysis.thresholds import NOT_MEASURED
from perftest.reports.sections import capacity as capacity_section
from perftest.reports.sections.phrases import NONE, kind_word
from perftest.text import ms, number

from . import badges
from .badges import badge

#: Findings by severity as the list counts them, most serious first: (annotation, label,
#: badge class, which findings). A baseline finding counts only when it is a regression.
SEVERITIES: tuple[tuple[str, str, str, Q], ...] = (
    ("configuration_count", "configuration", "bad", Q(kind=CONFIGURATION)),
    ("regression_count", "regression", "bad", Q(kind=BASELINE, rule=REGRESSION)),
    ("bottleneck_count", "bottleneck", "warn", Q(kind=BOTTLENECK)),
    ("key_count", kind_word(KEY), "info", Q(kind=KEY)),
)

#: A sequential endpoint with a latency verdict (``store.vocabulary.judged``): measured, no
#: configuration problem, and some answer as expected.
JUDGED = Q(phase="sequential", not_measured="", configuration={}, ok__gt=0)

#: The endpoints under test: the login is set apart (``EndpointResult.set_apart``) unless the
#: plan puts it under test, so its password hash is never the run's worst p95.
UNDER_TEST = JUDGED & Q(set_apart=False)


def _per_run(model: type, aggregate: Count | Max, where: Q) -> Subquery:
    """``aggregate`` over the rows of ``model`` that belong to the outer run and match."""
    rows = model.objects.filter(where, run=OuterRef("pk")).order_by().values("run")
    return Subquery(rows.annotate(value=aggregate).values("value"))


def _count(model: type, where: Q) -> Coalesce:
    return Coalesce(_per_run(model, Count("pk"), where), 0, output_field=IntegerField())


def _top_level_ok_throughput() -> Subquery:
    """Throughput as expected of the run's highest level (most workers, the last run of
    equals); runs stored before ``ok_throughput`` existed get answers as expected over the
    window, as ``store.read`` fills it in."""
    filled = Case(
        When(Q(ok_throughput=0, window_s__gt=0), then=F("ok") * 1.0 / F("window_s")),
        default=F("ok_throughput"),
        output_field=FloatField(),
    )
    levels = models.LoadLevel.objects.filter(run=OuterRef("pk")).order_by(
        "-concurrency", "-position"
    )
    return Subquery(levels.annotate(value=filled).values("value")[:1])


def _soak_record() -> Subquery:
    """The ``soak`` record of the run's soak level (``LoadLevel.soak``: what its last
    checkpoint covered of its plan); None for a run without one."""
    levels = models.LoadLevel.objects.filter(run=OuterRef("pk")).exclude(soak={})
    return Subquery(levels.order_by("position").values("soak")[:1], output_field=JSONField())


def annotated(runs: QuerySet) -> QuerySet:
    """``runs`` with every figure the list shows, computed in the same query."""
    threshold = Q(kind=THRESHOLD)
    return runs.annotate(
        endpoints_total=_count(models.EndpointResult, Q(phase="sequential")),
        endpoints_ok=_count(models.EndpointResult, JUDGED & Q(ok=F("requests"))),
        worst_p95=_per_run(models.EndpointResult, Max("p95_ms"), UNDER_TEST),
        top_ok_throughput=_top_level_ok_throughput(),
        soak_record=_soak_record(),
        thresholds_passed=_count(models.Finding, threshold & Q(passed=True)),
        thresholds_red=_count(
            models.Finding, threshold & (Q(passed=False) | Q(actual=NOT_MEASURED))
        ),
        thresholds_total=_count(models.Finding, threshold),
        **{name: _count(models.Finding, where) for name, _, _, where in SEVERITIES},
    )


def soak_covered(record: dict | None) -> str:
    """The share of a soak's planned warm-up and steady part its last checkpoint covered, as
    ``42 %``; "" without a stored soak level."""
    if not record:
        return ""
    planned_s = record["warmup_s"] + record["steady_s"]
    return f"{100 * min(record['covered_s'] / planned_s, 1):.0f} %" if planned_s else ""


@admin.display(description="status", ordering="status")
def status(run: models.Run) -> str:
    """The status, coloured by the stored verdict: a red run is never a green badge. A run
    still running says so in its own colour, a soak with how much of its plan it has
    covered (its page shows the rest, live)."""
    shown = badges.run_status(run.status, run_verdict.stored_with(run))
    covered = soak_covered(run.soak_record) if run.status == models.Run.Status.RUNNING else ""
    if covered:
        return format_html(
            '{} <span class="perftest-soak-covered">soak {} covered</span>', shown, covered
        )
    return shown


@admin.display(description="verdict", ordering="verdict")
def verdict(run: models.Run) -> str:
    """The verdict's word, the count of its reasons and the first one; ``—`` for a run never
    judged (running, abandoned, or stored before verdicts were)."""
    judged = run_verdict.stored_with(run)
    return badges.verdict(judged, quoted=1) if judged else NONE


@admin.display(description="duration")
def duration(run: models.Run) -> str:
    if run.finished_at is None:
        return NONE
    return f"{number(round((run.finished_at - run.started_at).total_seconds(), 1))} s"


@admin.display(description="endpoints ok", ordering="endpoints_ok")
def endpoints_ok(run: models.Run) -> str:
    """Endpoints judged whose every answer was as expected, of the sequential ones."""
    return f"{run.endpoints_ok}/{run.endpoints_total}"


@admin.display(description="worst p95", ordering="worst_p95")
def worst_p95(run: models.Run) -> str:
    """The slowest p95 of the endpoints under test (the login set apart)."""
    return NONE if run.worst_p95 is None else ms(run.worst_p95)


@admin.display(description="regressions", ordering="regression_count")
def regressions(run: models.Run) -> str:
    """How many figures regressed against the run's baseline, and which run that was; ``—``
    for a run compared with none."""
    if run.baseline_id is None:
        return NONE
    css = "bad" if run.regression_count else "good"
    return format_html("{} vs run #{}", badge(run.regression_count, css), run.baseline_id)


@admin.display(description="ok req/s at highest level", ordering="top_ok_throughput")
def top_ok_throughput(run: models.Run) -> str:
    return NONE if run.top_ok_throughput is None else f"{run.top_ok_throughput:.1f}/s"


@admin.display(description="capacity")
def capacity(run: models.Run) -> str:
    """``--capacity``'s answer, from the run's own row (no query)."""
    return capacity_section.short(run.capacity)


@admin.display(description="thresholds passed / failed")
def thresholds(run: models.Run) -> str:
    if not run.thresholds_total:
        return NONE
    return format_html(
        "{} / {}",
        badge(run.thresholds_passed, "good" if run.thresholds_passed else "none"),
        badge(run.thresholds_red, "bad" if run.thresholds_red else "none"),
    )


@admin.display(description="findings")
def findings(run: models.Run) -> str:
    """Counts by severity, the most serious first; ``none`` when the rules found nothing."""
    counted = [
        (getattr(run, name), label, css) for name, label, css, _ in SEVERITIES if getattr(run, name)
    ]
    if not counted:
        return "none"
    return format_html_join(
        " ", "{}", ((badge(f"{count} {label}", css),) for count, label, css in counted)
    )


#: The list's columns after the run's id, started time, label, mode and target.
COLUMNS: tuple[Callable[[models.Run], str], ...] = (
    status,
    verdict,
    duration,
    endpoints_ok,
    worst_p95,
    regressions,
    top_ok_throughput,
    capacity,
    thresholds,
    findings,
)
