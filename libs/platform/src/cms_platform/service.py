"""Process lifecycle shared by every service: build, migrate, serve, relay, consume, stop on SIGTERM.

A service subclasses `CmsService`, naming its API registrations, the topics it publishes and the
subscriptions it consumes; `main()` gives it the `serve` and `migrate` commands.
"""

from __future__ import annotations

import abc
import argparse
import datetime as dt
import gc
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import structlog

from .clock import Clock, SystemClock
from .consumer import IdempotentConsumer, Subscription
from .db import make_engine, make_sessionmaker
from .identity import IdentityVerifier, TokenDirectory
from .logs import configure_logging
from .metrics import (
    CONSUMER_HEALTHY,
    CONSUMER_SECONDS_SINCE_PROGRESS,
    export_metrics,
    serve_metrics,
)
from .migrations import upgrade
from .outbox import OutboxRelay
from .readiness import Check, DependencyWatch, broker_check, database_check
from .server import GrpcServer, ServiceRegistration
from .settings import ServiceSettings
from .telemetry import configure_tracing, instrument_sql
from .topics import BrokerView, ensure_topics

__all__ = ["CmsService", "ensure_topics", "kafka_producer_factory", "main"]

log = structlog.get_logger("cms.service")


def kafka_producer_factory(bootstrap: str, client_id: str) -> Callable[[], Any]:
    def make() -> Any:
        from kafka import KafkaProducer

        # acks=all + idempotence: the relay marks a row published only after every in-sync replica has it.
        return KafkaProducer(
            bootstrap_servers=bootstrap,
            client_id=client_id,
            acks="all",
            enable_idempotence=True,
            allow_auto_create_topics=False,
            linger_ms=5,
            batch_size=256 * 1024,
            max_request_size=4 * 1024 * 1024,
            bootstrap_timeout_ms=10_000,
            max_block_ms=10_000,
            request_timeout_ms=10_000,
        )

    return make


