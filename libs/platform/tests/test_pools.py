"""A service's PostgreSQL pool is what its settings say (deploy/README.md "Connections" sizes them per pod)."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.pool import QueuePool

from cms_platform.service import CmsService
from cms_platform.settings import ServiceSettings


class _Plain(CmsService):
    name = "plain"

    def registrations(self):
        return []


def test_the_pool_is_sized_by_the_settings(database_url, clock) -> None:
    if os.environ.get("CMS_TEST_DATABASE") == "sqlite":
        pytest.skip("SQLite has no connection pool to size")
    service = _Plain(
        ServiceSettings(
            environment="test",
            database_url=database_url("plain"),
            database_pool_size=2,
            database_max_overflow=1,
        ),
        clock=clock,
    )
    pool = service.engine.pool
    held = []
    try:
        assert isinstance(pool, QueuePool)
        assert (pool.size(), pool._max_overflow) == (2, 1)
        held = [service.engine.connect() for _ in range(3)]
        assert (pool.checkedout(), pool.overflow()) == (
            3,
            1,
        )  # two pooled, one overflow: the most it will open
    finally:
        for c in held:
            c.close()
        service.engine.dispose()
