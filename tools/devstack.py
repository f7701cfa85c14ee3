"""`make run`: start a broker and all five services on this machine, print their addresses, stop on Ctrl-C.

Databases: SQLite files under var/ by default; set CMS_POSTGRES_URL (e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/postgres) to give each service its own PostgreSQL database, named
cms_<service> (CMS_DATABASE_PREFIX, default `cms_`, changes the prefix: the e2e tests use one of their own).
Broker: KAFKA_BOOTSTRAP_SERVERS if set, else a Docker Kafka if an engine answers, else Tansu on 127.0.0.1:9092
(or a free port when 9092 is taken), in memory; with CMS_DURABLE_BROKER=1 (make run DURABLE_BROKER=1) Tansu keeps
its data in S3 (a local s3rver writing under <var>/broker), so the events survive a broker restart. `--check` starts everything, checks health, and stops (a smoke test).
Identity: a local issuer (cms_devkit.issuer) with a key pair made at start in <var>/identity; every service trusts
its JWKS and finds its tokens for the services it calls in <var>/identity/tokens/<service>/ (re-minted every
15 minutes). Print a token for any caller with `python -m cms_devkit.issuer var/identity staff <id> <role>`.

Supervision: a service that exits is started again (cms_devkit.stack.Supervisor: 1 s, doubling to 30 s while it keeps
crashing). While it runs, `devstack.py stop <service>` / `start <service>` / `restart <service>` / `status` (or
`make stop-service SERVICE=casework`, `make start-service ...`, `make services`) talk to it over the control
socket <var>/devstack.sock: a stopped service stays down, the rest run on, so an outage can be rehearsed.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import socketserver
import sys
import threading
import time
from pathlib import Path

from cms_devkit import infra
from cms_devkit.issuer import SERVICES as AUDIENCES
from cms_devkit.issuer import LocalIssuer
from cms_devkit.stack import BY_NAME, SERVICES, Stack, Supervisor
from cms_platform.identity import staff_caller

ROOT = Path(__file__).resolve().parent.parent

# Service tokens live an hour and are re-minted every 15 minutes, as the kubelet rotates projected tokens.
TOKEN_TTL_SECONDS = 3600
TOKEN_REFRESH_SECONDS = 900
# What the printed tokens are good for: a working day.
PRINTED_TOKEN_TTL_SECONDS = 8 * 3600
CONTROL_COMMANDS = ("stop", "start", "restart", "status")


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def control_socket(var: Path) -> Path:
    return var / "devstack.sock"


def serve_control(path: Path, supervisor: Supervisor) -> socketserver.BaseServer:
    """The control socket: one command a connection (`stop casework`), answered in lines."""

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            words = self.rfile.readline().decode().split()
            try:
                lines = answer(supervisor, words)
            except Exception as exc:  # noqa: BLE001 - the operator sees why; the stack runs on
                lines = [f"error: {exc}"]
            self.wfile.write("".join(f"{line}\n" for line in lines).encode())

    if path.exists():
        if ask(path, ["status"]) is not None:
            raise RuntimeError(f"a stack already runs with {path.parent}; stop it first")
        path.unlink()
    server = socketserver.ThreadingUnixStreamServer(str(path), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="devstack-control", daemon=True).start()
    return server


def answer(supervisor: Supervisor, words: list[str]) -> list[str]:
    if words == ["status"]:
        return supervisor.status()
    if len(words) != 2 or words[0] not in CONTROL_COMMANDS or words[1] not in BY_NAME:
        return [
            f"error: expected one of {', '.join(CONTROL_COMMANDS)} and one of {', '.join(BY_NAME)}"
        ]
    command, name = words
    if command == "stop":
        return [supervisor.stop(name)]
    if command == "start":
        return [supervisor.start(name)]
    return [supervisor.stop(name), supervisor.start(name)]


def ask(path: Path, words: list[str], timeout: float = 120.0) -> str | None:
    """Sends a command to a running stack; its answer, or None when none listens at `path`."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(path))
            s.sendall((" ".join(words) + "\n").encode())
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
    except (FileNotFoundError, ConnectionRefusedError):
        return None
    return b"".join(chunks).decode()


