"""The monthly Child Benefit check at batch size, through the real casework server and hmrc-gateway's streaming
RPC (conftest.stack): every qualifying child of each of 1,000 live cases with a child aged 16 or over goes to HMRC in
messages of up to 1,000 children, and only the cases with a child whose Child Benefit ended are recalculated, once
each."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import grpc

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms.hmrc.v1 import hmrc_service_pb2 as hmrc_api
from cms_casework.case_records import service as case_records
from cms_casework.case_records.models import CaseRecord
from cms_casework.changes import service as changes
from cms_casework.clients.models import ClientRecord
from cms_casework.scheduler import rules

from ..conftest import alex_and_bethan, d, person

CASES = 1000


def _okafor_family_case(stack) -> pb.Case:
    request = alex_and_bethan()
    request.paying_parent.identity.CopyFrom(person("AC345678C", "Chidi", "Okafor", (1990, 6, 30)))
    request.paying_parent.ClearField("address")
    request.receiving_parent.identity.CopyFrom(
        person("AG765432A", "Siân", "Llewellyn-Price", (1983, 5, 17))
    )
    del request.qualifying_children[:]
    for forename, born, crn in (
        (
            "Ffion",
            d(2009, 5, 20),
            "AK100003C",
        ),  # approved education reported: Child Benefit goes on
        ("Tomos", d(2010, 3, 1), "AK100004D"),  # Child Benefit ended on 31 August 2026
        ("Osian", d(2014, 11, 11), "AK100005A"),
    ):
        request.qualifying_children.add(
            name=common.PersonName(forenames=forename, surname="Okafor"),
            date_of_birth=born,
            child_reference_number=crn,
        )
    return stack.new_live_case(request)


def _copies(stack, case: pb.Case, count: int) -> list[str]:
    """`count` live copies of `case` written straight to casework's database (the test's set-up, not the thing
    tested), each with a paying parent of its own (so no calculation covers two of them) and the same receiving
    parent (so HMRC knows the children), without Tomos: Ffion (aged 17, checked) and Osian (11, checked with her)."""
    ids = []
    with stack.casework.sessions.begin() as s:
        original = s.get(CaseRecord, case.name.removeprefix("cases/"))
        payer = s.get(ClientRecord, original.paying_parent_client_id)
        assert original is not None and payer is not None
        for i in range(count):
            case_id, payer_id = str(uuid.uuid4()), str(uuid.uuid4())
            client = pb.Client.FromString(payer.document)
            client.name = f"clients/{payer_id}"
            client.identity.nino = f"ZX{i:06d}A"
            s.add(
                ClientRecord(
                    id=payer_id,
                    nino=client.identity.nino,
                    document=client.SerializeToString(),
                    created_at=payer.created_at,
                    updated_at=payer.updated_at,
                )
            )
            document = pb.Case.FromString(original.document)
            document.name = f"cases/{case_id}"
            document.paying_parent.name = client.name
            kept = [c for c in document.qualifying_children if c.name.forenames != "Tomos"]
            del document.qualifying_children[:]
            document.qualifying_children.extend(kept)
            s.add(
                CaseRecord(
                    id=case_id,
                    state=original.state,
                    paying_parent_nino=client.identity.nino,
                    paying_parent_client_id=payer_id,
                    receiving_parent_client_id=original.receiving_parent_client_id,
                    workgroup=original.workgroup,
                    owner=original.owner,
                    personal_interest=False,
                    annual_review_date=original.annual_review_date,
                    eldest_child_born=case_records.eldest_child_born(document),
                    document=document.SerializeToString(),
                    created_at=original.created_at,
                    updated_at=original.updated_at,
                )
            )
            ids.append(case_id)
    return ids


def test_the_monthly_child_benefit_batch_over_a_thousand_cases(stack, clock, monkeypatch):
    case = _okafor_family_case(stack)
    copies = _copies(stack, case, CASES - 1)
    sent: list[int] = []
    streamed = stack.casework.downstream.hmrc.RunMonthlyChildBenefitCheck

    def counting(requests, **kw):
        def counted():
            for message in requests:
                assert isinstance(message, hmrc_api.RunMonthlyChildBenefitCheckRequest)
                sent.append(len(message.items))
                yield message

        return streamed(counted(), **kw)

    monkeypatch.setattr(stack.casework.downstream.hmrc, "RunMonthlyChildBenefitCheck", counting)
    recalculations_before = _calculations(stack)
    clock.advance(dt.timedelta(days=148))  # 1 September 2026
    result = stack.run_scheduled(
        d(2026, 9, 1), api.SCHEDULED_JOB_MONTHLY_CHILD_BENEFIT_CHECK
    ).results[0]
    assert (result.items_due, result.items_processed, result.items_failed) == (CASES, CASES, 0)
    # Every qualifying child of every case, the younger ones too, in messages of at most 1,000.
    assert sum(sent) == 3 + 2 * (CASES - 1)
    assert max(sent) == rules.CHILDREN_PER_MESSAGE and len(sent) == 3
    # Tomos leaves his case from 31 August, and that case alone is recalculated.
    held = stack.call("GetCase", api.GetCaseRequest(name=case.name))
    tomos = next(c for c in held.qualifying_children if c.name.forenames == "Tomos")
    assert (tomos.end_date, tomos.end_reason) == (
        d(2026, 8, 31),
        pb.CHILD_END_REASON_NOT_IN_FULL_TIME_EDUCATION,
    )
    assert held.latest_calculation.effective_date == d(2026, 8, 31)
    untouched = stack.call("GetCase", api.GetCaseRequest(name=f"cases/{copies[-1]}"))
    assert all(not c.end_date.year for c in untouched.qualifying_children)
    assert _calculations(stack) - recalculations_before == 1


def _calculations(stack, case_name: str | None = None) -> int:
    """Decisions the calculation service has stored (one per recalculation): all, or only `case_name`'s."""
    from cms_calculation.calculations.models import StoredCalculation

    with stack.services["calculation"].sessions() as s:
        q = s.query(StoredCalculation)
        if case_name is not None:
            q = q.filter(StoredCalculation.case_reference == case_name.removeprefix("cases/"))
        return q.count()


