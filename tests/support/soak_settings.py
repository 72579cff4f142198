"""The tests' subprocess settings (``tests.support.fast_settings``) with a soak that stores a
checkpoint every half second, so a test sees several checkpoints in seconds, not minutes."""

from tests.support.fast_settings import *  # noqa: F403

#: Seconds between a soak's checkpoints in the tests.
CHECKPOINT_S = 0.5

PERFTEST = {**PERFTEST, "SOAK": {"CHECKPOINT_S": CHECKPOINT_S}}  # noqa: F405
