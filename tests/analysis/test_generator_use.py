"""The generator-limit rule sees the whole generator: every process that sent the load,
against the cores it could have had on a machine others, the server and the database share.

Stored rows only (``tests.support.stored_rows``): the figures are those of levels that
showed the problem, a two-process Locust engine at 1.54 of 2 cores and a thread engine at
0.64-0.70 core on a busy machine, which the old rule (the busiest process against one core)
missed.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from perftest.analysis.generator_use import (
    MIN_AVAILABLE_CORES,
    generator_saturated,
    generator_use,
)
from perftest.analysis.rules import generator as generator_rules
from tests.support.stored_rows import add_level, analyzed, load_run, of_rule

pytestmark = pytest.mark.django_db

TWO_CORES = {"environment": {"python": "3.12.1", "cpu_count": 2}, "resource_cpu_count": 2}


def on_engine(name: str, processes: int = 0, remote: int = 0):
    """A stored HTTP run on a two-core machine whose plan ran ``name``'s engine."""
    run = load_run(**TWO_CORES)
    engine = {"name": name, "processes": processes, "remote_workers": remote, "master_bind": ""}
    run.config = {**run.config, "load": {**run.config["load"], "engine": engine}}
    run.save()
    return run


def generator_findings(run):
    return of_rule(analyzed(run), generator_rules.GENERATOR_CPU)


def test_a_two_process_locust_engine_at_154_of_2_cores_is_the_limit():
    run = on_engine("locust", processes=2)
    add_level(
        run, 10, 400.0, 30.0, generator_cpu_s=15.4, wall_s=10.0, generator_processes=2,
        system_cores=1.92, other_cores=0.10, server_cores=0.28,
    )  # fmt: skip

    [found] = generator_findings(run)
    assert found.title == (
        "10 concurrent: figures are limited by the load generator, not the server: perftest "
        "used 1.54 cores of the 1.62 it could have (2 processes, 2 cores, others 0.10, server "
        "0.28)"
    )
    assert found.evidence == (
        "15.40 s of CPU in 10.00 s of wall time, summed over the generator's 2 processes: 1.54 "
        "cores, 95% of the 1.62 it could have (one core per process, at most the 1.62 of the "
        "machine's 2 cores that other programs, the server and the database left); the limit "
        "is 85%."
    )
    # No third core here: more processes would share the same two.
    assert found.recommendation.startswith(
        "This machine has no core to spare for another worker (1.62 of this machine's cores "
        "were left for perftest, 2 local worker processes): run workers on another machine "
        "(`--engine locust --master` here, `manage.py perftest_worker --master HOST:PORT` there)"
    )


def test_a_thread_engine_at_067_core_on_a_busy_machine_is_the_limit_and_names_locust():
    run = on_engine("threads")
    add_level(
        run, 10, 400.0, 30.0, generator_cpu_s=6.7, wall_s=10.0, generator_processes=1,
        system_cores=1.97, other_cores=0.55, server_cores=0.70, database_cores=0.05,
    )  # fmt: skip

    [found] = generator_findings(run)
    assert found.title.endswith(
        "perftest used 0.67 cores of the 0.70 it could have (1 process, 2 cores, others 0.55, "
        "server 0.70, database 0.05)"
    )
    assert "`--engine locust --processes 2`" in found.recommendation
    assert "0.70 of this machine's cores were left for perftest" in found.recommendation


def test_a_thread_engine_with_cores_to_spare_is_told_how_many_processes_to_use():
    run = on_engine("threads")
    run.environment, run.resource_cpu_count = {"cpu_count": 8}, 8
    run.save()
    add_level(run, 10, 400.0, 30.0, generator_cpu_s=9.3, wall_s=10.0, other_cores=0.5,
              server_cores=2.0, system_cores=3.43)  # fmt: skip

    [found] = generator_findings(run)
    assert found.recommendation == (
        "Send the load from several processes: `--engine locust --processes 5` (5.50 of this "
        "machine's cores were left for perftest)."
    )


def test_a_quiet_level_at_03_core_is_not_the_generators_limit():
    run = on_engine("threads")
    add_level(run, 10, 400.0, 30.0, generator_cpu_s=3.0, wall_s=10.0, system_cores=0.6,
              other_cores=0.05, server_cores=0.25)  # fmt: skip
    assert generator_findings(run) == []


def test_a_level_stored_without_the_machines_load_is_judged_on_its_processes_alone():
    # Levels stored before the machine was read per Locust level: one process, no figures.
    run = on_engine("threads")
    add_level(run, 10, 400.0, 30.0, generator_cpu_s=9.0, wall_s=10.0)
    [found] = generator_findings(run)
    assert found.title.endswith(
        "perftest used 0.90 cores of the 1.00 it could have (1 process, 2 cores)"
    )
    assert "(its other load was not read for this level)" in found.evidence


def level(cpu_s: float, processes: int = 1, **machine) -> SimpleNamespace:
    figures = {"other_cores": None, "server_cores": None, "database_cores": None, **machine}
    return SimpleNamespace(
        generator_cpu_s=cpu_s, wall_s=10.0, generator_processes=processes, **figures
    )


def test_generator_saturated_weighs_the_sum_against_the_processes_and_the_cores_left():
    # Two processes at 0.77 core each: the old rule's busiest process was under 0.85.
    assert generator_saturated(level(15.4, 2, other_cores=0.1, server_cores=0.28), 2)
    assert not generator_saturated(level(15.4, 2), 4), "two processes on four idle cores"
    use = generator_use(level(15.4, 2, other_cores=0.1, server_cores=0.28), 2)
    assert (use.cores, round(use.available, 2), use.processes, use.saturated) == (
        1.54,
        1.62,
        2,
        True,
    )
    assert generator_saturated(level(8.8), 4), "0.88 of a core is one busy Python thread"
    assert not generator_saturated(level(8.0), 4)
    short = SimpleNamespace(**{**vars(level(0.004)), "wall_s": 0.003})
    assert not generator_saturated(short, 4), "a level of 3 ms says nothing about CPU"


def test_a_full_machine_leaves_the_generator_at_least_a_floor_and_remote_workers_a_core_each():
    crowded = generator_use(level(2.0, other_cores=1.9, server_cores=0.5), 2)
    assert crowded.available == MIN_AVAILABLE_CORES and not crowded.saturated
    # One local worker on a two-core machine and two on other machines.
    spread = generator_use(level(25.0, 3, other_cores=0.2, server_cores=0.3), 2, 2)
    assert (spread.available, spread.remote, spread.saturated) == (3.0, 2, False)
    assert "3 processes, 2 of them on other machines" in spread.text()
