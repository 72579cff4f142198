"""Load levels: their schedules (``schedule``, ``closed``, ``open``, ``sequential``) and the
engines that send them (``engine``: the interface; ``threads`` and ``locust_engine``).

This package's ``__init__`` imports nothing: Locust's processes import
``locust_engine`` through it, and Locust must patch the standard library before perftest's
modules import ``threading``.
"""
