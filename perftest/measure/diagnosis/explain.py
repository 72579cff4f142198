"""``--explain``: PostgreSQL's plans of an endpoint's costly SELECT statements, read safely.

The measured requests keep only SQL text, so that capturing stays cheap; the plans need the
parameters too. One more request is therefore sent after the measured ones with a recorder
that keeps (SQL, parameters, duration) of that request alone. Its most expensive SELECT and
every SELECT it repeated ``sqlnorm.DUPLICATE_THRESHOLD`` times or more (N+1 suspects) are
explained with ``EXPLAIN (FORMAT JSON)`` on the connection that ran them, inside a savepoint
so that a statement PostgreSQL refuses leaves the caller's transaction usable. Never ANALYZE
(that would run the statement) and never anything but one SELECT.

Parameters can be tokens, so nothing here keeps a value: the statement is stored normalized,
a plan's filter has its literals replaced by ``?``, the raw plan is read and dropped, and an
EXPLAIN that fails is stored by its exception class only (a message can quote a value).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connections, transaction

from perftest import sqlnorm

from ..endpoint_result import error_reason
from ..transport.base import RequestSpec, Transport
from ..transport.inprocess import ConnectionWrapper

#: Statements explained per endpoint at most (the costliest, then the N+1 suspects).
STATEMENTS_KEPT = 5
#: Scan nodes kept per plan, and how long stored SQL or filter text may be.
SCANS_KEPT = 10
TEXT_CHARS = 2000

_perf_ns = time.perf_counter_ns
_INDEX_NODES = ("Index Scan", "Index Only Scan", "Bitmap Index Scan")

#: Literals in a plan's filter text: strings (with their casts kept) and numbers.
_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w.$\"])-?\d+(?:\.\d+)?(?![\w\"])")
_PARAMETER = re.compile(r"\$\d+")
#: A cast (``::text``, ``::timestamp with time zone``, ``::integer[]``): a type, not a column.
_CAST = re.compile(
    r"::\s*\"?[A-Za-z_][\w]*\"?(?:\s+(?:varying|precision|with(?:out)?\s+time\s+zone))?(?:\[\])*"
)
#: A column, maybe qualified by its table (``t.name``: the last part is kept); not a function.
_IDENTIFIER = re.compile(
    r'(?:(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)\.)?(?:"((?:[^"]|"")+)"|\b([A-Za-z_][\w$]*)\b)(?!\s*\()'
)
_NOT_COLUMNS = frozenset(
    ("and", "or", "not", "is", "null", "true", "false", "any", "all", "some", "in", "like")
    + ("ilike", "similar", "to", "between", "distinct", "from", "array", "case", "when")
    + ("then", "else", "end", "subplan", "hashed", "initplan", "escape", "collate")
)


@dataclass(frozen=True)
class Statement:
    """One statement of the captured request: which connection ran it, and how long it took.
    ``params`` lives only until the statement is explained."""

    alias: str
    sql: str
    params: Any
    many: bool
    duration_ns: int

    @property
    def normalized(self) -> str:
        return sqlnorm.normalize(self.sql)

    @property
    def explainable(self) -> bool:
        """One SELECT, run once (not executemany), with no second statement after it."""
        masked = _STRING.sub("?", self.sql).strip().rstrip(";")
        return not self.many and masked[:6].upper() == "SELECT" and ";" not in masked


class _ParameterRecorder(ConnectionWrapper):
    """Keeps every statement of the calling thread's connections, parameters included, while
    installed: for the one extra request whose statements are explained."""

    def __init__(self) -> None:
        super().__init__()
        self.statements: list[Statement] = []

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        start = _perf_ns()
        try:
            return execute(sql, params, many, context)
        finally:
            alias = context["connection"].alias
            self.statements.append(Statement(alias, sql, params, many, _perf_ns() - start))


def unavailable(alias: str = "default") -> str:
    """Why no plan can be read on the database ``alias`` ("" when it is PostgreSQL)."""
    vendor = connections[alias].vendor
    return "" if vendor == "postgresql" else f"EXPLAIN plans are read on PostgreSQL, not {vendor}"


def _chosen(statements: list[Statement]) -> list[tuple[Statement, str]]:
    """The costliest SELECT, then each repeated SELECT group by its costliest run, with the
    reason each was chosen; one entry per normalized statement."""
    selects = [s for s in statements if s.explainable]
    if not selects:
        return []
    reasons: dict[str, list[str]] = {}
    picked: dict[str, Statement] = {}
    costliest = max(selects, key=lambda s: s.duration_ns)
    reasons[costliest.normalized] = ["most expensive"]
    picked[costliest.normalized] = costliest
    repeats = sqlnorm.repeated([s.sql for s in selects])
    for normalized, times in repeats.items():
        group = [s for s in selects if s.normalized == normalized]
        picked.setdefault(normalized, max(group, key=lambda s: s.duration_ns))
        reasons.setdefault(normalized, []).append(f"repeated {times}× in one request")
    chosen = list(picked)[:STATEMENTS_KEPT]
    return [(picked[sql], "; ".join(reasons[sql])) for sql in chosen]


def masked(text: str) -> str:
    """A plan's condition with every literal replaced by ``?``: a filter can quote a token."""
    text = _STRING.sub("?", text)
    text = _PARAMETER.sub("?", text)
    return _NUMBER.sub("?", text)


