"""Stored runs. ``perftest.store`` is the only code that writes these models.

A run keeps everything a report needs: figures per endpoint (with the encoded HDR histogram,
so percentiles can be recomputed and merged later), the resource series, the findings chosen
by the analysis rules, and snapshots of configuration and environment with secrets removed.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models


class Run(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"
        INTERRUPTED = "interrupted"
        #: Left ``running`` by a process that died; marked so by a later run.
        ABANDONED = "abandoned"

    class Verdict(models.TextChoices):
        """What the run's analysis concluded (``analysis.verdict``), shown first everywhere."""

        GREEN = "GREEN", "GREEN"
        RED = "RED", "RED"
        REGRESSED = "REGRESSED", "REGRESSED"
        INTERRUPTED = "INTERRUPTED", "INTERRUPTED"

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    mode = models.CharField(max_length=20, help_text="in-process or http")
    target = models.CharField(max_length=300, help_text="What was measured: URLconf or base URL")
    label = models.CharField(max_length=200, blank=True)
    iterations = models.PositiveIntegerField(default=0)
    warmup = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    failure = models.TextField(blank=True, help_text="Why the run failed, when it did")
    config = models.JSONField(default=dict, help_text="Settings and options, secrets removed")
    environment = models.JSONField(default=dict)
    logins = models.JSONField(default=list, help_text="Login attempts: identity, status, reason")
    capture_requests = models.PositiveIntegerField(
        default=0,
        help_text="Requests sent before the levels to capture path values (Locust's handover)",
    )
    resource_description = models.CharField(max_length=300, blank=True)
    resource_interval_s = models.FloatField(default=0)
    resource_cpu_count = models.PositiveIntegerField(default=1)
    resource_unavailable = models.TextField(blank=True)
    notes = models.JSONField(default=list)
    #: A person's notes on the run, written in the admin; ``notes`` is the run's own record.
    comment = models.TextField(
        "your notes",
        blank=True,
        help_text="Notes of your own on this run (the run never writes here)",
    )
    host = models.CharField(max_length=255, blank=True, help_text="Host of the measuring process")
    pid = models.PositiveIntegerField(null=True, blank=True, help_text="The measuring process")
    resource_gone_s = models.FloatField(
        null=True, blank=True, help_text="When the measured process went away (s into sampling)"
    )
    plan_fingerprint = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="Hash of what the plan measures: runs with equal ones can be compared",
    )
    baseline = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="compared_runs",
        help_text="The run this one was compared with (--baseline)",
    )
    comparison = models.JSONField(
        default=dict,
        blank=True,
        help_text="The comparison with the baseline as computed when the run ended",
    )
    #: Stored when the analysis ends, so a list of runs shows each verdict without reading
    #: every run's rows; empty for a run never judged (running, abandoned, or older).
    verdict = models.CharField(
        max_length=12,
        choices=Verdict.choices,
        blank=True,
        help_text="The verdict when the run ended; empty when it was never judged",
    )
    verdict_reasons = models.JSONField(
        default=list,
        blank=True,
        help_text="The verdict's reasons, one FAIL: or REGRESSION: line each",
    )
    capacity = models.JSONField(
        default=dict,
        blank=True,
        help_text="--capacity's search: {expression, bounds, steps: [{rate, level, passed, "
        "failed}], capacity_rps, failed_rps, failed, generator_limited}; {} when none ran",
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Run #{self.pk} {self.label or self.target} ({self.status})"


class MeasuredFigures(models.Model):
    """What a set of requests gave: counts, errors and latency (one endpoint, or a level)."""

    requests = models.PositiveIntegerField(default=0)
    ok = models.PositiveIntegerField(default=0, help_text="Answered with the expected status")
    status_counts = models.JSONField(default=dict)
    errors = models.JSONField(default=list, help_text="[{reason, count, example}]")
    min_ms = models.FloatField(default=0)
    mean_ms = models.FloatField(default=0)
    p50_ms = models.FloatField(default=0)
    p90_ms = models.FloatField(default=0)
    p95_ms = models.FloatField(default=0)
    p99_ms = models.FloatField(default=0)
    max_ms = models.FloatField(default=0)
    histogram = models.TextField(blank=True, help_text="HdrHistogram, compressed base64 (µs)")
    answer_classes = models.JSONField(
        default=list,
        help_text="Every answer by class, each with its own latency: "
        "[{class, count, min_ms, p50_ms, p95_ms, p99_ms, max_ms, histogram, queries, sql_ms, "
        "retry_after: {value: count}, retry_after_answers}]",
    )
    windows = models.JSONField(
        default=dict,
        blank=True,
        help_text="Latency of the answers as expected per time window: "
        "{width_s, windows: [{offset_s, count, values_us: [[value, count], ...]}]}",
    )
    server_timing = models.JSONField(
        default=dict,
        blank=True,
        help_text="The server's own account of the answers as expected (Server-Timing): "
        "{answers, queries, app, sql, outside}, each time a distribution like the latency's "
        "(mean_ms, p50_ms... histogram); {} when no answer carried one",
    )

    class Meta:
        abstract = True

    @property
    def errors_total(self) -> int:
        return self.requests - self.ok

    @property
    def judged_count(self) -> int:
        """The answers in the latency fields: the expected ones (every answer in runs stored
        before answers were classed, which have no ``answer_classes``)."""
        return self.requests - sum(c["count"] for c in self.answer_classes)


class LoadLevel(MeasuredFigures):
    """One concurrency level (closed model) or arrival rate (open model), merged over workers."""

    class Model(models.TextChoices):
        CLOSED = "closed"
        OPEN = "open"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="levels")
    position = models.PositiveIntegerField()
    model = models.CharField(max_length=8, choices=Model.choices)
    transport = models.CharField(max_length=20, help_text="in-process or http")
    concurrency = models.PositiveIntegerField(help_text="Workers (closed) or worker pool (open)")
    rate = models.FloatField(null=True, blank=True, help_text="Requests/s asked (open model)")
    duration_s = models.FloatField(null=True, blank=True)
    planned_requests = models.PositiveIntegerField(null=True, blank=True)
    identities = models.PositiveIntegerField(default=0)
    login_mode = models.CharField(max_length=12, default="per-worker")
    interrupted = models.BooleanField(default=False)
    window_s = models.FloatField(default=0, help_text="First counted send to last completion")
    throughput = models.FloatField(default=0, help_text="Counted requests per second of window")
    rampup_requests = models.PositiveIntegerField(default=0)
    login_requests = models.PositiveIntegerField(default=0)
    login_failures = models.PositiveIntegerField(default=0)
    capture_requests = models.PositiveIntegerField(
        default=0, help_text="Sent by the level's workers at set-up to capture path values"
    )
    late = models.PositiveIntegerField(default=0, help_text="Sent later than scheduled (open)")
    dropped = models.PositiveIntegerField(default=0, help_text="Never sent: no worker free")
    max_lateness_ms = models.FloatField(default=0)
    lateness = models.JSONField(
        default=dict,
        blank=True,
        help_text="Open model: {late_while_idle, busy_s}: late requests a worker was idle and "
        "waiting for, and the workers' seconds inside requests",
    )
    generator_cpu_s = models.FloatField(
        default=0, help_text="CPU time of every process that generated the load, summed"
    )
    wall_s = models.FloatField(default=0)
    worker_failures = models.JSONField(default=list)
    missing_data = models.JSONField(
        default=dict,
        blank=True,
        help_text="What never arrived from lost Locust workers: {workers, users, share}",
    )
    ok_throughput = models.FloatField(
        default=0, help_text="Answers as expected per second of window"
    )
    corrected = models.JSONField(
        default=dict,
        help_text="Closed model, coordinated-omission corrected latency: "
        "{expected_interval_ms, p50_ms, p90_ms, p95_ms, p99_ms, max_ms, histogram}",
    )
    system_cores = models.FloatField(
        null=True, blank=True, help_text="Cores busy on the whole machine during the level"
    )
    other_cores = models.FloatField(
        null=True,
        blank=True,
        help_text="Cores used by processes other than perftest and the target",
    )
    aborted = models.TextField(
        blank=True, help_text="Why and when an abort threshold stopped the level early"
    )
    soak = models.JSONField(
        default=dict,
        blank=True,
        help_text="--soak: {steady_s, warmup_s, checkpoint_s, checkpoints, covered_s, "
        "warmup_ends_at, warmup_ends_s (after the first window's start), "
        "resources_warmup_ends_s (after sampling started), allocations (in-process: the lines "
        "whose live memory grew most over the steady part)}; {} for other levels",
    )
    database_connections = models.JSONField(
        default=dict,
        blank=True,
        help_text="Connections open to the run's database during the level: "
        "{peak, mean, server_limit, database_limit, unavailable}",
    )
    server_cores = models.FloatField(
        null=True, blank=True, help_text="Cores the measured server's processes used"
    )
    database_cores = models.FloatField(
        null=True, blank=True, help_text="Cores a database server on this machine used"
    )
    generator_processes = models.PositiveIntegerField(
        default=1, help_text="Processes that generated the load (generator_cpu_s is their sum)"
    )

    class Meta:
        ordering = ["run", "position"]

    def __str__(self) -> str:
        if self.model == self.Model.OPEN:
            return f"{self.rate:g} req/s (open, {self.concurrency} workers)"
        return f"{self.concurrency} concurrent (closed)"

    @property
    def sent_total(self) -> int:
        """Every request the level sent: counted, ramp-up, logins and capture requests."""
        return self.requests + self.rampup_requests + self.login_requests + self.capture_requests

    @property
    def generator_cores(self) -> float:
        """Cores the load generator used on average during the level, summed over its
        ``generator_processes`` (one per thread engine; the Locust master and workers)."""
        return self.generator_cpu_s / self.wall_s if self.wall_s else 0.0


