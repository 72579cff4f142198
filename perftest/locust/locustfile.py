"""perftest's locustfile: ``locust --worker -f <this file> --master-host HOST``.

Locust runs the User classes it finds here; everything lives in ``perftest.locust.user``, so
the hooks are registered once however this file is loaded.
"""

from perftest.locust.user import PerftestUser

__all__ = ["PerftestUser"]
