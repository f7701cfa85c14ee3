"""Migrations under an advisory lock (cms_platform.migrations.upgrade): the `migrate` runs of replicas starting
together, against one fresh PostgreSQL database, wait for each other and both succeed; SQLite needs no lock."""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from cms_platform.db import make_engine
from cms_platform.migrations import lock_key, upgrade


def _migrations_of(package: str) -> Path:
    """A real service's Alembic revisions (found without importing the service)."""
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations
    return Path(spec.submodule_search_locations[0]) / "migrations"


CALCULATION = _migrations_of("cms_calculation")


def test_lock_key_is_per_service_and_stable() -> None:
    casework = _migrations_of("cms_casework")
    assert lock_key(CALCULATION) == lock_key(Path(str(CALCULATION)))
    assert lock_key(CALCULATION) != lock_key(casework)
    assert -(2**63) <= lock_key(CALCULATION) < 2**63


def test_concurrent_migrations_wait_for_each_other(database_url: Callable[[str], str]) -> None:
    if os.environ.get("CMS_TEST_DATABASE") == "sqlite":
        pytest.skip("the advisory lock is PostgreSQL's; SQLite runs one writer at a time anyway")
    url = database_url("calculation")
    engine = make_engine(url)
    failures: list[BaseException] = []

    def migrate() -> None:
        try:
            upgrade(url, CALCULATION)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)

    waiting = sa.text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    try:
        # Hold the lock so both runs are certainly concurrent: each must queue behind it, then behind the other.
        with engine.connect() as holder:
            holder.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": lock_key(CALCULATION)})
            runs = [threading.Thread(target=migrate) for _ in range(2)]
            for t in runs:
                t.start()
            with engine.connect() as probe:
                for _ in range(600):  # a run that took no lock never queues: fail rather than hang
                    if probe.execute(waiting).scalar() == 2 or failures:
                        break
                    threading.Event().wait(0.05)
                queued = probe.execute(waiting).scalar()
            holder.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(CALCULATION)})
            holder.commit()
        for t in runs:
            t.join(timeout=120)
        assert queued == 2, "both migrate runs wait on the service's advisory lock"
        assert failures == []
        with engine.connect() as conn:
            versions = (
                conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
            )
            tables = set(sa.inspect(conn).get_table_names())
        assert len(versions) == 1
        assert {"outbox_events", "processed_events", "idempotent_requests"} <= tables
    finally:
        engine.dispose()


def test_sqlite_migrates_without_a_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'calculation.db'}"
    upgrade(url, CALCULATION)
    upgrade(url, CALCULATION)  # again: already at head
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        engine.dispose()