class EndpointResult(MeasuredFigures):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="endpoints")
    level = models.ForeignKey(
        LoadLevel, null=True, blank=True, on_delete=models.CASCADE, related_name="endpoints"
    )
    position = models.PositiveIntegerField()
    phase = models.CharField(
        max_length=20,
        default="sequential",
        help_text="sequential, sequential-http (--mode both) or level",
    )
    name = models.CharField(max_length=200)
    role = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text="The role whose identity measured it; empty when the run has one role",
    )
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    expected_status = models.PositiveSmallIntegerField()
    planned = models.PositiveIntegerField(default=0)
    not_measured = models.TextField(blank=True, help_text="Why the endpoint was not measured")
    interrupted = models.BooleanField(default=False)
    stdev_ms = models.FloatField(default=0)
    sum_ns = models.BigIntegerField(default=0)
    sumsq_ns = models.TextField(default="0", help_text="Exact sum of squares (may exceed 64 bits)")
    bytes_total = models.BigIntegerField(default=0)
    sql_captured = models.BooleanField(default=False)
    queries_total = models.PositiveIntegerField(default=0)
    queries_max = models.PositiveIntegerField(default=0)
    sql_ms_total = models.FloatField(default=0)
    duplicate_queries = models.JSONField(
        default=list, help_text="[{sql, max_per_request, requests}]"
    )
    body_kind = models.CharField(
        max_length=16, blank=True, help_text="Shape of the expected answers: list, page, object…"
    )
    empty_answers = models.PositiveIntegerField(
        default=0, help_text="Expected answers that were an empty list or page"
    )
    configuration = models.JSONField(
        default=dict,
        help_text="A configuration problem of this endpoint: {problem, detail, suggestions}",
    )
    statements = models.JSONField(
        default=list,
        blank=True,
        help_text="Normalized statements of the answers as expected: [{sql, count}]",
    )
    profile = models.JSONField(
        default=dict, blank=True, help_text="cProfile of extra requests (--profile)"
    )
    explain = models.JSONField(
        default=list, blank=True, help_text="Query plans of its costly statements (--explain)"
    )
    set_apart = models.BooleanField(
        default=False,
        help_text="The login, set apart from the endpoints under test (its password hash is "
        "slow on purpose): left out of the run lists' worst p95 unless LOGIN UNDER_TEST",
    )

    class Meta:
        ordering = ["run", "phase", "position"]

    def __str__(self) -> str:
        return f"{self.name} ({self.method} {self.path})"

    @property
    def label(self) -> str:
        """How findings and reports name the row: ``Get Lessons (teacher)`` when the run has
        several roles, the endpoint's name alone otherwise."""
        return f"{self.name} ({self.role})" if self.role else self.name

    @property
    def measured(self) -> bool:
        return not self.not_measured

    @property
    def mean_bytes(self) -> float:
        return self.bytes_total / self.requests if self.requests else 0.0

    @property
    def judged_queries(self) -> int:
        """Queries run by the answers as expected (the unexpected classes' taken out)."""
        return self.queries_total - sum(c.get("queries", 0) for c in self.answer_classes)

    @property
    def judged_sql_ms(self) -> float:
        """SQL time of the answers as expected (the unexpected classes' taken out)."""
        return self.sql_ms_total - sum(c.get("sql_ms", 0.0) for c in self.answer_classes)

    @property
    def queries_mean(self) -> float:
        """Queries per answer as expected: a throttle's own lookups are not the endpoint's."""
        return self.judged_queries / self.judged_count if self.judged_count else 0.0

    @property
    def sql_share(self) -> float:
        """SQL time as a fraction of the response time, over the answers as expected."""
        total_ms = self.sum_ns / 1e6
        return self.judged_sql_ms / total_ms if total_ms else 0.0


