"""An active deduction from benefit follows the liability through the running stack: the paying parent's flat rate is
one £7 shared between his receiving parents in proportion to their qualifying children (Sch 1 para 6 to the Child
Support Act 1991, reg 49 of SI 2012/2677), so a second case of his appearing or closing, or a child leaving it, moves
this case's share, and the deduction's amount (a non-standard flat rate) or its type (standard <-> non-standard)
with it, once dwp-gateway's decision on the change is in (docs/domain/money.md §9). dwp-gateway decides one
instruction at a time: a change of liability while one is awaited follows once it is decided.

Alex Turner is on a flat-rate benefit from 6 April 2026 and pays Bethan Morgan for Amy and Ben; where a test says so
he also pays Siân Llewellyn-Price for Osian (and Tomos)."""

from __future__ import annotations

import uuid

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import methods_of_payment_pb2 as mop
from cms.casework.v1 import methods_of_payment_service_pb2 as mop_api
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.dwp.v1 import dwp_service_pb2 as dwp_api
from cms.dwp.v1 import resources_pb2 as dwp_pb
from cms_devkit.testing import wait_until

from ..conftest import alex_and_bethan, d, person
from .test_benefit_deductions import DFB, applied, decided_by_jcp, method_of, reaches, set_up

STANDARD = mop.BENEFIT_DEDUCTION_TYPE_STANDARD_FLAT_RATE
NON_STANDARD = mop.BENEFIT_DEDUCTION_TYPE_NON_STANDARD_FLAT_RATE


def sian(stack, *children: tuple[str, tuple[int, int, int], str]) -> pb.Case:
    """Alex also pays Siân for `children` (forename, date of birth, child reference; Osian when none), Collect & Pay,
    calculated from 6 April 2026 like Bethan's: one calculation covers both cases."""
    request = alex_and_bethan(service_type=pb.SERVICE_TYPE_COLLECT_AND_PAY)
    request.receiving_parent.CopyFrom(
        pb.Client(identity=person("AG765432A", "Siân", "Llewellyn-Price", (1983, 5, 17)))
    )
    del request.qualifying_children[:]
    for forename, born, reference in children or (("Osian", (2014, 11, 11), "AK100005A"),):
        request.qualifying_children.add(
            name=common.PersonName(forenames=forename, surname="Okafor"),
            date_of_birth=d(*born),
            child_reference_number=reference,
        )
    return stack.new_live_case(request)


def close(stack, case: pb.Case) -> None:
    stack.call(
        "CloseCase",
        api.CloseCaseRequest(
            request_id=str(uuid.uuid4()),
            name=case.name,
            reason=pb.CASE_CLOSURE_REASON_APPLICANT_REQUEST,
        ),
        as_=stack.team_leader(),
    )


def share(stack, case: pb.Case) -> pb.LatestCalculation:
    return stack.call("GetCase", api.GetCaseRequest(name=case.name)).latest_calculation


def at_dwp(stack, deduction_id: str) -> dwp_pb.Deduction:
    dwp, channel = stack.dwp()
    try:
        return dwp.GetDeduction(
            dwp_api.GetDeductionRequest(deduction_id=deduction_id),
            metadata=stack.creds.staff("cw-1", "caseworker"),
            timeout=10,
        )
    finally:
        channel.close()


def asked_of_dwp(
    stack, deduction_id: str, kind: int, deduction_type: int = 0
) -> dwp_pb.DeductionInstruction:
    """The instruction of `kind` (asking for `deduction_type`, when given) dwp-gateway holds for a decision
    (casework sends it in the background)."""

    def pending() -> dwp_pb.DeductionInstruction | None:
        held = at_dwp(stack, deduction_id)
        asked = held.pending_instruction
        waiting = (
            held.HasField("pending_instruction")
            and asked.kind == kind
            and asked.requested_terms.deduction_type
            == (deduction_type or asked.requested_terms.deduction_type)
        )
        return asked if waiting else None

    return wait_until(
        pending,
        timeout=120,
        what=f"dwp-gateway to hold a {dwp_pb.DeductionInstructionKind.Name(kind)}",
    )