def _ffion_starts_work(stack) -> None:
    """Ffion starts work at the end of August: HMRC ends her Child Benefit on 31 August, the day Tomos's ends. HMRC
    knows it before the case is made: had it learnt it after, its end-date alert would reach casework as a change on
    its own and race the batch."""
    from google.type import date_pb2

    from cms.hmrc.v1 import hmrc_scenario_service_pb2 as hmrc_sc
    from cms.hmrc.v1 import hmrc_scenario_service_pb2_grpc as hmrc_sc_grpc
    from cms.hmrc.v1 import resources_pb2 as hmrc_pb

    admin = stack.creds.staff("scenario-admin", "scenario_admin")
    with grpc.insecure_channel(f"127.0.0.1:{stack.services['hmrc'].server.port}") as channel:
        scenario = hmrc_sc_grpc.HmrcScenarioServiceStub(channel)
        held = scenario.GetPerson(
            hmrc_sc.GetPersonRequest(nino="AG765432A"), metadata=admin, timeout=10
        )
        ffion = next(c for c in held.child_benefit.children if c.identity.name.forenames == "Ffion")
        ffion.end_date.CopyFrom(date_pb2.Date(year=2026, month=8, day=31))
        ffion.end_reason = hmrc_pb.CHILD_BENEFIT_END_REASON_STARTED_WORK_OR_APPRENTICESHIP
        scenario.UpsertPerson(
            hmrc_sc.UpsertPersonRequest(request_id=str(uuid.uuid4()), person=held),
            metadata=admin,
            timeout=10,
        )


def test_two_children_leaving_one_case_recalculate_it_once(stack, clock):
    _ffion_starts_work(stack)
    case = _okafor_family_case(stack)
    before = _calculations(stack, case.name)
    clock.advance(dt.timedelta(days=148))  # 1 September 2026
    result = stack.run_scheduled(
        d(2026, 9, 1), api.SCHEDULED_JOB_MONTHLY_CHILD_BENEFIT_CHECK
    ).results[0]
    assert (result.items_due, result.items_processed, result.items_failed) == (1, 1, 0)
    held_case = stack.call("GetCase", api.GetCaseRequest(name=case.name))
    ended = {c.name.forenames: c.end_date for c in held_case.qualifying_children if c.end_date.year}
    assert ended == {"Ffion": d(2026, 8, 31), "Tomos": d(2026, 8, 31)}
    assert _calculations(stack, case.name) - before == 1
    assert held_case.latest_calculation.effective_date == d(2026, 8, 31)


