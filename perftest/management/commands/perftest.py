"""``manage.py perftest``: measure the API, store the run, write the report.

Thin by design: options in, ``runner.execute`` does the work, the reports and a summary out:
the verdict first (``analysis.verdict``: RED, GREEN, REGRESSED or INTERRUPTED with the count
of its reasons and the first ones), then the summary, then each reason on a line of its own;
the last line counts them again. Exit codes: 0 nothing red; 1 a red run (failed, a threshold
failed or not measured, a login failed, an endpoint not measured, a configuration finding),
unless --exit-zero; 2 usage or configuration error before the run starts (a ``--baseline``
that cannot be compared included); 3 a regression against the baseline with
--fail-on-regression (a red run exits 1 instead); 130 interrupted by Ctrl-C or SIGTERM (the
run is stored as interrupted either way).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.base import CommandError, CommandParser

from perftest import limits
from perftest.conf import ConfigError, get_config
from perftest.lifecycle import check, runner
from perftest.limits import Range
from perftest.management import usage
from perftest.management.usage import ranged, usage_error
from perftest.plan import scenario_file, scenario_writer
from perftest.plan.build import build_plan
from perftest.plan.inventory import inventory
from perftest.plan.preflight import preflight
from perftest.plan.routes import check_routes
from perftest.progress import Progress
from perftest.reports import console, formats, plan_check, routes
from perftest.store.read import StoredRun
from perftest.text import quantity

#: Profiled requests per endpoint when ``--profile`` is given without a number.
PROFILE_DEFAULT = 5


def _number(group: Any, flag: str, allowed: Range, text: str) -> None:
    """A numeric option of ``group`` that takes ``allowed``'s kind of number."""
    group.add_argument(flag, type=ranged(allowed), help=text)


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


#: The options that end the command before a run: one at a time.
ACTIONS = ("check", "write_scenario", "list_endpoints")


#: Options that only change what another option does: that option, and what they do with it.
NEEDS = {
    "force": ("write_scenario", "lets --write-scenario overwrite an existing file"),
    "check_writes": ("check", "lets --check send the endpoints whose method writes"),
    "uncovered": ("check", "lists the routes --check finds no endpoint for"),
}

#: The options that steer the command rather than the run; every other one is the plan's
#: (``plan.build.build_plan``'s keyword of the same name, or ``PLAN_NAMES``').
COMMAND_OPTIONS = (*ACTIONS, *NEEDS, "scenario", "format", "fail_on_breach", "exit_zero")
#: The plan's names of the options it names otherwise.
PLAN_NAMES = {"output": "output_dir", "threshold": "thresholds"}


def refuse_what_cannot_apply(given: dict[str, Any]) -> None:
    """A usage error for an option given a value it cannot use: an empty value, or an option
    the rest of the command line makes meaningless; ``given`` maps each option the user gave
    (its value differs from the default) to its value. ``--label ''`` is no label, the
    default, so it is never refused. ``--check`` takes a run's whole command line, each option
    checked as the run would; the load options without a level, and the HTTP options without
    ``--base-url``, are refused with the plan (``plan.build``)."""
    for dest, value in given.items():
        values = value if isinstance(value, list) else [value]
        if any(isinstance(item, str) and not item.strip() for item in values):
            raise usage_error(f"{_flag(dest)} was given an empty value: give one, or drop it.")
    actions = [_flag(dest) for dest in ACTIONS if dest in given]
    if len(actions) > 1:
        raise usage_error(f"{actions[0]} and {actions[1]} cannot be combined: give one of them.")
    for dest, (needed, does) in NEEDS.items():
        if dest in given and needed not in given:
            raise usage_error(f"{_flag(dest)} {does}: add {_flag(needed)}, or drop {_flag(dest)}.")
    action = next((dest for dest in ACTIONS if dest != "check" and dest in given), None)
    needless = [dest for dest in given if action and dest not in (action, "force")]
    if needless:
        raise usage_error(
            f"{_flag(needless[0])} does not apply with {_flag(action)}, which measures and "
            "stores nothing: drop it."
        )