class ResourceSample(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="resource_samples")
    offset_s = models.FloatField()
    rss_bytes = models.BigIntegerField()
    cpu_percent = models.FloatField(help_text="Percent of one core, summed over processes")
    threads = models.PositiveIntegerField()
    open_files = models.PositiveIntegerField()
    processes = models.JSONField(
        default=list, help_text="Per process: pid, name, rss_bytes, cpu_percent (summed above)"
    )
    system_cpu_percent = models.FloatField(
        null=True, blank=True, help_text="The whole machine's CPU, percent of all cores"
    )
    generator_cpu_percent = models.FloatField(
        null=True, blank=True, help_text="perftest's own process, percent of one core"
    )

    class Meta:
        ordering = ["run", "offset_s"]


class Finding(models.Model):
    class Kind(models.TextChoices):
        THRESHOLD = "threshold"
        BOTTLENECK = "bottleneck"
        KEY = "key"
        CONFIGURATION = "configuration"
        #: A change against the baseline run beyond noise (regression or improvement).
        BASELINE = "baseline"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="findings")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    rule = models.CharField(max_length=60, help_text="The rule that chose this finding")
    subject = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=300)
    evidence = models.TextField(blank=True)
    recommendation = models.TextField(blank=True)
    target = models.CharField(max_length=100, blank=True)
    actual = models.CharField(max_length=100, blank=True)
    passed = models.BooleanField(null=True, help_text="Threshold verdict; empty if not evaluated")

    class Meta:
        ordering = ["run", "position"]


class SeededObject(models.Model):
    """A row perftest created, so that it removes exactly what it created and nothing else."""

    batch = models.CharField(max_length=32, db_index=True)
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_pk = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["content_type", "object_pk"])]
