"""Settings of the perftest project: the embedded stand-in, or THE_BOT's backend with perftest.

Without ``THEBOT_BACKEND`` this is the embedded default (``embedded.py``: SQLite, THE_BOT's
stand-in API, perftest). With ``THEBOT_BACKEND=/path/to/backend`` (and ``THEBOT_SETTINGS``,
default ``config.settings``) it is the platform's own settings with perftest added
(``layered.py``): the platform's URLconf, database and apps, and no stand-in.
"""

import os

if os.environ.get("THEBOT_BACKEND"):
    from thebot_settings.layered import *  # noqa: F403
else:
    from thebot_settings.embedded import *  # noqa: F403
