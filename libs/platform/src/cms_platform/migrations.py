"""Alembic, driven from code: each service keeps its revisions in `<package>/migrations`.

A service's env.py is two lines (`run_env(Base.metadata)`); its first revision calls
`create_platform_tables(op)` so the outbox, processed-events and idempotency tables are defined once, here.

On PostgreSQL an upgrade runs under a transaction-level advisory lock keyed by the service's migrations, so the
`migrate` init containers of replicas starting together run one after another: the later ones find the database at
head and do nothing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config

from .db import BigId, UtcDateTime, ensure_database, is_postgres, make_engine


def alembic_config(script_location: Path) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(rev)s_%%(slug)s")
    return cfg


def lock_key(script_location: Path) -> int:
    """The advisory lock of a service's migrations: a signed 64-bit key from its package's name (cms_casework, ...),
    the same in every replica."""
    digest = hashlib.blake2b(
        f"cms-migrate:{script_location.parent.name}".encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


def upgrade(url: str, script_location: Path, revision: str = "head") -> None:
    ensure_database(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            if is_postgres(conn):
                # Held to the end of the migration's transaction (released by commit or rollback, even if the
                # process dies); a concurrent run waits here, then reads the version this one committed.
                conn.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"),
                    {"key": lock_key(script_location)},
                )
            cfg = alembic_config(script_location)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


def run_env(target_metadata: sa.MetaData) -> None:
    """Body of every service's migrations/env.py (online mode only; offline SQL is not used)."""
    conn = context.config.attributes.get("connection")
    if conn is None:
        raise RuntimeError(
            "run migrations through `cms-<service> migrate`, which supplies the connection"
        )
    context.configure(
        connection=conn, target_metadata=target_metadata, render_as_batch=True, compare_type=True
    )
    with context.begin_transaction():
        context.run_migrations()


def create_platform_tables(op: Any) -> None:
    """`op` is alembic.op (a module proxying Operations) or an Operations."""
    op.create_table(
        "outbox_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("partition_key", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("data_schema", sa.String(200), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("published_at", UtcDateTime, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_events"),
        sa.UniqueConstraint("event_id", name="uq_outbox_events_event_id"),
    )
    op.create_index("ix_outbox_events_unpublished", "outbox_events", ["published_at", "id"])
    op.create_table(
        "processed_events",
        sa.Column("consumer_group", sa.String(200), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("processed_at", UtcDateTime, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("consumer_group", "event_id", name="pk_processed_events"),
    )
    op.create_table(
        "idempotent_requests",
        sa.Column("method", sa.String(200), nullable=False),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("response", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("method", "request_id", name="pk_idempotent_requests"),
    )


def create_audit_table(
    op: Any, name: str, *, subject_column: str, subject_length: int = 40
) -> None:
    """A gateway's audit table (cms_platform.audit.AuditColumns) plus how it names the person, indexed."""
    op.create_table(
        name,
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("caller", sa.String(200), nullable=False),
        sa.Column("interface", sa.String(100), nullable=False),
        sa.Column("legal_basis", sa.String(200), nullable=False),
        sa.Column("case_id", sa.String(100), nullable=False),
        sa.Column("service_request_id", sa.String(100), nullable=False),
        sa.Column(subject_column, sa.String(subject_length), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
    )
    op.create_index(f"ix_{name}_{subject_column}", name, [subject_column])


def add_idempotency_caller(op: Any) -> None:
    """Stored answers belong to their caller: the column that says whose (existing rows belong to no one, so a
    replay of one is refused rather than given to whoever asks)."""
    with op.batch_alter_table("idempotent_requests") as t:
        t.add_column(sa.Column("caller", sa.String(200), nullable=False, server_default=""))


def drop_idempotency_caller(op: Any) -> None:
    with op.batch_alter_table("idempotent_requests") as t:
        t.drop_column("caller")


def add_broker_recovery(op: Any) -> None:
    """What the relay and the consumers remember about the broker, to notice and repair its losing data: the epoch
    each event was published in, the relay's epoch and partition marks, and each consumer group's positions."""
    with op.batch_alter_table("outbox_events") as t:
        t.add_column(sa.Column("broker_epoch", sa.Integer, nullable=True))
    op.create_index("ix_outbox_events_broker_epoch", "outbox_events", ["broker_epoch"])
    op.create_table(
        "outbox_relay_state",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("changed_at", UtcDateTime, nullable=False),
        sa.Column("reason", sa.String(100), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_relay_state"),
    )
    op.create_table(
        "outbox_partition_marks",
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("cluster_id", sa.String(200), nullable=False, server_default=""),
        sa.Column("topic_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("last_offset", sa.BigInteger, nullable=False),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("published_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("topic", "partition", name="pk_outbox_partition_marks"),
    )
    op.create_table(
        "consumer_positions",
        sa.Column("consumer_group", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("next_offset", sa.BigInteger, nullable=False),
        sa.Column("topic_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint(
            "consumer_group", "topic", "partition", name="pk_consumer_positions"
        ),
    )


def drop_broker_recovery(op: Any) -> None:
    op.drop_table("consumer_positions")
    op.drop_table("outbox_partition_marks")
    op.drop_table("outbox_relay_state")
    op.drop_index("ix_outbox_events_broker_epoch", "outbox_events")
    with op.batch_alter_table("outbox_events") as t:
        t.drop_column("broker_epoch")
