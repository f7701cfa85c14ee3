"""`make demo`: a scripted story against the services `make run` started, told step by step in plain words.

The story: an application, a pay rise under and over 25%, a new partner's child, a benefit claim, an annual review,
then a change reported late (backdated) and a mandatory reconsideration that revises the decision it made. Then the
money, on a Collect & Pay case of its own: a deduction from earnings order, an employer's remittance where the
protected earnings bind, a missed payment found by the arrears check, an arrears agreement, a Regulation 8 decision
on an overpayment, a payment to the receiving parent and both parents' statements. Then enforcement, on that case:
its arrears grow, a trace (CIS, then the credit reference agency, then HMRC's employer records only when the others
found nothing) with the legal basis of each request, the CRA's financial data at arrears, an enforcement case with a
regular deduction order (its £50 charge and the 60% protected income) and a liability order (its £300 charge), and a
payment that the ledger allocates to maintenance and arrears first and to the enforcement charges last. It ends with
a reform what-if (the end of Direct Pay) over the stack's live caseload.
Each run picks a fresh separated family from the shared synthetic population (the gateways know them all), so it can
be run again and again against the same stack. It stops with a clear message if the services are not up, and exits
non-zero when a step does not do what the story expects.

Addresses: the ports `make run` uses (tools/devstack.py), overridden by the same <PREFIX>GRPC_PORT variables.
Options: `make demo ARGS="--start 300000"` starts the family search at that population index; `--wait 90` waits
longer for the benefit broadcast to reach casework; `--var-dir` is `make run`'s (default var/), whose local issuer
(var/identity) mints the demo's tokens.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TypeVar

import grpc
from google.type import date_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cms.casework.v1 import accounts_pb2 as acpb
from cms.casework.v1 import accounts_service_pb2 as acapi
from cms.casework.v1 import accounts_service_pb2_grpc as accounts_grpc
from cms.casework.v1 import arrears_pb2 as ar_pb
from cms.casework.v1 import arrears_service_pb2 as ar_api
from cms.casework.v1 import arrears_service_pb2_grpc as arrears_grpc
from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import casework_service_pb2_grpc as api_grpc
from cms.casework.v1 import collection_reform_pb2 as cr_pb
from cms.casework.v1 import collection_reform_service_pb2 as cr_api
from cms.casework.v1 import collection_reform_service_pb2_grpc as reform_grpc
from cms.casework.v1 import enforcement_pb2 as en_pb
from cms.casework.v1 import enforcement_service_pb2 as en_api
from cms.casework.v1 import enforcement_service_pb2_grpc as enforcement_grpc
from cms.casework.v1 import methods_of_payment_pb2 as mop_pb
from cms.casework.v1 import methods_of_payment_service_pb2 as mop_api
from cms.casework.v1 import methods_of_payment_service_pb2_grpc as mop_grpc
from cms.casework.v1 import money_events_pb2 as money_pb
from cms.casework.v1 import resources_pb2 as pb
from cms.casework.v1 import tracing_pb2 as tr_pb
from cms.casework.v1 import tracing_service_pb2 as tr_api
from cms.casework.v1 import tracing_service_pb2_grpc as tracing_grpc
from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_scenario_service_pb2 as dwp_api
from cms.dwp.v1 import dwp_scenario_service_pb2_grpc as dwp_grpc
from cms.dwp.v1 import resources_pb2 as dwp_pb
from cms_devkit.families import families
from cms_devkit.issuer import SERVICES as AUDIENCES
from cms_devkit.issuer import LocalIssuer
from cms_devkit.stack import SERVICES  # the same names, prefixes and default ports as `make run`
from cms_platform.clients import retry_service_config
from cms_platform.grpc_errors import details_of
from cms_platform.identity import client_caller, staff_caller

RULE = "=" * 100


def _retrying_channel(address: str, contracts: list[ModuleType]) -> grpc.Channel:
    """A channel that retries as the API asks callers to (docs/runbook.md): UNAVAILABLE, and ABORTED for a race lost
    to a consumer changing the same case; each mutating request's request_id makes the retry safe."""
    names = [
        service.full_name for c in contracts for service in c.DESCRIPTOR.services_by_name.values()
    ]
    config = retry_service_config(names, retryable=("UNAVAILABLE", "ABORTED"))
    return grpc.insecure_channel(
        address, options=[("grpc.service_config", config), ("grpc.enable_retries", 1)]
    )


T = TypeVar("T")
# Income-based Jobseeker's Allowance for a single person aged 25 or over, 2025-26.
JSA_WEEKLY_PENCE = 92_05


class StoryFailed(Exception):
    """A step did not do what the story expects."""


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise StoryFailed(what)


# ---- words ---------------------------------------------------------------------------------------------------------


