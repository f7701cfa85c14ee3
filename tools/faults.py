"""`make faults`: the fault suite (cms_devkit.faults). Starts the five services as separate processes on a private
PostgreSQL server and a Tansu broker, drives families through gRPC as real clients do, injects the chosen faults
while the workload runs, then counts each kind of effect until everything acknowledged is found. Prints the table,
writes it to build/faults-report.md and exits non-zero on any loss, any duplicate, convergence over 60 s, a call
never acknowledged or a service that exited by itself.

Scenarios (--scenario, repeatable; default all): kill-services (SIGKILL of each service in turn, --rounds times),
broker-loss (the broker SIGKILLed and restarted empty twice, 3 s apart), postgres-restart, gateway-outage
(hmrc-gateway SIGKILLed and kept down 30 s).
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
from pathlib import Path

from cms_devkit import faults

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=sorted(faults.SCENARIOS),
        help="faults to inject (repeatable; default: all, in the order listed above)",
    )
    parser.add_argument(
        "--cases", type=int, default=60, help="at least this many families (default 60)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="kill-services: times each service is killed"
    )
    parser.add_argument("--workers", type=int, default=3, help="client threads (default 3)")
    parser.add_argument(
        "--report", type=Path, default=ROOT / "build" / "faults-report.md", help="where to write"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the services' logs (build/faults/<time>/logs)"
    )
    args = parser.parse_args()
    chosen = args.scenario or ["kill-services", "broker-loss", "postgres-restart", "gateway-outage"]
    injected = [f for name in chosen for f in faults.SCENARIOS[name](args.rounds)]

    # A SIGTERM (make, CI) unwinds through the harness, so no process is left behind.
    def _terminate(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _terminate)
    var = None
    if args.keep:
        var = ROOT / "build" / "faults" / dt.datetime.now().strftime("%Y%m%dT%H%M%S")
        var.mkdir(parents=True)
    print(f"# make faults: {', '.join(chosen)}; at least {args.cases} families", flush=True)
    outcome = faults.run(
        injected,
        min_families=args.cases,
        workers=args.workers,
        var=var,
        keep=args.keep,
        log=lambda line: print(line, flush=True),
    )
    report = outcome.markdown(f"Fault suite: {', '.join(chosen)}")
    print()
    print(report)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(report)
    print(f"(written to {args.report}{'; logs in ' + str(var) if var else ''})")
    return 1 if outcome.failures else 0


if __name__ == "__main__":
    sys.exit(main())