def columns(condition: str) -> list[str]:
    """The column names a (masked) condition reads, in order, each once."""
    found: list[str] = []
    for quoted, bare in _IDENTIFIER.findall(_CAST.sub("", masked(condition))):
        name = quoted.replace('""', '"') if quoted else bare
        if not quoted and name.lower() in _NOT_COLUMNS:
            continue
        if name not in found:
            found.append(name)
    return found


def _cut(text: str) -> str:
    return text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…"


def _nodes(node: dict[str, Any], relation: str = "") -> Iterator[tuple[dict[str, Any], str]]:
    """Every node of a plan with the relation it reads, a bitmap index scan taking its heap
    scan's relation."""
    relation = node.get("Relation Name", relation)
    yield node, relation
    for child in node.get("Plans", ()):
        yield from _nodes(child, relation)


def _table_rows(cursor: Any, relation: str, plan_rows: float) -> tuple[int, str]:
    """The table's estimated row count from ``pg_class.reltuples`` (the planner's own
    statistics), else the node's Plan Rows when the table was never analysed."""
    cursor.execute(
        "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)",
        ['"' + relation.replace('"', '""') + '"'],
    )
    row = cursor.fetchone()
    if row is not None and row[0] is not None and row[0] >= 0:
        return int(row[0]), "pg_class"
    return int(plan_rows), "plan"


def _summary(plan: dict[str, Any], cursor: Any) -> dict[str, Any]:
    top = plan["Plan"]
    seq_scans, index_scans = [], []
    for node, relation in _nodes(top):
        kind = node.get("Node Type", "")
        if kind == "Seq Scan" and len(seq_scans) < SCANS_KEPT:
            rows, source = _table_rows(cursor, relation, node.get("Plan Rows", 0))
            condition = node.get("Filter", "")
            seq_scans.append(
                {
                    "relation": relation,
                    "table_rows": rows,
                    "rows_from": source,
                    "plan_rows": node.get("Plan Rows", 0),
                    "filter": _cut(masked(condition)),
                    "columns": columns(condition)[:SCANS_KEPT],
                }
            )
        elif kind in _INDEX_NODES and len(index_scans) < SCANS_KEPT:
            index_scans.append(
                {"node": kind, "relation": relation, "index": node.get("Index Name", "")}
            )
    return {
        "node": top.get("Node Type", ""),
        "cost": top.get("Total Cost", 0.0),
        "rows": top.get("Plan Rows", 0),
        "seq_scans": seq_scans,
        "index_scans": index_scans,
    }


def _plan_of(statement: Statement) -> dict[str, Any]:
    """The summary of one statement's plan, or why there is none (its exception class)."""
    gap = unavailable(statement.alias)
    if gap:
        return {"unavailable": gap}
    connection = connections[statement.alias]
    try:
        with transaction.atomic(using=statement.alias), connection.cursor() as wrapper:
            cursor = wrapper.cursor  # the driver's own: no execute wrapper sees the EXPLAIN
            with connection.wrap_database_errors:
                sql = "EXPLAIN (FORMAT JSON) " + statement.sql
                if statement.params is None:
                    cursor.execute(sql)
                else:
                    cursor.execute(sql, statement.params)
                (document,) = cursor.fetchone()
                plans = json.loads(document) if isinstance(document, str) else document
                return _summary(plans[0], cursor)
    except DatabaseError as exc:
        return {"unavailable": f"EXPLAIN failed ({type(exc).__name__})"}


def explain(transport: Transport, spec: RequestSpec, expected: int) -> list[dict[str, Any]]:
    """Send ``spec`` once with its statements recorded and explain the chosen ones.

    The list always says something once the request was sent: when its answer was not the
    expected one, or it ran no SELECT, one entry says so, so a stored run shows that the
    request happened and why it has no plan.
    """
    recorder = _ParameterRecorder()
    with recorder:
        sample = transport.send(spec)
    if sample.status != expected or sample.error is not None:
        return [
            {"sql": "", "reason": "", "unavailable": f"its request answered {error_reason(sample)}"}
        ]
    chosen = _chosen(recorder.statements)
    if not chosen:
        return [{"sql": "", "reason": "", "unavailable": "its request ran no SELECT statement"}]
    return [
        {"sql": _cut(statement.normalized), "reason": reason, **_plan_of(statement)}
        for statement, reason in chosen
    ]
