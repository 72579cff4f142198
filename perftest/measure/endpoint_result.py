"""One endpoint's figures in one phase, built as its answers arrive: ``EndpointResult``.

``EndpointResult.record`` turns each sample into figures (latency of the answers as expected,
SQL, body shape, unexpected answers grouped by class with their own figures), so no list of
samples is kept, and per-worker results merge exactly. ``to_dict``/``from_dict`` carry every
figure across a process boundary as JSON-ready data, the latency histogram encoded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from perftest import sqlnorm
from perftest.plan.model import ConfigurationProblem
from perftest.redact import Redactor

from . import body_shape
from .server_times import ServerTimes
from .stats import LatencyStats
from .windows import LatencyWindows

if TYPE_CHECKING:  # a transport's Sample is only read here, never built
    from perftest.plan.model import Endpoint

    from .transport.base import Sample

#: Distinct normalized statements an endpoint counts; the rest are summed under one key.
STATEMENTS_KEPT = 100
OTHER_STATEMENTS = "(other statements)"

#: How many distinct Retry-After values an answer class counts one by one (a throttle's waits
#: are whole seconds up to its window; an HTTP date changes every second). An answer whose
#: value is beyond them is still counted among those that carried the header.
RETRY_AFTER_DISTINCT = 1000


@dataclass
class ErrorGroup:
    """Unexpected answers of one class, with one redacted example and their own figures.

    Their latency and SQL are kept apart from the endpoint's verdict figures (which hold the
    answers as expected only), so a throttle's 2 ms 429s never pass for a fast endpoint, yet
    the report can still show how long those answers took. The answers that carried a
    Retry-After header are counted exactly (``retry_after_answers``; the others had none), and
    each distinct value with its count (up to ``RETRY_AFTER_DISTINCT``), since a throttle's
    waits differ answer by answer.
    """

    reason: str
    count: int
    example: str
    latency: LatencyStats = field(default_factory=LatencyStats)
    queries: int = 0
    sql_ns: int = 0
    retry_after: dict[str, int] = field(default_factory=dict)
    retry_after_answers: int = 0

    def note_retry_after(self, value: str | None) -> None:
        if value is None:
            return
        self.retry_after_answers += 1
        seen = self.retry_after
        if value in seen:
            seen[value] += 1
        elif len(seen) < RETRY_AFTER_DISTINCT:
            seen[value] = 1

    def merge(self, other: ErrorGroup) -> None:
        self.count += other.count
        self.latency.merge(other.latency)
        self.queries += other.queries
        self.sql_ns += other.sql_ns
        self.retry_after_answers += other.retry_after_answers
        for value, n in other.retry_after.items():
            if value in self.retry_after or len(self.retry_after) < RETRY_AFTER_DISTINCT:
                self.retry_after[value] = self.retry_after.get(value, 0) + n

    def to_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "count": self.count,
            "example": self.example,
            "latency": self.latency.to_dict(),
            "queries": self.queries,
            "sql_ns": self.sql_ns,
            "retry_after": dict(self.retry_after),
            "retry_after_answers": self.retry_after_answers,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ErrorGroup:
        fields = dict(data)
        fields["latency"] = LatencyStats.from_dict(data["latency"])
        fields["retry_after"] = dict(data["retry_after"])
        return cls(**fields)


@dataclass
class QueryGroup:
    """A normalized statement that ran at least three times within single requests (seen
    in-process, or named by the server's own account over HTTP)."""

    sql: str
    max_per_request: int
    requests: int


def error_reason(sample: Sample) -> str:
    """The group an unexpected sample falls into: its status, else its failure class."""
    if sample.status is None:
        return sample.error or "no response"
    if sample.error:
        return f"HTTP {sample.status} {sample.error.split(':', 1)[0]}"
    return f"HTTP {sample.status}"


@dataclass
class EndpointResult:
    """Everything measured for one endpoint in one phase.

    ``requests`` counts every answer; ``latency`` (and the SQL figures' verdict share) holds
    only the answers with the expected status, as k6's ``expected_response`` does; every
    other answer is counted in its class (``errors``) with that class's own latency.
    """

    name: str
    method: str
    path: str
    expected_status: int
    #: The role whose identity sent these requests; "" when the run has one role.
    role: str = ""
    requests: int = 0
    planned: int = 0
    not_measured: str = ""
    interrupted: bool = False
    latency: LatencyStats = field(default_factory=LatencyStats)
    #: The same answers' latency per time window, for the comparison's noise rule and charts
    #: (with the other answers counted per window: a soak's error rate over time).
    windows: LatencyWindows = field(default_factory=LatencyWindows)
    ok: int = 0
    status_counts: dict[str, int] = field(default_factory=dict)
    errors: dict[str, ErrorGroup] = field(default_factory=dict)
    bytes_total: int = 0
    sql_captured: bool = False
    queries_total: int = 0
    queries_max: int = 0
    sql_ns_total: int = 0
    duplicate_queries: dict[str, QueryGroup] = field(default_factory=dict)
    #: The shape of the expected answers (``body_shape``), and how many were empty.
    body_kind: str = ""
    empty_answers: int = 0
    #: The endpoint's configuration problem (``ConfigurationProblem.as_dict``), or {}.
    configuration: dict[str, Any] = field(default_factory=dict)
    #: Normalized statement -> executions, over the answers as expected only, so a baseline
    #: comparison can name the SQL a request gained (at most ``STATEMENTS_KEPT`` kept).
    statements: dict[str, int] = field(default_factory=dict)
    #: What ``--profile`` saw of this endpoint's extra requests ({} when not profiled).
    profile: dict[str, Any] = field(default_factory=dict)
    #: Query plans of its costly statements (``--explain``), JSON-ready.
    explain: list[dict[str, Any]] = field(default_factory=list)
    #: The server's own account of the answers as expected (``Server-Timing``, over HTTP).
    server: ServerTimes = field(default_factory=ServerTimes)

    @classmethod
    def empty(cls, endpoint: Endpoint, role: str = "") -> EndpointResult:
        """No figures yet for ``endpoint`` (as ``role``); its configuration problem, if the plan
        found one."""
        result = cls(endpoint.name, endpoint.method, endpoint.path, endpoint.expected_status, role)
        if endpoint.problem is not None:
            result.configuration = endpoint.problem.as_dict()
        return result

    def record(self, sample: Sample, redactor: Redactor) -> None:
        self.requests += 1
        key = str(sample.status) if sample.status is not None else "none"
        self.status_counts[key] = self.status_counts.get(key, 0) + 1
        self.bytes_total += sample.size
        queries = sample.queries
        if sample.status == self.expected_status and sample.error is None:
            self.ok += 1
            self.latency.record(sample.elapsed_ns)
            self.windows.record(sample.elapsed_ns)
            self._inspect(sample.body)
            if queries:
                self._count_statements(queries)
            if sample.server is not None:
                self.server.record(sample.elapsed_ns, sample.server)
        else:
            self.windows.record_error()
            group = self._record_error(sample, redactor)
            if queries is not None:
                group.queries += len(queries)
                group.sql_ns += sample.sql_ns
        if queries is not None:
            self.sql_captured = True
            count = len(queries)
            self.queries_total += count
            if count > self.queries_max:
                self.queries_max = count
            self.sql_ns_total += sample.sql_ns
            for sql, times in sqlnorm.repeated(queries).items():
                self._count_repeat(sql, times)
        elif sample.server is not None and sample.server.repeated >= sqlnorm.DUPLICATE_THRESHOLD:
            # Over HTTP the server's own account names its most repeated statement.
            server = sample.server
            self._count_repeat(sqlnorm.normalize(server.repeated_sql), server.repeated)

    def _count_repeat(self, sql: str, times: int) -> None:
        """One request ran the normalized statement ``sql`` ``times`` times (an N+1 suspect)."""
        group = self.duplicate_queries.get(sql)
        if group is None:
            self.duplicate_queries[sql] = QueryGroup(sql, times, 1)
        else:
            group.max_per_request = max(group.max_per_request, times)
            group.requests += 1

    def _inspect(self, body: bytes) -> None:
        """Read the shape of the first expected answer; then check emptiness only while every
        expected answer so far was empty (one non-empty answer ends the checks)."""
        if not self.body_kind:
            shape = body_shape.classify(body, self.path)
            self.body_kind = shape.kind
            self.empty_answers += shape.empty
            if shape.links and not self.configuration:
                self.configuration = ConfigurationProblem.router_root(
                    self.path.split("?", 1)[0], shape.links
                ).as_dict()
        elif self.body_kind in body_shape.COLLECTIONS and self.empty_answers == self.ok - 1:
            self.empty_answers += body_shape.is_empty(body)

    def _count_statements(self, queries: Sequence[str]) -> None:
        statements = self.statements
        for sql in map(sqlnorm.normalize, queries):
            if sql in statements:
                statements[sql] += 1
            elif len(statements) < STATEMENTS_KEPT:
                statements[sql] = 1
            else:
                statements[OTHER_STATEMENTS] = statements.get(OTHER_STATEMENTS, 0) + 1

    def _record_error(self, sample: Sample, redactor: Redactor) -> ErrorGroup:
        """Count an unexpected answer in its class (made on its first answer) and return it."""
        reason = error_reason(sample)
        group = self.errors.get(reason)
        retry_after = sample.headers.get("Retry-After") or None
        if group is None:
            parts = []
            if sample.error:
                parts.append(redactor.text(sample.error))
            if retry_after:
                parts.append(f"Retry-After: {retry_after}")
            if sample.body:
                parts.append(redactor.excerpt(sample.body))
            group = self.errors[reason] = ErrorGroup(reason, 0, " | ".join(parts))
        group.count += 1
        group.latency.record(sample.elapsed_ns)
        group.note_retry_after(retry_after)
        return group

    def merge(self, other: EndpointResult) -> None:
        """Fold another worker's figures for the same endpoint into this one."""
        self.requests += other.requests
        self.planned += other.planned
        self.latency.merge(other.latency)
        self.windows.merge(other.windows)
        self.ok += other.ok
        for key, n in other.status_counts.items():
            self.status_counts[key] = self.status_counts.get(key, 0) + n
        for reason, group in other.errors.items():
            mine = self.errors.get(reason)
            if mine is None:
                mine = self.errors[reason] = ErrorGroup(group.reason, 0, group.example)
            mine.merge(group)
        self.bytes_total += other.bytes_total
        self.body_kind = self.body_kind or other.body_kind
        self.empty_answers += other.empty_answers
        self.configuration = self.configuration or other.configuration
        self.sql_captured = self.sql_captured or other.sql_captured
        self.queries_total += other.queries_total
        self.queries_max = max(self.queries_max, other.queries_max)
        self.sql_ns_total += other.sql_ns_total
        for sql, count in other.statements.items():
            if sql in self.statements or len(self.statements) < STATEMENTS_KEPT:
                self.statements[sql] = self.statements.get(sql, 0) + count
            else:
                self.statements[OTHER_STATEMENTS] = self.statements.get(OTHER_STATEMENTS, 0) + count
        self.profile = self.profile or other.profile
        self.explain = self.explain or other.explain
        self.server.merge(other.server)
        for sql, group in other.duplicate_queries.items():
            mine_q = self.duplicate_queries.get(sql)
            if mine_q is None:
                self.duplicate_queries[sql] = QueryGroup(sql, group.max_per_request, group.requests)
            else:
                mine_q.max_per_request = max(mine_q.max_per_request, group.max_per_request)
                mine_q.requests += group.requests

    def to_dict(self) -> dict[str, Any]:
        """Every figure as JSON-ready data; ``from_dict`` rebuilds an equal result."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["latency"] = self.latency.to_dict()
        data["windows"] = self.windows.to_dict()
        data["status_counts"] = dict(self.status_counts)
        data["statements"] = dict(self.statements)
        data["errors"] = [group.to_dict() for group in self.errors.values()]
        data["server"] = self.server.to_dict()
        data["duplicate_queries"] = [
            dataclasses.asdict(group) for group in self.duplicate_queries.values()
        ]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EndpointResult:
        fields = dict(data)
        fields["latency"] = LatencyStats.from_dict(data["latency"])
        fields["windows"] = LatencyWindows.from_dict(data["windows"])
        fields["status_counts"] = dict(data["status_counts"])
        fields["statements"] = dict(data.get("statements", {}))
        fields["errors"] = {g["reason"]: ErrorGroup.from_dict(g) for g in data["errors"]}
        fields["duplicate_queries"] = {q["sql"]: QueryGroup(**q) for q in data["duplicate_queries"]}
        fields["server"] = ServerTimes.from_dict(data.get("server"))
        return cls(**fields)


def row_key(name: str, role: str) -> str:
    """How a level keys its per-endpoint rows: the endpoint's name, with the role when the
    run splits its results by role."""
    return f"{name}\u0000{role}" if role else name
