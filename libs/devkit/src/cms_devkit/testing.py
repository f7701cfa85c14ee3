"""pytest plugin with the fixtures every suite uses: real databases, a real broker, real servers on port 0.

Enable with `pytest_plugins = ["cms_devkit.testing"]`. Backends:
- database: `CMS_TEST_DATABASE=postgres` (default; a fresh database per test on 127.0.0.1:5432, or on a private
  server started for the session when nothing answers there) or `CMS_TEST_DATABASE=sqlite` (a file per test);
- broker: KAFKA_BOOTSTRAP_SERVERS, else testcontainers when Docker answers, else Tansu on a free port.
Identity: one local issuer per test process (cms_devkit.issuer); every service under test trusts it and gets its
tokens for the services it calls, and `creds` mints callers' tokens with it.
"""

from __future__ import annotations

import atexit
import datetime as dt
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import grpc
import pytest

from cms_platform.clock import Clock, ManualClock
from cms_platform.db import drop_database, ensure_database
from cms_platform.identity import Caller, client_caller, service_caller, staff_caller
from cms_platform.service import CmsService
from cms_platform.settings import ServiceSettings

from . import infra
from .issuer import SERVICES, LocalIssuer

START = dt.datetime(2026, 4, 6, 9, 0, tzinfo=dt.UTC)

Metadata = tuple[tuple[str, str], ...]
S = TypeVar("S", bound=ServiceSettings)
C = TypeVar("C", bound=CmsService)
T = TypeVar("T")
# start_service(ServiceClass, kafka=..., db_name=..., service_clock=..., **settings) -> (service, channel)
StartService = Callable[..., tuple[Any, grpc.Channel]]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str | None]:
    if os.environ.get("CMS_TEST_DATABASE", "postgres") == "sqlite":
        yield None
        return
    url = infra.postgres_server_url()
    if url:
        yield url
        return
    private = infra.start_private_postgres()
    try:
        yield private.url
    finally:
        private.stop()


class _Dropper:
    """Drops finished tests' PostgreSQL databases on a background thread: DROP DATABASE waits for a checkpoint
    (about a second each), so dropping inline made a five-service test's teardown take five seconds."""

    def __init__(self) -> None:
        import queue
        import threading

        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="test-db-dropper", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (url := self._queue.get()) is not None:
            try:
                drop_database(url)
            except Exception:  # noqa: BLE001 - a leftover test database is harmless
                pass

    def drop(self, url: str) -> None:
        self._queue.put(url)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=300)


@pytest.fixture(scope="session")
def _database_dropper() -> Iterator[_Dropper]:
    dropper = _Dropper()
    yield dropper
    dropper.close()


@pytest.fixture
def devstack_databases(
    postgres_server: str | None, _database_dropper: _Dropper
) -> Iterator[dict[str, str]]:
    """The environment a `make run` started by a test (tools/devstack.py) needs for its databases: on PostgreSQL,
    databases of the test's own on the suite's server (a prefix no other run uses, so a database left by an older
    build's `make run` cannot break it), dropped afterwards; on SQLite, none (files under the test's var dir)."""
    if postgres_server is None:
        yield {}
        return
    prefix = f"cms_e2e_{uuid.uuid4().hex[:8]}_"
    yield {"CMS_POSTGRES_URL": postgres_server, "CMS_DATABASE_PREFIX": prefix}
    for name in SERVICES:
        _database_dropper.drop(infra.database_url(postgres_server, prefix + name.replace("-", "_")))


@pytest.fixture
def database_url(
    postgres_server: str | None, tmp_path: Path, _database_dropper: _Dropper
) -> Iterator[Callable[[str], str]]:
    """A factory: database_url("casework") gives a fresh, empty database for this test."""
    created: list[str] = []

    def make(name: str) -> str:
        if postgres_server is None:
            return f"sqlite:///{tmp_path / name}.db"
        url = infra.database_url(
            postgres_server, f"cms_t_{uuid.uuid4().hex[:10]}_{name.replace('-', '_')}"
        )
        ensure_database(url)
        created.append(url)
        return url

    yield make
    for url in created:
        _database_dropper.drop(url)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    broker = infra.start_broker()
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


_issuer: LocalIssuer | None = None


