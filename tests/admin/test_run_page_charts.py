"""The admin's run page draws the HTML report's figures, the whole run over time among them:
every phase marked, and the sentence saying how the phases are laid."""

from __future__ import annotations

import re

import pytest

from tests.support.admin_pages import LIST, user
from tests.support.stored_rows import add_endpoint, add_level, load_run, stored_windows

pytestmark = pytest.mark.django_db


def test_the_whole_run_chart_is_on_the_admin_run_page():
    run = load_run()
    add_endpoint(run, "Get Profile")
    add_level(run, 1, 40.0, 20.0, windows=stored_windows(20, 25, 30))
    add_level(run, 10, 120.0, 80.0)

    response = user("viewer").get(f"{LIST}{run.pk}/change/")

    page = response.content.decode()
    figure = re.search(r'<figure class="perftest-chart" id="whole-run".*?</figure>', page, re.S)
    assert response.status_code == 200 and figure
    assert len(re.findall(r'<g class="phase-marker"', figure.group(0))) == 3
    assert "<figcaption>Phases are drawn end to end" in figure.group(0)
