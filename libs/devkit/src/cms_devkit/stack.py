"""The five services as separate processes on one machine: what `make run` (tools/devstack.py) and the fault suite
(cms_devkit.faults) both start, each with its environment, tokens from the local issuer and its own database, and
what the fault suite kills with SIGKILL and starts again; `Supervisor` keeps them up for `make run`.

A service's environment: this process's own (unless `inherit` is off, when every variable with the service's prefix
is dropped so nothing inherited points it elsewhere), then the stack's settings (address, broker, var dir,
tokens, a database of its own on CMS_POSTGRES_URL's server when one is given), then `extra`, then the process's
`own` settings. A service may run as several processes (`add_replica`: a scaled-out Deployment's pods), each on a
port of its own and all on its one database and broker.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from cms_platform.service import CmsService

from . import infra
from .issuer import LocalIssuer


class ServiceSpec(NamedTuple):
    name: str
    module: str  # the python package; `python -m <module> serve` runs it
    prefix: str  # of its environment variables
    default_port: int


SERVICES = (
    ServiceSpec("calculation", "cms_calculation", "CALCULATION_", 50051),
    ServiceSpec("casework", "cms_casework", "CASEWORK_", 50052),
    ServiceSpec("hmrc-gateway", "cms_hmrc_gateway", "HMRC_GATEWAY_", 50053),
    ServiceSpec("dwp-gateway", "cms_dwp_gateway", "DWP_GATEWAY_", 50054),
    ServiceSpec("cra-gateway", "cms_cra_gateway", "CRA_GATEWAY_", 50055),
)
BY_NAME = {s.name: s for s in SERVICES}
# casework calls the other four at these settings.
_DOWNSTREAMS = ("calculation", "hmrc-gateway", "dwp-gateway", "cra-gateway")


def calls_of(spec: ServiceSpec) -> tuple[str, ...]:
    """The services `spec` calls, as its CmsService class declares them."""
    app = importlib.import_module(f"{spec.module}.app")
    for value in vars(app).values():
        if isinstance(value, type) and issubclass(value, CmsService) and value.name == spec.name:
            return value.calls
    raise LookupError(f"{spec.module}.app has no CmsService named {spec.name!r}")


@dataclass
class Stack:
    """The services' settings and processes. `addresses` maps each service to host:port; `postgres` is a server URL
    (each service gets database <database_prefix><service> on it) or None for SQLite files under `var`.
    `new_session`: the services run in sessions of their own, so a Ctrl-C reaches only the caller, which stops
    them in order. `addresses`, `procs`, `own` and the logs are by process name: a service's, or a replica's
    (`<service>-<n>`)."""

    var: Path
    bootstrap: str | None  # None: no broker (events wait in the outbox)
    addresses: dict[str, str]
    issuer: LocalIssuer
    postgres: str | None = None
    inherit: bool = True
    extra: Mapping[str, str] = field(default_factory=dict)  # without prefix, for every service
    cwd: Path | None = None
    database_prefix: str = "cms_"
    new_session: bool = False
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    # Settings for one process only (without prefix), after `extra`: e.g. a metrics port, which two processes
    # cannot share.
    own: dict[str, dict[str, str]] = field(default_factory=dict)
    # Further processes of a service: process name -> service.
    replicas: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        (self.var / "logs").mkdir(parents=True, exist_ok=True)
        self._calls = {s.name: calls_of(s) for s in SERVICES}

    def database_url(self, name: str) -> str | None:
        """The service's PostgreSQL database, or None on SQLite (its file under `var`, the service's default)."""
        if not self.postgres:
            return None
        return infra.database_url(self.postgres, self.database_prefix + name.replace("-", "_"))

    def log_path(self, name: str) -> Path:
        return self.var / "logs" / f"{name}.log"

    def write_service_tokens(self, ttl: float) -> None:
        """Each calling service's tokens for the services it calls, where its env points (rotated by re-writing)."""
        for name, targets in self._calls.items():
            if targets:
                self.issuer.write_service_tokens(name, self._token_dir(name), targets, ttl=ttl)

    def _token_dir(self, name: str) -> Path:
        return self.var / "identity" / "tokens" / name

    def service_of(self, name: str) -> str:
        """The service a process is of: a replica's, or the name itself."""
        return self.replicas.get(name, name)

    def add_replica(self, service: str, own: Mapping[str, str] | None = None) -> str:
        """Another process of `service` on the same database, broker and tokens, on a free port of its own, with
        `own` settings; returns its name, `<service>-<n>` (n from 2), for `start`. Start it once the service's first
        process is serving: a replica does not migrate the database (the first did, as an init container does on
        Kubernetes), so two never race to."""
        n = 2 + sum(1 for s in self.replicas.values() if s == service)
        name = f"{service}-{n}"
        self.replicas[name] = service
        self.addresses[name] = f"127.0.0.1:{infra.free_port()}"
        self.own[name] = {"MIGRATE_ON_START": "false", **(own or {})}
        return name

    def env(self, name: str) -> dict[str, str]:
        """The environment of process `name` (a service's, or a replica's)."""
        service = self.service_of(name)
        prefix = BY_NAME[service].prefix
        # As the images set it (deploy/docker/Dockerfile), unless the environment says otherwise.
        env = {"MALLOC_ARENA_MAX": "2", **os.environ}
        if not self.inherit:
            for key in [k for k in env if k.startswith(prefix)]:
                del env[key]
        env.update(
            {
                f"{prefix}GRPC_HOST": "127.0.0.1",
                f"{prefix}GRPC_PORT": self.addresses[name].rsplit(":", 1)[1],
                f"{prefix}VAR_DIR": str(self.var),
                f"{prefix}LOG_FORMAT": env.get(f"{prefix}LOG_FORMAT", "console"),
            }
        )
        if self.bootstrap is not None:
            env[f"{prefix}KAFKA_BOOTSTRAP_SERVERS"] = self.bootstrap
        env.update(
            self.issuer.service_env(
                prefix, token_dir=self._token_dir(service) if self._calls[service] else None
            )
        )
        if (url := self.database_url(service)) is not None:
            env[f"{prefix}DATABASE_URL"] = url
        if service == "casework":
            for other in _DOWNSTREAMS:
                if other in self.addresses:
                    env[f"CASEWORK_{BY_NAME[other].prefix}ADDRESS"] = self.addresses[other]
        env.update({prefix + key: value for key, value in self.extra.items()})
        env.update({prefix + key: value for key, value in self.own.get(name, {}).items()})
        return env

    def start(self, name: str) -> subprocess.Popen:
        """Starts one process, a service's or a replica's (its output appended to var/logs/<name>.log); does not
        wait for it."""
        with open(self.log_path(name), "ab") as log:
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", BY_NAME[self.service_of(name)].module, "serve"],
                env=self.env(name),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                start_new_session=self.new_session,
            )
        return self.procs[name]

    def wait_serving(self, name: str, timeout: float = 90.0) -> None:
        """Until the service reports SERVING; RuntimeError naming its log if it exits or never does."""
        try:
            infra.wait_serving(self.addresses[name], timeout=timeout, process=self.procs[name])
        except (TimeoutError, RuntimeError) as exc:
            raise RuntimeError(f"{name}: {exc}; see {self.log_path(name)}") from None

    def start_all(self, timeout: float = 90.0) -> None:
        """Starts every service `addresses` names (all five, or e.g. calculation alone) and waits for SERVING."""
        names = [s.name for s in SERVICES if s.name in self.addresses]
        for name in names:
            self.start(name)
        for name in names:
            self.wait_serving(name, timeout)

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown hook runs, in-flight requests and transactions are cut, as when a node dies."""
        proc = self.procs[name]
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(30)

    def restart(self, name: str, timeout: float = 90.0) -> None:
        """Starts a killed (or stopped) service again on the same address and database, and waits for SERVING."""
        if self.procs[name].poll() is None:
            raise RuntimeError(f"{name} is still running")
        self.start(name)
        self.wait_serving(name, timeout)

    def exited(self) -> dict[str, int]:
        """The services whose processes have exited, with their exit codes."""
        return {
            name: proc.returncode for name, proc in self.procs.items() if proc.poll() is not None
        }

    def stop_all(self, timeout: float = 15.0) -> list[str]:
        """SIGTERM to every running service, SIGKILL after `timeout`; returns the ones that had to be killed."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        killed = []
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                killed.append(name)
                proc.kill()
                proc.wait()
        return killed