def local_issuer() -> LocalIssuer:
    """This test process's issuer: its key pair in a temporary directory, removed at exit."""
    global _issuer
    if _issuer is None:
        directory = Path(tempfile.mkdtemp(prefix="cms-test-issuer-"))
        atexit.register(shutil.rmtree, directory, True)
        _issuer = LocalIssuer.create(directory)
    return _issuer


@pytest.fixture(scope="session")
def issuer() -> LocalIssuer:
    return local_issuer()


class Credentials:
    """Metadata for calls as a given caller: `stub.Get(req, metadata=creds.staff())`. The tokens name every
    service as their audience, so a test's metadata works at any service, unless `audience=` says otherwise."""

    def __init__(self, issuer: LocalIssuer, *, ttl: float = 3600.0):
        self.issuer = issuer
        self.ttl = ttl
        # A caller's token is reused while it has more than half its life left, as a real client would: one
        # signature (and one verification at each service) instead of one per call.
        self._minted: dict[tuple[Caller, str | tuple[str, ...]], tuple[str, float]] = {}

    def of(self, caller: Caller, *, audience: str | tuple[str, ...] = SERVICES) -> Metadata:
        import time

        minted = self._minted.get((caller, audience))
        if minted is None or time.monotonic() - minted[1] > self.ttl / 2:
            minted = (self.issuer.mint(caller, audience=audience, ttl=self.ttl), time.monotonic())
            self._minted[(caller, audience)] = minted
        return (("authorization", f"Bearer {minted[0]}"),)

    def staff(
        self,
        staff_id: str = "staff-1",
        role: str = "caseworker",
        *,
        audience: str | tuple[str, ...] = SERVICES,
    ) -> Metadata:
        return self.of(staff_caller(staff_id, role), audience=audience)

    def service(
        self, name: str = "test-service", *, audience: str | tuple[str, ...] = SERVICES
    ) -> Metadata:
        return self.of(service_caller(name), audience=audience)

    def client(self, client_id: str, *, audience: str | tuple[str, ...] = SERVICES) -> Metadata:
        return self.of(client_caller(client_id), audience=audience)


@pytest.fixture(scope="session")
def creds(issuer: LocalIssuer) -> Credentials:
    return Credentials(issuer)


def service_settings(
    settings_class: type[S],
    *,
    database_url: str,
    kafka: str | None = None,
    calls: tuple[str, ...] = (),
    **overrides: Any,
) -> S:
    """Settings for a service under test: loopback, port 0, the test issuer (and the service's tokens for the
    services it `calls`), fast Kafka group joins."""
    issuer = local_issuer()
    token_dir = None
    if calls:
        token_dir = Path(tempfile.mkdtemp(prefix="tokens-", dir=issuer.directory))
        issuer.write_service_tokens(settings_class.service_name, token_dir, calls)
    values: dict[str, Any] = dict(
        identity_issuers=[issuer.trusted()],
        identity_token_dir=token_dir,
        environment="test",
        grpc_host="127.0.0.1",
        grpc_port=0,
        database_url=database_url,
        kafka_bootstrap_servers=kafka,
        consumer_session_timeout_ms=6000,
        consumer_heartbeat_interval_ms=2000,
        outbox_poll_interval_seconds=0.05,
        shutdown_grace_seconds=0.2,
        log_format="console",
        log_level=os.environ.get("CMS_TEST_LOG_LEVEL", "WARNING"),
    )
    values.update(overrides)
    return settings_class(**values)


@pytest.fixture
def start_service(database_url: Callable[[str], str], clock: ManualClock) -> Iterator[StartService]:
    """start_service(ServiceClass, kafka=..., **settings) → (service, channel) with the service on port 0."""
    running: list[tuple[CmsService, grpc.Channel]] = []

    def start(
        service_class: type[C],
        *,
        kafka: str | None = None,
        db_name: str | None = None,
        service_clock: Clock | None = None,
        **overrides: Any,
    ) -> tuple[C, grpc.Channel]:
        settings = service_settings(
            service_class.settings_class,
            database_url=database_url(db_name or service_class.name),
            kafka=kafka,
            calls=service_class.calls,
            **overrides,
        )
        service = service_class(settings, clock=service_clock or clock)
        port = service.start()
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        running.append((service, channel))
        return service, channel

    yield start

    def stop(pair: tuple[CmsService, grpc.Channel]) -> None:
        service, channel = pair
        channel.close()
        service.stop()

    # Services stop independently (each waits for its server, consumers and relay): in parallel, a five-service
    # stack takes as long to stop as its slowest member.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max(1, len(running))) as pool:
        list(pool.map(stop, reversed(running)))