class Command(usage.Command):
    help = "Measure the API's endpoints, store the run and write its reports (--format)."

    def add_arguments(self, parser: CommandParser) -> None:
        django_options = set(vars(parser.parse_args([])))
        self.add_options(parser)
        #: This command's own options and their defaults: what the user gave differs.
        self.defaults = {
            dest: default
            for dest, default in vars(parser.parse_args([])).items()
            if dest not in django_options
        }

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument("--endpoints", help="Comma-separated endpoint names (default: all).")
        _number(parser, "--iterations", limits.ITERATIONS, "Measured requests each.")
        _number(parser, "--warmup", limits.WARMUP, "Unrecorded requests first.")
        parser.add_argument("--label", default="", help="A name for this run in reports.")
        parser.add_argument("--output", help="Report folder (default PERFTEST['OUTPUT_DIR']).")
        parser.add_argument("--keep-data", action="store_true", help="Keep the seeded data.")
        parser.add_argument(
            "--check",
            action="store_true",
            help="Run every pre-flight check, seed and log in as a run would, send each GET "
            "endpoint one request, print the plan as it will run with each status and the "
            "coverage by path prefix, and exit (0 clean, 2 otherwise); nothing is measured or "
            "stored.",
        )
        parser.add_argument(
            "--check-writes",
            action="store_true",
            help="With --check: send the endpoints whose method writes (POST, PUT, PATCH, "
            "DELETE) too; they change the target's data.",
        )
        parser.add_argument(
            "--uncovered",
            action="store_true",
            help="With --check: list every route no endpoint measures.",
        )
        parser.add_argument(
            "--scenario",
            metavar="FILE.toml",
            help="Read the plan from a scenario file over PERFTEST (README, 'Scenario files').",
        )
        parser.add_argument(
            "--write-scenario",
            metavar="FILE.toml",
            help="Write a starter scenario of the target's GET list endpoints (and the detail "
            "endpoints a list gives an id for), each sent once as a seeded identity, and exit; "
            "routes left out are comments saying why. Nothing is measured.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Let --write-scenario overwrite an existing file.",
        )
        parser.add_argument(
            "--list-endpoints",
            action="store_true",
            help="Print the target's routes (methods, view, auth, list, path parameters) from "
            "its URLconf and exit; nothing is measured.",
        )
        parser.add_argument(
            "--format",
            default=formats.DEFAULT,
            help=f"Report formats, comma-separated: {', '.join(formats.FORMATS)} (default md).",
        )
        http = parser.add_argument_group("HTTP")
        http.add_argument("--base-url", help="Measure a running server, e.g. http://127.0.0.1:8000")
        http.add_argument(
            "--mode",
            choices=["in-process", "http", "both"],
            help="Where requests travel (default: http with --base-url, else in-process).",
        )
        _number(http, "--connect-timeout", limits.TIMEOUT, "Seconds (default 5).")
        _number(http, "--read-timeout", limits.TIMEOUT, "Seconds (default 30).")
        _number(http, "--server-pid", limits.SERVER_PID, "Server process to sample.")
        load = parser.add_argument_group("load")
        load.add_argument("--concurrency", help="Closed-model levels, e.g. 1,10,30.")
        _number(load, "--duration", limits.LEVEL_SECONDS, "Seconds per level (default 10).")
        _number(load, "--requests", limits.LEVEL_REQUESTS, "Counted requests per level.")
        _number(load, "--ramp-up", limits.RAMP_UP, "Uncounted seconds before each level.")
        _number(load, "--rate", limits.RATE, "Open model: requests per second.")
        load.add_argument("--mix", help="Weighted endpoint mix, e.g. 'Get Lessons=2,Get Profile'.")
        load.add_argument(
            "--capacity",
            metavar="EXPR",
            help="Search the highest open-model arrival rate of the mix that meets EXPR, e.g. "
            "'p95 < 300ms', and THRESHOLDS' error-rate and dropped bounds: steps from the rate "
            "one worker sustains, doubling while every bound holds, then halving the gap to "
            "within 5%%; each step is stored as a level. Replaces --concurrency and --rate; "
            "--duration sets each step's seconds (default: long enough to judge, 3 to 30 s).",
        )
        load.add_argument(
            "--soak",
            metavar="DURATION",
            help="Soak: hold --rate (required) for DURATION (90s, 10m, 2h, 1h30m) after an "
            "unjudged warm-up, storing the run as it goes (every SOAK['CHECKPOINT_S'] s).",
        )
        load.add_argument(
            "--soak-warmup",
            metavar="DURATION",
            help="The soak's unjudged warm-up (default: 10%% of --soak, at most 5 min).",
        )
        _number(load, "--identities", limits.IDENTITIES, "Cap on test identities.")
        load.add_argument(
            "--login",
            choices=["per-worker", "once"],
            help="Log in per worker (default) or once per identity, sharing the token.",
        )
        engine = parser.add_argument_group("engine (beyond one process: Locust)")
        engine.add_argument(
            "--engine",
            choices=["threads", "locust"],
            help="Who sends a level's requests: threads of this process (default) or Locust's "
            "distributed runner (pip install 'perftest[locust]').",
        )
        _number(engine, "--processes", limits.PROCESSES, "Locust worker processes on this machine.")
        engine.add_argument(
            "--master",
            action="store_true",
            help="Run the Locust master for workers on other machines (perftest_worker).",
        )
        _number(
            engine, "--expect-workers", limits.EXPECT_WORKERS, "With --master: workers to wait for."
        )
        engine.add_argument(
            "--master-bind", metavar="HOST:PORT", help="With --master: where it listens."
        )
        why = parser.add_argument_group("why it is slow (in-process)")
        why.add_argument(
            "--profile",
            type=ranged(limits.PROFILE),
            nargs="?",
            const=PROFILE_DEFAULT,
            metavar="N",
            help="After measuring, run N extra requests per endpoint under cProfile, one at a "
            f"time, never counted (default N {PROFILE_DEFAULT}).",
        )
        why.add_argument(
            "--explain",
            action="store_true",
            help="EXPLAIN each endpoint's costliest SELECT and N+1 suspects (PostgreSQL).",
        )
        compare = parser.add_argument_group("baseline")
        compare.add_argument(
            "--baseline",
            metavar="RUN_ID|latest",
            help="Compare with a stored run: its id, or the latest completed one with the same "
            "target and plan.",
        )
        compare.add_argument(
            "--fail-on-regression",
            action="store_true",
            help="Exit 3 when a change against the baseline is a regression beyond noise.",
        )
        parser.add_argument(
            "--threshold",
            action="append",
            default=[],
            metavar="EXPR",
            help="A threshold expression added to PERFTEST['THRESHOLDS'], e.g. 'p95 < 500ms' "
            "or 'error_rate < 50%% abort' (repeatable).",
        )
        parser.add_argument(
            "--fail-on-breach",
            action="store_true",
            help="Exit 1 when a threshold fails: the default now, kept for existing scripts.",
        )
        parser.add_argument(
            "--exit-zero",
            action="store_true",
            help="Exit 0 even when the run is red (the run is still stored and reported).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_what_cannot_apply(
            {
                dest: options[dest]
                for dest, default in self.defaults.items()
                if options[dest] != default
            }
        )
        if options["list_endpoints"]:
            self.stdout.write(routes.table(*inventory()))
            return
        try:
            self.formats = formats.parse(options["format"])
        except formats.UnknownFormat as exc:
            raise usage_error(str(exc)) from None
        if options["write_scenario"]:
            with self.deferring("writing the scenario and removing what its check seeded"):
                self.write_scenario(options["write_scenario"], options["force"])
            return
        try:
            config = get_config()
            if options["scenario"]:
                config = scenario_file.apply(options["scenario"], config)
            plan = build_plan(
                config,
                scenario=options["scenario"] or "",
                **{
                    PLAN_NAMES.get(dest, dest): options[dest]
                    for dest in self.defaults
                    if dest not in COMMAND_OPTIONS
                },
            )
            plan = preflight(plan)
        except ConfigError as exc:
            raise usage_error(str(exc)) from None
        except KeyboardInterrupt:
            raise CommandError(
                "Interrupted while planning, before the run began: nothing was stored.",
                returncode=runner.Termination().exit_code,
            ) from None
        if options["check"]:
            with self.deferring("checking the plan and removing what the check seeded"):
                self.check_plan(plan, options["check_writes"], options["uncovered"])
            return
        progress = Progress(self.stdout._out)
        with runner.Termination() as termination:
            try:
                stored = runner.execute(plan, termination, tick=progress.show)
            except ConfigError as exc:
                progress.done()
                raise usage_error(str(exc)) from None
            except runner.RunInterrupted as exc:
                progress.done()
                ending = self.report(exc.stored, plan.output_dir)
                # No signal: the run's own engine stopped it (a Locust master that died).
                by = f" by {termination.signal.name}" if termination.signal else ""
                raise CommandError(
                    f"Interrupted{by}: run #{exc.stored.pk} stored as "
                    f"interrupted; {ending.reasons} above.",
                    returncode=termination.exit_code,
                ) from None
            progress.done()
            ending = self.report(stored, plan.output_dir)
        if termination.signal is not None:  # deferred while the report was written
            raise CommandError(
                f"Interrupted by {termination.signal.name} once run #{stored.pk} was stored "
                f"({stored.status}) and reported.",
                returncode=termination.exit_code,
            )
        if not ending.code:
            return
        if options["exit_zero"]:
            self.stdout.write(f"{ending.told}; exiting 0 as --exit-zero asks.")
            return
        raise CommandError(f"{ending.told} (--exit-zero to exit 0 anyway).", returncode=ending.code)

    @contextmanager
    def deferring(self, doing: str) -> Iterator[None]:
        """``--check`` and ``--write-scenario`` seed and remove an identity in one short pass:
        a signal is deferred until that pass is over, so nothing is left behind, then ends
        the command with exit 130 and one line."""
        with runner.Termination() as termination:
            termination.doing = lambda: doing
            yield
        if termination.signal is not None:
            raise CommandError(
                f"Interrupted by {termination.signal.name} once it had finished {doing}.",
                returncode=termination.exit_code,
            )

    def write_scenario(self, path: str, force: bool) -> None:
        """``--write-scenario``: a starter scenario from the URLconf and the settings, each
        of its endpoints sent once in-process as a seeded identity; those that do not answer
        as expected are written as comments with the status and its likely cause. A plan that
        cannot be sent (the login path has no route, an identity is taken) still gets its
        file, with a note at the top saying why it was not checked."""
        try:
            scenario_writer.refuse_existing(path, force)
            config = get_config()
            draft = scenario_writer.draft(inventory()[0])
            refused, unchecked, leftovers = {}, "", []
            if draft.endpoints:
                try:
                    plan = check_routes(build_plan(draft.settings(config)))
                    refused, unchecked, leftovers = check.refusals(plan)
                except ConfigError as exc:  # the starter is still worth having: say why
                    unchecked = str(exc).rstrip(".")
            text, written = scenario_writer.render(config, draft, refused, unchecked)
            scenario_writer.write(path, text)
        except ConfigError as exc:
            raise usage_error(str(exc)) from None
        self.stdout.write(
            f"Wrote {path}: {quantity(written, 'endpoint')}. Check it with "
            f"manage.py perftest --check --scenario {path}"
        )
        if unchecked:
            self.stdout.write(f"Not checked against the target: {unchecked}.")
        for note in leftovers:
            self.stdout.write(f"Left behind by the check's identity: {note}")

    def check_plan(self, plan: Any, writes: bool, uncovered: bool) -> None:
        """``--check``: the plan as it will run; exit 2 when anything in it needs fixing."""
        try:
            result = check.check(plan, writes)
        except ConfigError as exc:
            raise usage_error(str(exc)) from None
        self.stdout.write(plan_check.text(plan, result, uncovered))
        if not result.clean:
            raise usage_error("The plan needs fixing (see above); nothing was measured.")

    def report(self, stored: StoredRun, output_dir: str) -> console.Ending:
        """Write the reports, then print the verdict first, the summary, where the reports
        are and one line per reason; the verdict decides the exit code."""
        try:
            paths = [formats.write(stored, report, output_dir) for report in self.formats]
        except OSError as exc:
            raise usage_error(
                f"Run #{stored.pk} is stored, but the report could not be written to "
                f"{output_dir!r}: {exc.strerror}."
            ) from None
        ending = console.ending(stored, paths)
        for line in ending.lines:
            self.stdout.write(line)
        return ending
