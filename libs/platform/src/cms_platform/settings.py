"""Settings from the environment, one prefix per service (CASEWORK_, HMRC_GATEWAY_, ...).

Nothing is read at import time: a service builds its settings object in `main()` (or a test builds
one directly), so tests never have to mutate os.environ before importing code.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SIGNING_KEY = "cms-development-signing-key-not-for-production"


class ServiceSettings(BaseSettings):
    """Settings every service has. Subclasses set `service_name` and `model_config.env_prefix`."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    service_name: ClassVar[str] = "service"
    default_grpc_port: ClassVar[int] = 50050

    environment: Literal["development", "test", "production"] = "development"
    grpc_host: str = "0.0.0.0"
    grpc_port: int | None = None
    grpc_max_workers: int = 16
    metrics_port: int | None = None
    # SQLAlchemy URL of this service's own database; unset means a SQLite file under var_dir.
    database_url: str | None = None
    var_dir: Path = Path("var")
    # Run Alembic at start-up (development); on Kubernetes an init container runs `migrate` instead.
    migrate_on_start: bool = True
    # Unset: events stay in the outbox until a broker is configured (nothing is lost).
    kafka_bootstrap_servers: str | None = None
    # Create missing topics at start-up (local runs). Off on Kubernetes, where Strimzi KafkaTopics own
    # them with the right partitions and replication.
    kafka_create_topics: bool = True
    consumer_session_timeout_ms: int = 10_000
    consumer_heartbeat_interval_ms: int = 3_000
    outbox_poll_interval_seconds: float = 0.2
    identity_signing_key: SecretStr = SecretStr(DEV_SIGNING_KEY)
    identity_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    identity_token_ttl_seconds: int = 300
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    shutdown_grace_seconds: float = 10.0
    # Shifts the system clock (whole days) for demos that run in business time ahead of today.
    clock_offset_days: int = 0

    @model_validator(mode="after")
    def _production_needs_real_key(self) -> ServiceSettings:
        if (
            self.environment == "production"
            and self.identity_signing_key.get_secret_value() == DEV_SIGNING_KEY
        ):
            raise ValueError("identity_signing_key must be set in production")
        return self

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