def keyed(stack, deduction_id: str, form_reference: str, amount_pence: int) -> None:
    """The benefit office's acceptance of a non-automated form, keyed by a caseworker."""
    dwp, channel = stack.dwp()
    try:
        dwp.RecordNonAutomatedDeductionDecision(
            dwp_api.RecordNonAutomatedDeductionDecisionRequest(
                request_id=str(uuid.uuid4()),
                deduction_id=deduction_id,
                form_reference=form_reference,
                outcome=dwp_pb.DEDUCTION_OUTCOME_ACCEPTED,
                deduction_amount=common.PeriodicAmount(
                    frequency=common.PAYMENT_FREQUENCY_WEEKLY, amount_pence=amount_pence
                ),
                start_date=d(2026, 4, 13),
                decision_date=d(2026, 4, 6),
                decided_by="Pension Centre",
            ),
            metadata=stack.creds.staff("cw-1", "caseworker"),
            timeout=10,
        )
    finally:
        channel.close()


def in_terms(
    stack,
    asked: mop.BenefitDeduction,
    deduction_type: int,
    amount_pence: int,
    *,
    settled: bool = False,
) -> mop.BenefitDeduction:
    """Casework's record once it holds the decided terms: active, of `deduction_type`, taking `amount_pence`; and,
    when `settled`, once it has also recorded the gateway's answer to every instruction it sent. That answer is
    written by the background pass after the call returns, so it can trail the decision's event."""

    def got() -> mop.BenefitDeduction | None:
        found = stack.mop_call(
            "GetBenefitDeduction", mop_api.GetBenefitDeductionRequest(name=asked.name)
        )
        matches = (
            found.state == mop.BENEFIT_DEDUCTION_STATE_ACTIVE
            and found.deduction_type == deduction_type
            and found.deduction_amount.amount_pence == amount_pence
            and not (settled and found.pending_instructions)
        )
        return found if matches else None

    return wait_until(got, timeout=120, what="the deduction's new terms")


def test_a_child_leaving_the_other_case_changes_the_amount_of_a_non_standard_deduction(
    stack, clock
):
    """On Pension Credit (the interface route), Bethan's two children of Alex's four take £3.50 of the £7: her case
    takes a non-standard flat rate of £3.50 + 20% = £4.20 a week. Tomos, on Siân's case, leaves full-time education:
    three children, Bethan's share is £4.67, so the deduction's amount changes to £4.67 + 20% = £5.60 once JCP
    decides; its type stays."""
    stack.award(dwp_pb.BENEFIT_TYPE_PENSION_CREDIT)
    case = stack.collect_and_pay_case()
    second = sian(
        stack, ("Tomos", (2010, 3, 1), "AK100004D"), ("Osian", (2014, 11, 11), "AK100005A")
    )
    before = share(stack, case)
    assert (before.rate, before.weekly_amount_pence) == ("FLAT", 350)
    asked = set_up(
        stack, case, "PENSION_CREDIT", deduction_type=NON_STANDARD, weekly_liability_pence=350
    )
    reaches(stack, asked, mop.BENEFIT_DEDUCTION_STATE_AWAITING_DECISION)
    active = decided_by_jcp(stack, asked)
    assert active.route == mop.BENEFIT_DEDUCTION_ROUTE_INTERFACE
    assert active.deduction_amount.amount_pence == 420
    stack.case_method(case, DFB)

    tomos = next(c.child_id for c in second.qualifying_children if c.name.forenames == "Tomos")
    change = stack.report(
        second,
        pb.ChangeOfCircumstances(
            type=pb.CHANGE_OF_CIRCUMSTANCES_TYPE_QC_NOT_IN_FULL_TIME_EDUCATION,
            effective_date=d(2026, 4, 6),
            reported_by=pb.REPORTER_RECEIVING_PARENT,
            child_change=pb.ChildChange(child_id=tomos),
        ),
    )
    stack.verify(change)
    wait_until(lambda: applied(stack, second), timeout=120, what="the change to be applied")
    after = share(stack, case)
    assert (after.rate, after.weekly_amount_pence) == ("FLAT", 467)
    assert after.calculation != before.calculation
    asked_of_dwp(stack, active.deduction_id, dwp_pb.DEDUCTION_INSTRUCTION_KIND_CHANGE_AMOUNT)
    # The old terms stay in force until JCP's decision.
    assert at_dwp(stack, active.deduction_id).current_terms.maintenance_pence == 350
    decided_by_jcp(stack, asked)
    changed = in_terms(stack, asked, NON_STANDARD, 560, settled=True)
    assert changed.weekly_liability_pence == 467 and changed.calculation == after.calculation
    held = at_dwp(stack, active.deduction_id)
    assert held.state == dwp_pb.DEDUCTION_STATE_ACTIVE and not held.HasField("pending_instruction")
    assert held.current_terms.deduction_type == dwp_pb.DEDUCTION_TYPE_NON_STANDARD_FLAT_RATE
    assert (held.current_terms.maintenance_pence, held.current_terms.collection_fee_pence) == (
        467,
        93,
    )
    assert held.current_terms.deduction_amount.amount_pence == 560
    assert [i.kind for i in held.instructions] == [
        dwp_pb.DEDUCTION_INSTRUCTION_KIND_SET_UP,
        dwp_pb.DEDUCTION_INSTRUCTION_KIND_CHANGE_AMOUNT,
    ]
    # Still the case's method of payment, the same arrangement.
    method = method_of(stack, case)
    assert (method.method, method.arrangement) == (DFB, asked.name)