def _until_no_change_waits(stack, case_id: str, seconds: float = 30.0) -> None:
    """Until no verified change is waiting on the case as other transactions see it (the feed pass has applied
    what was committed), for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with stack.casework.sessions() as s:
            if not changes.verified_of(s, case_id):
                return
        time.sleep(0.05)


def test_the_feed_pass_never_applies_one_child_leaving_before_the_others(stack, clock, monkeypatch):
    """The feed pass applies every verified change raised from a source, the monthly check's too (the stack's ticks
    every 0.2 s). Each report after the first waits until the pass has applied what is committed, as a busy
    scheduler gives it time to: the case's children leaving are reported in one transaction, so the pass finds both
    or neither, and the case is recalculated once, not once per child."""
    _ffion_starts_work(stack)
    case = _okafor_family_case(stack)
    case_id = case.name.removeprefix("cases/")
    report, reported = changes.report, []

    def reporting(db, **kw):
        if kw.get("source_event_id", "").startswith("chb-"):
            if reported:
                _until_no_change_waits(stack, case_id)
            reported.append(kw["source_event_id"])
        return report(db, **kw)

    monkeypatch.setattr(changes, "report", reporting)
    before = _calculations(stack, case.name)
    clock.advance(dt.timedelta(days=148))  # 1 September 2026
    result = stack.run_scheduled(
        d(2026, 9, 1), api.SCHEDULED_JOB_MONTHLY_CHILD_BENEFIT_CHECK
    ).results[0]
    assert (result.items_due, result.items_processed, result.items_failed) == (1, 1, 0)
    assert len(reported) == 2
    held_case = stack.call("GetCase", api.GetCaseRequest(name=case.name))
    assert sorted(c.name.forenames for c in held_case.qualifying_children if c.end_date.year) == [
        "Ffion",
        "Tomos",
    ]
    assert _calculations(stack, case.name) - before == 1


class _Broken(grpc.RpcError):
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return "the stream broke"


def test_a_broken_stream_is_resumed_from_the_last_case_answered(stack, clock, monkeypatch):
    case = _okafor_family_case(stack)
    copies = 599  # 3 + 2 × 599 = 1,201 children: two messages
    _copies(stack, case, copies)
    streamed = stack.casework.downstream.hmrc.RunMonthlyChildBenefitCheck
    opened: list[list[int]] = []

    def breaking_once(requests, **kw):
        sent: list[int] = []
        opened.append(sent)

        def counted():
            for message in requests:
                sent.append(len(message.items))
                yield message

        answers = streamed(counted(), **kw)
        if len(opened) > 1:
            return answers

        def first_answer_then_break():
            yield next(iter(answers))
            answers.cancel()
            raise _Broken()

        return first_answer_then_break()

    monkeypatch.setattr(
        stack.casework.downstream.hmrc, "RunMonthlyChildBenefitCheck", breaking_once
    )
    clock.advance(dt.timedelta(days=148))
    result = stack.run_scheduled(
        d(2026, 9, 1), api.SCHEDULED_JOB_MONTHLY_CHILD_BENEFIT_CHECK
    ).results[0]
    assert (result.items_due, result.items_processed, result.items_failed) == (
        1 + copies,
        1 + copies,
        0,
    )
    assert len(opened) == 2
    # The second stream starts again at the case of the last answer (its children are sent again), not at the
    # beginning: 1,000 answered in the first, and the rest in the second.
    total = 3 + 2 * copies
    assert opened[0][0] == rules.CHILDREN_PER_MESSAGE
    assert (
        total - rules.CHILDREN_PER_MESSAGE
        < sum(opened[1])
        <= total - rules.CHILDREN_PER_MESSAGE + 3
    )
    held = stack.call("GetCase", api.GetCaseRequest(name=case.name))
    assert any(c.end_date.year for c in held.qualifying_children)


def test_a_case_answered_again_on_a_resumed_stream_is_recalculated_once(stack, clock, monkeypatch):
    """The stream breaks after HMRC answered for the case's children: the next stream starts again at that case, so
    both endings are reported twice, and the case is still recalculated once."""
    _ffion_starts_work(stack)
    case = _okafor_family_case(stack)
    streamed = stack.casework.downstream.hmrc.RunMonthlyChildBenefitCheck
    answered: list[int] = []
    opened: list[hmrc_api.RunMonthlyChildBenefitCheckRequest] = []

    def breaking_once(requests, **kw):
        def kept():
            for message in requests:
                opened.append(message)
                yield message

        answers = streamed(kept(), **kw)
        if answered:
            return answers

        def first_answer_then_break():
            answer = next(iter(answers))
            answered.append(len(answer.results))
            yield answer
            answers.cancel()
            raise _Broken()

        return first_answer_then_break()

    monkeypatch.setattr(
        stack.casework.downstream.hmrc, "RunMonthlyChildBenefitCheck", breaking_once
    )
    before = _calculations(stack, case.name)
    clock.advance(dt.timedelta(days=148))  # 1 September 2026
    result = stack.run_scheduled(
        d(2026, 9, 1), api.SCHEDULED_JOB_MONTHLY_CHILD_BENEFIT_CHECK
    ).results[0]
    assert answered == [3]  # the case's three children, answered before the break
    # The second stream sent the case again whole.
    assert [len(m.items) for m in opened] == [3, 3]
    assert (result.items_due, result.items_processed, result.items_failed) == (1, 1, 0)
    held_case = stack.call("GetCase", api.GetCaseRequest(name=case.name))
    assert sorted(c.name.forenames for c in held_case.qualifying_children if c.end_date.year) == [
        "Ffion",
        "Tomos",
    ]
    assert _calculations(stack, case.name) - before == 1
