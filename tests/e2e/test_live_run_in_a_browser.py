"""A running soak live in the admin, as a person sees it: Debian's Chromium through Playwright.

A real ``manage.py perftest --soak`` runs in a subprocess (``tests.support.soak_settings``: a
checkpoint every half second) on the test database, and gunicorn serves the project's admin
over the same database. Once the soak's first checkpoint is stored, the browser opens the run
list (the run marked running, with how much of its soak it has covered) and the run's page,
reads the live request count, and waits, however long a busy machine takes, for the page's
own script to show a different one without reloading the page (a mark set on the page's
``window`` survives only if it never reloads). Then the soak is stopped by its pid (SIGTERM:
it ends ``interrupted``, exit 130) and the page says, still without a reload, that the run
finished. On a 400 px screen the panel fits without scrolling sideways.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from perftest import models
from tests.support.chromium import CHROMIUM, CHROMIUM_ARGS, needs_chromium, staff_session
from tests.support.commands import ROOT
from tests.support.live_server import run_gunicorn, shared_database_url  # noqa: F401

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]

#: Two minutes of soak at 10 req/s: far longer than the test needs before it stops it.
SOAK = (
    *("--endpoints", "Get Profile", "--iterations", "2", "--warmup", "0"),
    *("--soak", "2m", "--soak-warmup", "1s", "--rate", "10", "--concurrency", "2"),
)
#: How long the soak may take to store its first checkpoint (set-up and the sequential pass
#: first), and to end once told to.
STARTS_WITHIN_S, ENDS_WITHIN_S = 120.0, 60.0
TIMEOUT_MS = 60_000
NARROW = 400
REQUESTS = '#live [data-live="requests"] .perftest-live-value'
#: The live request count, once the page shows one different from ``seen``.
CHANGED_JS = f"""
seen => {{
  const shown = document.querySelector('{REQUESTS}');
  return shown && shown.textContent !== seen ? shown.textContent : null;
}}
"""
FINISHED_JS = """
() => document.querySelector('#live [data-live-state]')?.dataset.liveRunning === 'no'
"""


@contextmanager
def soak_running(database_url: str, out: Path) -> Iterator[subprocess.Popen]:
    """The soak's process, running until the block ends (killed by its pid if still alive)."""
    log = (out / "soak.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "perftest", "--output", str(out), *SOAK],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "tests.support.soak_settings",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


def first_checkpoint(process: subprocess.Popen, out: Path) -> models.Run:
    """The soak's run once its first checkpoint is stored (its level with its ``soak``)."""
    deadline = time.monotonic() + STARTS_WITHIN_S
    while time.monotonic() < deadline:
        level = models.LoadLevel.objects.exclude(soak={}).select_related("run").first()
        if level is not None and level.run.status == models.Run.Status.RUNNING:
            return level.run
        assert process.poll() is None, (out / "soak.log").read_text()
        time.sleep(0.2)
    raise AssertionError(f"no checkpoint within {STARTS_WITHIN_S:g} s")


def test_a_running_soaks_page_shows_its_figures_change_without_a_reload_then_that_it_ended(
    shared_database_url,  # noqa: F811
    tmp_path,
):
    from playwright.sync_api import sync_playwright

    session = staff_session()
    with (
        soak_running(shared_database_url, tmp_path) as soak,
        run_gunicorn(shared_database_url, workers=1, threads=2) as server,
    ):
        run = first_checkpoint(soak, tmp_path)
        admin = f"{server.base_url}/admin/perftest/run/"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            context.set_default_timeout(TIMEOUT_MS)
            context.add_cookies([{"name": "sessionid", "value": session, "url": admin}])
            page = context.new_page()

            page.goto(admin)
            status = page.locator("#result_list td.field-status").inner_text()
            assert status.startswith("running soak ") and status.endswith(" % covered"), status

            page.goto(f"{admin}{run.pk}/change/")
            seen = page.locator(REQUESTS).inner_text()
            page.evaluate("window.perftestNeverReloaded = true")
            changed = page.wait_for_function(CHANGED_JS, arg=seen, timeout=TIMEOUT_MS)
            assert int(changed.json_value()) > int(seen)
            assert page.evaluate("window.perftestNeverReloaded") is True
            page.screenshot(path=str(tmp_path / "live-page.png"), full_page=True)
            page.locator("#live").screenshot(path=str(tmp_path / "live-panel.png"))
            # On a phone the panel's figures wrap and its chart shrinks: nothing scrolls sideways.
            phone = browser.new_context(viewport={"width": NARROW, "height": 900})
            phone.add_cookies([{"name": "sessionid", "value": session, "url": admin}])
            narrow = phone.new_page()
            narrow.goto(f"{admin}{run.pk}/change/")
            narrow.locator("#live").screenshot(path=str(tmp_path / "live-panel-narrow.png"))
            assert narrow.evaluate("document.documentElement.scrollWidth") <= NARROW
            phone.close()

            soak.send_signal(signal.SIGTERM)
            assert soak.wait(timeout=ENDS_WITHIN_S) == 130
            page.wait_for_function(FINISHED_JS, timeout=TIMEOUT_MS)
            assert page.evaluate("window.perftestNeverReloaded") is True
            headline = page.locator("#live .perftest-live-headline").inner_text()
            browser.close()

    assert headline == (
        f"Run #{run.pk} finished (interrupted): reload the page for its full report."
    )
    run.refresh_from_db()
    assert run.status == models.Run.Status.INTERRUPTED
