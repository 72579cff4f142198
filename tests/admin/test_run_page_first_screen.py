"""The run page opens with the first screen: the verdict and the report's "At a glance" lines
before any field, the label and notes still editable near the top, and how the run was made
(iterations, fingerprint, host, pid, plan, environment) folded below the results. Each link of
the first screen leads to a row or table of the page, or into the HTML report at its heading.
"""

from __future__ import annotations

import re

import pytest

from perftest.analysis.rules.endpoints import N_PLUS_ONE
from perftest.reports import anchors
from tests.support.admin_pages import LIST, user
from tests.support.first_screen_runs import compared_run, endpoints_run

pytestmark = pytest.mark.django_db


def page_of(pk: int, *perms: str) -> str:
    response = user("reader", perms=("view_run", *perms)).get(f"{LIST}{pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_first_screen_comes_before_every_field_and_how_the_run_was_made_folds_last():
    stored = endpoints_run()
    page = page_of(stored.pk, "change_run")

    first = page.index('id="first-screen"')
    assert page.index('id="verdict"') < first < page.index("Slowest endpoint")
    # The label and your notes: editable, right under the first screen, above the results.
    assert first < page.index('name="label"') < page.index('name="comment"')
    assert page.index('name="comment"') < page.index("Executive summary")
    assert page.index("Executive summary") < page.index('id="endpoint-results"')
    # How the run was made: one fold, after the results, holding those fields and the plan.
    folded = re.search(
        r'<details class="perftest-section" id="how-this-run-was-made">(.*)</details>', page, re.S
    )
    assert folded and folded.start() > page.index('id="thresholds"')
    made = ("iterations", "warmup", "recorded_notes", "plan_fingerprint", "baseline_run", "host")
    for field in made:
        assert f"field-{field}" in folded[1] and f"field-{field}" not in page[: folded.start()]
    assert 'id="plan"' in folded[1] and 'id="environment"' in folded[1]


def test_the_first_screens_links_lead_to_this_pages_rows_or_into_the_html_report():
    stored = endpoints_run()
    page = page_of(stored.pk)
    (cause,) = [f for f in stored.findings if f.rule == N_PLUS_ONE]
    anchor = anchors.of_finding(stored, cause)

    screen = page[page.index('id="first-screen"') : page.index('class="form-row')]
    assert '<a href="#endpoint-results">Slowest endpoint</a>' in screen
    assert f'<a href="#{anchor}">{cause.title}</a>' in screen
    # The bottleneck's row among the findings carries that id.
    assert re.search(rf'<tr class="perftest-severity-warn" id="{anchor}">', page)
    assert 'id="endpoint-results"' in page


def test_what_this_page_does_not_show_opens_in_the_html_report_at_its_heading():
    stored = compared_run()
    page = page_of(stored.pk)
    baseline = stored.row.comparison["baseline"]["id"]

    report = f"{LIST}{stored.pk}/report/html/"
    assert f'<a href="{report}#compared-with-run-{baseline}">Since run #{baseline}</a>' in page


#: What JSON looks like as text: a key in quotes before its colon, or a brace opening an object.
JSON_SYNTAX = re.compile(r'"\w+":|\{\s*"|&quot;\w+&quot;:')


def text_of(html: str) -> str:
    """What a person reads of ``html``: its text, the tags left out."""
    return re.sub(r"<[^>]+>", " ", html)


def test_the_stored_plan_and_environment_read_as_names_and_values_not_json():
    stored = endpoints_run()
    page = page_of(stored.pk)

    environment = re.search(r'id="environment">(.*?)</details>', page, re.S)[1]
    assert not JSON_SYNTAX.search(text_of(environment))
    for name, value in stored.row.environment.items():
        if not isinstance(value, (dict, list)):
            assert f"<dt>{name}</dt><dd>{value}</dd>" in environment
    plan = re.search(r'id="plan">(.*?)</details>', page, re.S)[1]
    assert not JSON_SYNTAX.search(text_of(plan))
    assert "<dt>endpoints</dt>" in plan and "<dt>login</dt>" in plan
