"""How roles and the load options combine, checked before anything runs.

With ``PERFTEST['IDENTITY']['ROLES']`` the roles fix the identities: each role seeds its
``count``, and nothing else adds or removes one, so ``--identities`` has no meaning there.
THE_BOT deletes a user's tokens at every login, so with per-worker logins every worker of a
level needs an identity of its own: a level with more workers than the roles seed would have
two workers logging each other out. That is refused (exit 2); ``--login once`` lets workers
share each identity's one token instead, the roles kept in proportion.
"""

from __future__ import annotations

from collections.abc import Sequence

from perftest.conf import ConfigError

from .model import LoadPlan, Role


def check_roles(roles: Sequence[Role], load: LoadPlan) -> None:
    """Refuse load options that cannot work with ``roles`` (one sentence naming the fix)."""
    if not roles:
        return
    seeded = sum(role.count for role in roles)
    if load.identities is not None:
        raise ConfigError(
            f"--identities does not apply with PERFTEST['IDENTITY']['ROLES']: the roles seed "
            f"{seeded} identities; change the roles' counts instead."
        )
    workers = load.workers_max
    if load.login_mode == "per-worker" and workers > seeded:
        raise ConfigError(
            f"--concurrency {workers} with per-worker logins needs {workers} identities, but "
            f"PERFTEST['IDENTITY']['ROLES'] seeds {seeded} (each login rotates the token); "
            "raise the roles' counts or add --login once."
        )
