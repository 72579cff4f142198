"""The password hasher the tests log in with.

Every login hashes a password, and the project's hasher (PBKDF2, a million iterations) is
slow on purpose: hundreds of milliseconds a login, several logins a run, hundreds of runs in
the suite. As Django's testing documentation advises, tests use a fast hasher: what perftest
does with a login does not depend on its cost. The tests that prove what a password hash
costs a login (the login-hash finding) put the project's hasher back with
``override_settings(PASSWORD_HASHERS=PROJECT_HASHERS)``.
"""

from django.conf import global_settings

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
#: The embedded project's hashers: it sets none, so Django's defaults.
PROJECT_HASHERS = list(global_settings.PASSWORD_HASHERS)
