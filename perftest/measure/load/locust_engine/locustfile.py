"""perftest's locustfile: ``locust --worker -f <this file> --master-host HOST``.

Locust runs the User classes it finds here; everything lives in ``user``, so
the hooks are registered once however this file is loaded.
"""

from perftest.measure.load.locust_engine.user import PerftestUser

__all__ = ["PerftestUser"]
