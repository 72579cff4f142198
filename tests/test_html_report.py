"""The HTML report: one self-contained page from the report's sections, with SVG charts.

A real in-process run with two closed levels gives every chart data; stored rows built with
the ORM prove the knee mark, the per-process series and that stored text cannot inject markup.
The page is opened in Debian's headless Chromium, which must find the charts in its DOM.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from django.core.management import call_command

from perftest import models
from perftest.analysis.rules import levels as level_rules
from perftest.reports import charts, html
from perftest.store.read import StoredRun
from perftest.text import MB
from tests.test_concurrency_report import add_level
from tests.test_report_rules import add_endpoint, add_samples, analyzed, make_run

CHROMIUM = "/usr/bin/chromium"
#: Two closed levels so the scaling chart has a curve; one light endpoint keeps it short.
REAL_RUN = [
    "--endpoints",
    "Get Profile,Get Lessons",
    "--warmup",
    "1",
    "--iterations",
    "5",
    "--concurrency",
    "1,2",
    "--duration",
    "1",
]
CHART_TITLES = (
    "Latency percentiles per endpoint (sequential)",
    "Throughput as expected and p95 against concurrency",
    "RSS over time per process",
    "CPU over time per process",
)


def real_run(tmp_path) -> StoredRun:
    call_command("perftest", "--output", str(tmp_path), *REAL_RUN, stdout=io.StringIO())
    return StoredRun.of(models.Run.objects.latest("pk"))


def svg_titles(page: str) -> list[str]:
    """The ``<title>`` of every inline SVG chart of the page, in order."""
    return re.findall(r"<svg[^>]*>.*?<title>(.*?)</title>", page, flags=re.S)