class CmsService(abc.ABC):
    """Base class of the five services. Subclasses override the class attributes and `registrations()`."""

    name: str = "service"
    settings_class: type[ServiceSettings] = ServiceSettings
    # Topics this service publishes to (created locally if missing).
    topics: tuple[str, ...] = ()
    # Package dir holding this service's Alembic revisions.
    migrations_dir: Path | None = None
    # The services this one calls: it needs a token for each of their audiences in `identity_token_dir`.
    calls: tuple[str, ...] = ()

    def __init__(self, settings: ServiceSettings, *, clock: Clock | None = None):
        self.settings = settings
        self.clock: Clock = clock or SystemClock(dt.timedelta(days=settings.clock_offset_days))
        # Who may call: tokens from the trusted issuers, for this service's audience.
        self.identity = IdentityVerifier(
            settings.identity_issuers,
            audience=settings.audience,
            leeway_seconds=settings.identity_leeway_seconds,
        )
        # How this service identifies itself when it calls others: a token per audience, rotated by the platform.
        self.tokens = TokenDirectory(settings.identity_token_dir)
        self.engine = make_engine(
            settings.effective_database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
        )
        self.sessions = make_sessionmaker(self.engine)
        self.server: GrpcServer | None = None
        self.relay: OutboxRelay | None = None
        self.consumers: list[IdempotentConsumer] = []
        self.dependencies: DependencyWatch | None = None
        self._stopped = threading.Event()

    # -- what a service declares ----------------------------------------------------------------------------

    @abc.abstractmethod
    def registrations(self) -> list[ServiceRegistration]:
        """The APIs this service serves."""

    def subscriptions(self) -> list[Subscription]:
        return []

    def close_clients(self) -> None:  # noqa: B027 - optional hook, not abstract
        """Close outbound channels (services that call others override this)."""

    # -- lifecycle ------------------------------------------------------------------------------------------

    def migrate(self) -> None:
        if self.migrations_dir is None:
            raise RuntimeError(f"{self.name} has no migrations")
        upgrade(self.settings.effective_database_url, self.migrations_dir)

    def start(self, *, migrate: bool = True) -> int:
        if migrate:
            self.migrate()
        s = self.settings
        if not s.identity_issuers:
            log.warning(
                "no identity issuers configured: every call will be refused UNAUTHENTICATED"
            )
        missing = self.tokens.missing(self.calls)
        if missing:
            log.warning(
                "no identity token for some services this one calls",
                audiences=missing,
                token_dir=str(s.identity_token_dir),
            )
        self.server = GrpcServer(
            service=self.name,
            registrations=self.registrations(),
            identity=self.identity,
            host=s.grpc_host,
            port=s.port,
            max_workers=s.grpc_max_workers,
            max_connection_age_seconds=s.grpc_max_connection_age_seconds,
            max_connection_age_grace_seconds=s.grpc_max_connection_age_grace_seconds,
        )
        port = self.server.start()
        if s.kafka_bootstrap_servers:
            topics = list(self.topics) + [t for sub in self.subscriptions() for t in sub.topics]
            if s.kafka_create_topics:
                try:
                    ensure_topics(s.kafka_bootstrap_servers, sorted(set(topics)))
                except Exception as exc:  # noqa: BLE001 - the relay and consumers retry on their own
                    log.warning("could not ensure topics", error=str(exc))
            self.relay = OutboxRelay(
                service=self.name,
                sessions=self.sessions,
                clock=self.clock,
                producer_factory=kafka_producer_factory(s.kafka_bootstrap_servers, self.name),
                poll_interval=s.outbox_poll_interval_seconds,
                listening_poll_interval=s.outbox_listening_poll_interval_seconds,
                broker=BrokerView(
                    s.kafka_bootstrap_servers, client_id=f"{self.name}-relay", service=self.name
                ),
                check_interval=s.broker_check_interval_seconds,
                own_topics=self.topics if s.kafka_create_topics else (),
            )
            self.relay.start()
            for sub in self.subscriptions():
                c = IdempotentConsumer(
                    service=self.name,
                    subscription=sub,
                    bootstrap_servers=s.kafka_bootstrap_servers,
                    sessions=self.sessions,
                    clock=self.clock,
                    session_timeout_ms=s.consumer_session_timeout_ms,
                    heartbeat_interval_ms=s.consumer_heartbeat_interval_ms,
                    check_interval=s.broker_check_interval_seconds,
                    rejoin_after=s.consumer_rejoin_after_seconds,
                    stall_after=s.consumer_stall_after_seconds,
                    create_topics=s.kafka_create_topics,
                )
                c.start()
                self.consumers.append(c)
        else:
            log.warning("no Kafka configured: events wait in the outbox until a broker is set")
        most = s.database_pool_size + s.database_max_overflow
        checks: dict[str, Check] = {"database": database_check(self.engine, most=most)}
        broker = None
        if s.kafka_bootstrap_servers:
            broker = BrokerView(
                s.kafka_bootstrap_servers, client_id=f"{self.name}-readiness", service=self.name
            )
            checks["broker"] = broker_check(broker)
        self.dependencies = DependencyWatch(
            checks,
            fail_after=s.readiness_fail_after,
            recover_after=s.readiness_recover_after,
            timeout=s.readiness_check_timeout_seconds,
            on_close=broker.close if broker else None,
        )
        threading.Thread(
            target=self._watch_readiness,
            args=(self.dependencies,),
            name=f"{self.name}-readiness",
            daemon=True,
        ).start()
        self.server.set_ready(True)
        log.info("service started", port=port)
        return port

    def _watch_readiness(self, dependencies: DependencyWatch) -> None:
        """Readiness follows the database and the broker (down after some failed checks in a row, up after some
        successes: cms_platform.readiness) and the consumers: one that makes no progress takes the service out of
        rotation (and says why once), until it recovers."""
        ready = True
        while not self._stopped.wait(self.settings.readiness_check_interval_seconds):
            down = dependencies.poll()
            stuck = []
            for c in self.consumers:
                healthy = c.healthy()
                CONSUMER_HEALTHY.labels(self.name, c.group_id).set(1 if healthy else 0)
                CONSUMER_SECONDS_SINCE_PROGRESS.labels(self.name, c.group_id).set(
                    c.seconds_since_progress()
                )
                if not healthy:
                    stuck.append(c.group_id)
            now = not stuck and not down
            if now != ready and self.server is not None and not self._stopped.is_set():
                ready = now  # changed: say so once (DependencyWatch logs a dependency's changes)
                self.server.set_ready(ready)
                if stuck:
                    log.error("consumer makes no progress; service not ready", groups=stuck)
                elif ready:
                    log.info("dependencies reachable and consumers make progress; service ready")

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        grace = self.settings.shutdown_grace_seconds
        if self.server:
            self.server.stop(grace)  # stop taking calls first; in-flight calls finish
        for c in self.consumers:
            c.stop()
        if self.relay:
            self.relay.stop()  # a last pass is not needed: unpublished rows wait for the next start
        if self.dependencies:
            self.dependencies.close()
        self.close_clients()
        self.engine.dispose()
        log.info("service stopped")

    def serve_forever(self) -> None:
        done = threading.Event()

        def _on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("signal received; shutting down", signal=signal.Signals(signum).name)
            done.set()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        self.start(migrate=self.settings.migrate_on_start)
        done.wait()
        self.stop()


