"""Fixtures the simulation library's database tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy.orm import sessionmaker

from cms_platform.db import make_engine, make_sessionmaker
from cms_simulation.controls import create_control_tables
from cms_simulation.state import create_state_version_table


@pytest.fixture
def state_db(database_url) -> Iterator[sessionmaker]:
    """Sessions over a fresh database holding the control tables and the state version, made by the helpers a
    gateway's migration calls."""
    engine = make_engine(database_url("simulation"))
    with engine.begin() as conn:
        op = Operations(MigrationContext.configure(conn))
        create_control_tables(op)
        create_state_version_table(op)
    try:
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()