class Supervisor:
    """Keeps a Stack's services up for `make run`: a service that exits without being asked to is started again
    after a pause that doubles with each crash in a row (1 s up to 30 s; back to 1 s once it has stayed up a minute);
    one the operator stops (`stop`) stays down until started again (`start`), so an outage can be rehearsed while the
    rest of the stack runs. Thread-safe: the launcher's loop calls `tick`, its control socket the rest."""

    FIRST_PAUSE = 1.0
    LONGEST_PAUSE = 30.0
    STABLE_AFTER = 60.0

    def __init__(self, stack: Stack, say: Callable[[str], None] = print) -> None:
        self._stack = stack
        self._say = say
        self._lock = threading.RLock()
        self._held: set[str] = set()  # stopped by the operator
        self._pause = {name: self.FIRST_PAUSE for name in stack.procs}
        self._due: dict[str, float] = {}  # crashed: when it is started again
        self._started_at = {name: time.monotonic() for name in stack.procs}
        self.restarts = {name: 0 for name in stack.procs}

    def tick(self) -> None:
        """Notices crashed services and starts those whose pause is over."""
        with self._lock:
            now = time.monotonic()
            for name, code in self._stack.exited().items():
                if name in self._held:
                    continue
                if name not in self._due:
                    if now - self._started_at.get(name, now) >= self.STABLE_AFTER:
                        self._pause[name] = self.FIRST_PAUSE
                    pause = self._pause.get(name, self.FIRST_PAUSE)
                    self._due[name] = now + pause
                    self._pause[name] = min(pause * 2, self.LONGEST_PAUSE)
                    self._say(
                        f"{name} exited with {code}; starting it again in {pause:.0f} s "
                        f"(see {self._stack.log_path(name)})"
                    )
                elif now >= self._due[name]:
                    del self._due[name]
                    self._start(name)
                    self.restarts[name] = self.restarts.get(name, 0) + 1

    def _start(self, name: str) -> None:
        self._stack.start(name)
        self._started_at[name] = time.monotonic()

    def stop(self, name: str, timeout: float = 15.0) -> str:
        """SIGTERM (SIGKILL after `timeout`); it stays down until `start`."""
        with self._lock:
            self._held.add(name)
            self._due.pop(name, None)
            proc = self._stack.procs.get(name)
            if proc is None or proc.poll() is not None:
                return f"{name} is stopped"
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return f"{name} did not stop in {timeout:.0f} s; killed it"
        return f"{name} stopped"

    def start(self, name: str, timeout: float = 90.0) -> str:
        """Starts a stopped (or crashed, waiting) service now and waits until it is SERVING."""
        with self._lock:
            self._held.discard(name)
            self._due.pop(name, None)
            proc = self._stack.procs.get(name)
            if proc is not None and proc.poll() is None:
                return f"{name} is already running"
            self._pause[name] = self.FIRST_PAUSE
            self._start(name)
        self._stack.wait_serving(name, timeout)
        return f"{name} SERVING at {self._stack.addresses[name]}"

    def status(self) -> list[str]:
        """One line per service: running (pid), stopped by the operator, or waiting to be started again."""
        with self._lock:
            lines = []
            for name, proc in self._stack.procs.items():
                if proc.poll() is None:
                    state = f"running pid {proc.pid}"
                elif name in self._held:
                    state = "stopped"
                else:
                    state = f"exited with {proc.returncode}; starting again"
                lines.append(
                    f"{name:<13} {self._stack.addresses[name]:<16} {state}"
                    f" (restarts: {self.restarts.get(name, 0)})"
                )
            return lines