def control(args: argparse.Namespace) -> int:
    """`devstack.py stop|start|restart <service>` or `status`, against the stack running with --var-dir."""
    words = [args.command] + ([args.service] if args.service else [])
    reply = ask(control_socket(Path(args.var_dir)), words)
    if reply is None:
        print(f"no stack is running with {args.var_dir} (start one with make run)", file=sys.stderr)
        return 1
    print(reply, end="")
    return 1 if reply.startswith("error") else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=("run", *CONTROL_COMMANDS),
        help="run (default): start the stack; the others talk to a running one",
    )
    parser.add_argument("service", nargs="?", choices=list(BY_NAME), help="for stop/start/restart")
    parser.add_argument("--check", action="store_true", help="start, check health, stop")
    parser.add_argument("--var-dir", default=str(ROOT / "var"))
    args = parser.parse_args()
    if args.command != "run":
        if (args.command == "status") != (args.service is None):
            parser.error(
                f"{args.command} takes {'no' if args.command == 'status' else 'a'} service"
            )
        return control(args)

    var = Path(args.var_dir)
    # A new key pair every start: the services trust only its public key; the tools mint with it (--var-dir).
    issuer = LocalIssuer.create(var / "identity")
    broker_port = int(os.environ.get("CMS_BROKER_PORT", "9092"))
    port = broker_port if port_free(broker_port) else None
    durable = os.environ.get("CMS_DURABLE_BROKER", "") not in ("", "0")
    if durable and not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        # Tansu on S3 files under var/broker (a local s3rver): events survive a broker restart.
        broker = infra.start_tansu(port, storage_dir=var / "broker")
    else:
        broker = infra.start_broker(port)
    pg = os.environ.get("CMS_POSTGRES_URL")
    stack = Stack(
        var=var,
        bootstrap=broker.bootstrap,
        addresses={
            s.name: f"127.0.0.1:{int(os.environ.get(f'{s.prefix}GRPC_PORT', s.default_port))}"
            for s in SERVICES
        },
        issuer=issuer,
        postgres=pg,
        database_prefix=os.environ.get("CMS_DATABASE_PREFIX", "cms_"),
        cwd=ROOT,
    )
    stack.write_service_tokens(TOKEN_TTL_SECONDS)
    stopping = threading.Event()

    def stop_all(*_):
        stopping.set()

    signal.signal(signal.SIGINT, stop_all)
    signal.signal(signal.SIGTERM, stop_all)
    control_server: socketserver.BaseServer | None = None
    try:
        try:
            stack.start_all(timeout=60)
        except RuntimeError as exc:
            print(f"failed to start: {exc}", file=sys.stderr)
            return 1
        supervisor = Supervisor(stack, say=lambda line: print(line, file=sys.stderr, flush=True))
        if not args.check:
            control_server = serve_control(control_socket(var), supervisor)
        # Good at every service, as a caller's token from the organisation's identity provider would be.
        token, admin_token = (
            issuer.mint(
                staff_caller(staff_id, role), audience=AUDIENCES, ttl=PRINTED_TOKEN_TTL_SECONDS
            )
            for staff_id, role in (
                ("dev-caseworker", "caseworker"),
                ("dev-scenario-admin", "scenario_admin"),
            )
        )
        print("\nCMS is running:")
        print(
            f"  {'broker':<13} {broker.bootstrap}"
            + (f" (durable: {var / 'broker'})" if durable else "")
        )
        for spec in SERVICES:
            print(f"  {spec.name:<13} {stack.addresses[spec.name]}")
        print(f"\n  databases     {'PostgreSQL ' + pg if pg else 'SQLite files in ' + str(var)}")
        print(f"  logs          {var / 'logs'}")
        print(
            f"\n  A caseworker token for 8 hours (send as 'authorization: Bearer <token>'):\n  {token}"
        )
        print(
            "\n  A scenario-admin token for the gateways' scenario (test-data) services, 8 hours"
            f" (docs/access-policy.md: who may call what):\n  {admin_token}"
        )
        print(
            "\n  Another caller: .venv/bin/python -m cms_devkit.issuer "
            f"{var / 'identity'} staff <id> <role>   (or: client <id>)"
        )
        print("\n  Try: .venv/bin/grpcurl -plaintext 127.0.0.1:50052 list")
        if args.check:
            print("\n--check: all five services SERVING; stopping.")
            return 0
        print(
            "\n  Rehearse an outage: make stop-service SERVICE=casework, then make start-service"
            " SERVICE=casework; make services lists them. A service that crashes is started again."
        )
        print("\nPress Ctrl-C to stop.", flush=True)
        minted = time.monotonic()
        while not stopping.is_set():
            if time.monotonic() - minted > TOKEN_REFRESH_SECONDS:
                stack.write_service_tokens(TOKEN_TTL_SECONDS)
                minted = time.monotonic()
            supervisor.tick()
            stopping.wait(0.5)
        return 0
    finally:
        print("\nstopping...")
        if control_server is not None:
            # First, so that nothing is started again while the stack stops.
            control_server.shutdown()
            control_server.server_close()
            control_socket(var).unlink(missing_ok=True)
        for name in stack.stop_all(timeout=15):
            print(f"{name} did not stop in 15 s; killed it", file=sys.stderr)
        broker.stop()
        print("stopped.")


if __name__ == "__main__":
    sys.exit(main())
