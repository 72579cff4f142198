"""perftest's own test users and sample data: created for a run, remembered, removed after.

Every row perftest creates is recorded in ``SeededObject``; cleanup deletes exactly those rows
(newest first) and nothing else. So are the sessions the target opened for perftest's
identities (their keys, recorded once measuring is over and deleted through the session
engine). An account that already uses a test identity's email or
username and was not created by perftest stops the run before anything is written.

Runs share a database safely: identities carry the run's number, and what another run seeded
is removed only once that run is provably over: finished, or ``running`` while its process is
gone from this host (then marked abandoned), or older than ``STALE_RUN_AFTER``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
import socket
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

import psutil
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from perftest.conf import ConfigError
from perftest.lifecycle.seeder_output import seeded, values_for
from perftest.measure.auth import Identity
from perftest.models import Run, SeededObject
from perftest.plan.hooks import IDENTITY_HOOK, SEEDER, load_hook
from perftest.plan.model import Role, RunPlan
from perftest.text import quantity

#: Rows removed per statement (and per savepoint): small enough that progress, and the line
#: a signal prints, follow the removal, and that a SIGKILL leaves at most one chunk's
#: bookkeeping to redo.
REMOVAL_CHUNK = 500

#: The content type of a recorded session (``object_pk`` is its key): deleted through
#: ``settings.SESSION_ENGINE``, whatever stores the sessions (database, cache, files).
SESSION_TYPE = ("sessions", "session")


def session_type(create: bool = True) -> ContentType | None:
    """The content type session records carry; created on first use when
    django.contrib.sessions is not installed (a cache or file session engine has no model),
    else None without ``create``."""
    app_label, model = SESSION_TYPE
    if create:
        return ContentType.objects.get_or_create(app_label=app_label, model=model)[0]
    return ContentType.objects.filter(app_label=app_label, model=model).first()


def _delete_sessions(keys: list[str]) -> int:
    """Delete the sessions of ``keys`` through the session engine; return how many existed."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    removed = 0
    for key in keys:
        session = store(key)
        if session.exists(key):
            session.delete(key)
            removed += 1
    return removed


@dataclass
class Removal:
    """Removes recorded rows, newest first, a chunk at a time, and says how far it got.

    Each chunk's rows and its records go in one savepoint, so whatever stops the removal (a
    SIGKILL included) leaves records of exactly the rows still there: the next run's clean-up
    finishes it. ``left`` counts the records still to remove, ``problems`` says what could not
    go (those records stay), ``sessions`` counts the sessions removed.
    """

    tick: Callable[[str], None] = lambda text: None
    left: int = 0
    problems: list[str] = field(default_factory=list)
    sessions: int = 0
    #: What the chunk being removed holds ("standin.Lesson rows", "sessions").
    removing: str = ""

    def describe(self) -> str:
        now = f" ({self.removing} now)" if self.removing and self.left else ""
        return f"removing test data: {quantity(self.left, 'recorded row')} left{now}"

    def run(self, records: models.QuerySet) -> None:
        rows = list(records.order_by("-pk").values_list("pk", "content_type_id", "object_pk"))
        self.left += len(rows)
        self.tick(self.describe())
        session = session_type(create=False)
        sessions = session.pk if session is not None else None
        for content_type_id, group in itertools.groupby(rows, key=lambda row: row[1]):
            chunk = list(group)
            for start in range(0, len(chunk), REMOVAL_CHUNK):
                self._remove(content_type_id, chunk[start : start + REMOVAL_CHUNK], sessions)
                self.tick(self.describe())

    def _remove(self, content_type_id: int, chunk: list[tuple], sessions: int | None) -> None:
        pks = [object_pk for _, _, object_pk in chunk]
        content_type = ContentType.objects.get_for_id(content_type_id)
        model = content_type.model_class()
        is_session = content_type_id == sessions
        label = model._meta.label if model is not None else ".".join(content_type.natural_key())
        self.removing = "sessions" if is_session else f"{label} rows"
        try:
            with transaction.atomic():  # a savepoint: one failed chunk spoils no other
                if is_session:
                    removed = _delete_sessions(pks)
                elif model is not None:
                    model._default_manager.filter(pk__in=pks).delete()
                SeededObject.objects.filter(pk__in=[pk for pk, _, _ in chunk]).delete()
        except Exception as exc:  # noqa: BLE001 - a row that cannot go is named, never a crash
            self.problems.append(f"could not delete {len(pks)} {self.removing}: {exc}")
        else:
            if is_session:
                self.sessions += removed
        self.left -= len(chunk)


def removal_notes(removal: Removal) -> list[str]:
    """What a clean-up tells the report: the sessions it removed and what it could not."""
    said = [
        f"removed {quantity(removal.sessions, 'session')} the target created for perftest's "
        "identities"
    ]
    return (said if removal.sessions else []) + removal.problems