def test_a_second_case_appearing_and_closing_changes_the_deductions_type_and_back(stack, clock):
    """On State Pension (the non-automated route), Bethan's case alone takes the whole £7: a standard flat rate,
    £8.40 a week. Siân's case for Osian makes Bethan's share £4.67, so the deduction becomes a non-standard flat
    rate of £5.60; Siân's case closing makes it the whole £7 and a standard flat rate again. Each change is decided
    by the benefit office on its own form."""
    stack.award(dwp_pb.BENEFIT_TYPE_STATE_PENSION)
    case = stack.collect_and_pay_case()
    alone = share(stack, case)
    assert (alone.rate, alone.weekly_amount_pence) == ("FLAT", 700)
    asked = set_up(stack, case, "STATE_PENSION")
    sent = reaches(stack, asked, mop.BENEFIT_DEDUCTION_STATE_AWAITING_CLERICAL_DECISION)
    form = asked_of_dwp(stack, sent.deduction_id, dwp_pb.DEDUCTION_INSTRUCTION_KIND_SET_UP)
    keyed(stack, sent.deduction_id, form.form_reference, 840)
    in_terms(stack, asked, STANDARD, 840)
    stack.case_method(case, DFB)

    second = sian(stack)
    shared = share(stack, case)
    assert (shared.rate, shared.weekly_amount_pence) == ("FLAT", 467)
    form = asked_of_dwp(stack, sent.deduction_id, dwp_pb.DEDUCTION_INSTRUCTION_KIND_CHANGE_TYPE)
    assert form.route == dwp_pb.DEDUCTION_ROUTE_NON_AUTOMATED and form.form_reference
    assert form.requested_terms.deduction_type == dwp_pb.DEDUCTION_TYPE_NON_STANDARD_FLAT_RATE
    assert form.requested_terms.maintenance_pence == 467
    assert form.requested_terms.deduction_amount.amount_pence == 560
    # Not in force until the benefit office decides.
    assert at_dwp(stack, sent.deduction_id).current_terms.deduction_type == (
        dwp_pb.DEDUCTION_TYPE_STANDARD_FLAT_RATE
    )
    keyed(stack, sent.deduction_id, form.form_reference, 560)
    non_standard = in_terms(stack, asked, NON_STANDARD, 560)
    assert non_standard.weekly_liability_pence == 467
    held = at_dwp(stack, sent.deduction_id).current_terms
    assert (held.deduction_type, held.maintenance_pence, held.deduction_amount.amount_pence) == (
        dwp_pb.DEDUCTION_TYPE_NON_STANDARD_FLAT_RATE,
        467,
        560,
    )

    close(stack, second)
    whole = share(stack, case)
    assert (whole.rate, whole.weekly_amount_pence) == ("FLAT", 700)
    form = asked_of_dwp(stack, sent.deduction_id, dwp_pb.DEDUCTION_INSTRUCTION_KIND_CHANGE_TYPE)
    assert form.requested_terms.deduction_type == dwp_pb.DEDUCTION_TYPE_STANDARD_FLAT_RATE
    assert form.requested_terms.deduction_amount.amount_pence == 840
    keyed(stack, sent.deduction_id, form.form_reference, 840)
    standard = in_terms(stack, asked, STANDARD, 840)
    assert standard.weekly_liability_pence == 0 and standard.calculation == whole.calculation
    held = at_dwp(stack, sent.deduction_id).current_terms
    assert (held.deduction_type, held.maintenance_pence, held.deduction_amount.amount_pence) == (
        dwp_pb.DEDUCTION_TYPE_STANDARD_FLAT_RATE,
        700,
        840,
    )
    method = method_of(stack, case)
    assert (method.method, method.arrangement) == (DFB, asked.name)


