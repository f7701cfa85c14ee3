"""Settings from the environment, one prefix per service (CASEWORK_, HMRC_GATEWAY_, ...).

Nothing is read at import time: a service builds its settings object in `main()` (or a test builds
one directly), so tests never have to mutate os.environ before importing code.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .identity import TrustedIssuer


class ServiceSettings(BaseSettings):
    """Settings every service has. Subclasses set `service_name` and `model_config.env_prefix`."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    service_name: ClassVar[str] = "service"
    default_grpc_port: ClassVar[int] = 50050

    environment: Literal["development", "test", "production"] = "development"
    grpc_host: str = "0.0.0.0"
    grpc_port: int | None = None
    grpc_max_workers: int = 16
    # The server closes (GOAWAY) each client connection after about this long (gRPC adds ±10% jitter), so callers
    # re-resolve the headless Service and spread over pods added by a scale-up; calls in flight get the grace to
    # finish. 0 turns it off.
    grpc_max_connection_age_seconds: float = Field(default=300.0, ge=0)
    grpc_max_connection_age_grace_seconds: float = Field(default=30.0, ge=0)
    metrics_port: int | None = None
    # SQLAlchemy URL of this service's own database; unset means a SQLite file under var_dir.
    database_url: str | None = None
    var_dir: Path = Path("var")
    # PostgreSQL connections this process may hold: pool_size kept open, max_overflow more under load. On
    # Kubernetes sized so every pod at full scale fits PostgreSQL's max_connections (deploy/README.md).
    database_pool_size: int = Field(default=10, ge=1)
    database_max_overflow: int = Field(default=10, ge=0)
    # Run Alembic at start-up (development); on Kubernetes an init container runs `migrate` instead.
    migrate_on_start: bool = True
    # Unset: events stay in the outbox until a broker is configured (nothing is lost).
    kafka_bootstrap_servers: str | None = None
    # Create missing topics at start-up (local runs). Off on Kubernetes, where Strimzi KafkaTopics own
    # them with the right partitions and replication.
    kafka_create_topics: bool = True
    # Apache Kafka refuses a session timeout under its group.min.session.timeout.ms (6 s by default), and the
    # heartbeat should be a third of it at most; the local broker (Tansu) holds a group join for half the session
    # timeout, so the lowest Kafka accepts is also the quickest first join (3 s; a client's 45 s default waits 23 s).
    consumer_session_timeout_ms: int = Field(default=6_000, ge=6_000, le=300_000)
    consumer_heartbeat_interval_ms: int = Field(default=2_000, gt=0)
    outbox_poll_interval_seconds: float = 0.2
    # The relay's poll while PostgreSQL notifications wake it on every commit that published: only a net for a
    # wake-up lost with the listening connection.
    outbox_listening_poll_interval_seconds: float = Field(default=2.0, gt=0)
    # How often the relay and each consumer look at the broker for lost data (a restart empty, a replacement).
    broker_check_interval_seconds: float = Field(default=5.0, gt=0)
    # A consumer without a group this long leaves and joins again; one making no progress this long (a poll or an
    # event stuck) makes the service not ready.
    consumer_rejoin_after_seconds: float = Field(default=30.0, gt=0)
    consumer_stall_after_seconds: float = Field(default=60.0, gt=0)
    # Readiness follows the database (SELECT 1 on the pool) and the broker (cluster metadata), checked this often
    # with this timeout: not ready after `fail_after` failed checks in a row, ready again after `recover_after`
    # good ones (cms_platform.readiness). Liveness never depends on them.
    readiness_check_interval_seconds: float = Field(default=2.0, gt=0)
    readiness_check_timeout_seconds: float = Field(default=2.0, gt=0)
    readiness_fail_after: int = Field(default=3, ge=1)
    readiness_recover_after: int = Field(default=2, ge=1)
    # The issuers whose tokens this service accepts (JSON in the env: a list of cms_platform.identity.TrustedIssuer),
    # e.g. the cluster's ServiceAccount issuer for services and the OIDC provider for staff and clients.
    identity_issuers: tuple[TrustedIssuer, ...] = ()
    # What a token must name in `aud` to be accepted here; unset means the service's name ("casework", ...).
    identity_audience: str | None = None
    # Clock skew tolerated on `exp`, `nbf` and `iat`.
    identity_leeway_seconds: float = Field(default=30.0, ge=0, le=300)
    # This service's own tokens for the services it calls: `<dir>/<audience>`, one file per audience (projected
    # ServiceAccount tokens on Kubernetes); re-read when they change.
    identity_token_dir: Path | None = None
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    shutdown_grace_seconds: float = 10.0
    # Shifts the system clock (whole days) for demos that run in business time ahead of today.
    clock_offset_days: int = 0

    @model_validator(mode="after")
    def _heartbeat_within_the_session(self) -> ServiceSettings:
        if self.consumer_heartbeat_interval_ms * 3 > self.consumer_session_timeout_ms:
            raise ValueError(
                "consumer_heartbeat_interval_ms must be at most a third of consumer_session_timeout_ms"
            )
        return self

    @model_validator(mode="after")
    def _production_needs_issuers(self) -> ServiceSettings:
        if self.environment == "production" and not self.identity_issuers:
            raise ValueError("identity_issuers must name the trusted issuers in production")
        return self

    @property
    def audience(self) -> str:
        """The audience this service's callers' tokens must name."""
        return self.identity_audience or self.service_name

    @property
    def port(self) -> int:
        return self.default_grpc_port if self.grpc_port is None else self.grpc_port

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / f'{self.service_name}.db').resolve()}"


def prefixed(prefix: str) -> SettingsConfigDict:
    """The model_config for a service's settings class."""
    return SettingsConfigDict(env_prefix=prefix, frozen=True, extra="ignore")