def _process_gone(run: Run) -> bool:
    """True when ``run`` was measured on this host by a process that no longer exists (a pid
    reused by a process started after the run began is not that process)."""
    if run.host != socket.gethostname() or not run.pid:
        return False
    try:
        process = psutil.Process(run.pid)
        return (
            process.status() == psutil.STATUS_ZOMBIE
            or process.create_time() > run.started_at.timestamp() + 1
        )
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:  # exists but unreadable (another user's): not provably gone
        return False


def _why_dead(run: Run, stale_after_s: float) -> str:
    """Why ``run``, marked running, is provably over; empty when it may still be alive. A
    soak is given its planned length beyond ``stale_after_s``: it may run for a day."""
    if _process_gone(run):
        return f"its process (pid {run.pid} on {run.host}) is gone"
    age = timezone.now() - run.started_at
    soak = RunPlan.from_dict(run.config).load.soak
    if age > dt.timedelta(seconds=stale_after_s + (soak.total_s if soak else 0)):
        return f"still marked running {age.total_seconds() / 3600:.1f} h after it began"
    return ""


def reclaim_leftovers(
    current: Run, stale_after_s: float, removal: Removal | None = None
) -> list[str]:
    """Mark dead ``running`` runs abandoned and remove what finished or dead runs left behind.

    The data of a live run (another process measuring right now) is never touched. Returns
    the notes the current run's report shows.
    """
    notes: list[str] = []
    abandoned = []
    for run in Run.objects.filter(status=Run.Status.RUNNING).exclude(pk=current.pk):
        reason = _why_dead(run, stale_after_s)
        if reason:
            Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING).update(
                status=Run.Status.ABANDONED,
                finished_at=timezone.now(),
                failure=f"abandoned: {reason}",
            )
            abandoned.append(f"#{run.pk} ({reason})")
    if abandoned:
        notes.append("marked run(s) " + ", ".join(abandoned) + " abandoned")
    live = Run.objects.filter(status=Run.Status.RUNNING)
    leftovers = SeededObject.objects.exclude(run__in=live)
    batches = set(leftovers.values_list("batch", flat=True))
    if batches:
        removal = removal or Removal()
        removal.run(SeededObject.objects.filter(batch__in=batches))
        notes.extend(removal_notes(removal))
        notes.append(f"removed data left by {len(batches)} earlier perftest run(s)")
    return notes


def _kinds(count: int, roles: Sequence[Role], fields: Mapping) -> list[tuple[str, Mapping]]:
    """(role name, user fields) of each identity in number order: ``count`` of one unnamed
    role with ``fields``, or each role's count with its own (already merged) fields."""
    if not roles:
        return [("", fields)] * count
    return [(role.name, role.fields) for role in roles for _ in range(role.count)]