def test_a_change_while_the_last_is_still_being_decided_is_sent_once_it_is_decided(stack, clock):
    """Siân's case appears and closes again before the benefit office has decided the change to a non-standard
    flat rate: dwp-gateway takes one change at a time, so the change back to the standard flat rate waits for that
    decision and is sent after it, and the deduction ends on the terms of the liability in force."""
    stack.award(dwp_pb.BENEFIT_TYPE_STATE_PENSION)
    case = stack.collect_and_pay_case()
    asked = set_up(stack, case, "STATE_PENSION")
    sent = reaches(stack, asked, mop.BENEFIT_DEDUCTION_STATE_AWAITING_CLERICAL_DECISION)
    form = asked_of_dwp(stack, sent.deduction_id, dwp_pb.DEDUCTION_INSTRUCTION_KIND_SET_UP)
    keyed(stack, sent.deduction_id, form.form_reference, 840)
    in_terms(stack, asked, STANDARD, 840)

    second = sian(stack)
    first_change = asked_of_dwp(
        stack,
        sent.deduction_id,
        dwp_pb.DEDUCTION_INSTRUCTION_KIND_CHANGE_TYPE,
        dwp_pb.DEDUCTION_TYPE_NON_STANDARD_FLAT_RATE,
    )
    close(stack, second)
    whole = share(stack, case)
    assert whole.weekly_amount_pence == 700
    # The change back is held while dwp-gateway waits for the first decision.
    wait_until(
        lambda: (
            stack.mop_call(
                "GetBenefitDeduction", mop_api.GetBenefitDeductionRequest(name=asked.name)
            ).calculation
            == whole.calculation
        ),
        timeout=120,
        what="the deduction to follow the closure",
    )
    held = at_dwp(stack, sent.deduction_id)
    assert held.pending_instruction.instruction_id == first_change.instruction_id
    keyed(stack, sent.deduction_id, first_change.form_reference, 560)
    back = asked_of_dwp(
        stack,
        sent.deduction_id,
        dwp_pb.DEDUCTION_INSTRUCTION_KIND_CHANGE_TYPE,
        dwp_pb.DEDUCTION_TYPE_STANDARD_FLAT_RATE,
    )
    keyed(stack, sent.deduction_id, back.form_reference, 840)
    in_terms(stack, asked, STANDARD, 840, settled=True)
    held = at_dwp(stack, sent.deduction_id)
    assert (held.current_terms.deduction_type, held.current_terms.maintenance_pence) == (
        dwp_pb.DEDUCTION_TYPE_STANDARD_FLAT_RATE,
        700,
    )
    assert not held.HasField("pending_instruction")


def test_a_change_while_the_set_up_is_being_decided_follows_once_it_is_accepted(stack, clock):
    """Siân's case appears while the benefit office still has the form setting up a standard flat rate: the set-up
    was asked for Bethan's whole £7, so once it is accepted the deduction is brought in line with her share of
    £4.67 (a non-standard flat rate, on a form of its own)."""
    stack.award(dwp_pb.BENEFIT_TYPE_STATE_PENSION)
    case = stack.collect_and_pay_case()
    asked = set_up(stack, case, "STATE_PENSION")
    sent = reaches(stack, asked, mop.BENEFIT_DEDUCTION_STATE_AWAITING_CLERICAL_DECISION)
    form = asked_of_dwp(stack, sent.deduction_id, dwp_pb.DEDUCTION_INSTRUCTION_KIND_SET_UP)
    sian(stack)
    shared = share(stack, case)
    assert shared.weekly_amount_pence == 467
    keyed(stack, sent.deduction_id, form.form_reference, 840)
    change = asked_of_dwp(
        stack,
        sent.deduction_id,
        dwp_pb.DEDUCTION_INSTRUCTION_KIND_CHANGE_TYPE,
        dwp_pb.DEDUCTION_TYPE_NON_STANDARD_FLAT_RATE,
    )
    assert change.requested_terms.maintenance_pence == 467
    keyed(stack, sent.deduction_id, change.form_reference, 560)
    followed = in_terms(stack, asked, NON_STANDARD, 560)
    assert followed.weekly_liability_pence == 467 and followed.calculation == shared.calculation
    stack.case_method(case, DFB)
