"""`make demo` as an operator runs it: against the stack `make run` brought up, the scripted story (an application, a
pay rise under and over 25%, a new partner's child, a benefit claim, an annual review, a backdated change and a
mandatory reconsideration, then the money on a Collect & Pay case: a deduction from earnings order and a remittance,
a missed payment and an arrears agreement, a Regulation 8 decision, a payment run and both parents' statements; then
enforcement on that case: arrears growing, a trace, CRA financial data, a regular deduction order, a liability order
and its charge collected last; and a reform what-if over the caseload) runs to the end and says what each step did; run again against the same stack it picks fresh families and works again;
with nothing running it stops at once with a clear message."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cms_devkit import infra

from .helpers import launch_devstack

ROOT = Path(__file__).resolve().parents[2]
PREFIXES = {
    "calculation": "CALCULATION_",
    "casework": "CASEWORK_",
    "hmrc-gateway": "HMRC_GATEWAY_",
    "dwp-gateway": "DWP_GATEWAY_",
    "cra-gateway": "CRA_GATEWAY_",
}
STEPS = (
    "1. An application",
    "2. A pay rise under 25%",
    "3. A pay rise over 25%",
    "4. A new partner's child",
    "5. A benefit claim",
    "6. An annual review",
    "7. A backdated change and a mandatory reconsideration",
    "8. What the case produced",
    "9. A Collect & Pay case paid by a deduction from earnings order",
    "10. An employer's remittance",
    "11. A missed payment",
    "12. A backdated overpayment and its Regulation 8 decision",
    "13. A payment to the receiving parent",
    "14. Both parents' statements",
    "15. Arrears grow",
    "16. A trace",
    "17. CRA financial data at arrears",
    "18. Enforcement",
    "19. A liability order",
    "20. A reform what-if",
    "The story is complete",
)
MONEY = (
    "MakeDeductionOrder → order",
    "protected earnings 60% of net earnings",
    "RunScheduledWork (account charges",
    "ImportPaymentFile",
    "2 recorded, 1 held in suspense",
    "protection binds",
    "shortfall carried",
    "payment missed, service request",
    "arrears notice",
    "CreateArrearsAgreement →",
    "(lump sum)",
    "DecideOverpayment (adjust arrears)",
    "reg 8",
    "RunScheduledWork (payment run",
    "GetAccountStatement as the paying parent",
    "GetAccountStatement as the receiving parent",
    "refused: PERMISSION_DENIED",
)
ENFORCEMENT = (
    "PostAdjustment, arrears recognised",
    "RunTraceStep → cis address",
    "refused: FAILED_PRECONDITION TRACE_METHODS_NOT_EXHAUSTED",
    "legal basis: Child Support Act 1991 s14",
    "ObtainFinancialDataAtArrears → assessment",
    "the CRA's suggested step for the caseworker",
    "OpenEnforcementCase →",
    "surveillance started",
    "contact and negotiation",
    "regular deduction order",
    "enforcement charge £50.00",
    "(limited by: PROTECTED_INCOME)",
    "liability order",
    "enforcement charge £300.00",
    "RecordReceipt → receipt",
    "went to the enforcement charges",
    "enforcement charge: Enforcement charge: Liability Order",
    "surveillance stopped",
    "StartReformWhatIf (team leader)",
    "GetReformWhatIf → succeeded",
    "moving from Direct Pay to collection",
    "fee income, 12 months",
    "would pay the 20% non-compliant fee",
)


def statement_of(text: str, side: str) -> str:
    """The lines of one parent's statement as the demo prints them."""
    start = text.index(f"GetAccountStatement as the {side}")
    return text[start : text.index("closing balance", start)]


pytestmark = pytest.mark.e2e


def demo(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "demo.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_demo_tells_the_whole_story_twice_against_one_stack(tmp_path, devstack_databases):
    env = dict(os.environ, CMS_BROKER_PORT=str(infra.free_port()))
    env.pop("CMS_POSTGRES_URL", None)
    env.pop("CMS_DATABASE_PREFIX", None)
    env.update(
        devstack_databases
    )  # the PostgreSQL flavour in the PostgreSQL suite, SQLite in the other
    for prefix in PREFIXES.values():
        env[f"{prefix}GRPC_PORT"] = str(infra.free_port())

    # Nothing listens on these ports yet: the demo says so at once instead of hanging.
    down = demo(env, timeout=30)
    assert down.returncode == 2, down.stdout + down.stderr
    assert "The CMS services are not up" in down.stderr and "make run" in down.stderr

    proc = launch_devstack(tmp_path, env)
    output = []
    try:
        deadline = time.monotonic() + 90
        for line in proc.stdout:
            output.append(line)
            if "Press Ctrl-C" in line or time.monotonic() > deadline:
                break
        assert any("Press Ctrl-C" in line for line in output), "".join(output)

        first = demo(env, "--var-dir", str(tmp_path))  # the launcher's, for its local issuer
        assert first.returncode == 0, first.stdout + first.stderr
        text = first.stdout
        for heading in STEPS:
            assert heading in text, f"{heading!r} missing from:\n{text}"
        for said in (
            "NINO verified by CIS: matched",
            "tolerance not breached",
            "tolerance BREACHED",
            "new payment plan issued the same day",
            "first payment due",
            "relevant other children on the case",
            "reported by cis",
            "Flat rate",
            "reason: annual review",
            "next annual review",
            "ListCorrespondence",
            "cancelled redundant",
            "ListServiceRequests",
        ):
            assert said in text, f"{said!r} missing from:\n{text}"
        assert "£" in text
        for said in MONEY + ENFORCEMENT:
            assert said in text, f"{said!r} missing from:\n{text}"
        # The enforcement charges reach the paying parent's side only, and the payment reaches them last: the
        # arrears are cleared while some of the charges are still owed.
        assert (
            re.search(r"arrears £[\d,.]+ → £0\.00, owed", text)
            and "£250.00 of them still owed" in text
        )
        # Each parent sees their own side only: the paying parent's fee and receipts never reach the receiving parent.
        paying, receiving = (
            statement_of(text, "paying parent"),
            statement_of(text, "receiving parent"),
        )
        assert "paying parent fee:" in paying and "receipt:" in paying
        assert "paying parent fee:" not in receiving and "receipt:" not in receiving
        assert "receiving parent fee:" in receiving and "receiving parent fee:" not in paying

        # Again against the same stack: another family, and the annual review for a date already run moves on a day.
        again = demo(env, "--var-dir", str(tmp_path), "--start", "300000")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "The story is complete" in again.stdout
        case = next(line for line in text.splitlines() if line.startswith("CreateCase → "))
        assert case not in again.stdout
        # The money chapter again too, on another case, its jobs as of dates not yet run.
        for said in (
            "14. Both parents' statements",
            "CreateArrearsAgreement →",
            "payment missed",
            "19. A liability order",
            "GetReformWhatIf → succeeded",
        ):
            assert said in again.stdout, f"{said!r} missing from:\n{again.stdout}"
        money_case = next(
            line for line in text.splitlines() if line.startswith("CreateCase, VerifyApplication")
        )
        assert money_case not in again.stdout

        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=40)
        assert proc.returncode == 0, rest
        assert "stopped." in rest
    finally:
        if (
            proc.poll() is None
        ):  # a failed assertion: still stop the services and the broker with the launcher
            proc.send_signal(signal.SIGINT)
            try:
                proc.communicate(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
