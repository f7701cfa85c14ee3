"""What the platform's tests share: a private PostgreSQL server a test may stop and start again."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cms_devkit import infra


@pytest.fixture
def private_postgres() -> Iterator[infra.PrivatePostgres]:
    """A PostgreSQL server of the test's own (restarting the shared one would break the other suites); the
    restart tests run in the PostgreSQL suite only."""
    if os.environ.get("CMS_TEST_DATABASE") == "sqlite":
        pytest.skip("a PostgreSQL restart: run by the PostgreSQL suite")
    if not sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        pytest.skip("no PostgreSQL binaries to run a private server")
    pg = infra.start_private_postgres()
    try:
        yield pg
    finally:
        pg.stop()
