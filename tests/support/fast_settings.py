"""The embedded project's settings with the tests' fast password hasher
(``tests.support.passwords``): what the tests' ``manage.py`` subprocesses and live servers
run with, so that a login costs what perftest does with it, not a million PBKDF2 rounds."""

from tests.support.passwords import FAST_HASHERS
from thebot_settings.settings import *  # noqa: F403

# The identities the tests seed hash their passwords with this hasher: a server checks them
# with it, first in its list, so a login never re-hashes with a slower one.
PASSWORD_HASHERS = FAST_HASHERS