def money(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    return f"{sign}£{abs(pence) // 100:,}.{abs(pence) % 100:02d}"


def day(d: date_pb2.Date | dt.date | None) -> str:
    if d is None or (isinstance(d, date_pb2.Date) and not d.year):
        return "(none)"
    return as_date(d).strftime("%a %-d %b %Y")


def as_date(d: date_pb2.Date | dt.date) -> dt.date:
    return d if isinstance(d, dt.date) else dt.date(d.year, d.month, d.day)


def pb_date(d: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=d.year, month=d.month, day=d.day)


def words(enum_type, value: int, prefix: str) -> str:
    """An enum value in plain words: CASE_STATE_INITIAL_CALCULATION -> 'initial calculation'."""
    return enum_type.Name(value).removeprefix(prefix).replace("_", " ").lower()


def rate_words(rate: str) -> str:
    return rate.replace("_", " ").capitalize() + " rate"


FREQUENCY = {
    common.PAYMENT_FREQUENCY_WEEKLY: "a week",
    common.PAYMENT_FREQUENCY_FORTNIGHTLY: "a fortnight",
    common.PAYMENT_FREQUENCY_FOUR_WEEKLY: "every four weeks",
    common.PAYMENT_FREQUENCY_MONTHLY: "a month",
}
INCOME_BASIS = {
    "HISTORIC": "the HMRC figure for the latest tax year",
    "CURRENT_DIFFERS_FROM_HISTORIC": "current income, which differs from the HMRC figure by 25% or more",
    "CURRENT_HISTORIC_UNAVAILABLE": "current income, as HMRC has no figure",
    "CURRENT_IN_PLACE": "current income already in place, changed by 25% or more",
    "NOT_USED": "income not used for this rate",
}


def short(name: str) -> str:
    """The id at the end of a resource name, a UUID cut to its first 8 characters (enough to tell items apart)."""
    last = name.rsplit("/", 1)[-1]
    return last[:8] if len(last) == 36 and last.count("-") == 4 else last


def person_name(identity: common.PersonIdentity) -> str:
    return f"{identity.name.forenames} {identity.name.surname}"


def say(text: str = "", indent: int = 0) -> None:
    print(" " * indent + text, flush=True)


def step(number: int | str, title: str) -> None:
    say()
    say(RULE)
    say(f"{number}. {title}")
    say(RULE)


# ---- the stack -----------------------------------------------------------------------------------------------------


def addresses() -> dict[str, str]:
    return {
        name: f"127.0.0.1:{int(os.environ.get(f'{prefix}GRPC_PORT', port))}"
        for name, _, prefix, port in SERVICES
    }


def check_up(where: dict[str, str]) -> list[str]:
    """The services not answering SERVING, with why."""
    down = []
    for name, address in where.items():
        with grpc.insecure_channel(address) as channel:
            try:
                status = (
                    health_pb2_grpc.HealthStub(channel)
                    .Check(health_pb2.HealthCheckRequest(), timeout=3)
                    .status
                )
                if status != health_pb2.HealthCheckResponse.SERVING:
                    down.append(
                        f"{name} at {address} is {health_pb2.HealthCheckResponse.ServingStatus.Name(status)}"
                    )
            except grpc.RpcError as err:
                down.append(f"{name} at {address}: {err.code().name}")
    return down


class Callers:
    """Tokens from `make run`'s local issuer (a new key pair each time it starts)."""

    def __init__(self, issuer: LocalIssuer):
        self._issuer = issuer
        self._tokens = {
            # The gateways' scenario (test-data) services admit only scenario_admin.
            role: issuer.mint(staff_caller(f"demo-{role}", role), audience=AUDIENCES, ttl=3600)
            for role in ("caseworker", "team_leader", "scenario_admin")
        }

    def __call__(self, role: str = "caseworker") -> tuple[tuple[str, str]]:
        return (("authorization", f"Bearer {self._tokens[role]}"),)

    def client(self, client_name: str) -> tuple[tuple[str, str]]:
        """A parent through self-service (`clients/{id}`)."""
        token = self._issuer.mint(
            client_caller(client_name.removeprefix("clients/")), audience=AUDIENCES, ttl=600
        )
        return (("authorization", f"Bearer {token}"),)


def rid() -> str:
    return str(uuid.uuid4())


# ---- the family ----------------------------------------------------------------------------------------------------


def family_stream(start: int | None, today: dt.date):
    """The simplest separated families (cms_devkit.families, plain), from a random point unless `start` is given."""
    from cms_simulation.population import Population

    population = Population()
    at = random.randrange(population.size) if start is None else start
    return families(on=today, start=at, plain=True, population=population)


# ---- the story -----------------------------------------------------------------------------------------------------


class Demo:
    def __init__(
        self,
        where: dict[str, str],
        *,
        issuer: LocalIssuer,
        start: int | None,
        wait_seconds: float,
    ):
        self.where = where
        self.start, self.wait_seconds = start, wait_seconds
        self.who = Callers(issuer)
        self.casework_channel = _retrying_channel(
            where["casework"],
            [api, acapi, ar_api, cr_api, en_api, mop_api, tr_api],
        )
        self.dwp_channel = _retrying_channel(where["dwp-gateway"], [dwp_api])
        self.cw = api_grpc.CaseworkServiceStub(self.casework_channel)
        self.dwp = dwp_grpc.DwpScenarioServiceStub(self.dwp_channel)
        self.accounts = accounts_grpc.AccountsServiceStub(self.casework_channel)
        self.mop = mop_grpc.MethodsOfPaymentServiceStub(self.casework_channel)
        self.arrears = arrears_grpc.ArrearsServiceStub(self.casework_channel)
        self.tracing = tracing_grpc.TracingServiceStub(self.casework_channel)
        self.enforcement = enforcement_grpc.EnforcementServiceStub(self.casework_channel)
        self.reform = reform_grpc.CollectionReformServiceStub(self.casework_channel)
        self.case = pb.Case()
        self.today = dt.date.today()
        self.step = ""
        # The money chapter's: its first payment's due date and its deduction order.
        self.first_due = self.today
        self.order = mop_pb.DeductionOrder()
        # The enforcement chapter's: its enforcement case.
        self.enforcement_case = en_pb.EnforcementCase()

    def close(self) -> None:
        self.casework_channel.close()
        self.dwp_channel.close()

    # -- helpers --

    def get_case(self) -> pb.Case:
        self.case = self.cw.GetCase(
            api.GetCaseRequest(name=self.case.name), metadata=self.who(), timeout=5
        )
        return self.case

    def party(self, client_name: str) -> str:
        if client_name == self.case.paying_parent.name:
            return f"paying parent {person_name(self.case.paying_parent.identity)}"
        if client_name == self.case.receiving_parent.name:
            return f"receiving parent {person_name(self.case.receiving_parent.identity)}"
        return client_name or "(nobody)"

    def show_timeline(self, indent: int = 2) -> None:
        """The case's liability over time: each segment in force, what it made due or overpaid, and why."""
        tl = self.cw.GetLiabilityTimeline(
            api.GetLiabilityTimelineRequest(name=f"{self.case.name}/liabilityTimeline"),
            metadata=self.who(),
            timeout=10,
        )
        say("GetLiabilityTimeline → the liability over time:", indent)
        for segment in tl.segments:
            until = day(segment.end_date) if segment.end_date.year else "on"
            adjusted = ""
            if segment.amount_due_pence or segment.amount_overpaid_pence:
                adjusted = (
                    f"; backdated {segment.backdated_days} days: {money(segment.amount_due_pence)} due"
                    if segment.amount_due_pence
                    else f"; backdated {segment.backdated_days} days: {money(segment.amount_overpaid_pence)} overpaid"
                )
            say(
                f"{day(segment.start_date)} to {until}: {money(segment.weekly_amount_pence)} a week "
                f"({rate_words(segment.rate) if segment.rate else 'no liability'}){adjusted}",
                indent + 2,
            )
            say(f"{segment.explanation.explanation} [{segment.explanation.citation}]", indent + 4)

    def show_calculation(self, calc: pb.LatestCalculation, indent: int = 2) -> None:
        periodic = calc.periodic_amount
        say(
            f"{rate_words(calc.rate)}: {money(calc.weekly_amount_pence)} a week"
            + (
                f" ({money(periodic.amount_pence)} {FREQUENCY.get(periodic.frequency, '')})"
                if periodic.frequency
                else ""
            )
            + f", effective from {day(calc.effective_date)}",
            indent,
        )
        say(
            f"reason: {words(pb.CalculationReason, calc.reason, 'CALCULATION_REASON_')}; "
            f"calculation {short(calc.calculation)}",
            indent,
        )
        basis = INCOME_BASIS.get(calc.income_basis, calc.income_basis.replace("_", " ").lower())
        say(
            f"income used: {money(calc.gross_weekly_income_pence)} a week gross ({calc.income_basis}: {basis})",
            indent,
        )

    def show_plan(self, name: str, indent: int = 2) -> pb.PaymentPlan:
        plan = self.cw.GetPaymentPlan(
            api.GetPaymentPlanRequest(name=name), metadata=self.who(), timeout=5
        )
        issued = plan.issue_time.ToDatetime(dt.UTC).date() if plan.HasField("issue_time") else None
        say(
            f"payment plan {short(plan.name)} ({words(pb.PaymentPlanState, plan.state, 'PAYMENT_PLAN_STATE_')}), "
            f"issued {day(issued)} on calculation {short(plan.calculation)}",
            indent,
        )
        say(
            f"{words(common.PaymentFrequency, plan.payment_frequency, 'PAYMENT_FREQUENCY_')} payments by "
            f"{words(pb.ServiceType, plan.service_type, 'SERVICE_TYPE_')}, built on {money(plan.weekly_amount_pence)} "
            f"a week, covering {day(plan.period.start_date)} to {day(plan.period.end_date)}",
            indent,
        )
        if plan.payments:
            first = plan.payments[0]
            say(
                f"first payment due {day(first.due_date)}: {money(first.amount_due_pence)} "
                f"(for {day(first.covers.start_date)} to {day(first.covers.end_date)}); "
                f"{len(plan.payments)} payments, {money(plan.total_due_pence)} in all",
                indent,
            )
            regular = plan.payments[1] if len(plan.payments) > 1 else first
            if regular.amount_due_pence != first.amount_due_pence:
                say(f"then {money(regular.amount_due_pence)} from {day(regular.due_date)}", indent)
        else:
            say("no payments scheduled", indent)
        return plan

    def income_in_use(self) -> int:
        held = self.case.paying_parent.employment_and_income
        if held.current_income_source:
            return held.current_gross_weekly_income_pence
        return self.case.latest_calculation.gross_weekly_income_pence

    def report_verify_apply(
        self, change: pb.ChangeOfCircumstances, evidence: str
    ) -> api.ApplyChangesOfCircumstancesResponse:
        reported = self.cw.ReportChangeOfCircumstances(
            api.ReportChangeOfCircumstancesRequest(
                request_id=rid(), parent=self.case.name, change_of_circumstances=change
            ),
            metadata=self.who(),
            timeout=10,
        )
        say(
            f"ReportChangeOfCircumstances → change {short(reported.name)}: "
            f"{words(pb.ChangeOfCircumstancesState, reported.state, 'CHANGE_OF_CIRCUMSTANCES_STATE_')}, "
            f"sequencing step {reported.sequence_step}, service request {short(reported.service_request)} raised"
        )
        verified = self.cw.VerifyChangeOfCircumstances(
            api.VerifyChangeOfCircumstancesRequest(
                request_id=rid(),
                name=reported.name,
                outcome=api.VERIFICATION_OUTCOME_VERIFIED,
                evidence=[
                    pb.Evidence(
                        kind=pb.EVIDENCE_KIND_DOCUMENT,
                        description=evidence,
                        received_date=pb_date(self.today),
                    )
                ],
            ),
            metadata=self.who(),
            timeout=10,
        )
        say(
            f"VerifyChangeOfCircumstances (document: {evidence}) → "
            f"{words(pb.ChangeOfCircumstancesState, verified.state, 'CHANGE_OF_CIRCUMSTANCES_STATE_')}"
            f" by {verified.verified_by}"
        )
        expect(
            verified.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_VERIFIED,
            f"the change should be verified, but it is {pb.ChangeOfCircumstancesState.Name(verified.state)}",
        )
        for attempt in range(3):
            try:
                applied = self.cw.ApplyChangesOfCircumstances(
                    api.ApplyChangesOfCircumstancesRequest(request_id=rid(), parent=self.case.name),
                    metadata=self.who(),
                    timeout=40,
                )
                break
            except (
                grpc.RpcError
            ) as err:  # the background feed pass changed the case at the same moment: again
                if err.code() != grpc.StatusCode.ABORTED or attempt == 2:
                    raise
                time.sleep(1)
        for c in applied.changes_of_circumstances:
            say(
                f"ApplyChangesOfCircumstances → change {short(c.name)}: "
                f"{words(pb.ChangeOfCircumstancesState, c.state, 'CHANGE_OF_CIRCUMSTANCES_STATE_')}"
                + ("; the liability moved" if c.liability_changed else "")
            )
        if applied.cancelled_correspondence:
            say(
                f"letters made redundant by this one, cancelled before dispatch: "
                f"{', '.join(short(n) for n in applied.cancelled_correspondence)}",
                2,
            )
        if applied.client_call:
            say(
                f"one call to the client scheduled after the change(s): {short(applied.client_call)}",
                2,
            )
        expect(
            any(c.name == reported.name for c in applied.changes_of_circumstances),
            f"ApplyChangesOfCircumstances did not deal with {reported.name}",
        )
        self.case = applied.updated_case
        return applied

    # -- the steps --

    def application(self) -> None:
        self.step = "1. An application"
        step(1, "An application: a receiving parent applies for the children of a separated family")
        for attempt, candidate in enumerate(family_stream(self.start, self.today)):
            index, request, payer = (
                candidate.index,
                candidate.create_case_request(),
                candidate.payer,
            )
            expect(
                attempt < 50,
                "50 families in a row already have a case: is this the same stack for ever?",
            )
            try:
                self.case = self.cw.CreateCase(request, metadata=self.who(), timeout=10)
            except grpc.RpcError as err:
                if err.code() == grpc.StatusCode.ALREADY_EXISTS:
                    say(
                        f"(the family at population index {index} already has a case; picking another)"
                    )
                    continue
                raise
            family = index, payer
            break
        index, payer = family
        case = self.case
        self.today = as_date(case.application_date)
        employers = ", ".join(e.employer.name for e in payer.employments if e.end_date is None)
        say(f"Family at index {index} of the shared synthetic population:")
        say(
            f"paying parent     {person_name(case.paying_parent.identity)}, NINO {case.paying_parent.identity.nino}, "
            f"born {day(case.paying_parent.identity.date_of_birth)}, works for {employers}",
            2,
        )
        say(
            f"receiving parent  {person_name(case.receiving_parent.identity)}, NINO "
            f"{case.receiving_parent.identity.nino}, born {day(case.receiving_parent.identity.date_of_birth)}",
            2,
        )
        for child in case.qualifying_children:
            say(
                f"child             {child.name.forenames} {child.name.surname}, born {day(child.date_of_birth)}, "
                f"CRN {child.child_reference_number}",
                2,
            )
        say(
            f"CreateCase → {case.name}: state {words(pb.CaseState, case.state, 'CASE_STATE_')}, application made "
            f"{day(case.application_date)}, {words(common.PaymentFrequency, case.payment_frequency, 'PAYMENT_FREQUENCY_')}"
            f" payments, {words(pb.ServiceType, case.service_type, 'SERVICE_TYPE_')}"
        )
        expect(case.state == pb.CASE_STATE_APPLICATION, "a new case should be an application")

        case = self.case = self.cw.VerifyApplication(
            api.VerifyApplicationRequest(request_id=rid(), name=case.name),
            metadata=self.who(),
            timeout=20,
        )
        checks = case.application_checks
        say(f"VerifyApplication → state {words(pb.CaseState, case.state, 'CASE_STATE_')}")
        nino = checks.paying_parent_nino_verification
        say(
            f"NINO verified by CIS: {words(common.MatchOutcome, nino.outcome, 'MATCH_OUTCOME_')}"
            + (f" (failed: {', '.join(nino.failed_rules)})" if nino.failed_rules else ""),
            2,
        )
        say(
            f"employment status (HMRC): "
            f"{words(pb.EmploymentStatus, checks.paying_parent_employment_status, 'EMPLOYMENT_STATUS_')}",
            2,
        )
        for child in case.qualifying_children:
            chb = child.child_benefit
            say(
                f"Child Benefit for {child.name.forenames}: {'entitled' if chb.entitled else 'NOT entitled'}, "
                f"{'in payment' if chb.in_payment else 'not in payment'}"
                + (f", ends {day(chb.end_date)}" if chb.end_date.year else ""),
                2,
            )
        say(
            f"interests registered: CIS {'yes' if checks.cis_interest_registered else 'NO'}, "
            f"HMRC {'yes' if checks.hmrc_interest_registered else 'NO'}",
            2,
        )
        say(f"outstanding checks: {', '.join(checks.outstanding_checks) or 'none'}", 2)
        say(f"initial effective date: {day(case.initial_effective_date)}", 2)
        expect(
            case.state == pb.CASE_STATE_INITIAL_CALCULATION and not checks.outstanding_checks,
            f"the application checks should all pass; outstanding: {list(checks.outstanding_checks)}",
        )
        expect(
            checks.cis_interest_registered,
            "the CIS interest should be registered (benefit broadcasts need it)",
        )

        case = self.case = self.cw.CalculateCase(
            api.CalculateCaseRequest(request_id=rid(), name=case.name),
            metadata=self.who(),
            timeout=20,
        )
        say(f"CalculateCase → state {words(pb.CaseState, case.state, 'CASE_STATE_')}")
        self.show_calculation(case.latest_calculation)
        say(f"annual review date: {day(case.annual_review_date)}", 2)
        expect(
            case.state == pb.CASE_STATE_LIVE and case.current_payment_plan,
            "the first calculation should make the case live with a payment plan",
        )
        say("GetPaymentPlan:")
        plan = self.show_plan(case.current_payment_plan)
        expect(
            plan.weekly_amount_pence == case.latest_calculation.weekly_amount_pence,
            "the payment plan should be built on the calculated weekly amount",
        )

    def income_change(
        self, number: int, factor: float, title: str
    ) -> api.ApplyChangesOfCircumstancesResponse:
        self.step = f"{number}. {title}"
        step(number, title)
        self.get_case()
        before = pb.LatestCalculation()
        before.CopyFrom(self.case.latest_calculation)
        plan_before = self.case.current_payment_plan
        in_use = self.income_in_use()
        new = round(in_use * factor)
        say(
            f"The paying parent sends payslips: {money(in_use)} a week gross in use now, {money(new)} a week "
            f"({factor - 1:+.0%})"
        )
        applied = self.report_verify_apply(
            pb.ChangeOfCircumstances(
                type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_INCOME,
                reported_by=pb.REPORTER_PAYING_PARENT,
                reporting_client=self.case.paying_parent.name,
                note="Pay rise",
                income_change=pb.IncomeChange(
                    current_gross_weekly_income_pence=new, source=pb.INCOME_SOURCE_PAYSLIPS
                ),
            ),
            "payslips",
        )
        change = applied.changes_of_circumstances[-1]
        detail = change.income_change
        say(
            f"the change is {detail.change_basis_points} basis points ({detail.change_basis_points / 100:+.2f}%) of "
            f"the income in use: tolerance {'BREACHED' if detail.tolerance_breached else 'not breached'} (25% = 2500)",
            2,
        )
        after = self.case.latest_calculation
        if factor < 1.25:
            expect(
                change.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_TOLERANCE_NOT_BREACHED,
                "a rise under 25% should end TOLERANCE_NOT_BREACHED, but it is "
                + pb.ChangeOfCircumstancesState.Name(change.state),
            )
            expect(
                not applied.payment_plan and after.calculation == before.calculation,
                "a rise under 25% should not recalculate the case or issue a payment plan",
            )
            say(
                f"no new calculation: still {rate_words(after.rate)}, {money(after.weekly_amount_pence)} a week; "
                f"payment plan {short(self.case.current_payment_plan)} unchanged",
                2,
            )
        else:
            expect(
                change.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED
                and detail.tolerance_breached,
                "a rise over 25% should be APPLIED, but it is "
                + pb.ChangeOfCircumstancesState.Name(change.state),
            )
            expect(
                after.calculation != before.calculation
                and after.reason == pb.CALCULATION_REASON_CHANGE_OF_CIRCUMSTANCES,
                "a rise over 25% should recalculate the case",
            )
            expect(
                after.weekly_amount_pence > before.weekly_amount_pence,
                f"a pay rise should raise the amount ({money(before.weekly_amount_pence)} → "
                f"{money(after.weekly_amount_pence)})",
            )
            say(
                f"recalculated: {money(before.weekly_amount_pence)} → {money(after.weekly_amount_pence)} a week "
                f"({rate_words(before.rate)} → {rate_words(after.rate)})",
                2,
            )
            self.show_calculation(after, 4)
            self.new_plan(applied, plan_before)
        return applied

    def new_plan(self, applied: api.ApplyChangesOfCircumstancesResponse, plan_before: str) -> None:
        expect(
            bool(applied.payment_plan) and applied.payment_plan != plan_before,
            "a change that moves the liability should issue a new payment plan",
        )
        say(f"new payment plan issued the same day (replacing {short(plan_before)}):", 2)
        plan = self.show_plan(applied.payment_plan, 4)
        issued = plan.issue_time.ToDatetime(dt.UTC).date()
        expect(
            issued == self.today,
            f"the new payment plan should be issued the same day, not {issued}",
        )

    def new_partners_child(self) -> None:
        self.step = "4. A new partner's child"
        step(4, "A new partner's child: a baby is born into the paying parent's new household")
        self.get_case()
        before = pb.LatestCalculation()
        before.CopyFrom(self.case.latest_calculation)
        plan_before = self.case.current_payment_plan
        born = self.today - dt.timedelta(days=120)
        surname = self.case.paying_parent.identity.name.surname
        say(
            f"The paying parent reports that Robin {surname}, born {day(born)}, lives with them and their partner "
            "(Child Benefit in payment): a relevant other child"
        )
        applied = self.report_verify_apply(
            pb.ChangeOfCircumstances(
                type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_NEW_ROC_IN_NRP_HOUSEHOLD,
                reported_by=pb.REPORTER_PAYING_PARENT,
                reporting_client=self.case.paying_parent.name,
                note="New partner's baby",
                new_child=pb.NewChild(
                    name=common.PersonName(forenames="Robin", surname=surname),
                    date_of_birth=pb_date(born),
                ),
            ),
            "birth certificate",
        )
        change = applied.changes_of_circumstances[-1]
        expect(
            change.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED,
            "the new relevant other child should be APPLIED, but it is "
            + pb.ChangeOfCircumstancesState.Name(change.state),
        )
        rocs = [c for c in self.case.relevant_other_children if not c.end_date.year]
        say(
            f"relevant other children on the case now: "
            f"{', '.join(f'{c.name.forenames} {c.name.surname} (born {day(c.date_of_birth)})' for c in rocs)}",
            2,
        )
        after = self.case.latest_calculation
        expect(
            after.calculation != before.calculation,
            "a new relevant other child should recalculate the case",
        )
        expect(
            after.weekly_amount_pence < before.weekly_amount_pence,
            f"a relevant other child should reduce the amount ({money(before.weekly_amount_pence)} → "
            f"{money(after.weekly_amount_pence)})",
        )
        say(
            f"recalculated: {money(before.weekly_amount_pence)} → {money(after.weekly_amount_pence)} a week "
            f"({rate_words(after.rate)}); the relevant other child reduces the income the rate applies to",
            2,
        )
        self.show_calculation(after, 4)
        self.new_plan(applied, plan_before)

    def benefit_claim(self) -> None:
        self.step = "5. A benefit claim"
        step(5, "A benefit claim: DWP awards the paying parent income-based Jobseeker's Allowance")
        self.get_case()
        before = pb.LatestCalculation()
        before.CopyFrom(self.case.latest_calculation)
        plan_before = self.case.current_payment_plan
        payer = self.case.paying_parent.identity
        award = self.dwp.StartBenefitAward(
            dwp_api.StartBenefitAwardRequest(
                request_id=rid(),
                nino=payer.nino,
                benefit_type=dwp_pb.BENEFIT_TYPE_JOBSEEKERS_ALLOWANCE_INCOME_BASED,
                start_date=pb_date(self.today),
                amount=common.PeriodicAmount(
                    frequency=common.PAYMENT_FREQUENCY_WEEKLY, amount_pence=JSA_WEEKLY_PENCE
                ),
            ),
            metadata=self.who("scenario_admin"),  # the simulated DWP's test-data control
            timeout=10,
        )
        say(
            f"DWP (dwp-gateway scenario service) StartBenefitAward → award {award.award_id}: "
            f"{words(dwp_pb.BenefitType, award.benefit_type, 'BENEFIT_TYPE_')}, "
            f"{words(dwp_pb.BenefitAwardStatus, award.status, 'BENEFIT_AWARD_STATUS_')}, from {day(award.start_date)}, "
            f"{money(award.amount.amount_pence)} {FREQUENCY.get(award.amount.frequency, '')}"
        )
        say(
            f"CIS broadcasts the award to the interest casework registered; waiting up to {self.wait_seconds:.0f} s for "
            "casework to raise and apply the change ..."
        )
        started = time.monotonic()
        while True:
            if self.get_case().latest_calculation.calculation != before.calculation:
                break
            expect(
                time.monotonic() - started < self.wait_seconds,
                f"casework did not recalculate within {self.wait_seconds:.0f} s of the benefit award: is the broker "
                "up and dwp-gateway broadcasting? (see var/logs/dwp-gateway.log and casework.log)",
            )
            time.sleep(0.5)
        say(f"... recalculated after {time.monotonic() - started:.1f} s")
        listed = self.cw.ListChangesOfCircumstances(
            api.ListChangesOfCircumstancesRequest(
                parent=self.case.name, type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_BENEFIT_DETAILS
            ),
            metadata=self.who(),
            timeout=5,
        ).changes_of_circumstances
        expect(
            bool(listed),
            "casework should have raised a CHANGE_BENEFIT_DETAILS change from the CIS broadcast",
        )
        for c in listed:
            detail = c.benefit_details_change
            evidence = ", ".join(
                f"{words(pb.EvidenceKind, e.kind, 'EVIDENCE_KIND_')}: {e.description}"
                for e in c.evidence
            )
            say(
                f"change {short(c.name)}: {detail.benefit.replace('_', ' ').lower()} "
                f"{words(pb.BenefitChange, detail.change, 'BENEFIT_CHANGE_')}"
                f"{' (partner)' if detail.partner_award else ''}, effective {day(c.effective_date)}, reported by "
                f"{words(pb.Reporter, c.reported_by, 'REPORTER_')} "
                f"({evidence})"
                f", {words(pb.ChangeOfCircumstancesState, c.state, 'CHANGE_OF_CIRCUMSTANCES_STATE_')}"
                + ("; the liability moved" if c.liability_changed else ""),
                2,
            )
        expect(
            any(c.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED for c in listed),
            "the benefit change from the feed should be APPLIED",
        )
        after = self.case.latest_calculation
        say(
            f"recalculated: {money(before.weekly_amount_pence)} → {money(after.weekly_amount_pence)} a week "
            f"({rate_words(before.rate)} → {rate_words(after.rate)})",
            2,
        )
        self.show_calculation(after, 4)
        expect(
            after.rate == "FLAT",
            f"income-based JSA should put the case on the flat rate, not {after.rate}",
        )
        if self.case.current_payment_plan != plan_before:
            say(f"new payment plan issued (replacing {short(plan_before)}):", 2)
            self.show_plan(self.case.current_payment_plan, 4)

    def annual_review(self) -> None:
        self.step = "6. An annual review"
        step(
            6,
            "An annual review: the scheduler reviews the case from 30 days before its review date",
        )
        self.get_case()
        before = pb.LatestCalculation()
        before.CopyFrom(self.case.latest_calculation)
        review = as_date(self.case.annual_review_date)
        as_of = review - dt.timedelta(days=30)
        say(
            f"annual review date {day(review)}: the review runs from 30 days before, so the scheduler runs as of "
            f"{day(as_of)}"
        )
        first = as_of
        for _ in range(366):
            response = self.cw.RunScheduledWork(
                api.RunScheduledWorkRequest(
                    request_id=rid(),
                    as_of_date=pb_date(as_of),
                    jobs=[api.SCHEDULED_JOB_ANNUAL_REVIEW],
                ),
                metadata=self.who("team_leader"),
                timeout=600,
            )
            result = next(r for r in response.results if r.job == api.SCHEDULED_JOB_ANNUAL_REVIEW)
            if result.items_due:
                break
            # A job done for a date does nothing more for that date (an earlier demo on this stack ran it): our case is
            # still due on the next date, from 30 days before its review date onwards.
            as_of += dt.timedelta(days=1)
        if as_of != first:
            say(
                f"(earlier runs on this stack already ran the annual reviews as of {day(first)}"
                + (
                    f" to {day(as_of - dt.timedelta(days=1))}"
                    if as_of - first > dt.timedelta(days=1)
                    else ""
                )
                + f": a date done does nothing more, so this run is as of {day(as_of)})"
            )
        say(
            f"RunScheduledWork (annual review, as of {day(as_of)}): {result.items_due} case(s) due, "
            f"{result.items_processed} reviewed, {result.items_failed} failed"
        )
        for failure in result.failures:
            say(f"failed: {failure}", 2)
        plan_before = self.case.current_payment_plan
        self.get_case()
        after = self.case.latest_calculation
        expect(
            after.reason == pb.CALCULATION_REASON_ANNUAL_REVIEW
            and after.calculation != before.calculation,
            "the annual review should recalculate the case (latest calculation reason ANNUAL_REVIEW), but it is "
            + pb.CalculationReason.Name(after.reason)
            + ("; failures: " + "; ".join(result.failures) if result.failures else ""),
        )
        say(
            f"the case's new calculation ({money(before.weekly_amount_pence)} → {money(after.weekly_amount_pence)} "
            "a week):",
            2,
        )
        self.show_calculation(after, 4)
        next_review = as_date(self.case.annual_review_date)
        say(f"next annual review: {day(next_review)}", 2)
        expect(next_review > review, "the next annual review should move a year on")
        if self.case.current_payment_plan != plan_before:
            say(f"new payment plan from the review date (replacing {short(plan_before)}):", 2)
            self.show_plan(self.case.current_payment_plan, 4)

    def reconsideration(self) -> None:
        self.step = "7. A backdated change and a mandatory reconsideration"
        step(
            7,
            "A backdated change and a mandatory reconsideration: shared care reported late, disputed, and revised",
        )
        self.get_case()
        child = self.case.qualifying_children[0]
        since = self.today - dt.timedelta(days=21)
        say(
            f"The paying parent tells CMS that {child.name.forenames} has stayed with them two nights a week since "
            f"{day(since)}, three weeks ago: the change is dated when it happened, not when it was reported."
        )
        before = pb.LatestCalculation()
        before.CopyFrom(self.case.latest_calculation)
        applied = self.report_verify_apply(
            pb.ChangeOfCircumstances(
                type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_SHARED_CARE,
                effective_date=pb_date(since),
                reporting_client=self.case.paying_parent.name,
                shared_care_change=pb.SharedCareChange(
                    child_id=child.child_id, paying_parent_nights_per_year=104
                ),
            ),
            "the paying parent's statement of the nights",
        )
        (change,) = [c for c in applied.changes_of_circumstances if c.shared_care_change.child_id]
        decision = self.case.latest_calculation
        expect(
            change.state == pb.CHANGE_OF_CIRCUMSTANCES_STATE_APPLIED and bool(change.calculation),
            "the backdated shared-care change should be applied with a recalculation",
        )
        say(
            f"the change is effective {day(change.effective_date)}; the new decision "
            f"{short(decision.calculation)} ({money(before.weekly_amount_pence)} → "
            f"{money(decision.weekly_amount_pence)} a week):",
            2,
        )
        self.show_calculation(decision, 4)
        if as_date(change.effective_date) < as_date(self.case.initial_effective_date):
            say(
                f"(the stays began before the case's initial effective date, {day(self.case.initial_effective_date)}, "
                "so the change takes effect from that date; every decision already made from then on is recalculated "
                "with it, the annual review's included)",
                2,
            )
        self.show_timeline()

        receiving = self.case.receiving_parent.name
        say(
            "The receiving parent says the stays never started, and asks through self-service for the decision to be "
            "looked at again."
        )
        mr = self.cw.RequestMandatoryReconsideration(
            api.RequestMandatoryReconsiderationRequest(
                request_id=rid(),
                parent=self.case.name,
                mandatory_reconsideration=pb.MandatoryReconsideration(
                    decision=decision.calculation,
                    grounds=f"{child.name.forenames} has not stayed overnight with the other parent",
                ),
            ),
            metadata=self.who.client(receiving),
            timeout=10,
        )
        say(
            f"RequestMandatoryReconsideration → {short(mr.name)}: "
            f"{words(pb.MandatoryReconsiderationState, mr.state, 'MANDATORY_RECONSIDERATION_STATE_')}"
            f"{' (late)' if mr.late else ' (within the 30 days)'}, asked by the {self.party(mr.requesting_client)}; "
            f"the other parent may make representations until {day(mr.representations_due_date)}; clearance "
            f"target {day(mr.clearance_target_date)}"
        )
        try:
            self.cw.RequestMandatoryReconsideration(
                api.RequestMandatoryReconsiderationRequest(
                    request_id=rid(),
                    parent=self.case.name,
                    mandatory_reconsideration=pb.MandatoryReconsideration(
                        decision=decision.calculation,
                        requesting_client=self.case.paying_parent.name,
                        grounds="I would like it looked at too",
                    ),
                ),
                metadata=self.who(),
                timeout=10,
            )
            expect(False, "a second reconsideration of the same decision should be refused")
        except grpc.RpcError as err:
            expect(
                err.code() == grpc.StatusCode.ALREADY_EXISTS,
                f"a second reconsideration should be ALREADY_EXISTS, not {err.code().name}",
            )
            say(f"a second request for the same decision is refused: {err.code().name}", 2)
        mr = self.cw.RecordReconsiderationRepresentations(
            api.RecordReconsiderationRepresentationsRequest(
                request_id=rid(),
                name=mr.name,
                text=f"{child.name.forenames} stays with me on Fridays and Saturdays",
            ),
            metadata=self.who.client(self.case.paying_parent.name),
            timeout=10,
        )
        say(
            "the paying parent, invited by letter, sends their representations through self-service",
            2,
        )

        say(
            "The caseworker finds the receiving parent right: the nights are corrected from the same date, and the "
            "decision is revised."
        )
        corrected = self.cw.ReportChangeOfCircumstances(
            api.ReportChangeOfCircumstancesRequest(
                request_id=rid(),
                parent=self.case.name,
                change_of_circumstances=pb.ChangeOfCircumstances(
                    type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_SHARED_CARE,
                    effective_date=change.effective_date,
                    shared_care_change=pb.SharedCareChange(
                        child_id=child.child_id, paying_parent_nights_per_year=0
                    ),
                ),
            ),
            metadata=self.who(),
            timeout=10,
        )
        self.cw.VerifyChangeOfCircumstances(
            api.VerifyChangeOfCircumstancesRequest(
                request_id=rid(),
                name=corrected.name,
                outcome=api.VERIFICATION_OUTCOME_VERIFIED,
                evidence=[
                    pb.Evidence(
                        kind=pb.EVIDENCE_KIND_THIRD_PARTY_CONFIRMATION,
                        description="school confirms the child is collected by the receiving parent",
                        received_date=pb_date(self.today),
                    )
                ],
            ),
            metadata=self.who(),
            timeout=10,
        )
        say(f"corrected nights recorded and verified: change {short(corrected.name)}", 2)
        decided = self.cw.DecideMandatoryReconsideration(
            api.DecideMandatoryReconsiderationRequest(
                request_id=rid(),
                name=mr.name,
                outcome=pb.RECONSIDERATION_OUTCOME_REVISED,
                reason="the school confirms the stays had not started",
            ),
            metadata=self.who(),
            timeout=60,
        )
        self.get_case()
        expect(
            decided.outcome == pb.RECONSIDERATION_OUTCOME_REVISED
            and decided.revised_calculation == self.case.latest_calculation.calculation,
            "the reconsideration should revise the decision and the case should hold the revised calculation",
        )
        say(
            f"DecideMandatoryReconsideration → "
            f"{words(pb.MandatoryReconsiderationState, decided.state, 'MANDATORY_RECONSIDERATION_STATE_')}, "
            f"{words(pb.ReconsiderationOutcome, decided.outcome, 'RECONSIDERATION_OUTCOME_')} through change "
            f"{short(decided.change_of_circumstances)} (correction/revision)"
        )
        say(f"explanation: {decided.explanation.explanation}", 2)
        say(f"rule: {decided.explanation.citation}", 2)
        say(
            f"appeal to the First-tier Tribunal by {day(decided.appeal_deadline)}; the notice goes to both parents",
            2,
        )
        say("the case's revised calculation:", 2)
        self.show_calculation(self.case.latest_calculation, 4)
        self.show_timeline()
        expect(
            self.case.latest_calculation.reason == pb.CALCULATION_REASON_CORRECTION_REVISION,
            "the revised calculation's reason should be CORRECTION_REVISION",
        )

    def paperwork(self) -> None:
        self.step = "8. Correspondence and service requests"
        step(8, "What the case produced: letters, calls and service requests")
        items, token = [], ""
        while True:
            page = self.cw.ListCorrespondence(
                api.ListCorrespondenceRequest(
                    parent=self.case.name, page_size=200, page_token=token
                ),
                metadata=self.who(),
                timeout=5,
            )
            items.extend(page.correspondence)
            token = page.next_page_token
            if not token:
                break
        say(f"ListCorrespondence: {len(items)} item(s), oldest first")
        for item in sorted(items, key=lambda i: (i.create_time.seconds, i.create_time.nanos)):
            when = (
                item.due_time.ToDatetime(dt.UTC).strftime("%-d %b %Y %H:%M")
                if item.HasField("due_time")
                else ""
            )
            line = (
                f"{words(pb.CorrespondenceKind, item.kind, 'CORRESPONDENCE_KIND_'):<28} to "
                f"{self.party(item.recipient):<40} {words(pb.ContactChannel, item.channel, 'CONTACT_CHANNEL_'):<8}"
                f" {words(pb.CorrespondenceState, item.state, 'CORRESPONDENCE_STATE_')}"
            )
            if item.state == pb.CORRESPONDENCE_STATE_CANCELLED_REDUNDANT:
                line += f" (made redundant by {short(item.superseded_by)})"
            elif when:
                line += f", due {when} UTC"
            say(f"{short(item.name)}  {line}", 2)
        cancelled = sum(i.state == pb.CORRESPONDENCE_STATE_CANCELLED_REDUNDANT for i in items)
        say(f"{cancelled} item(s) cancelled as redundant", 2)
        expect(bool(items), "the case should have produced correspondence")

        srs, token = [], ""
        while True:
            page = self.cw.ListServiceRequests(
                api.ListServiceRequestsRequest(
                    parent=self.case.name, page_size=200, page_token=token
                ),
                metadata=self.who(),
                timeout=5,
            )
            srs.extend(page.service_requests)
            token = page.next_page_token
            if not token:
                break
        say(f"ListServiceRequests: {len(srs)} service request(s), oldest first")
        for sr in sorted(srs, key=lambda r: (r.create_time.seconds, r.create_time.nanos)):
            status = words(pb.ServiceRequestStatus, sr.status, "SERVICE_REQUEST_STATUS_")
            if sr.sub_status:
                status += f" / {words(pb.ServiceRequestSubStatus, sr.sub_status, 'SERVICE_REQUEST_SUB_STATUS_')}"
            if sr.resolution_code:
                status += f" ({words(pb.ServiceRequestResolutionCode, sr.resolution_code, 'SERVICE_REQUEST_RESOLUTION_CODE_')})"
            say(
                f"{short(sr.name)}  {sr.process} > {sr.area} > {sr.sub_area}: {status}; from "
                f"{words(pb.ServiceRequestOrigin, sr.origin, 'SERVICE_REQUEST_ORIGIN_')}",
                2,
            )
        expect(bool(srs), "the changes of circumstances should have raised service requests")

    # -- the money chapter --

    def run_job_until(
        self,
        job: api.ScheduledJob.ValueType,
        first: dt.date,
        done: Callable[[api.ScheduledJobResult], bool],
        *,
        what: str,
        days: int = 28,
    ) -> tuple[dt.date, api.ScheduledJobResult]:
        """RunScheduledWork for `job` as of `first`, then a day later, until `done(result)` says it reached the case:
        a job done for a date does nothing more (an earlier demo on this stack, or the daily pass, may have run it)."""
        as_of = first
        for _ in range(days):
            response = self.cw.RunScheduledWork(
                api.RunScheduledWorkRequest(
                    request_id=rid(), as_of_date=pb_date(as_of), jobs=[job]
                ),
                metadata=self.who("team_leader"),
                timeout=600,
            )
            result = next(r for r in response.results if r.job == job)
            if done(result):
                if as_of != first:
                    say(
                        f"(the {what} as of {day(first)} was already done on this stack, by an earlier run or "
                        f"the daily pass: a date done does nothing more, so this one is as of {day(as_of)})"
                    )
                return as_of, result
            as_of += dt.timedelta(days=1)
        raise StoryFailed(
            f"the {what} did not reach {self.case.name} in {days} days from {day(first)}"
        )

    def account(self) -> acpb.Account:
        listed = self.accounts.ListAccounts(
            acapi.ListAccountsRequest(case=self.case.name), metadata=self.who(), timeout=5
        ).accounts
        return listed[0] if listed else acpb.Account()

    def balances_line(self, b: acpb.AccountBalances) -> str:
        return (
            f"charged {money(b.maintenance_charged_pence)} maintenance + {money(b.paying_parent_fees_pence)} fees, "
            f"received {money(b.received_pence)}, owed {money(b.owed_pence)}, arrears {money(b.arrears_pence)}, "
            f"overpaid {money(b.overpaid_pence)}, payable to the receiving parent "
            f"{money(b.payable_to_receiving_parent_pence)}, paid out {money(b.paid_out_pence)}"
        )

    def srs(self, sub_area: str) -> list[pb.ServiceRequest]:
        found = self.cw.ListServiceRequests(
            api.ListServiceRequestsRequest(parent=self.case.name, page_size=200),
            metadata=self.who(),
            timeout=5,
        ).service_requests
        return [sr for sr in found if sr.sub_area == sub_area]

    def letters(self, kind: int) -> list[pb.Correspondence]:
        found = self.cw.ListCorrespondence(
            api.ListCorrespondenceRequest(parent=self.case.name, page_size=200),
            metadata=self.who(),
            timeout=5,
        ).correspondence
        return [c for c in found if c.kind == kind]

    def wait_for(self, what: str, check: Callable[[], T | None], seconds: float = 30.0) -> T:
        started = time.monotonic()
        while not (found := check()):
            expect(time.monotonic() - started < seconds, f"{what} within {seconds:.0f} s")
            time.sleep(0.3)
        return found

    def deduction_order(self) -> None:
        self.step = "9. A Collect & Pay case paid by a deduction from earnings order"
        step(9, "A Collect & Pay case paid by a deduction from earnings order")
        stream = family_stream(self.start, self.today)
        for attempt, candidate in enumerate(stream):
            expect(
                attempt < 50,
                "50 families in a row already have a case: is this the same stack for ever?",
            )
            request = candidate.create_case_request()
            request.service_type = pb.SERVICE_TYPE_COLLECT_AND_PAY
            try:
                self.case = self.cw.CreateCase(request, metadata=self.who(), timeout=10)
            except grpc.RpcError as err:
                if err.code() == grpc.StatusCode.ALREADY_EXISTS:
                    continue  # the first chapter's family (or an earlier run's): the next one
                raise
            break
        case = self.case
        say(
            f"Another family, at index {candidate.index}: {person_name(case.paying_parent.identity)} pays "
            f"{person_name(case.receiving_parent.identity)} for "
            f"{', '.join(c.name.forenames for c in case.qualifying_children)}, through Collect & Pay: CMS collects "
            "and pays on, for a fee"
        )
        self.cw.VerifyApplication(
            api.VerifyApplicationRequest(request_id=rid(), name=case.name),
            metadata=self.who(),
            timeout=20,
        )
        case = self.case = self.cw.CalculateCase(
            api.CalculateCaseRequest(request_id=rid(), name=case.name),
            metadata=self.who(),
            timeout=20,
        )
        expect(
            case.state == pb.CASE_STATE_LIVE
            and case.service_type == pb.SERVICE_TYPE_COLLECT_AND_PAY,
            "the Collect & Pay case should be live",
        )
        say(f"CreateCase, VerifyApplication, CalculateCase → {case.name} live:")
        self.show_calculation(case.latest_calculation)
        plan = self.show_plan(case.current_payment_plan)
        first = plan.payments[0]
        self.first_due = as_date(first.due_date)
        say(
            f"each payment is maintenance plus the paying parent's 20% fee: {money(first.maintenance_pence)} + "
            f"{money(first.paying_parent_fee_pence)} = {money(first.amount_due_pence)}; the receiving parent gets "
            f"{money(first.maintenance_pence)} less their 4% fee ({money(first.receiving_parent_fee_pence)}) "
            "[Child Support Fees Regulations 2014 reg 7]",
            2,
        )
        acct = self.wait_for(
            "the account should open from the payment plan", lambda: self.account().name
        )
        say(
            f"the account {short(acct)} opened from the plan; its payment reference is the case id, "
            f"{short(case.name)}",
            2,
        )

        order = self.mop.MakeDeductionOrder(
            mop_api.MakeDeductionOrderRequest(
                request_id=rid(),
                parent=case.name,
                kind=mop_pb.DEDUCTION_ORDER_KIND_ORDER,
                pay_frequency=common.PAYMENT_FREQUENCY_WEEKLY,
            ),
            metadata=self.who(),
            timeout=15,
        )
        self.order = order
        expect(
            order.state == mop_pb.DEDUCTION_ORDER_STATE_ACTIVE
            and order.normal_deduction_rate_pence > 0,
            "the deduction from earnings order should be active with a normal deduction rate",
        )
        say(
            f"MakeDeductionOrder → order {short(order.name)} served on {order.employer.name} (PAYE "
            f"{order.employer.paye_reference}, from HMRC's employment details), paid weekly"
        )
        say(
            f"normal deduction rate {money(order.normal_deduction_rate_pence)} a pay day = maintenance "
            f"{money(order.maintenance_pence)} + fee {money(order.collection_fee_pence)} + arrears "
            f"{money(order.arrears_pence)}; protected earnings {order.protected_earnings_basis_points / 100:.0f}% "
            "of net earnings [Child Support Act 1991 s31; Child Support (Collection and Enforcement) Regulations "
            "1992 regs 8-11]",
            2,
        )

        charged, result = self.run_job_until(
            api.SCHEDULED_JOB_ACCOUNT_CHARGES,
            self.first_due,
            lambda _: self.account().balances.maintenance_charged_pence > 0,
            what="charge run",
        )
        b = self.account().balances
        say(
            f"RunScheduledWork (account charges, as of {day(charged)}): {result.items_processed} account(s) "
            f"charged; this one: {money(b.maintenance_charged_pence)} maintenance + "
            f"{money(b.paying_parent_fees_pence)} fee, due {day(self.first_due)}"
        )
        expect(
            b.maintenance_charged_pence + b.paying_parent_fees_pence == first.amount_due_pence,
            "the charge run should charge the first payment",
        )

    def remittance(self) -> None:
        self.step = "10. An employer's remittance"
        step(10, "An employer's remittance: deductions from two pay days and a colleague's line")
        order, ndr = self.order, self.order.normal_deduction_rate_pence
        pep = self.order.protected_earnings_basis_points
        lines: list[acapi.PaymentFileLine] = []
        pay_days: list[
            tuple[dt.date, int, int, int]
        ] = []  # pay date, net earnings, deducted, shortfall carried
        # A full week, then a short one (unpaid leave) where the protected earnings bind.
        for paid_on, net in (
            (self.today - dt.timedelta(days=7), ndr * 5),
            (self.today, ndr * 3 // 2),
        ):
            protected = -(-net * pep // 10_000)  # rounded up, in the paying parent's favour
            carried_in = pay_days[-1][3] if pay_days else 0
            deducted = min(ndr + carried_in, net - protected)
            pay_days.append((paid_on, net, deducted, ndr + carried_in - deducted))
            lines.append(
                acapi.PaymentFileLine(
                    payment_reference=self.case.name.removeprefix("cases/"),
                    amount_pence=deducted,
                    earnings_deduction=money_pb.EarningsDeduction(
                        deduction_order=order.name,
                        employer_paye_reference=order.employer.paye_reference,
                        pay_date=pb_date(paid_on),
                        net_earnings_pence=net,
                        deducted_pence=deducted,
                        admin_charge_pence=100,
                    ),
                )
            )
        # A colleague under another order, whose reference the payroll mistyped: no account matches it.
        lines.append(
            acapi.PaymentFileLine(payment_reference=f"X{rid()[:8].upper()}", amount_pence=45_00)
        )
        file_reference = f"REMIT-{short(order.name).upper()}"
        imported = self.accounts.ImportPaymentFile(
            acapi.ImportPaymentFileRequest(
                request_id=rid(),
                source=acapi.PAYMENT_FILE_SOURCE_EMPLOYER_REMITTANCE,
                file_reference=file_reference,
                received_date=pb_date(self.today),
                lines=lines,
            ),
            metadata=self.who("team_leader"),
            timeout=60,
        )
        say(
            f"ImportPaymentFile ({order.employer.name}'s remittance {file_reference}, {len(lines)} lines) → "
            f"{imported.recorded} recorded, {imported.held_in_suspense} held in suspense"
        )
        for (paid_on, net, deducted, carried), line in zip(pay_days, imported.lines, strict=False):
            say(
                f"pay day {day(paid_on)}: net earnings {money(net)}, 60% protected "
                f"{money(-(-net * pep // 10_000))}, deducted {money(deducted)} (+ the employer's £1.00 admin "
                f"charge, kept by the employer) → receipt {short(line.name)}"
                + (
                    f"; protection binds: {money(carried)} shortfall carried to the next pay day"
                    if carried
                    else ""
                ),
                2,
            )
        say(
            f"a colleague's line for £45.00 quotes a reference no account has: suspense item "
            f"{short(imported.lines[-1].name)}, for a caseworker to allocate",
            2,
        )
        expect(
            imported.recorded == 2 and imported.held_in_suspense == 1,
            "two lines should be receipts on the account and one held in suspense",
        )

        def both_pay_days() -> mop_pb.DeductionOrder | None:
            # The pay days are recorded as casework reads its own ReceiptRecorded events: a moment after the import.
            got = self.mop.GetDeductionOrder(
                mop_api.GetDeductionOrderRequest(name=order.name), metadata=self.who(), timeout=5
            )
            return got if len(got.pay_days) == 2 else None

        recorded = self.wait_for("the order should record both pay days", both_pay_days)
        for pd in recorded.pay_days:
            say(
                f"GetDeductionOrder pay day {day(pd.pay_date)}: expected {money(pd.expected_deduction_pence)}, "
                f"deducted {money(pd.deducted_pence)}, shortfall carried {money(pd.shortfall_carried_pence)}, "
                f"remittance due by {day(pd.remittance_due_date)}",
                2,
            )
        expect(
            recorded.shortfall_carried_pence == pay_days[-1][3] > 0,
            "the short week should carry a shortfall to the next pay day",
        )
        b = self.account().balances
        say(f"the account now: {self.balances_line(b)}", 2)
        expect(
            b.received_pence == sum(p[2] for p in pay_days), "both deductions should be received"
        )

    def missed_payment(self) -> None:
        self.step = "11. A missed payment and an arrears agreement"
        step(
            11,
            "A missed payment: the arrears check after the grace period, a notice and an arrears agreement",
        )
        owed = self.account().balances.owed_pence
        grace = 3  # CASEWORK_ARREARS_GRACE_DAYS's default
        say(
            f"{money(owed)} of the first payment, due {day(self.first_due)}, is still unpaid. A payment is missed "
            f"once it is unpaid past its due date and the {grace}-day grace period, so the arrears check runs from "
            f"{day(self.first_due + dt.timedelta(days=grace + 1))}"
        )
        checked, result = self.run_job_until(
            api.SCHEDULED_JOB_ARREARS_CHECK,
            self.first_due + dt.timedelta(days=grace + 1),
            lambda _: bool(self.srs("Missed Payment")),
            what="arrears check",
        )
        (sr,) = self.srs("Missed Payment")
        notices = self.letters(pb.CORRESPONDENCE_KIND_ARREARS_NOTICE)
        say(
            f"RunScheduledWork (arrears check, as of {day(checked)}): {result.items_due} case(s) checked; this one: "
            f"payment missed, service request {short(sr.name)} ({sr.process} > {sr.area} > {sr.sub_area})"
        )
        expect(len(notices) == 1, "the missed payment should send one arrears notice")
        say(
            f"arrears notice {short(notices[0].name)} to the {self.party(notices[0].recipient)} "
            "[Child Support (Management of Payments and Arrears) Regulations 2009 reg 3]",
            2,
        )
        # The services run on today's date and this case began today: nothing on its account fell due before today,
        # so there are no arrears *today* to agree on. Money owed from before (here: a Direct Pay shortfall from
        # before the move to Collect & Pay) is recognised as arrears, as a team leader would.
        carried_over, since = 240_00, self.today - dt.timedelta(days=28)
        self.accounts.PostAdjustment(
            acapi.PostAdjustmentRequest(
                request_id=rid(),
                account=self.account().name,
                kind=money_pb.ADJUSTMENT_KIND_ARREARS_RECOGNISED,
                amount_pence=carried_over,
                effective_date=pb_date(since),
                cause="Direct Pay shortfall before the move to Collect & Pay",
            ),
            metadata=self.who("team_leader"),
            timeout=5,
        )
        arrears = self.account().balances.arrears_pence
        say(
            "This demo's case began today, so nothing on its account was due before today: the arrears above are "
            f"arrears only from {day(checked)}. The paying parent also owes {money(carried_over)} from Direct Pay "
            f"before the move (due {day(since)}); a team leader recognises it (PostAdjustment, arrears recognised): "
            f"arrears today {money(arrears)}"
        )
        expect(
            arrears == carried_over,
            f"the arrears today should be {money(carried_over)}, not {money(arrears)}",
        )
        agreement = self.arrears.CreateArrearsAgreement(
            ar_api.CreateArrearsAgreementRequest(
                request_id=rid(),
                parent=self.case.name,
                arrears_agreement=ar_pb.ArrearsAgreement(
                    lump_sum_pence=60_00,
                    lump_sum_due_date=pb_date(self.today + dt.timedelta(days=7)),
                    instalment_amount_pence=50_00,
                    payment_frequency=common.PAYMENT_FREQUENCY_MONTHLY,
                    first_instalment_date=pb_date(self.first_due + dt.timedelta(days=35)),
                ),
            ),
            metadata=self.who(),
            timeout=5,
        )
        say(
            f"CreateArrearsAgreement → {short(agreement.name)} "
            f"({words(ar_pb.ArrearsAgreementState, agreement.state, 'ARREARS_AGREEMENT_STATE_')}) for "
            f"{money(agreement.arrears_pence)}, clear by {day(agreement.final_due_date)} (within 24 months):"
        )
        for inst in agreement.instalments:
            say(
                f"{day(inst.due_date)}  {money(inst.amount_pence)}{' (lump sum)' if inst.lump_sum else ''}",
                4,
            )
        expect(
            sum(i.amount_pence for i in agreement.instalments)
            == agreement.arrears_pence
            == carried_over,
            "the agreement's payments should add up to the arrears exactly",
        )
        letters = self.letters(pb.CORRESPONDENCE_KIND_ARREARS_AGREEMENT)
        say(f"its terms go to both parents: {len(letters)} letter(s)", 2)

    def overpayment(self) -> None:
        self.step = "12. A backdated overpayment and its Regulation 8 decision"
        step(12, "A backdated overpayment and its Regulation 8 decision")
        overpaid, effective = 95_00, self.today
        say(
            "A decision backdated to before today would leave the paying parent overpaid for its past days; this "
            "case began today, so no change can reach before it. The overpayment such a decision posts is posted "
            f"the same way (PostAdjustment, backdated overpayment): {money(overpaid)}"
        )
        self.accounts.PostAdjustment(
            acapi.PostAdjustmentRequest(
                request_id=rid(),
                account=self.account().name,
                kind=money_pb.ADJUSTMENT_KIND_BACKDATED_OVERPAYMENT,
                amount_pence=-overpaid,
                effective_date=pb_date(effective),
                cause="Backdated maintenance overpaid (the decision's past days)",
            ),
            metadata=self.who("team_leader"),
            timeout=5,
        )
        before = self.account().balances
        say(
            f"the account: overpaid {money(before.overpaid_pence)}, arrears {money(before.arrears_pence)}",
            2,
        )
        decision = self.arrears.DecideOverpayment(
            ar_api.DecideOverpaymentRequest(
                request_id=rid(),
                parent=self.case.name,
                outcome=ar_pb.OVERPAYMENT_OUTCOME_ADJUST_ARREARS,
                reason="the paying parent owes arrears the overpayment can clear in part",
            ),
            metadata=self.who(),
            timeout=5,
        )
        say(
            f"DecideOverpayment (adjust arrears) → {short(decision.name)}: overpaid {money(decision.overpaid_pence)}, "
            f"arrears {money(decision.arrears_pence)}, offset {money(decision.offset_pence)}; service request "
            f"{short(decision.service_request)}"
        )
        say("explanation:", 2)
        for line in decision.explanation:
            say(line, 4)
        after = self.account().balances
        say(
            f"the account: overpaid {money(after.overpaid_pence)}, owed {money(before.owed_pence)} → "
            f"{money(after.owed_pence)}, arrears {money(after.arrears_pence)} (the offset covers what is owed in the "
            "allocation order, CASEWORK_ALLOCATION_ORDER: current maintenance first)",
            2,
        )
        expect(
            decision.offset_pence == min(overpaid, before.arrears_pence)
            and after.overpaid_pence == 0
            and after.owed_pence == before.owed_pence - decision.offset_pence,
            "the Regulation 8 offset should use the overpayment against what is owed",
        )
        notices = self.letters(pb.CORRESPONDENCE_KIND_OVERPAYMENT_DECISION_NOTICE)
        say(f"the decision notice goes to both parents: {len(notices)} letter(s)", 2)

    def payment_run(self) -> None:
        self.step = "13. A payment to the receiving parent"
        step(13, "A payment to the receiving parent: the daily payment run")
        payable = self.account().balances.payable_to_receiving_parent_pence
        say(f"collected for the receiving parent, net of their fee: {money(payable)} payable")
        # The run pays every receiving parent with money collected by its date, once a day: the first date not yet
        # run is the one that pays.
        paid_on, result = self.run_job_until(
            api.SCHEDULED_JOB_PAYMENT_RUN,
            self.today,
            lambda r: r.items_processed > 0,
            what="payment run",
        )
        say(
            f"RunScheduledWork (payment run, as of {day(paid_on)}): {result.items_processed} receiving parent(s) "
            f"paid, {result.items_failed} failed"
        )
        expect(result.items_failed == 0, f"the payment run failed: {list(result.failures)}")
        if paid_on == self.today:
            b = self.account().balances
            say(
                f"the receiving parent is paid {money(b.paid_out_pence)}; payable now {money(b.payable_to_receiving_parent_pence)}",
                2,
            )
            expect(b.paid_out_pence == payable, "the payment run should pay what was payable")
        else:
            say(
                f"(paid as of {day(paid_on)}: the payment shows on the statements from that day)", 2
            )

    def statements(self) -> None:
        self.step = "14. Both parents' statements"
        step(14, "Both parents' statements: each sees their own side of the account only")
        account = self.account().name
        since = self.today - dt.timedelta(days=28)
        for client, view in (
            (self.case.paying_parent.name, acpb.STATEMENT_VIEW_PAYING_PARENT),
            (self.case.receiving_parent.name, acpb.STATEMENT_VIEW_RECEIVING_PARENT),
        ):
            statement = self.accounts.GetAccountStatement(
                acapi.GetAccountStatementRequest(name=account, since=pb_date(since), view=view),
                metadata=self.who.client(client),
                timeout=5,
            )
            say(
                f"GetAccountStatement as the {self.party(client)} (self-service), since {day(since)}: opening "
                f"{money(statement.opening_balance_pence)}, {len(statement.lines)} line(s)"
            )
            for line in statement.lines:
                say(
                    f"{day(line.effective_date):<16} {money(line.amount_pence):>10} {money(line.balance_pence):>10}  "
                    f"{words(money_pb.LedgerEntryKind, line.kind, 'LEDGER_ENTRY_KIND_')}: {line.description}",
                    2,
                )
            say(f"closing balance {money(statement.closing_balance_pence)}", 2)
            expect(bool(statement.lines), "each parent's statement should have lines")
        try:
            self.accounts.GetAccountStatement(
                acapi.GetAccountStatementRequest(
                    name=account, since=pb_date(since), view=acpb.STATEMENT_VIEW_RECEIVING_PARENT
                ),
                metadata=self.who.client(self.case.paying_parent.name),
                timeout=5,
            )
            expect(False, "the paying parent should not get the receiving parent's side")
        except grpc.RpcError as err:
            say(
                f"the paying parent asking for the receiving parent's side is refused: {err.code().name}",
                2,
            )

    # -- the enforcement chapter --

    def refusal(self, err: grpc.RpcError) -> str:
        """A refusal in a few words: its status and, for FAILED_PRECONDITION, the reason the service names."""
        failure = details_of(err).get("PreconditionFailure")
        if failure is not None and failure.violations:
            return f"{err.code().name} {failure.violations[0].type}"
        return err.code().name

    def refused(self, call: Callable[[], object], what: str) -> grpc.RpcError:
        try:
            call()
        except grpc.RpcError as err:
            return err
        raise StoryFailed(f"{what} should be refused")

    def arrears_grow(self) -> None:
        self.step = "15. Arrears grow"
        step(
            15,
            "Arrears grow: the paying parent stops paying and more of the old debt comes to light",
        )
        before = self.account().balances
        say(f"the account now: {self.balances_line(before)}")
        # As in step 11: the services run on today's date, so the months a real case would miss cannot pass here.
        # Two more Direct Pay payments the paying parent missed before the move are recognised as arrears.
        missed, since = 520_00, self.today - dt.timedelta(days=56)
        self.accounts.PostAdjustment(
            acapi.PostAdjustmentRequest(
                request_id=rid(),
                account=self.account().name,
                kind=money_pb.ADJUSTMENT_KIND_ARREARS_RECOGNISED,
                amount_pence=missed,
                effective_date=pb_date(since),
                cause="Two Direct Pay payments missed before the move to Collect & Pay",
            ),
            metadata=self.who("team_leader"),
            timeout=5,
        )
        after = self.account().balances
        say(
            f"Two more Direct Pay payments the paying parent missed before the move come to light (due from "
            f"{day(since)}); a team leader recognises them (PostAdjustment, arrears recognised, {money(missed)}): "
            f"arrears {money(before.arrears_pence)} → {money(after.arrears_pence)}"
        )
        say(f"the account now: {self.balances_line(after)}", 2)
        expect(
            after.arrears_pence == before.arrears_pence + missed,
            f"the arrears should grow by {money(missed)}, not by "
            f"{money(after.arrears_pence - before.arrears_pence)}",
        )

    def run_trace(self, reason: str) -> tr_pb.Trace:
        """StartTrace, then RunTraceStep until the trace ends, each step told."""
        trace = self.tracing.StartTrace(
            tr_api.StartTraceRequest(request_id=rid(), parent=self.case.name, reason=reason),
            metadata=self.who(),
            timeout=5,
        )
        say(
            f"StartTrace ({reason}) → trace {short(trace.name)} of the {self.party(trace.client)}: "
            f"{words(tr_pb.TraceState, trace.state, 'TRACE_STATE_')}, next method "
            f"{words(tr_pb.TraceMethod, trace.next_method, 'TRACE_METHOD_')}"
        )
        while trace.state == tr_pb.TRACE_STATE_IN_PROGRESS:
            method = trace.next_method
            trace = self.tracing.RunTraceStep(
                tr_api.RunTraceStepRequest(request_id=rid(), name=trace.name),
                metadata=self.who(),
                timeout=15,
            )
            done = trace.steps[-1]
            expect(done.method == method, "RunTraceStep should run the trace's next method")
            extra = ""
            if done.address.postcode:  # the postcode district only: enough to tell places apart
                extra = f"; an address in {done.address.postcode.split(' ')[0]}"
            if done.employer_name:
                extra += f"; employer {done.employer_name}"
            say(
                f"RunTraceStep → {words(tr_pb.TraceMethod, done.method, 'TRACE_METHOD_')}: "
                f"{words(tr_pb.TraceStepOutcome, done.outcome, 'TRACE_STEP_OUTCOME_')} "
                f"({', '.join(done.findings) or 'nothing'}){extra}",
                2,
            )
        say(
            f"the trace ended {words(tr_pb.TraceState, trace.state, 'TRACE_STATE_')}"
            + (
                f", found by {words(tr_pb.TraceMethod, trace.found_by, 'TRACE_METHOD_')}"
                if trace.found_by
                else ""
            )
            + (
                f"; 'Trace Exhausted' service request {short(trace.service_request)}"
                if trace.service_request
                else ""
            ),
            2,
        )
        expect(
            trace.state in (tr_pb.TRACE_STATE_FOUND, tr_pb.TRACE_STATE_EXHAUSTED),
            "the trace should end found or exhausted",
        )
        methods = [s.method for s in trace.steps]
        expect(
            methods == list(range(1, len(methods) + 1)),
            "the trace should run CIS first, then the CRA, then HMRC, one after the other",
        )
        return trace

    def trace(self) -> None:
        self.step = "16. A trace"
        step(16, "A trace: letters come back 'gone away', so CMS looks for the paying parent")
        first = self.run_trace("Post returned: gone away")
        traces = [first]
        if first.found_by == tr_pb.TRACE_METHOD_CIS_ADDRESS:
            found = first.steps[0].address
            say(
                "This case held no address for the paying parent, so CIS's current address was usable at once. The "
                "caseworker records it on the case (a change of address details), writes there, and the letter "
                "comes back too: a second trace, where CIS now has nothing the CMS does not already hold."
            )
            self.report_verify_apply(
                pb.ChangeOfCircumstances(
                    type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_CHANGE_ADDRESS_DETAILS,
                    reported_by=pb.REPORTER_CIS,
                    address_change=pb.AddressChange(
                        client=self.case.paying_parent.name, new_address=found
                    ),
                ),
                "the trace's CIS record",
            )
            second = self.run_trace("Post returned again: gone away")
            expect(
                second.steps[0].outcome != tr_pb.TRACE_STEP_OUTCOME_FOUND,
                "CIS should hold nothing new once its address is on the case",
            )
            traces.append(second)
        else:
            second = first
        if (
            second.state == tr_pb.TRACE_STATE_EXHAUSTED
            or second.found_by == tr_pb.TRACE_METHOD_HMRC_EMPLOYER_TRACE
        ):
            say(
                "HMRC's employer records were asked only once CIS and the credit reference agency had found nothing",
                2,
            )
        else:
            say(
                "HMRC's employer records were not asked: an earlier method found the paying parent",
                2,
            )
        err = self.refused(
            lambda: self.tracing.RunTraceStep(
                tr_api.RunTraceStepRequest(
                    request_id=rid(),
                    name=self.tracing.StartTrace(
                        tr_api.StartTraceRequest(
                            request_id=rid(), parent=self.case.name, reason="Checking the order"
                        ),
                        metadata=self.who(),
                        timeout=5,
                    ).name,
                    method=tr_pb.TRACE_METHOD_HMRC_EMPLOYER_TRACE,
                ),
                metadata=self.who(),
                timeout=15,
            ),
            "HMRC's employer trace before the other methods",
        )
        say(
            f"a third trace asking HMRC's employer records first is refused: {self.refusal(err)} (the last resort, "
            "'when all other trace methods have been exhausted')"
        )
        expect(
            "TRACE_METHODS_NOT_EXHAUSTED" in self.refusal(err),
            f"HMRC first should be TRACE_METHODS_NOT_EXHAUSTED, not {self.refusal(err)}",
        )
        requests = self.tracing.ListInformationRequests(
            tr_api.ListInformationRequestsRequest(parent=self.case.name, page_size=50),
            metadata=self.who(),
            timeout=5,
        ).information_requests
        names = {t.name for t in traces}
        made = [r for r in requests if r.made_for in names]
        say(
            f"ListInformationRequests: every request made, with the power it relied on ({len(made)} for these traces):"
        )
        for r in reversed(made):  # listed newest first: told in the order made
            say(
                f"{words(tr_pb.InformationSource, r.source, 'INFORMATION_SOURCE_')} ({r.operation}), for "
                f"{words(tr_pb.InformationPurpose, r.purpose, 'INFORMATION_PURPOSE_')} (trace {short(r.made_for)}): "
                f"{words(tr_pb.InformationOutcome, r.outcome, 'INFORMATION_OUTCOME_')}, by {r.requested_by}",
                2,
            )
            say(f"legal basis: {r.legal_basis}", 4)
        expect(
            len(made) == sum(len(t.steps) for t in traces) and all(r.legal_basis for r in made),
            "each trace step should record its request with a legal basis",
        )

    def financial_data(self) -> None:
        self.step = "17. CRA financial data at arrears"
        step(17, "CRA financial data at arrears: where the money is, to choose a collection power")
        assessment = self.tracing.ObtainFinancialDataAtArrears(
            tr_api.ObtainFinancialDataAtArrearsRequest(request_id=rid(), parent=self.case.name),
            metadata=self.who(),
            timeout=15,
        )
        say(
            f"ObtainFinancialDataAtArrears → assessment {short(assessment.name)} at arrears of "
            f"{money(assessment.arrears_pence)}: the agency "
            f"{words(common.MatchOutcome, assessment.match_outcome, 'MATCH_OUTCOME_')} the paying parent, "
            f"{len(assessment.leads)} lead(s)"
        )
        for lead in assessment.leads:
            about = ""
            if lead.kind == tr_pb.FINANCIAL_LEAD_KIND_CURRENT_ACCOUNT:
                about = (
                    f", balance {money(lead.balance_pence)}, credits {money(lead.average_monthly_credit_turnover_pence)}"
                    f" a month{', joint' if lead.joint else ''}"
                )
            say(
                f"{lead.rank}. {words(tr_pb.FinancialLeadKind, lead.kind, 'FINANCIAL_LEAD_KIND_')} at "
                f"{lead.holder_name} ({lead.confidence_percent}% confidence{about}): suggests "
                f"{words(tr_pb.SuggestedCollectionStep, lead.suggested_step, 'SUGGESTED_COLLECTION_STEP_')}"
                + (f" [{', '.join(lead.reasons)}]" if lead.reasons else ""),
                2,
            )
        say(
            "the CRA's suggested step for the caseworker: "
            + (
                words(
                    tr_pb.SuggestedCollectionStep,
                    assessment.recommended_step,
                    "SUGGESTED_COLLECTION_STEP_",
                )
                if assessment.recommended_step
                else "none (no lead)"
            )
            + (
                f"; cautions: {', '.join(assessment.cautions)}"
                if assessment.cautions
                else "; no cautions"
            ),
            2,
        )
        say(
            f"the request is on the record (information request {short(assessment.information_request)}, purpose "
            "arrears collection) with its legal basis",
            2,
        )
        expect(
            assessment.arrears_pence == self.account().balances.arrears_pence
            and bool(assessment.information_request),
            "the assessment should be made at the account's arrears and record its request",
        )

    def statement_of(self, side: str) -> acpb.AccountStatement:
        """A parent's own side of the account since today, as they see it through self-service."""
        client, view = (
            (self.case.paying_parent.name, acpb.STATEMENT_VIEW_PAYING_PARENT)
            if side == "paying parent"
            else (self.case.receiving_parent.name, acpb.STATEMENT_VIEW_RECEIVING_PARENT)
        )
        return self.accounts.GetAccountStatement(
            acapi.GetAccountStatementRequest(
                name=self.account().name, since=pb_date(self.today), view=view
            ),
            metadata=self.who.client(client),
            timeout=5,
        )

    def take(self, step_: int, role: str = "caseworker", **fields) -> en_pb.EnforcementAction:
        return self.enforcement.TakeEnforcementAction(
            en_api.TakeEnforcementActionRequest(
                request_id=rid(),
                parent=self.enforcement_case.name,
                enforcement_action=en_pb.EnforcementAction(step=step_, **fields),
            ),
            metadata=self.who(role),
            timeout=10,
        )

    def action_line(self, action: en_pb.EnforcementAction) -> str:
        line = (
            f"{words(en_pb.EnforcementStep, action.step, 'ENFORCEMENT_STEP_')} {short(action.name)}: "
            f"{words(en_pb.EnforcementActionState, action.state, 'ENFORCEMENT_ACTION_STATE_')}, decided by "
            f"{action.decided_by}"
        )
        if action.charge_pence:
            line += f"; enforcement charge {money(action.charge_pence)}"
        return line

    def regular_deduction_order(self) -> None:
        self.step = "18. Enforcement: a regular deduction order"
        step(
            18,
            "Enforcement: an enforcement case, and a regular deduction order on the bank account",
        )
        # Today's statement lines so far (the money chapter's): step 19 shows the enforcement chapter's after them.
        self.lines_before = {
            side: len(self.statement_of(side).lines)
            for side in ("paying parent", "receiving parent")
        }
        ec = self.enforcement_case = self.enforcement.OpenEnforcementCase(
            en_api.OpenEnforcementCaseRequest(
                request_id=rid(),
                parent=self.case.name,
                note="Arrears growing; no payments since the move",
            ),
            metadata=self.who(),
            timeout=10,
        )
        say(
            f"OpenEnforcementCase → {short(ec.name)} "
            f"({words(en_pb.EnforcementCaseState, ec.state, 'ENFORCEMENT_CASE_STATE_')}) at arrears of "
            f"{money(ec.arrears_pence)}; CRA case surveillance "
            f"{'started' if ec.surveillance_active else 'NOT started'} until it closes"
        )
        expect(
            ec.state == en_pb.ENFORCEMENT_CASE_STATE_OPEN and ec.surveillance_active,
            "the enforcement case should open with surveillance",
        )
        contact = self.take(en_pb.ENFORCEMENT_STEP_CONTACT_AND_NEGOTIATION)
        say(
            f"TakeEnforcementAction (caseworker) → {self.action_line(contact)}; it rests on the arrears agreement "
            f"{short(contact.arrears_agreement)} of step 11, the first rung of the ladder"
        )
        expect(
            bool(contact.arrears_agreement),
            "contact and negotiation should find step 11's agreement",
        )
        rdo = dict(
            deduction_amount_pence=100_00, deduction_frequency=common.PAYMENT_FREQUENCY_MONTHLY
        )
        err = self.refused(
            lambda: self.take(en_pb.ENFORCEMENT_STEP_REGULAR_DEDUCTION_ORDER, **rdo),
            "a caseworker's regular deduction order",
        )
        say(
            f"a caseworker asking for a regular deduction order is refused: {self.refusal(err)} (a team leader decides)",
            2,
        )
        expect(err.code() == grpc.StatusCode.PERMISSION_DENIED, "an RDO should be a team leader's")
        before = self.account().balances
        order = self.take(en_pb.ENFORCEMENT_STEP_REGULAR_DEDUCTION_ORDER, "team_leader", **rdo)
        data = order.financial_data
        say(
            f"TakeEnforcementAction (team leader) → {self.action_line(order)}: {money(order.deduction_amount_pence)} "
            f"{FREQUENCY[order.deduction_frequency]} from the paying parent's bank account [Child Support Act 1991 "
            "s32A; Child Support Fees Regulations 2014 reg 10]"
        )
        say(
            f"first the CRA's financial data for a deduction order (purpose {data.purpose}, case reference "
            f"{short(data.case_reference)}, search {data.search_reference}): {data.account_leads} account lead(s), "
            f"{data.employment_leads} employment lead(s)",
            2,
        )
        after = self.account().balances
        say(
            f"the account: owed {money(before.owed_pence)} → {money(after.owed_pence)} (the £50.00 charge), arrears "
            f"{money(before.arrears_pence)} → {money(after.arrears_pence)} (an enforcement charge is never arrears)",
            2,
        )
        expect(
            order.charge_pence == 50_00
            and after.owed_pence == before.owed_pence + 50_00
            and after.arrears_pence == before.arrears_pence,
            "the RDO should bring a £50 charge that is owed but not arrears",
        )
        balance, income = 1_200_00, 50_00
        deduction = self.enforcement.RecordRegularDeduction(
            en_api.RecordRegularDeductionRequest(
                request_id=rid(),
                name=order.name,
                deduction_date=pb_date(self.today),
                balance_pence=balance,
                net_weekly_income_pence=income,
            ),
            metadata=self.who(),
            timeout=5,
        )
        free = income * 40 * 52 // (100 * 12)
        say(
            f"RecordRegularDeduction ({day(self.today)}): the bank reports a balance of {money(balance)}; the paying "
            f"parent's net income is {money(income)} a week"
        )
        say(
            f"the order must leave 60% of it: at most 40% × {money(income)} × 52/12 = {money(free)} a month may be "
            f"taken, so {money(deduction.taken_pence)} is taken, not {money(order.deduction_amount_pence)} "
            f"(limited by: {deduction.limited_by or 'nothing'}); receipt {short(deduction.receipt)}",
            2,
        )
        say(
            "(had the balance been under £40.00, nothing would have been taken: £10.00 for a weekly order) "
            "[Child Support (Collection and Enforcement) Regulations 1992 Part 3A]",
            2,
        )
        expect(
            deduction.taken_pence == free
            and deduction.limited_by == "PROTECTED_INCOME"
            and deduction.receipt,
            f"the 60% rule should limit the deduction to {money(free)}, not {money(deduction.taken_pence)} "
            f"({deduction.limited_by})",
        )
        say(f"the account now: {self.balances_line(self.account().balances)}", 2)

    def liability_order(self) -> None:
        self.step = "19. A liability order"
        step(
            19,
            "A liability order, its £300 charge, and a payment that clears the arrears before the charges",
        )
        applied = self.take(
            en_pb.ENFORCEMENT_STEP_LIABILITY_ORDER,
            "team_leader",
            note="Arrears persist despite the RDO",
        )
        data = applied.financial_data
        say(
            f"TakeEnforcementAction (team leader) → {self.action_line(applied)} to the magistrates' court "
            "[Child Support Act 1991 s33]; no charge until it is granted"
        )
        say(
            f"first the CRA's financial data for enforcement (purpose {data.purpose}, search "
            f"{data.search_reference}): {data.account_leads} account, {data.employment_leads} employment and "
            f"{data.property_leads} property lead(s)",
            2,
        )
        expect(
            applied.state == en_pb.ENFORCEMENT_ACTION_STATE_APPLIED and not applied.charge_pence,
            "a liability order application should be APPLIED with no charge yet",
        )
        granted = self.enforcement.RecordLiabilityOrderOutcome(
            en_api.RecordLiabilityOrderOutcomeRequest(
                request_id=rid(),
                name=applied.name,
                outcome=en_pb.LIABILITY_ORDER_OUTCOME_GRANTED,
                note="Granted at the hearing",
            ),
            metadata=self.who("team_leader"),
            timeout=5,
        )
        say(
            f"RecordLiabilityOrderOutcome (granted) → {self.action_line(granted)} [Child Support Fees Regulations "
            "2014 reg 10]"
        )
        expect(
            granted.state == en_pb.ENFORCEMENT_ACTION_STATE_GRANTED
            and granted.charge_pence == 300_00,
            "the granted liability order should bring the £300 charge",
        )
        charges = 50_00 + 300_00
        before = self.account().balances
        say(f"the account: {self.balances_line(before)}", 2)
        say(
            f"of the {money(before.owed_pence)} owed, {money(charges)} is enforcement charges (the RDO's £50.00 "
            f"and the liability order's £300.00), {money(before.owed_pence - charges)} is maintenance, arrears and "
            "collection fees",
            2,
        )
        expect(
            before.owed_pence > charges,
            "more than the enforcement charges should be owed before the payment",
        )
        paid = before.owed_pence - charges + 100_00
        receipt = self.accounts.RecordReceipt(
            acapi.RecordReceiptRequest(
                request_id=rid(),
                receipt=acapi.ReceiptInput(
                    payment_reference=self.case.name.removeprefix("cases/"),
                    external_reference=f"DEMO-{rid()[:8].upper()}",
                    method=money_pb.RECEIPT_METHOD_ONE_OFF,
                    amount_pence=paid,
                    received_date=pb_date(self.today),
                ),
            ),
            metadata=self.who(),
            timeout=10,
        )
        after = self.account().balances
        say(
            f"Faced with the liability order, the paying parent pays {money(paid)} by bank transfer: RecordReceipt → "
            f"receipt {short(receipt.name)}"
        )
        say(
            f"the account: arrears {money(before.arrears_pence)} → {money(after.arrears_pence)}, owed "
            f"{money(before.owed_pence)} → {money(after.owed_pence)}: maintenance, arrears and fees were paid "
            f"first, and only the last {money(paid - (before.owed_pence - charges))} went to the enforcement "
            f"charges, {money(after.owed_pence)} of them still owed [Child Support (Management of Payments and "
            "Arrears) Regulations 2009 reg 4; docs/domain/money.md]",
            2,
        )
        expect(
            not receipt.held_in_suspense
            and after.arrears_pence == 0
            and after.owed_pence == charges - 100_00,
            f"the payment should clear the arrears and leave {money(charges - 100_00)} of enforcement charges, "
            f"but arrears are {money(after.arrears_pence)} and {money(after.owed_pence)} is owed",
        )
        for side in ("paying parent", "receiving parent"):
            statement = self.statement_of(side)
            lines = statement.lines[self.lines_before[side] :]
            # The paying parent's allocations move nothing on their side (the receipt did): left out here.
            shown = [
                line
                for line in lines
                if not (
                    line.kind == money_pb.LEDGER_ENTRY_KIND_ALLOCATION and not line.amount_pence
                )
            ]
            say(
                f"GetAccountStatement as the {side} (self-service): the enforcement chapter's lines today"
                + (
                    " (allocations, which move nothing on this side, left out)"
                    if len(shown) < len(lines)
                    else ""
                )
            )
            for line in shown:
                say(
                    f"{money(line.amount_pence):>10} {money(line.balance_pence):>10}  "
                    f"{words(money_pb.LedgerEntryKind, line.kind, 'LEDGER_ENTRY_KIND_')}: {line.description}",
                    4,
                )
            say(f"closing balance {money(statement.closing_balance_pence)}", 4)
            kinds = [line.kind for line in shown]
            if side == "paying parent":
                expect(
                    kinds.count(money_pb.LEDGER_ENTRY_KIND_ENFORCEMENT_CHARGE) == 2,
                    "the paying parent's statement should show the two enforcement charges",
                )
            else:
                expect(
                    money_pb.LEDGER_ENTRY_KIND_ENFORCEMENT_CHARGE not in kinds
                    and statement.closing_balance_pence
                    >= before.owed_pence - charges - before.paying_parent_fees_pence,
                    "the receiving parent's side should show the maintenance collected, never the charges",
                )
        say(
            "the receiving parent's side shows the payment's maintenance and arrears passed on in full; the "
            "enforcement charges are the CMS's, collected last and never shown to them",
            2,
        )
        closed = self.enforcement.CloseEnforcementCase(
            en_api.CloseEnforcementCaseRequest(
                request_id=rid(),
                name=self.enforcement_case.name,
                reason="Arrears paid; the enforcement charges left are collected from later payments",
            ),
            metadata=self.who(),
            timeout=10,
        )
        say(
            f"CloseEnforcementCase → {words(en_pb.EnforcementCaseState, closed.state, 'ENFORCEMENT_CASE_STATE_')}, "
            f"{len(closed.actions)} action(s) on it; surveillance "
            f"{'still on' if closed.surveillance_active else 'stopped'}"
        )
        expect(not closed.surveillance_active, "closing enforcement should stop the surveillance")

    def reform_what_if(self) -> None:
        self.step = "20. A reform what-if"
        step(20, "A reform what-if: the end of Direct Pay over the demo caseload")
        say(
            "The announced reform: one CMS-managed collection service, fees 2% for the receiving parent, 2% for a "
            "compliant paying parent and 20% for a non-compliant one. What would it do to this stack's live cases?"
        )
        err = self.refused(
            lambda: self.reform.StartReformWhatIf(
                cr_api.StartReformWhatIfRequest(request_id=rid()), metadata=self.who(), timeout=5
            ),
            "a caseworker's what-if",
        )
        say(f"a caseworker may not start one: {self.refusal(err)}", 2)
        first_of_next = (self.today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        what_if = self.reform.StartReformWhatIf(
            cr_api.StartReformWhatIfRequest(request_id=rid(), start_date=pb_date(first_of_next)),
            metadata=self.who("team_leader"),
            timeout=5,
        )
        say(
            f"StartReformWhatIf (team leader) → {what_if.name}: "
            f"{words(cr_pb.CollectionReformJobState, what_if.state, 'COLLECTION_REFORM_JOB_STATE_')}, fee income "
            f"from {day(what_if.start_date)}"
        )
        started, shown = time.monotonic(), (-1, -1)
        while what_if.state == cr_pb.COLLECTION_REFORM_JOB_STATE_RUNNING:
            if (what_if.cases_done, what_if.cases_total) != shown:
                shown = (what_if.cases_done, what_if.cases_total)
                say(
                    f"GetReformWhatIf: {what_if.cases_done} of {what_if.cases_total or '?'} case(s) calculated",
                    2,
                )
            expect(time.monotonic() - started < 120, "the what-if should finish within 120 s")
            time.sleep(0.5)
            what_if = self.reform.GetReformWhatIf(
                cr_api.GetReformWhatIfRequest(name=what_if.name),
                metadata=self.who("team_leader"),
                timeout=2,
            )
        expect(
            what_if.state == cr_pb.COLLECTION_REFORM_JOB_STATE_SUCCEEDED,
            f"the what-if should succeed, but it is "
            f"{cr_pb.CollectionReformJobState.Name(what_if.state)}: {what_if.error}",
        )
        r = what_if.results
        say(
            f"GetReformWhatIf → succeeded after {time.monotonic() - started:.1f} s: {what_if.cases_done} case(s) "
            f"calculated under rule set {what_if.rule_set_version}"
        )
        say(
            f"moving from Direct Pay to collection: {r.cases_moving} case(s), {r.children_moving} child(ren)",
            2,
        )
        say(
            f"paying parents who would pay the 20% non-compliant fee: {r.paying_parents_non_compliant}",
            2,
        )
        say(f"fee income, 12 months: {money(r.fee_income_total_pence)}", 2)
        for month in r.fee_income:
            say(
                f"{as_date(month.month_start).strftime('%b %Y')}: {money(month.total_pence):>12} "
                f"(paying parents {money(month.paying_parent_fees_pence)}, receiving parents "
                f"{money(month.receiving_parent_fees_pence)})",
                4,
            )
        say(
            f"what receiving parents get a week, all cases together: {money(r.weekly_receipts_before_pence)} now → "
            f"{money(r.weekly_receipts_after_pence)} under the reform; {r.receiving_parents_receiving_less} would "
            f"receive less, {r.receiving_parents_receiving_more} more",
            2,
        )
        if r.cases_failed:
            say(f"{r.cases_failed} case(s) could not be calculated: {'; '.join(r.failures[:3])}", 2)
        expect(
            what_if.cases_done > 0
            and len(r.fee_income) == 12
            and sum(m.total_pence for m in r.fee_income) == r.fee_income_total_pence,
            "the what-if should cover the caseload for 12 months, adding up to its total",
        )

    def money_story(self) -> None:
        """Steps 9-14 on a case of their own, then the enforcement chapter's 15-19 on the same case; the earlier case
        stays the story's."""
        story = self.case
        self.deduction_order()
        self.remittance()
        self.missed_payment()
        self.overpayment()
        self.payment_run()
        self.statements()
        self.arrears_grow()
        self.trace()
        self.financial_data()
        self.regular_deduction_order()
        self.liability_order()
        self.case = story

    def run(self) -> None:
        say(
            f"CMS demo: casework at {self.where['casework']}, dwp-gateway at {self.where['dwp-gateway']}"
        )
        self.application()
        self.income_change(2, 1.10, "A pay rise under 25%: the paying parent's pay goes up by 10%")
        self.income_change(3, 1.40, "A pay rise over 25%: the paying parent's pay goes up by 40%")
        self.new_partners_child()
        self.benefit_claim()
        self.annual_review()
        self.reconsideration()
        self.paperwork()
        self.money_story()
        self.reform_what_if()
        say()
        say(RULE)
        latest = self.case.latest_calculation
        say(
            f"The story is complete for {self.case.name}: {words(pb.CaseState, self.case.state, 'CASE_STATE_')}, "
            f"{rate_words(latest.rate)}, {money(latest.weekly_amount_pence)} a week, next annual review "
            f"{day(self.case.annual_review_date)}."
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--start", type=int, help="population index to start the family search at (default: random)"
    )
    parser.add_argument(
        "--wait", type=float, default=60.0, help="seconds to wait for the benefit broadcast (60)"
    )
    parser.add_argument(
        "--var-dir",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "var",
        help="`make run`'s var directory, for its local issuer (default: var/)",
    )
    args = parser.parse_args()

    where = addresses()
    down = check_up(where)
    if down:
        print(
            "The CMS services are not up:\n  "
            + "\n  ".join(down)
            + "\nStart them with `make run` in another terminal (same <SERVICE>_GRPC_PORT variables, if any), "
            "then run `make demo` again.",
            file=sys.stderr,
        )
        return 2
    try:
        issuer = LocalIssuer.load(args.var_dir / "identity")
    except OSError:
        print(
            f"No local issuer in {args.var_dir / 'identity'}: run `make demo` against the services `make run` "
            "started (give --var-dir if make run was given one).",
            file=sys.stderr,
        )
        return 2
    demo = Demo(where, issuer=issuer, start=args.start, wait_seconds=args.wait)
    try:
        demo.run()
        return 0
    except StoryFailed as failed:
        print(f"\nDEMO FAILED at step {demo.step}: {failed}", file=sys.stderr)
        if demo.case.name:
            print(f"(case {demo.case.name})", file=sys.stderr)
        return 1
    except grpc.RpcError as err:
        detail = (
            "; ".join(str(v).replace("\n", " ") for v in details_of(err).values())
            if details_of(err)
            else ""
        )
        print(
            f"\nDEMO FAILED at step {demo.step}: {err.code().name}: {err.details()}"
            + (f" [{detail}]" if detail else ""),
            file=sys.stderr,
        )
        if err.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            print("A service stopped answering: is `make run` still running?", file=sys.stderr)
        if demo.case.name:
            print(f"(case {demo.case.name})", file=sys.stderr)
        return 1
    finally:
        demo.close()


if __name__ == "__main__":
    sys.exit(main())