def main(service_class: type[CmsService], argv: list[str] | None = None) -> int:
    args_given = sys.argv[1:] if argv is None else argv
    if args_given[:1] == ["parked"]:
        return _parked(service_class, args_given[1:])
    parser = argparse.ArgumentParser(prog=f"cms-{service_class.name}")
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=["serve", "migrate", "replay-outbox", "parked"],
        help="serve: run the gRPC server, outbox relay and consumers; migrate: upgrade the database; "
        "replay-outbox: re-send the events recorded since --since (after a broker lost data); "
        "parked: list, inspect, retry or discard parked events (cms-<service> parked --help)",
    )
    parser.add_argument(
        "--since",
        type=dt.datetime.fromisoformat,
        help="replay-outbox: ISO 8601 instant with offset, e.g. 2026-04-06T09:00:00+00:00",
    )
    args = parser.parse_args(argv)
    settings = service_class.settings_class()
    configure_logging(service=service_class.name, level=settings.log_level, fmt=settings.log_format)
    configure_tracing(service_class.name)
    instrument_sql()
    service = service_class(settings)
    if args.command == "migrate":
        service.migrate()
        log.info("database migrated")
        return 0
    if args.command == "replay-outbox":
        if args.since is None or args.since.tzinfo is None:
            parser.error("replay-outbox needs --since with a UTC offset")
        from . import outbox

        count = outbox.replay(service.sessions, since=args.since)
        log.info("outbox events queued to be sent again by the running relay", events=count)
        return 0
    serve_metrics(settings.metrics_port)
    export_metrics(service_class.name)
    # What start-up made (modules, descriptors, mappers) lives as long as the process: out of the collector's way, a
    # full collection no longer walks it in the middle of a request (a long statement's p99 halves).
    gc.freeze()
    service.serve_forever()
    return 0


def _parked(service_class: type[CmsService], argv: list[str]) -> int:
    """`cms-<service> parked ...` (cms_platform.parked): the service built with its settings, not started."""
    from . import parked

    settings = service_class.settings_class()
    configure_logging(service=service_class.name, level=settings.log_level, fmt=settings.log_format)
    service = service_class(settings)
    try:
        return parked.main(service, argv)
    finally:
        service.close_clients()
        service.engine.dispose()
