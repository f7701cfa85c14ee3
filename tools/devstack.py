"""`make run`: start a broker and all five services on this machine, print their addresses, stop on Ctrl-C.

Databases: SQLite files under var/ by default; set CMS_POSTGRES_URL (e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/postgres) to give each service its own PostgreSQL database.
Broker: KAFKA_BOOTSTRAP_SERVERS if set, else a Docker Kafka if an engine answers, else Tansu on 127.0.0.1:9092
(or a free port when 9092 is taken). `--check` starts everything, checks health, and stops (a smoke test).
Identity: a local issuer (cms_devkit.issuer) with a key pair made at start in <var>/identity; every service trusts
its JWKS and finds its tokens for the services it calls in <var>/identity/tokens/<service>/ (re-minted every
15 minutes). Print a token for any caller with `python -m cms_devkit.issuer var/identity staff <id> <role>`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from cms_devkit import infra
from cms_devkit.issuer import SERVICES as AUDIENCES
from cms_devkit.issuer import LocalIssuer
from cms_platform.identity import staff_caller
from cms_platform.service import CmsService

ROOT = Path(__file__).resolve().parent.parent
# name, python module, env prefix, default port
SERVICES = [
    ("calculation", "cms_calculation", "CALCULATION_", 50051),
    ("casework", "cms_casework", "CASEWORK_", 50052),
    ("hmrc-gateway", "cms_hmrc_gateway", "HMRC_GATEWAY_", 50053),
    ("dwp-gateway", "cms_dwp_gateway", "DWP_GATEWAY_", 50054),
    ("cra-gateway", "cms_cra_gateway", "CRA_GATEWAY_", 50055),
]


# Service tokens live an hour and are re-minted every 15 minutes, as the kubelet rotates projected tokens.
TOKEN_TTL_SECONDS = 3600
TOKEN_REFRESH_SECONDS = 900
# What the printed tokens are good for: a working day.
PRINTED_TOKEN_TTL_SECONDS = 8 * 3600


def calls_of(name: str, module: str) -> tuple[str, ...]:
    """The services `name` calls, as its CmsService class declares them."""
    app = importlib.import_module(f"{module}.app")
    for value in vars(app).values():
        if isinstance(value, type) and issubclass(value, CmsService) and value.name == name:
            return value.calls
    raise LookupError(f"{module}.app has no CmsService named {name!r}")


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="start, check health, stop")
    parser.add_argument("--var-dir", default=str(ROOT / "var"))
    args = parser.parse_args()

    var = Path(args.var_dir)
    (var / "logs").mkdir(parents=True, exist_ok=True)
    # A new key pair every start: the services trust only its public key; the tools mint with it (--var-dir).
    issuer = LocalIssuer.create(var / "identity")
    calls = {name: calls_of(name, module) for name, module, _, _ in SERVICES}

    def write_service_tokens() -> None:
        for name, targets in calls.items():
            if targets:
                token_dir = var / "identity" / "tokens" / name
                issuer.write_service_tokens(name, token_dir, targets, ttl=TOKEN_TTL_SECONDS)

    write_service_tokens()
    broker_port = int(os.environ.get("CMS_BROKER_PORT", "9092"))
    broker = infra.start_broker(broker_port if port_free(broker_port) else None)
    pg = os.environ.get("CMS_POSTGRES_URL")
    procs: list[tuple[str, subprocess.Popen]] = []
    addresses: dict[str, str] = {}
    stopping = threading.Event()

    def stop_all(*_):
        stopping.set()

    signal.signal(signal.SIGINT, stop_all)
    signal.signal(signal.SIGTERM, stop_all)
    try:
        for name, _module, prefix, default_port in SERVICES:
            port = int(os.environ.get(f"{prefix}GRPC_PORT", default_port))
            addresses[name] = f"127.0.0.1:{port}"
        for name, module, prefix, _ in SERVICES:
            env = dict(os.environ)
            env.update(
                {
                    f"{prefix}GRPC_HOST": "127.0.0.1",
                    f"{prefix}GRPC_PORT": addresses[name].rsplit(":", 1)[1],
                    f"{prefix}KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
                    f"{prefix}VAR_DIR": str(var),
                    f"{prefix}LOG_FORMAT": env.get(f"{prefix}LOG_FORMAT", "console"),
                    # Tansu holds a group join for session_timeout/2: keep joins quick locally (infra.md).
                    f"{prefix}CONSUMER_SESSION_TIMEOUT_MS": "4000",
                    f"{prefix}CONSUMER_HEARTBEAT_INTERVAL_MS": "1000",
                }
            )
            env.update(
                issuer.service_env(
                    prefix,
                    token_dir=var / "identity" / "tokens" / name if calls[name] else None,
                )
            )
            if pg:
                env[f"{prefix}DATABASE_URL"] = infra.database_url(
                    pg, "cms_" + name.replace("-", "_")
                )
            if name == "casework":
                for other in ("calculation", "hmrc-gateway", "dwp-gateway", "cra-gateway"):
                    env[f"CASEWORK_{other.upper().replace('-', '_')}_ADDRESS"] = addresses[other]
            log = open(var / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
            procs.append(
                (
                    name,
                    subprocess.Popen(
                        [sys.executable, "-m", module, "serve"],
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        cwd=ROOT,
                    ),
                )
            )
        for name, proc in procs:
            try:
                infra.wait_serving(addresses[name], process=proc)
            except (TimeoutError, RuntimeError):
                print(
                    f"{name} failed to start; see {var / 'logs' / (name + '.log')}", file=sys.stderr
                )
                return 1
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
        print(f"  {'broker':<13} {broker.bootstrap}")
        for name, _, _, _ in SERVICES:
            print(f"  {name:<13} {addresses[name]}")
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
        print("\nPress Ctrl-C to stop.")
        minted = time.monotonic()
        while not stopping.is_set():
            if time.monotonic() - minted > TOKEN_REFRESH_SECONDS:
                write_service_tokens()
                minted = time.monotonic()
            for name, proc in procs:
                if proc.poll() is not None:
                    print(
                        f"{name} exited with {proc.returncode}; see {var / 'logs' / (name + '.log')}",
                        file=sys.stderr,
                    )
                    return 1
            stopping.wait(0.5)
        return 0
    finally:
        print("\nstopping...")
        for _, proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop in 15 s; killing it", file=sys.stderr)
                proc.kill()
        broker.stop()
        print("stopped.")


if __name__ == "__main__":
    sys.exit(main())
