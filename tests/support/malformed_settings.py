"""Project settings with PERFTEST taken from the environment, to test bad configurations."""

import json
import os

from thebot_settings.settings import *  # noqa: F403
from thebot_settings.settings import PERFTEST as THEBOT

PERFTEST = {**THEBOT, **json.loads(os.environ["PERFTEST_TEST_JSON"])}