def start_groups_at_the_end(bootstrap: str, groups: list[str]) -> None:
    """Commits, for each new consumer group, the end of every partition of every topic on the broker: a stack a test
    starts then reads only what happens from now on, rather than every event the session's earlier tests published
    (a group that has read nothing starts from the earliest, as it must in production). Its own services publish only
    once it is up, so it misses nothing of its own."""
    from kafka import KafkaConsumer, TopicPartition
    from kafka.structs import OffsetAndMetadata

    for group in groups:
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
        )
        try:
            partitions = [
                TopicPartition(topic, p)
                for topic in consumer.topics()
                for p in consumer.partitions_for_topic(topic) or ()
            ]
            if not partitions:
                continue
            consumer.assign(partitions)
            ends = consumer.end_offsets(partitions)
            consumer.commit({tp: OffsetAndMetadata(end, "", -1) for tp, end in ends.items()})
        finally:
            consumer.close()


def read_topic(
    bootstrap: str,
    topic: str,
    expected: int,
    timeout: float = 20.0,
    where: Callable[[Any], bool] | None = None,
) -> list[Any]:
    """Everything on a topic from the start (only the records `where` accepts, if given): waits for `expected` of
    them, then one more second for any extras (so a test sees a duplicate if there is one). A module's tests share
    their topics, so a test after its own records passes `where`: counting every record would stop at earlier
    tests' records before its own arrive."""
    import time

    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"reader-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=2000,
    )
    records: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(r for r in batch if where is None or where(r))
            if len(records) >= expected:
                deadline = min(deadline, time.monotonic() + 1.0)
    finally:
        consumer.close()
    return records


def events_on(
    bootstrap: str, topic: str, ce_type: str, key: str, expected: int = 1, timeout: float = 20.0
) -> list[Any]:
    """The records on `topic` of one CloudEvents type under one record key (read_topic, waiting for `expected`)."""
    wanted, keyed = ce_type.encode(), key.encode()
    return read_topic(
        bootstrap,
        topic,
        expected,
        timeout,
        where=lambda r: r.key == keyed and dict(r.headers).get("ce_type") == wanted,
    )


def call_as_a_client(call: Callable[[], T], *, attempts: int = 3, default_wait: float = 1.0) -> T:
    """Make a call the way the API asks real clients to (docs/runbook.md): an UNAVAILABLE answer (a downstream or the
    database too slow or away) and an ABORTED one with a retry hint (a race lost to a concurrent change, e.g. a
    consumer updating the case; nothing of it was stored) are retried with the same request, after the server's
    RetryInfo delay. The request's request_id makes the retry safe; the last attempt's error is raised."""
    import time

    from cms_platform.grpc_errors import retry_delay_of

    for attempt in range(1, attempts + 1):
        try:
            return call()
        except grpc.RpcError as err:
            delay = retry_delay_of(err)
            retried = err.code() == grpc.StatusCode.UNAVAILABLE or (
                err.code() == grpc.StatusCode.ABORTED and delay is not None
            )
            if not retried or attempt == attempts:
                raise
            time.sleep(min(max(default_wait if delay is None else delay, 0.1), 5.0))
    raise AssertionError("unreachable")


def wait_until(
    predicate: Callable[[], T],
    *,
    timeout: float = 30.0,
    interval: float = 0.05,
    what: str = "condition",
) -> T:
    """Poll until `predicate()` is truthy and return it (events arrive asynchronously); fail after `timeout`."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def promtool() -> str | None:
    """Prometheus's promtool: on PATH, or beside the venv's python where `make venv` puts it (tools/promtool.sh)."""
    import shutil
    import sys
    from pathlib import Path

    return shutil.which("promtool") or shutil.which(
        "promtool", path=str(Path(sys.executable).parent)
    )


def outbox_relay(
    sessions: Any, clock: Any, bootstrap: str, *, service: str = "test", **options: Any
) -> Any:
    """An outbox relay for a test's own database and the broker at `bootstrap` (`options`: OutboxRelay's others);
    call relay_once() for one pass, stop() when done."""
    from cms_platform.outbox import OutboxRelay
    from cms_platform.service import kafka_producer_factory

    return OutboxRelay(
        service=service,
        sessions=sessions,
        clock=clock,
        producer_factory=kafka_producer_factory(bootstrap, service),
        **options,
    )
