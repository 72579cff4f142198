"""Fixtures the measuring core's tests share."""

from __future__ import annotations

import pytest

from perftest.conf import get_config
from perftest.lifecycle.seeding import Seeding


@pytest.fixture
def identities():
    return Seeding(get_config()["IDENTITY"], None, None).create_identities(4)
