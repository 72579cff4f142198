"""Checks of rendered reports shared by the format tests: schema validation, the JSON
round trip (every figure and finding title the Markdown shows is in the JSON), the JUnit
report's test cases, and the HTML page's chart titles (Debian's headless Chromium opens it)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any
from xml.etree import ElementTree

import jsonschema

from perftest.text import MB

CHROMIUM = "/usr/bin/chromium"
SCHEMA = json.loads(resources.files("perftest").joinpath("schemas/report.schema.json").read_text())

#: A figure in the Markdown: a number and its unit (``12.34 ms``, ``45.6 req/s``, ``3.1 MB``,
#: ``98.6%``, ``0.97 cores``). Numbers in dates, run ids and headings are not figures.
FIGURE = re.compile(r"(?<![\w.#-])([+-]?\d[\d,]*(?:\.\d+)?) ?(ms|req/s|MB|%|cores)(?!\w)")

#: How a JSON number can read in the Markdown, by unit (stored fractions as percent, bytes
#: as MB, CPU as cores).
READINGS = {
    "ms": (lambda x: x,),
    "req/s": (lambda x: x,),
    "MB": (lambda x: x, lambda x: x / MB),
    "%": (lambda x: x, lambda x: x * 100),
    "cores": (lambda x: x, lambda x: x / 100),
}


def validate(text: str) -> dict[str, Any]:
    """The JSON report parsed, after checking it against the published schema."""
    document = json.loads(text)
    jsonschema.validate(document, SCHEMA)
    return document


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def _decimals(token: str) -> int:
    return len(token.split(".")[1]) if "." in token else 0


def missing_figures(markdown: str, document: dict[str, Any]) -> list[str]:
    """The figures of the Markdown that no number of the JSON gives at the same precision and
    that no stored text of the JSON (evidence, reasons) carries verbatim."""
    leaves = list(_leaves(document))
    numbers = [float(x) for x in leaves if isinstance(x, int | float) and not isinstance(x, bool)]
    texts = " ".join(x for x in leaves if isinstance(x, str))
    missing = []
    for match in FIGURE.finditer(markdown):
        token, unit = match.groups()
        if match.group(0) in texts or token in texts:
            continue
        value, places = float(token.replace(",", "")), _decimals(token)
        tolerance = 0.5 * 10**-places + 1e-9
        if not any(
            abs(read(x) - value) <= tolerance or abs(abs(read(x)) - abs(value)) <= tolerance
            for x in numbers
            for read in READINGS[unit]
        ):
            missing.append(match.group(0))
    return missing


def missing_titles(markdown: str, document: dict[str, Any], stored: list[str]) -> list[str]:
    """The stored finding titles the Markdown shows that the JSON does not carry."""
    carried = {f["title"] for f in document["findings"]}
    carried |= {t["title"] for t in document["thresholds"]}
    return [title for title in stored if title in markdown and title not in carried]


def cases(xml: str) -> dict[str, list[ElementTree.Element]]:
    """The JUnit report's test cases by suite name, after checking its counts add up."""
    root = ElementTree.fromstring(xml)
    assert root.tag == "testsuites"
    suites = {}
    for suite in root.iter("testsuite"):
        found = suite.findall("testcase")
        assert int(suite.get("tests")) == len(found)
        assert int(suite.get("failures")) == sum(c.find("failure") is not None for c in found)
        assert int(suite.get("skipped")) == sum(c.find("skipped") is not None for c in found)
        suites[suite.get("name").rsplit(": ", 1)[1]] = found
    assert int(root.get("tests")) == sum(map(len, suites.values()))
    return suites


def svg_titles(page: str) -> list[str]:
    """The ``<title>`` of every inline SVG chart of the page, in order."""
    return re.findall(r"<svg[^>]*>.*?<title>(.*?)</title>", page, flags=re.S)