class Seeding:
    """Creates identities and sample data for one run and removes them afterwards."""

    def __init__(self, identity: dict, seeder: str | None, run: Run | None):
        self._identity = identity
        self._identity_hook = load_hook(identity.get("HOOK"), IDENTITY_HOOK)
        self._seeder = load_hook(seeder, SEEDER)
        self._run = run
        self.batch = uuid.uuid4().hex

    def _record(self, objects: Iterable[models.Model]) -> None:
        rows = [
            SeededObject(
                batch=self.batch,
                run=self._run,
                content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
                object_pk=str(obj.pk),
            )
            for obj in objects
            if obj is not None and obj.pk is not None
        ]
        SeededObject.objects.bulk_create(rows)

    def _names(
        self, user_model: type[models.Model], count: int, run: object = None
    ) -> list[tuple[int, str, str]]:
        """(number, email, username) per identity; the email is the username where it logs in.

        ``{run}`` is the run's number (the batch without a stored run; ``run`` when given), so
        concurrent runs never share an account.
        """
        email = self._identity["EMAIL"]
        username = self._identity.get("USERNAME") or email
        if user_model.get_email_field_name() == user_model.USERNAME_FIELD:
            username = email
        if run is None:
            run = self._run.pk if self._run is not None else self.batch[:8]
        return [
            (n, email.format(n=n, run=run), username.format(n=n, run=run))
            for n in range(1, count + 1)
        ]

    def _refuse_collisions(self, user_model: type[models.Model], names: list) -> None:
        """Refuse accounts perftest did not create, and identities a live run is using (an
        empty name is not checked)."""
        email_field = user_model.get_email_field_name()
        emails = [email for _, email, _ in names if email]
        usernames = [username for _, _, username in names if username]
        taken = user_model._default_manager.filter(
            models.Q(**{f"{email_field}__in": emails})
            | models.Q(**{f"{user_model.USERNAME_FIELD}__in": usernames})
        ).first()
        if taken is None:
            return
        record = SeededObject.objects.filter(
            content_type=ContentType.objects.get_for_model(user_model), object_pk=str(taken.pk)
        ).first()
        name = getattr(taken, email_field) or taken.get_username()
        if record is None:
            raise ConfigError(
                f"An account {name!r} already exists and was not created by perftest; change "
                "PERFTEST['IDENTITY']['EMAIL'] and ['USERNAME'] to an unused pattern. Nothing "
                "was changed."
            )
        owner = f"run #{record.run_id}" if record.run_id else "another perftest run"
        raise ConfigError(
            f"The test identity {name!r} belongs to {owner}, which is still running; put "
            "{run} in PERFTEST['IDENTITY']['EMAIL'] and ['USERNAME'] so runs at the same time "
            "get their own identities. Nothing was changed."
        )

    def refuse_before_run(self, count: int, roles: Sequence[Role] = ()) -> None:
        """Seeding's checks that need no run, made before the run is recorded so that such a
        usage error changes nothing: every identity's fields fit the user model, and no
        account already uses a name of its that does not carry ``{run}`` (a name with it
        exists only once the run does: ``create_identities`` checks it then)."""
        user_model = get_user_model()
        kinds = _kinds(count, roles, self._identity["FIELDS"])
        names = self._names(user_model, len(kinds))
        self._unsaved_users(user_model, names, kinds, password="")
        other = self._names(user_model, len(kinds), run=self.batch[8:16])
        known_now = [
            (n, email if email == again[1] else "", username if username == again[2] else "")
            for (n, email, username), again in zip(names, other, strict=True)
        ]
        self._refuse_collisions(user_model, known_now)

    def _unsaved_users(
        self,
        user_model: type[models.Model],
        names: list[tuple[int, str, str]],
        kinds: list[tuple[str, Mapping]],
        password: str,
    ) -> list[models.Model]:
        """One user instance per identity, not saved; ConfigError when the configured fields
        do not fit the user model."""
        email_field = user_model.get_email_field_name()
        users = []
        for (_, email, username), (role, role_fields) in zip(names, kinds, strict=True):
            fields = {email_field: email, user_model.USERNAME_FIELD: username}
            fields.update(role_fields)
            try:
                users.append(user_model(password=password, **fields))
            except TypeError as exc:
                where = f"['ROLES'] (role {role!r})" if role else "['FIELDS']"
                raise ConfigError(
                    f"PERFTEST['IDENTITY']{where} does not fit the user model: {exc}."
                ) from None
        return users

    @transaction.atomic
    def create_identities(self, count: int, roles: Sequence[Role] = ()) -> list[Identity]:
        """Create ``count`` users sharing one random password hashed once, plus sample data;
        with ``roles``, each role's ``count`` users with its fields instead (numbered on
        across roles, so ``{n}`` stays unique).

        Each user is saved on its own so the platform's signals give it what every real user
        has; what those receivers create hangs off the user and goes with it at cleanup.

        Atomic, so an interruption cannot leave rows that are not recorded for cleanup.
        """
        user_model = get_user_model()
        kinds = _kinds(count, roles, self._identity["FIELDS"])
        names = self._names(user_model, len(kinds))
        self._refuse_collisions(user_model, names)
        password = secrets.token_urlsafe(24)
        users = self._unsaved_users(user_model, names, kinds, make_password(password))
        for user in users:
            # save(), not bulk_create: the platform's pre_save/post_save receivers (a profile,
            # per-user settings) must run as for any real user. The password is hashed once
            # above, so each save is one INSERT plus what the receivers do.
            user.save()
        self._record(users)
        if self._identity_hook is not None:
            for user in users:
                self._record(self._identity_hook(user) or ())
        values: dict[str, Any] = {}
        if self._seeder is not None:
            objects, values = seeded(self._seeder(users))
            self._record(objects)
        return [
            Identity(
                email,
                username,
                password,
                number,
                user.pk,
                values=values_for(values, user.pk),
                role=role,
            )
            for (number, email, username), user, (role, _) in zip(names, users, kinds, strict=True)
        ]

    def record_sessions(self, keys: Iterable[str]) -> None:
        """Record the sessions the target created for this seeding's identities, for
        ``cleanup``. The key is the record (a session is found by nothing else); records are
        gone once the clean-up has deleted the sessions, and no report or admin page shows
        them."""
        longest = SeededObject._meta.get_field("object_pk").max_length
        keys = [key for key in keys if len(key) <= longest]
        if not keys:
            return
        session = session_type()
        SeededObject.objects.bulk_create(
            SeededObject(batch=self.batch, run=self._run, content_type=session, object_pk=key)
            for key in keys
        )

    def cleanup(self, removal: Removal | None = None) -> list[str]:
        """Delete everything this seeding created; return what could not be deleted
        (``removal`` follows it and counts the sessions removed)."""
        removal = removal or Removal()
        removal.run(SeededObject.objects.filter(batch=self.batch))
        return removal.problems
